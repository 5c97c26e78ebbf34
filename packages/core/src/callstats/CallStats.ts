import type {
  CallStatsConfigParams,
  CsQuality,
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
type SdpArgument = string | RTCSessionDescriptionInit | null;
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

/** callstats.js's stream rating: its own 5 → 3 reduction (good, fair and poor are all `fair`), `unknown` without data. */
const csQuality = (quality: StreamStats['quality']): CsQuality => (quality == 'excellent' || quality == 'bad' ? quality : quality ? 'fair' : 'unknown');
/** FabricStats in callstats.js's callback values (copies: the monitor's own listeners see FabricStats). */
export function toCsStats(stats: FabricStats): CsStats {
  const copies = new Map<StreamStats, CsStreamStats>();
  const copy = (s: StreamStats): CsStreamStats => {
    let c = copies.get(s);
    if (!c) {
      copies.set(s, (c = { ...s, quality: csQuality(s.quality) }));
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
/** callstats.js's failure text (`"<method>: <text> <detail>"`). */
const ARGUMENT = 'Argument missing/invalid';

/** A method's answer before `call` completes it: a Result, a failure text, or nothing (success). */
type Outcome = Result | string | undefined;
/** What a method does with the monitor: at once when initialized, else queued for initialize(). */
type Work = (monitor: Monitor) => Outcome;

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
 * not throw "is not a function"), answer a failure that says so and log a warning
 * (getTurnCredentials and getSctResults, whose answers differ, are written out).
 */
const UNSUPPORTED = ['setIdentifiers', 'attachWifiStatsHandler', 'resetWifiStatsHandler', 'makePrecallTest', 'startPrecallTests', 'stopPrecallTests'] as const;

/**
 * The instance's members: own properties set in the constructor (the class itself has none, so a
 * subclass cannot override them, nor a spy on the prototype see them: wrap the instance's).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
interface CallStatsClass extends Readonly<Enums> {
  /** The typed monitor underneath (after initialize), for code that wants the clean API. */
  readonly monitor: Monitor | undefined;
  initialize(
    appID: string,
    appSecretOrTokenGenerator: string | TokenGenerator,
    localUserID: UserIdentity,
    csInitCallback?: CsInitCallback,
    csStatsCallback?: CsStatsCallback,
    configParams?: CallStatsConfigParams,
  ): Result;
  addNewFabric(
    pc: AnyPeerConnection,
    remoteUserID: string,
    usage: FabricUsage,
    conferenceID: string,
    fabricAttributes?: { remoteEndpointType?: string; fabricTransmissionDirection?: string } | PcCallback,
    pcCallback?: PcCallback,
  ): Result;
  sendFabricEvent(pc: AnyPeerConnection, event: FabricEvent, conferenceID: string, eventData?: Record<string, unknown>): Result;
  reportError(
    pc: AnyPeerConnection | null | undefined,
    conferenceID: string,
    webRTCFunction: WebRTCFunction,
    error: unknown,
    localSDP?: SdpArgument,
    remoteSDP?: SdpArgument,
  ): Result;
  associateMstWithUserID(pc: AnyPeerConnection, userID: UserIdentity, conferenceID: string, ssrc: string | number, usageLabel: string, associatedVideoTag?: string): Result;
  sendUserFeedback(
    conferenceID: string,
    feedback: { userID?: UserIdentity; overall: number; audio?: number; video?: number; comment?: string },
    callback?: (status: string, message: string) => void,
  ): Result;
  /** callstats.js's signature: (pc, conferenceID, eventList) where eventList is a non-empty array or object. */
  sendCustomEvent(pc: AnyPeerConnection | null, conferenceID: string, eventList: unknown): Result;
  sendCustomStats(pc: AnyPeerConnection | null, conferenceID: string, stats: Record<string, number>): Result;
  /** Points the SDK at a collector (or a proxy in front of it). Call before initialize. */
  setProxyConfig(config: { collectorURL?: string; url?: string }): Result;
  /** callstats.js's contact-center details (role, callType, ...): sent as the fabric event callDetails. */
  sendCallDetails(pc: AnyPeerConnection, conferenceID: string, eventData: { role: string; callType?: string; [key: string]: unknown }): Result;
  /** Sets the callback of an event, replacing the previous one (callstats.js keeps one per event). */
  on(eventName: 'stats', callback: CsStatsCallback): Result;
  on(eventName: 'error', callback: (error: ErrorRecord | unknown) => void): Result;
  on(eventName: 'defaultConfig' | 'recommendedConfig', callback: (config: Record<string, unknown>) => void): Result;
  /** callstats.js's pre-call test, recommendation and media disruption events: unsupported (a failure). */
  on(eventName: string, callback: (...args: never[]) => void): Result;
  /** callstats.js answers a Promise of TURN servers: here a rejected one. */
  getTurnCredentials(user?: unknown, credential?: unknown): Promise<never>;
  /** callstats.js answers its stored pre-call test results, or null: here always null. */
  getSctResults(): null;
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
/** The methods that go through `call`: their arguments checked at once, their work queued before initialize(). */
type CheckedMethod = Exclude<keyof CallStatsClass, keyof Enums | 'monitor' | 'on' | 'getTurnCredentials' | 'getSctResults' | (typeof UNSUPPORTED)[number]>;

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value == 'function';

/**
 * The callstats.js API. Every method answers `{status, message?}` and never throws, whatever it
 * is given. Calls made before initialize() are checked, queued and replayed in order once it runs.
 * callstats.js's enums are static and instance properties. The methods are closures, own
 * properties of the instance (callstats.js's never used `this`: `const {sendFabricEvent} =
 * callstats` works), and every method of callstats.js 3.73.16 exists: those this SDK does not
 * implement answer a failure that says so (and log a warning).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
class CallStatsClass {
  constructor() {
    let monitor: Monitor | undefined;
    let logger = safeLogger();
    let proxyCollectorURL: string | undefined;
    const queue: Array<() => void> = [];
    /** One callback per event, as callstats.js: on() (and initialize's csStatsCallback) replace it. */
    const callbacks: { [K in FacadeEvent]?: FacadeEvents[K] } = {};

    /** Calls one of the app's callbacks, if it is a function; never throws. */
    const callApp = <A extends unknown[]>(name: string, callback: ((...args: A) => unknown) | undefined, ...args: A) =>
      safeCall(logger, `the app's ${name} threw`, callback, ...args);
    const emit = <K extends FacadeEvent>(event: K, ...args: Parameters<FacadeEvents[K]>) =>
      callApp(`'${event}' callback`, callbacks[event] as ((...a: typeof args) => void) | undefined, ...args);

    const unsupported = (method: string): Result => {
      const message = `${method}: not supported by Callmetry`;
      logger.warn(message);
      return failure(message);
    };

    /**
     * The facade's promise: whatever it is given, it answers and never throws; failures read
     * `<method>: <text>`. `body` checks the arguments (a failure text refuses the call) and may
     * answer the Work that needs the monitor.
     */
    const call = (method: string, body: () => Outcome | Work): Result => {
      const answer = (attempt: () => Outcome): Result => {
        let outcome: Outcome;
        try {
          outcome = attempt();
        } catch (error) {
          logger.error(`${method} failed unexpectedly; the error was caught`, error);
          outcome = `internal error ${errorMessage(error)}`;
        }
        if (!isString(outcome) && outcome?.status == 'failure') outcome = outcome.message ?? '';
        return isString(outcome) ? failure(`${method}: ${outcome}`.trimEnd()) : (outcome ?? SUCCESS);
      };
      return answer(() => {
        const work = body();
        if (!isFunction(work)) return work;
        if (monitor) return work(monitor);
        // callstats.js's text, and why.
        if (queue.length >= MAX_QUEUED_CALLS) return 'SDK is not initialized or no Fabrics added (queue full: call initialize first)';
        queue.push(() => {
          const result = answer(() => work(monitor!));
          if (result.status == 'failure') logger.warn(`queued ${result.message}`);
        });
        return { status: 'success', message: `${method}: queued until initialize()` };
      });
    };

    /** The methods' own parts, run by `call` (so inside its try): argument checks, then the Work for the monitor, if any. */
    const checked: { [K in CheckedMethod]: (...args: Parameters<CallStatsClass[K]>) => Outcome | Work } = {
      initialize: (appID, secret, localUserID, csInitCallback, csStatsCallback, configParams) => {
        if (monitor) return 'already initialized (one callstats object per app)';
        if ((!isString(appID) && typeof appID != 'number') || (!isString(secret) && !isFunction(secret)) || !localUserID) return ARGUMENT;
        const params: CallStatsConfigParams = isPlainObject(configParams) ? configParams : {};
        if (params.logger) logger = safeLogger(params.logger);
        const collectorURL = isString(params.collectorURL) ? params.collectorURL : proxyCollectorURL;
        const { monitor: created, result } = tryCreateMonitor({
          appID: printable(appID),
          localUserID,
          logger,
          collectIP: params.collectIP === true,
          statsIntervalMs: params.statsIntervalMs,
          statsCallbackIntervalMs: params.statsCallbackIntervalMs,
          collectorURL,
          [isString(secret) ? 'appSecret' : 'tokenGenerator']: secret,
        });
        if (!created) return `${ARGUMENT} ${result.message}`;
        monitor = created;

        if (isFunction(csStatsCallback)) callbacks.stats = csStatsCallback;
        created.on('stats', (stats) => callbacks.stats && emit('stats', toCsStats(stats)));
        created.on('error', (record) => emit('error', record));
        created.on('transport', (status) => status.error && status.state != 'connected' && emit('error', status));
        void created.ready.then(({ status, message = 'authError: authentication failed' }) => {
          // callstats.js's csInitCallback(code, text): a failure's message reads `<code>: <text>`.
          const [code, ...text] = (
            status == 'success' ? `${csError.success}: SDK authentication successful.${collectorURL ? '' : ' Local-only mode: no collectorURL, nothing is sent.'}` : message
          ).split(': ');
          callApp('csInitCallback', csInitCallback, code!, text.join(': '));
          // Without a config service, callstats.js delivered these with null members.
          emit('defaultConfig', { peerConnection: null, media: null });
        });

        // Replay what the app called before initialize, in order.
        for (const queued of queue.splice(0)) queued();
        return undefined;
      },

      addNewFabric: (pc, remoteUserID, usage, conferenceID, fabricAttributes, pcCallback) => {
        if (!pc || !usage || remoteUserID == null || !isString(conferenceID) || !conferenceID) return ARGUMENT;
        const callback = isFunction(fabricAttributes) ? fabricAttributes : pcCallback;
        const attributes = isPlainObject(fabricAttributes) ? fabricAttributes : {};
        const options: FabricOptions = {
          remoteUserID: printable(remoteUserID),
          conferenceID,
          usage,
          remoteEndpointType: attributes.remoteEndpointType as 'peer',
          direction: attributes.fabricTransmissionDirection as 'sendrecv',
        };
        return (
          checkPeerConnection(pc) ??
          validateFabricOptions(options) ??
          ((monitor) => {
            const { fabric, result } = monitor.tryAddFabric(pc as MonitoredPeerConnection, options);
            if (fabric && isFunction(callback)) {
              const off = monitor.on('fabricEvent', ({ fabricID, event }) => {
                if (fabricID != fabric.id) return;
                if (event == 'connectionDisruptionStart' || event == 'fabricSetupFailed')
                  callApp('pcCallback', callback, csError.appConnectivityError, `Connectivity check for PC object to ${options.remoteUserID} failed.`);
                if (event == 'fabricTerminated') off();
              });
            }
            return result;
          })
        );
      },

      sendFabricEvent: (pc, event, conferenceID, eventData) =>
        !pc || !event
          ? ARGUMENT
          : event == 'fabricSetupFailed'
            ? `Unsupported fabricEvent ${event}`
            : (checkFabricEvent(event, eventData) ?? withFabric(pc, conferenceID, (fabric) => fabric.sendEvent(event, eventData))),

      reportError: (pc, conferenceID, webRTCFunction, error, localSDP, remoteSDP) => {
        const details = { localSDP: sdpText(localSDP), remoteSDP: sdpText(remoteSDP) };
        return (
          checkWebRTCFunction(webRTCFunction) ??
          checkConferenceID(conferenceID) ??
          ((monitor) => {
            const fabric = pc ? monitor.getFabric(pc as MonitoredPeerConnection) : undefined;
            return fabric ? fabric.reportError(webRTCFunction, error, details) : monitor.reportError(conferenceID, webRTCFunction, error, details);
          })
        );
      },

      associateMstWithUserID: (pc, userID, conferenceID, ssrc, usageLabel, associatedVideoTag) =>
        !pc || userID == null || ssrc == null || ssrc === ''
          ? ARGUMENT
          : withFabric(pc, conferenceID, (fabric) =>
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

      sendUserFeedback: (conferenceID, feedback, callback) => {
        const answerApp = (status: string, message: string) => callApp('sendUserFeedback callback', callback, status, message);
        // The monitor's checks, also before initialize (a queued call must not be answered success wrongly).
        const invalid = checkConferenceID(conferenceID) ?? checkFeedback(feedback);
        if (invalid) {
          answerApp('failure', invalid);
          return invalid;
        }
        return (monitor) => {
          const result = monitor.sendFeedback(conferenceID, feedback);
          answerApp(result.status, result.message ?? 'feedback queued for sending');
          return result;
        };
      },

      sendCustomEvent: (pc, conferenceID, eventList) => {
        if (!conferenceID || !eventList || typeof eventList != 'object' || (Array.isArray(eventList) && !eventList.length)) return ARGUMENT;
        // callstats.js's eventList: an array goes under `eventList`, an object is the data itself.
        const data = (Array.isArray(eventList) ? { eventList } : eventList) as Record<string, unknown>;
        return (
          checkConferenceID(conferenceID) ??
          checkCustomEvent('custom', data) ??
          ((monitor) => monitor.sendCustomEvent(conferenceID, 'custom', data, (pc || undefined) as MonitoredPeerConnection | undefined))
        );
      },

      sendCustomStats: (pc, conferenceID, stats) =>
        !conferenceID || !stats || typeof stats != 'object'
          ? ARGUMENT
          : (checkConferenceID(conferenceID) ??
            checkCustomStats(stats) ??
            ((monitor) => monitor.sendCustomStats(conferenceID, stats, (pc || undefined) as MonitoredPeerConnection | undefined))),

      setProxyConfig: (config) => {
        const url = isString(config?.collectorURL) ? config.collectorURL : config?.url;
        if (!isString(url) || !/^https?:\/\//.test(url)) return `${ARGUMENT} collectorURL must be an http(s) URL`;
        if (monitor) return 'must be called before initialize';
        proxyCollectorURL = url;
        return undefined;
      },

      sendCallDetails: (pc, conferenceID, eventData) => {
        if (!pc || !isPlainObject(eventData)) return ARGUMENT;
        const details = { ...eventData, callType: eventData.callType || callType.unknown };
        const known = (value: unknown, values: object) => isString(value) && hasOwn(values, value);
        return !known(details.callType, callType) || !known(details.role, roles)
          ? ARGUMENT
          : (checkFabricEvent('callDetails', details) ?? withFabric(pc, conferenceID, (fabric) => fabric.sendEvent('callDetails', details)));
      },
    };

    const methods: Record<string, unknown> & Pick<CallStatsClass, 'on' | 'getTurnCredentials' | 'getSctResults'> = {
      on: (eventName: string, callback: unknown): Result =>
        isFunction(callback) && UNDELIVERED.includes(eventName)
          ? unsupported(`on('${eventName}')`)
          : call('on', () => {
              if (!EVENTS.includes(eventName) || !isFunction(callback)) return ARGUMENT;
              callbacks[eventName as 'stats'] = callback as CsStatsCallback;
              return undefined;
            }),
      getTurnCredentials: () => Promise.reject(new Error(unsupported('getTurnCredentials').message)),
      getSctResults: () => (unsupported('getSctResults'), null),
    };
    for (const [name, method] of Object.entries(checked)) methods[name] = (...args: never[]) => call(name, () => (method as (...a: never[]) => Outcome | Work)(...args));
    for (const name of UNSUPPORTED) methods[name] = () => unsupported(name);

    Object.assign(this, ENUMS);
    // Own properties, not enumerable, writable (apps wrap them, as lib-jitsi-meet does).
    for (const [name, value] of Object.entries(methods)) Object.defineProperty(this, name, { value, writable: true, configurable: true });
    Object.defineProperty(this, 'monitor', { get: () => monitor });
  }
}

/** A reportError SDP argument's text: a string, or an RTCSessionDescriptionInit's sdp. */
const sdpText = (sdp: unknown): string | undefined => (isString(sdp) ? sdp : isPlainObject(sdp) && isString(sdp.sdp) ? sdp.sdp : undefined);

/** The Work of a method on the fabric of `pc`, which must be in `conferenceID`. */
function withFabric(pc: AnyPeerConnection, conferenceID: string, run: (fabric: Fabric) => Result): Work {
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
