import type {
  ErrorRecord,
  FabricEvent,
  FabricOptions,
  FabricStats,
  FabricUsage,
  Logger,
  Monitor,
  MonitoredPeerConnection,
  MonitorOptions,
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
  failureText,
  qualityRating,
  roles,
  transmissionDirection,
  userIDType,
  webRTCFunctions,
} from './enums';
import { tryCreateMonitor } from '../monitor/monitor';
import { createConsoleLogger, guardLogger } from '../util/logger';
import { safeCall } from '../util/emitter';

type CsInitCallback = (status: string, message: string) => void;
type CsStatsCallback = (stats: FabricStats) => void;
type PcCallback = (error: string, message: string) => void;
type FacadeEvent = 'stats' | 'error' | 'defaultConfig' | 'recommendedConfig';

/** callstats.js's configParams, plus Callmetry's own fields. */
export interface CallStatsConfigParams {
  /** Callmetry: where data goes. Without it (and without setProxyConfig), local-only mode. */
  collectorURL?: string;
  collectIP?: boolean;
  /** Callmetry: getStats sampling interval (ms, minimum 1000). */
  statsIntervalMs?: number;
  /** Callmetry: stats callback interval (ms, default 10000). */
  statsCallbackIntervalMs?: number;
  applicationVersion?: string;
  siteID?: string;
  additionalIDs?: Record<string, unknown>;
  disableBeforeUnloadHandler?: boolean;
  disablePrecalltest?: boolean;
  logger?: Logger;
  [key: string]: unknown;
}

const MAX_QUEUED_CALLS = 1000;
const SUCCESS: Result = { status: 'success' };
const fail = (method: string, text: string, detail = ''): Result => ({ status: 'failure', message: `${method}: ${text} ${detail}`.trimEnd() });

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The callstats.js API. Every method answers `{status, message?}` and never throws, whatever it
 * is given. Calls made before initialize() are queued and replayed in order once it runs.
 */
export class CallStats {
  static readonly fabricEvent = fabricEvent;
  static readonly fabricUsage = fabricUsage;
  static readonly endpointType = endpointType;
  static readonly transmissionDirection = transmissionDirection;
  static readonly webRTCFunctions = webRTCFunctions;
  static readonly qualityRating = qualityRating;
  static readonly csError = csError;
  static readonly callStatsAPIReturnStatus = callStatsAPIReturnStatus;
  static readonly userIDType = userIDType;
  static readonly callType = callType;
  static readonly roles = roles;
  static readonly version = compatibleCallstatsVersion;

  readonly fabricEvent = fabricEvent;
  readonly fabricUsage = fabricUsage;
  readonly endpointType = endpointType;
  readonly transmissionDirection = transmissionDirection;
  readonly webRTCFunctions = webRTCFunctions;
  readonly qualityRating = qualityRating;
  readonly csError = csError;
  readonly callStatsAPIReturnStatus = callStatsAPIReturnStatus;
  readonly userIDType = userIDType;
  readonly callType = callType;
  readonly roles = roles;
  readonly version = compatibleCallstatsVersion;

