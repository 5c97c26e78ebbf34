import type {
  CallStatsConfigParams,
  CsStats,
  CsStreamStats,
  ErrorRecord,
  Fabric,
  FabricOptions,
  FabricEvent,
  FabricStats,
  FabricUsage,
  Monitor,
  MonitoredPeerConnection,
  Result,
  StreamStats,
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
import { checkConferenceID, checkCustomEvent, checkCustomStats, checkFeedback, checkPeerConnection, tryCreateMonitor, userIdentityToString, validateFabricOptions } from '../monitor/monitor';
import { checkFabricEvent } from '../monitor/fabric';
import { checkWebRTCFunction } from '../monitor/errors';
import { failure, SUCCESS } from '../monitor/result';
import { safeCall } from '../util/emitter';
import { safeLogger } from '../util/logger';
import { errorMessage, hasOwn, isPlainObject, isString, printable } from '../util/values';

type CsInitCallback = (status: string, message: string) => void;
type CsStatsCallback = (stats: CsStats) => void;
type PcCallback = (error: string, message: string) => void;
type AnyPeerConnection = RTCPeerConnection | MonitoredPeerConnection;
interface FacadeEvents {
  stats: CsStatsCallback;
  error: (error: unknown) => void;
  defaultConfig: (config: Record<string, unknown>) => void;
  recommendedConfig: (config: Record<string, unknown>) => void;
}
type FacadeEvent = keyof FacadeEvents;
const EVENTS: readonly string[] = ['stats', 'error', 'defaultConfig', 'recommendedConfig'];
/** callstats.js's other on() events: pre-call tests, recommendations, media disruption (never delivered here). */
const UNDELIVERED: readonly string[] = ['preCallTestResults', 'preCallTest', 'connectionRecommendation', 'mediaDisruption', 'pctConnectionQualityChange'];

/** callstats.js's stream rating: its own 5 → 3 reduction (qualityRating 4..2 are all `fair`), `unknown` without data. */
const CS_QUALITY = { excellent: 'excellent', good: 'fair', fair: 'fair', poor: 'fair', bad: 'bad' } as const;
/** FabricStats in callstats.js's callback values (copies: the monitor's own listeners see FabricStats). */
export function toCsStats(stats: FabricStats): CsStats {
  const copies = new Map<StreamStats, CsStreamStats>();
  const copy = (s: StreamStats): CsStreamStats => {
    let c = copies.get(s);
    if (!c) {
      copies.set(s, (c = { ...s, quality: (s.quality && CS_QUALITY[s.quality]) || 'unknown' }));
      if (s.statsType == 'inbound-rtp' && s.audioOutputLevel !== undefined) c.audioLevel = s.audioOutputLevel;
    }
    return c;
  };
  const streams: Record<string, CsStreamStats> = {};
  for (const key in stats.streams) streams[key] = copy(stats.streams[key]!);
  const onLine = (globalThis as { navigator?: { onLine?: unknown } }).navigator?.onLine;
  return { ...stats, connectionState: onLine === false ? 'offline' : 'online', streams, mediaStreamTracks: stats.mediaStreamTracks.map(copy) };
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

/**
 * callstats.js's methods without an equivalent here. They exist (an integration calling one must
 * not throw "is not a function"), answer a failure that says so and log a warning. Own properties
 * set in the constructor (getTurnCredentials and getSctResults, whose answers differ, are methods).
 */
const UNSUPPORTED = ['setIdentifiers', 'attachWifiStatsHandler', 'resetWifiStatsHandler', 'makePrecallTest', 'startPrecallTests', 'stopPrecallTests'] as const;

/** The enums are instance properties too (set in the constructor), as are the UNSUPPORTED stubs. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
interface CallStatsClass extends Readonly<Enums> {
  /** callstats.js: renames the conference, or a fabric's remote user, afterwards. Unsupported. */
  setIdentifiers(identifiers?: { conferenceID?: string; remoteUserID?: string }, pc?: AnyPeerConnection): Result;
  /** callstats.js: a function giving WiFi stats. Unsupported. */
  attachWifiStatsHandler(handler?: () => unknown): Result;
  resetWifiStatsHandler(): Result;
  /** callstats.js: pre-call tests (its TURN servers). Unsupported, as startPrecallTests / stopPrecallTests. */
  makePrecallTest(iceServers?: unknown, provider?: string, options?: unknown): Result;
  startPrecallTests(iceServers?: unknown, durationSeconds?: number): Result;
  stopPrecallTests(): Result;
}

/**
 * The callstats.js API. Every method answers `{status, message?}` and never throws, whatever it
 * is given. Calls made before initialize() are checked, queued and replayed in order once it runs.
 * callstats.js's enums are static and instance properties. Methods are bound to their instance
 * (callstats.js's never used `this`: `const {sendFabricEvent} = callstats` works), and every
 * method of callstats.js 3.73.16 exists: those this SDK does not implement answer a failure that
 * says so (and log a warning).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
class CallStatsClass {
  private monitorImpl: Monitor | undefined;
  private logger = safeLogger();
  private proxyCollectorURL: string | undefined;
  private readonly queue: Array<() => void> = [];
  /** One callback per event, as callstats.js: on() (and initialize's csStatsCallback) replace it. */
  private readonly callbacks: { [K in FacadeEvent]?: FacadeEvents[K] } = {};

  constructor() {
    Object.assign(this, ENUMS);
    // Own, bound copies of the methods (writable: apps wrap them, as lib-jitsi-meet does).
    const self = this as unknown as Record<string, unknown>;
    const define = (name: string, value: unknown) => Object.defineProperty(this, name, { value, writable: true, configurable: true });
    for (const name of Object.getOwnPropertyNames(CallStatsClass.prototype)) {
      const method = self[name];
      if (name != 'constructor' && typeof method == 'function') define(name, method.bind(this));
    }
    for (const name of UNSUPPORTED) if (!(name in this)) define(name, () => this.unsupported(name));
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

      const emit = this.emit.bind(this);
      if (typeof csStatsCallback == 'function') this.callbacks.stats = csStatsCallback;
      monitor.on('stats', (stats) => this.callbacks.stats && emit('stats', toCsStats(stats)));
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
    pc: AnyPeerConnection | null | undefined,
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
    userID: UserIdentity,
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
            // A {userName, aliasName} (lib-jitsi-meet's local streams) is its alias, as for initialize.
            userID: userIdentityToString(userID) ?? printable(userID),
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

  /** Sets the callback of an event, replacing the previous one (callstats.js keeps one per event). */
  on(eventName: 'stats', callback: CsStatsCallback): Result;
  on(eventName: 'error', callback: (error: ErrorRecord | unknown) => void): Result;
  on(eventName: 'defaultConfig' | 'recommendedConfig', callback: (config: Record<string, unknown>) => void): Result;
  /** callstats.js's pre-call test, recommendation and media disruption events: unsupported (a failure). */
  on(eventName: string, callback: (...args: never[]) => void): Result;
  on(eventName: string, callback: (...args: never[]) => void): Result {
    if (typeof callback == 'function' && UNDELIVERED.includes(eventName)) return this.unsupported(`on('${eventName}')`);
    return this.call('on', () => {
      if (!EVENTS.includes(eventName) || typeof callback != 'function') return ARGUMENT;
      this.callbacks[eventName as 'stats'] = callback as CsStatsCallback;
      return undefined;
    });
  }

  /** callstats.js's contact-center details (role, callType, ...): sent as the fabric event callDetails. */
  sendCallDetails(pc: AnyPeerConnection, conferenceID: string, eventData: { role: string; callType?: string; [key: string]: unknown }): Result {
    let details!: Record<string, unknown>;
    return this.call(
      'sendCallDetails',
      () => {
        if (!pc || !isPlainObject(eventData)) return ARGUMENT;
        details = { ...eventData, callType: eventData.callType || callType.unknown };
        const known = (value: unknown, values: object) => isString(value) && hasOwn(values, value);
        return known(details.callType, callType) && known(details.role, roles) ? checkFabricEvent('callDetails', details) : ARGUMENT;
      },
      withFabric(pc, conferenceID, (fabric) => fabric.sendEvent('callDetails', details)),
    );
  }

  /** callstats.js answers a Promise of TURN servers: here a rejected one. */
  getTurnCredentials(_user?: unknown, _credential?: unknown): Promise<never> {
    return Promise.reject(new Error(this.unsupported('getTurnCredentials').message));
  }
  /** callstats.js answers its stored pre-call test results, or null: here always null. */
  getSctResults(): null {
    this.unsupported('getSctResults');
    return null;
  }

  // -------------------------------------------------------------------------------------------

  /** Calls the app's callback of `event`, if any; never throws. */
  private emit<K extends FacadeEvent>(event: K, ...args: Parameters<FacadeEvents[K]>): void {
    safeCall(this.logger, `the app's '${event}' callback threw`, this.callbacks[event] as ((...a: typeof args) => void) | undefined, ...args);
  }

  private unsupported(method: string): Result {
    const result = failure(`${method}: not supported by Callmetry`);
    this.logger.warn(result.message!);
    return result;
  }

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
