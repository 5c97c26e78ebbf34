import type {
  CallStatsConfigParams,
  ErrorRecord,
  Fabric,
  FabricOptions,
  FabricEvent,
  FabricStats,
  FabricUsage,
  Monitor,
  MonitoredPeerConnection,
  Result,
  TokenGenerator,
  UserIdentity,
  WebRTCFunction,
} from '../types';
import {
  callStatsAPIReturnStatus,
  callType,
  compatibleCallstatsVersion,
  csError,
  endpointType,
  fabricEvent,
  fabricUsage,
  qualityRating,
  roles,
  transmissionDirection,
  userIDType,
  webRTCFunctions,
} from './enums';
import { checkConferenceID, checkCustomEvent, checkCustomStats, checkFeedback, checkPeerConnection, tryCreateMonitor, validateFabricOptions } from '../monitor/monitor';
import { checkFabricEvent } from '../monitor/fabric';
import { checkWebRTCFunction } from '../monitor/errors';
import { failure, SUCCESS } from '../monitor/result';
import { createEmitter, safeCall } from '../util/emitter';
import { safeLogger } from '../util/logger';
import { errorMessage, hasOwn, isPlainObject, isString, printable } from '../util/values';

type CsInitCallback = (status: string, message: string) => void;
type CsStatsCallback = (stats: FabricStats) => void;
type PcCallback = (error: string, message: string) => void;
type AnyPeerConnection = RTCPeerConnection | MonitoredPeerConnection;
interface FacadeEvents {
  stats: CsStatsCallback;
  error: (error: unknown) => void;
  defaultConfig: (config: Record<string, unknown>) => void;
  recommendedConfig: (config: Record<string, unknown>) => void;
}

const MAX_QUEUED_CALLS = 1000;
/** callstats.js's failure texts (`"<method>: <text> <detail>"`). */
const ARGUMENT = 'Argument missing/invalid';
const NOT_INITIALIZED = 'SDK is not initialized or no Fabrics added';

/** A failure body's answer: a Result, a failure text, or nothing (success). */
type Outcome = Result | string | undefined;

const ENUMS = {
  fabricEvent,
  fabricUsage,
  endpointType,
  transmissionDirection,
  webRTCFunctions,
  qualityRating,
  csError,
  callStatsAPIReturnStatus,
  userIDType,
  callType,
  roles,
  version: compatibleCallstatsVersion,
};
type Enums = typeof ENUMS;