  private monitorImpl: Monitor | undefined;
  private logger: Logger = guardLogger(createConsoleLogger());
  private proxyCollectorURL: string | undefined;
  private readonly queue: Array<() => void> = [];
  private readonly listeners: Record<FacadeEvent, Set<(...args: never[]) => void>> = {
    stats: new Set(),
    error: new Set(),
    defaultConfig: new Set(),
    recommendedConfig: new Set(),
  };

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
    return this.guard('initialize', () => {
      if (this.monitorImpl) return fail('initialize', 'already initialized; create a new callstats object for another app');
      if (typeof appID !== 'string' && typeof appID !== 'number') return fail('initialize', failureText.argumentError);
      if (typeof appSecretOrTokenGenerator !== 'string' && typeof appSecretOrTokenGenerator !== 'function')
        return fail('initialize', failureText.argumentError);
      if (!localUserID) return fail('initialize', failureText.argumentError);
      const params: CallStatsConfigParams = configParams && typeof configParams === 'object' ? configParams : {};
      if (params.logger) this.logger = guardLogger(params.logger);
      const collectorURL = typeof params.collectorURL === 'string' ? params.collectorURL : this.proxyCollectorURL;

      const options: MonitorOptions = {
        appID: String(appID),
        localUserID,
        logger: this.logger,
        collectIP: params.collectIP === true,
        ...(typeof params.statsIntervalMs === 'number' ? { statsIntervalMs: params.statsIntervalMs } : {}),
        ...(typeof params.statsCallbackIntervalMs === 'number' ? { statsCallbackIntervalMs: params.statsCallbackIntervalMs } : {}),
        ...(collectorURL ? { collectorURL } : {}),
        ...(typeof appSecretOrTokenGenerator === 'function'
          ? { tokenGenerator: appSecretOrTokenGenerator }
          : { appSecret: appSecretOrTokenGenerator }),
      };
      const { monitor, result } = tryCreateMonitor(options);
      if (!monitor) return fail('initialize', failureText.argumentError, result.message ?? '');
      this.monitorImpl = monitor;

      if (typeof csStatsCallback === 'function') this.listeners.stats.add(csStatsCallback);
      monitor.on('stats', (stats) => this.emit('stats', stats));
      monitor.on('error', (record) => this.emit('error', record));
      monitor.on('transport', (status) => {
        if (status.error && status.state !== 'connected') this.emit('error', status);
      });
      void monitor.ready.then((outcome) => {
        if (outcome.status === 'success') {
          const message = collectorURL
            ? 'SDK authentication successful.'
            : 'SDK authentication successful. Local-only mode: no collectorURL, nothing is sent.';
          safeCall(this.logger, 'csInitCallback', csInitCallback, csError.success, message);
        } else {
          const [code, ...rest] = (outcome.message ?? 'authError: authentication failed').split(': ');
          safeCall(this.logger, 'csInitCallback', csInitCallback, code ?? csError.authError, rest.join(': '));
        }
        // Without a config service, callstats.js delivered these with null members.
        this.emit('defaultConfig', { peerConnection: null, media: null });
      });

      // Replay what the app called before initialize, in order.
      const pending = this.queue.splice(0);
      for (const call of pending) call();
      return SUCCESS;
    });
  }

  addNewFabric(
    pc: RTCPeerConnection | MonitoredPeerConnection,
    remoteUserID: string,
    usage: FabricUsage,
    conferenceID: string,
    fabricAttributes?: { remoteEndpointType?: string; fabricTransmissionDirection?: string } | PcCallback,
    pcCallback?: PcCallback,
  ): Result {
    return this.guard('addNewFabric', () => {
      let callback = pcCallback;
      let attributes = fabricAttributes;
      if (typeof fabricAttributes === 'function') {
        callback = fabricAttributes;
        attributes = undefined;
      }
      if (remoteUserID === undefined || remoteUserID === null) return fail('addNewFabric', failureText.argumentError, 'remoteUserID');
      if (typeof conferenceID !== 'string' || !conferenceID) return fail('addNewFabric', failureText.argumentError, 'conferenceID');
      if (!pc || !usage) return fail('addNewFabric', failureText.argumentError);
      const attrs = attributes && typeof attributes === 'object' ? attributes : {};
      if (attrs.remoteEndpointType !== undefined && !hasOwn(endpointType, String(attrs.remoteEndpointType)))
        return fail('addNewFabric', csError.invalidEndPointType, String(attrs.remoteEndpointType));
      if (attrs.fabricTransmissionDirection !== undefined && !hasOwn(transmissionDirection, String(attrs.fabricTransmissionDirection)))
        return fail('addNewFabric', csError.invalidTransmissionDirection, String(attrs.fabricTransmissionDirection));
      if (!hasOwn(fabricUsage, String(usage))) return fail('addNewFabric', failureText.fabricUsageInvalid, String(usage));
      const candidate = pc as unknown as Record<string, unknown>;
      if (typeof candidate.getStats !== 'function' || typeof candidate.addEventListener !== 'function')
        return fail('addNewFabric', failureText.pcInvalid);

      const options: FabricOptions = {
        remoteUserID: String(remoteUserID),
        conferenceID,
        usage,
        ...(attrs.remoteEndpointType ? { remoteEndpointType: attrs.remoteEndpointType as FabricOptions['remoteEndpointType'] } : {}),
        ...(attrs.fabricTransmissionDirection
          ? { direction: attrs.fabricTransmissionDirection as FabricOptions['direction'] }
          : {}),
      };
      return this.whenInitialized('addNewFabric', (monitor) => {
        const { fabric, result } = monitor.tryAddFabric(pc as MonitoredPeerConnection, options);
        if (!fabric) return fail('addNewFabric', result.message ?? failureText.pcInvalid);
        if (typeof callback === 'function') {
          const cb = callback;
          const off = monitor.on('fabricEvent', (record) => {
            if (record.fabricID !== fabric.id) return;
            if (record.event === 'connectionDisruptionStart' || record.event === 'fabricSetupFailed')
              safeCall(this.logger, 'pcCallback', cb, csError.appConnectivityError, `Connectivity check for PC object to ${options.remoteUserID} failed.`);
            if (record.event === 'fabricTerminated') off();
          });
        }
        return SUCCESS;
      });
    });
  }

  sendFabricEvent(pc: RTCPeerConnection | MonitoredPeerConnection, event: FabricEvent, conferenceID: string, eventData?: Record<string, unknown>): Result {
    return this.guard('sendFabricEvent', () => {
      if (!pc || !event) return fail('sendFabricEvent', failureText.argumentError);
      if (event === 'fabricSetupFailed') return fail('sendFabricEvent', failureText.fabricEventUnsupported, event);
      if (!hasOwn(fabricEvent, String(event))) return fail('sendFabricEvent', failureText.fabricEventInvalid, String(event));
      if (event === 'activeDeviceList' && !(eventData && Array.isArray((eventData as { deviceList?: unknown }).deviceList)))
        return fail('sendFabricEvent', failureText.argumentError, 'activeDeviceList needs eventData.deviceList (an array)');
      return this.whenInitialized('sendFabricEvent', (monitor) => {
        const fabric = monitor.getFabric(pc as MonitoredPeerConnection);
        if (!fabric) return fail('sendFabricEvent', failureText.pcInvalid, '(not added with addNewFabric, or already terminated)');
        if (fabric.conferenceID !== conferenceID) return fail('sendFabricEvent', failureText.conferenceDoesNotExist, String(conferenceID));
        const result = fabric.sendEvent(event, eventData);
        return result.status === 'success' ? result : fail('sendFabricEvent', result.message ?? '');
      });
    });
  }

  reportError(
    pc: RTCPeerConnection | MonitoredPeerConnection | null,
    conferenceID: string,
    webRTCFunction: WebRTCFunction,
    error: unknown,
    localSDP?: string | RTCSessionDescriptionInit | null,
    remoteSDP?: string | RTCSessionDescriptionInit | null,
  ): Result {
    return this.guard('reportError', () => {
      if (!hasOwn(webRTCFunctions, String(webRTCFunction)))
        return fail('reportError', failureText.webRTCFunctionsInvalid, String(webRTCFunction));
      if (typeof conferenceID !== 'string' || !conferenceID) return fail('reportError', failureText.argumentError, 'conferenceID');
      const sdpText = (sdp: unknown) =>
        typeof sdp === 'string' ? sdp : sdp && typeof sdp === 'object' && typeof (sdp as { sdp?: unknown }).sdp === 'string' ? (sdp as { sdp: string }).sdp : undefined;
      const details = {
        ...(sdpText(localSDP) ? { localSDP: sdpText(localSDP) } : {}),
        ...(sdpText(remoteSDP) ? { remoteSDP: sdpText(remoteSDP) } : {}),
      };
      return this.whenInitialized('reportError', (monitor) => {
        const fabric = pc ? monitor.getFabric(pc as MonitoredPeerConnection) : undefined;
        const result = fabric
          ? fabric.reportError(webRTCFunction, error, details)
          : monitor.reportError(conferenceID, webRTCFunction, error, details);
        return result.status === 'success' ? result : fail('reportError', result.message ?? '');
      });
    });
  }

  associateMstWithUserID(
    pc: RTCPeerConnection | MonitoredPeerConnection,
    userID: string,
    conferenceID: string,
    ssrc: string | number,
    usageLabel: string,
    associatedVideoTag?: string,
  ): Result {
    return this.guard('associateMstWithUserID', () => {
      if (!pc || userID === undefined || userID === null || ssrc === undefined || ssrc === null || ssrc === '')
        return fail('associateMstWithUserID', failureText.argumentError);
      return this.whenInitialized('associateMstWithUserID', (monitor) => {
        const fabric = monitor.getFabric(pc as MonitoredPeerConnection);
        if (!fabric) return fail('associateMstWithUserID', failureText.pcInvalid);
        if (fabric.conferenceID !== conferenceID) return fail('associateMstWithUserID', failureText.conferenceDoesNotExist);
        const result = fabric.mapStream(
          { ssrc: String(ssrc) },
          {
            userID: String(userID),
            ...(typeof usageLabel === 'string' ? { usageLabel } : {}),
            ...(typeof associatedVideoTag === 'string' ? { associatedVideoTag } : {}),
          },
        );
        return result.status === 'success' ? result : fail('associateMstWithUserID', result.message ?? '');
      });
    });
  }

  sendUserFeedback(
    conferenceID: string,
    feedback: { userID?: UserIdentity; overall: number; audio?: number; video?: number; comment?: string },
    callback?: (status: string, message: string) => void,
  ): Result {
    return this.guard('sendUserFeedback', () => {
      const outcome = this.whenInitialized('sendUserFeedback', (monitor) => {
        const result = monitor.sendFeedback(conferenceID, feedback);
        safeCall(this.logger, 'sendUserFeedback callback', callback, result.status, result.message ?? 'feedback queued for sending');
        return result.status === 'success' ? result : fail('sendUserFeedback', result.message ?? '');
      });
      return outcome;
    });
  }

  /** callstats.js's signature: (pc, conferenceID, eventList) where eventList is a non-empty array or object. */
  sendCustomEvent(pc: RTCPeerConnection | MonitoredPeerConnection | null, conferenceID: string, eventList: unknown): Result {
    return this.guard('sendCustomEvent', () => {
      if (!conferenceID || !eventList || typeof eventList !== 'object') return fail('sendCustomEvent', failureText.argumentError);
      if (Array.isArray(eventList) && eventList.length === 0) return fail('sendCustomEvent', failureText.argumentError);
      return this.whenInitialized('sendCustomEvent', (monitor) => {
        const data = Array.isArray(eventList) ? { eventList } : (eventList as Record<string, unknown>);
        const result = monitor.sendCustomEvent(conferenceID, 'custom', data, pc ? (pc as MonitoredPeerConnection) : undefined);
        return result.status === 'success' ? result : fail('sendCustomEvent', result.message ?? '');
      });
    });
  }

  sendCustomStats(pc: RTCPeerConnection | MonitoredPeerConnection | null, conferenceID: string, stats: Record<string, number>): Result {
    return this.guard('sendCustomStats', () => {
      if (!conferenceID || !stats || typeof stats !== 'object') return fail('sendCustomStats', failureText.argumentError);
      return this.whenInitialized('sendCustomStats', (monitor) => {
        const result = monitor.sendCustomStats(conferenceID, stats, pc ? (pc as MonitoredPeerConnection) : undefined);
        return result.status === 'success' ? result : fail('sendCustomStats', result.message ?? '');
      });
    });
  }

  /** Points the SDK at a collector (or a proxy in front of it). Call before initialize. */
  setProxyConfig(config: { collectorURL?: string; url?: string }): Result {
    return this.guard('setProxyConfig', () => {
      if (!config || typeof config !== 'object') return fail('setProxyConfig', failureText.argumentError);
      const url = typeof config.collectorURL === 'string' ? config.collectorURL : typeof config.url === 'string' ? config.url : undefined;
      if (!url || !/^https?:\/\//.test(url)) return fail('setProxyConfig', failureText.argumentError, 'collectorURL must be an http(s) URL');
      if (this.monitorImpl) return fail('setProxyConfig', 'must be called before initialize');
      this.proxyCollectorURL = url;
      return SUCCESS;
    });
  }

  on(eventName: 'stats', callback: CsStatsCallback): Result;
  on(eventName: 'error', callback: (error: ErrorRecord | unknown) => void): Result;
  on(eventName: 'defaultConfig' | 'recommendedConfig', callback: (config: Record<string, unknown>) => void): Result;
  on(eventName: string, callback: (...args: never[]) => void): Result {
    return this.guard('on', () => {
      if (typeof eventName !== 'string' || !hasOwn(this.listeners, eventName) || typeof callback !== 'function')
        return fail('on', failureText.argumentError);
      this.listeners[eventName as FacadeEvent].add(callback);
      return SUCCESS;
    });
  }

  // -------------------------------------------------------------------------------------------

  private emit(event: FacadeEvent, payload: unknown): void {
    for (const listener of [...this.listeners[event]]) safeCall(this.logger, `'${event}' callback`, listener as (p: unknown) => void, payload);
  }

  /** Runs now when initialized, otherwise queues the call for initialize(). */
  private whenInitialized(method: string, run: (monitor: Monitor) => Result): Result {
    const monitor = this.monitorImpl;
    if (monitor) return run(monitor);
    if (this.queue.length >= MAX_QUEUED_CALLS) return fail(method, failureText.notInitialized, '(queue full: call initialize first)');
    this.queue.push(() => {
      const result = this.guard(method, () => run(this.monitorImpl!));
      if (result.status === 'failure') this.logger.warn(`queued ${method} failed: ${result.message ?? ''}`);
    });
    return { status: 'success', message: `${method}: queued until initialize()` };
  }

  /** The facade's promise: whatever it is given, it answers and never throws. */
  private guard(method: string, body: () => Result): Result {
    try {
      return body();
    } catch (error) {
      this.logger.error(`${method} failed unexpectedly; the error was caught`, error);
      return fail(method, 'internal error', String(error));
    }
  }
}