/** The enums are instance properties too (set in the constructor). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
interface CallStatsClass extends Readonly<Enums> {}

/**
 * The callstats.js API. Every method answers `{status, message?}` and never throws, whatever it
 * is given. Calls made before initialize() are checked, queued and replayed in order once it runs.
 * callstats.js's enums are static and instance properties.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
class CallStatsClass {
  private monitorImpl: Monitor | undefined;
  private logger = safeLogger();
  private proxyCollectorURL: string | undefined;
  private readonly queue: Array<() => void> = [];
  // Through the current logger: configParams.logger may replace it.
  private readonly listeners = createEmitter<FacadeEvents>({ error: (...a) => this.logger.error(...a) });

  constructor() {
    Object.assign(this, ENUMS);
  }

  /** The typed monitor underneath (after initialize), for code that wants the clean API. */
  get monitor(): Monitor | undefined {
    return this.monitorImpl;
  }

  initialize(
    appID: string,
    appSecretOrTokenGenerator: string | TokenGenerator,
    localUserID: UserIdentity,
    csInitCallback?: CsInitCallback,
    csStatsCallback?: CsStatsCallback,
    configParams?: CallStatsConfigParams,
  ): Result {
    return this.call('initialize', () => {
      if (this.monitorImpl) return 'already initialized (one callstats object per app)';
      const secret = appSecretOrTokenGenerator;
      if ((!isString(appID) && typeof appID != 'number') || (!isString(secret) && typeof secret != 'function') || !localUserID) return ARGUMENT;
      const params: CallStatsConfigParams = isPlainObject(configParams) ? configParams : {};
      if (params.logger) this.logger = safeLogger(params.logger);
      const collectorURL = isString(params.collectorURL) ? params.collectorURL : this.proxyCollectorURL;
      const { monitor, result } = tryCreateMonitor({
        appID: printable(appID),
        localUserID,
        logger: this.logger,
        collectIP: params.collectIP === true,
        statsIntervalMs: params.statsIntervalMs,
        statsCallbackIntervalMs: params.statsCallbackIntervalMs,
        collectorURL,
        [isString(secret) ? 'appSecret' : 'tokenGenerator']: secret,
      });
      if (!monitor) return `${ARGUMENT} ${result.message}`;
      this.monitorImpl = monitor;

      const emit = this.listeners.emit;
      // (The emitter calls functions only.)
      this.listeners.on('stats', csStatsCallback!);
      monitor.on('stats', (stats) => emit('stats', stats));
      monitor.on('error', (record) => emit('error', record));
      monitor.on('transport', (status) => status.error && status.state != 'connected' && emit('error', status));
      void monitor.ready.then(({ status, message = 'authError: authentication failed' }) => {
        const [code, ...rest] =
          status == 'success'
            ? [csError.success, `SDK authentication successful.${collectorURL ? '' : ' Local-only mode: no collectorURL, nothing is sent.'}`]
            : message.split(': ');
        safeCall(this.logger, "the app's csInitCallback threw", csInitCallback, code!, rest.join(': '));
        // Without a config service, callstats.js delivered these with null members.
        emit('defaultConfig', { peerConnection: null, media: null });
      });

      // Replay what the app called before initialize, in order.
      for (const call of this.queue.splice(0)) call();
      return undefined;
    });
  }

  addNewFabric(
    pc: AnyPeerConnection,
    remoteUserID: string,
    usage: FabricUsage,
    conferenceID: string,
    fabricAttributes?: { remoteEndpointType?: string; fabricTransmissionDirection?: string } | PcCallback,
    pcCallback?: PcCallback,
  ): Result {
    const callback = typeof fabricAttributes == 'function' ? fabricAttributes : pcCallback;
    let options!: FabricOptions;
    return this.call(
      'addNewFabric',
      () => {
        if (!pc || !usage || remoteUserID == null || !isString(conferenceID) || !conferenceID) return ARGUMENT;
        const attributes = isPlainObject(fabricAttributes) ? fabricAttributes : {};
        options = {
          remoteUserID: printable(remoteUserID),
          conferenceID,
          usage,
          remoteEndpointType: attributes.remoteEndpointType as 'peer',
          direction: attributes.fabricTransmissionDirection as 'sendrecv',
        };
        return checkPeerConnection(pc) ?? validateFabricOptions(options);
      },
      (monitor) => {
        const { fabric, result } = monitor.tryAddFabric(pc as MonitoredPeerConnection, options);
        if (fabric && typeof callback == 'function') {
          const off = monitor.on('fabricEvent', ({ fabricID, event }) => {
            if (fabricID != fabric.id) return;
            if (event == 'connectionDisruptionStart' || event == 'fabricSetupFailed')
              safeCall(this.logger, "the app's pcCallback threw", callback, csError.appConnectivityError, `Connectivity check for PC object to ${options.remoteUserID} failed.`);
            if (event == 'fabricTerminated') off();
          });
        }
        return result;
      },
    );
  }

  sendFabricEvent(pc: AnyPeerConnection, event: FabricEvent, conferenceID: string, eventData?: Record<string, unknown>): Result {
    return this.call(
      'sendFabricEvent',
      () => (!pc || !event ? ARGUMENT : event == 'fabricSetupFailed' ? `Unsupported fabricEvent ${event}` : checkFabricEvent(event, eventData)),
      withFabric(pc, conferenceID, (fabric) => fabric.sendEvent(event, eventData)),
    );
  }

  reportError(
    pc: AnyPeerConnection | null,
    conferenceID: string,
    webRTCFunction: WebRTCFunction,
    error: unknown,
    localSDP?: string | RTCSessionDescriptionInit | null,
    remoteSDP?: string | RTCSessionDescriptionInit | null,
  ): Result {
    const sdpText = (sdp: unknown): string | undefined => (isString(sdp) ? sdp : isPlainObject(sdp) && isString(sdp.sdp) ? sdp.sdp : undefined);
    let details!: { localSDP?: string; remoteSDP?: string };
    return this.call(
      'reportError',
      () => {
        details = { localSDP: sdpText(localSDP), remoteSDP: sdpText(remoteSDP) };
        return checkWebRTCFunction(webRTCFunction) ?? checkConferenceID(conferenceID);
      },
      (monitor) => {
        const fabric = pc ? monitor.getFabric(pc as MonitoredPeerConnection) : undefined;
        return fabric ? fabric.reportError(webRTCFunction, error, details) : monitor.reportError(conferenceID, webRTCFunction, error, details);
      },
    );
  }

  associateMstWithUserID(
    pc: AnyPeerConnection,
    userID: string,
    conferenceID: string,
    ssrc: string | number,
    usageLabel: string,
    associatedVideoTag?: string,
  ): Result {
    return this.call(
      'associateMstWithUserID',
      () => (!pc || userID == null || ssrc == null || ssrc === '' ? ARGUMENT : undefined),
      withFabric(pc, conferenceID, (fabric) =>
        fabric.mapStream(
          { ssrc: printable(ssrc) },
          {
            userID: printable(userID),
            usageLabel: isString(usageLabel) ? usageLabel : undefined,
            associatedVideoTag: isString(associatedVideoTag) ? associatedVideoTag : undefined,
          },
        ),
      ),
    );
  }

  sendUserFeedback(
    conferenceID: string,
    feedback: { userID?: UserIdentity; overall: number; audio?: number; video?: number; comment?: string },
    callback?: (status: string, message: string) => void,
  ): Result {
    return this.call(
      'sendUserFeedback',
      // The monitor's checks, also before initialize (a queued call must not be answered success wrongly).
      () => {
        const invalid = checkConferenceID(conferenceID) ?? checkFeedback(feedback);
        if (invalid) safeCall(this.logger, "the app's sendUserFeedback callback threw", callback, 'failure', invalid);
        return invalid;
      },
      (monitor) => {
        const result = monitor.sendFeedback(conferenceID, feedback);
        safeCall(this.logger, "the app's sendUserFeedback callback threw", callback, result.status, result.message ?? 'feedback queued for sending');
        return result;
      },
    );
  }

  /** callstats.js's signature: (pc, conferenceID, eventList) where eventList is a non-empty array or object. */
  sendCustomEvent(pc: AnyPeerConnection | null, conferenceID: string, eventList: unknown): Result {
    return this.call(
      'sendCustomEvent',
      () =>
        !conferenceID || !eventList || typeof eventList != 'object' || (Array.isArray(eventList) && !eventList.length)
          ? ARGUMENT
          : (checkConferenceID(conferenceID) ?? checkCustomEvent('custom', customEventData(eventList))),
      (monitor) => monitor.sendCustomEvent(conferenceID, 'custom', customEventData(eventList), (pc || undefined) as MonitoredPeerConnection | undefined),
    );
  }

  sendCustomStats(pc: AnyPeerConnection | null, conferenceID: string, stats: Record<string, number>): Result {
    return this.call(
      'sendCustomStats',
      () => (!conferenceID || !stats || typeof stats != 'object' ? ARGUMENT : (checkConferenceID(conferenceID) ?? checkCustomStats(stats))),
      (monitor) => monitor.sendCustomStats(conferenceID, stats, (pc || undefined) as MonitoredPeerConnection | undefined),
    );
  }

  /** Points the SDK at a collector (or a proxy in front of it). Call before initialize. */
  setProxyConfig(config: { collectorURL?: string; url?: string }): Result {
    return this.call('setProxyConfig', () => {
      const url = isString(config?.collectorURL) ? config.collectorURL : config?.url;
      if (!isString(url) || !/^https?:\/\//.test(url)) return `${ARGUMENT} collectorURL must be an http(s) URL`;
      if (this.monitorImpl) return 'must be called before initialize';
      this.proxyCollectorURL = url;
      return undefined;
    });
  }

  on(eventName: 'stats', callback: CsStatsCallback): Result;
  on(eventName: 'error', callback: (error: ErrorRecord | unknown) => void): Result;
  on(eventName: 'defaultConfig' | 'recommendedConfig', callback: (config: Record<string, unknown>) => void): Result;
  on(eventName: string, callback: (...args: never[]) => void): Result {
    return this.call('on', () => {
      if (!['stats', 'error', 'defaultConfig', 'recommendedConfig'].includes(eventName) || typeof callback != 'function') return ARGUMENT;
      this.listeners.on(eventName as 'stats', callback as CsStatsCallback);
      return undefined;
    });
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The facade's promise: whatever it is given, it answers and never throws; failures read
   * `<method>: <text>`. `now` runs at once (argument checks: a failure text refuses the call).
   * `run` needs the monitor: it runs now when initialized, else it is queued for initialize().
   */
  private call(method: string, now: () => Outcome, run?: (monitor: Monitor) => Outcome): Result {
    const answer = (body: () => Outcome): Result => {
      let outcome: Outcome;
      try {
        outcome = body();
      } catch (error) {
        this.logger.error(`${method} failed unexpectedly; the error was caught`, error);
        outcome = `internal error ${errorMessage(error)}`;
      }
      if (isString(outcome)) outcome = failure(outcome);
      return !outcome ? SUCCESS : outcome.status == 'failure' ? failure(`${method}: ${outcome.message ?? ''}`.trimEnd()) : outcome;
    };
    return answer(() => {
      const refused = now();
      const monitor = this.monitorImpl;
      if (refused || !run) return refused;
      if (monitor) return run(monitor);
      if (this.queue.length >= MAX_QUEUED_CALLS) return `${NOT_INITIALIZED} (queue full: call initialize first)`;
      this.queue.push(() => {
        const result = answer(() => run(this.monitorImpl!));
        if (result.status == 'failure') this.logger.warn(`queued ${result.message}`);
      });
      return { status: 'success', message: `${method}: queued until initialize()` };
    });
  }
}

/** callstats.js's eventList: an array goes under `eventList`, an object is the data itself. */
const customEventData = (eventList: unknown): Record<string, unknown> =>
  Array.isArray(eventList) ? { eventList } : (eventList as Record<string, unknown>);

/** A `run` for CallStats.call: with the fabric of `pc`, which must be in `conferenceID`. */
function withFabric(pc: AnyPeerConnection, conferenceID: string, run: (fabric: Fabric) => Result): (monitor: Monitor) => Outcome {
  return (monitor) => {
    const fabric = monitor.getFabric(pc as MonitoredPeerConnection);
    if (!fabric) return 'Invalid PeerConnection object passed (not added, or terminated)';
    return fabric.conferenceID === conferenceID ? run(fabric) : `conferenceId does not exist ${printable(conferenceID)}`;
  };
}

/**
 * The class with callstats.js's enums as static properties. Assigned in a pure-annotated
 * expression, not a statement: a bundler can then drop the whole facade from an app that only
 * uses the typed API, also from the single-file dist/index.mjs.
 */
export const CallStats: typeof CallStatsClass & Readonly<Enums> = /* @__PURE__ */ Object.assign(CallStatsClass, ENUMS);
export type CallStats = CallStatsClass;
