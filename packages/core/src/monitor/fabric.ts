import type {
  EndpointType,
  ErrorDetails,
  ErrorRecord,
  Fabric,
  FabricEvent,
  FabricEventRecord,
  FabricLifecycleEvent,
  FabricOptions,
  FabricState,
  FabricStats,
  FabricUsage,
  Logger,
  MonitoredPeerConnection,
  Result,
  StreamMapping,
  StreamSelector,
  TransmissionDirection,
  WebRTCFunction,
} from '../types';
import { fabricEvent as FABRIC_EVENTS } from '../callstats/enums';
import { createStatsProcessor } from '../stats/processor';
import { toFabricStats } from '../stats/callbackShape';
import { StreamMappings } from '../stats/mapping';
import { createPoller, type Poller } from '../stats/poller';
import { LifecycleObserver, type SetupDelays } from './lifecycle';
import { classifyFailure, isWebRTCFunction, normalizeError } from './errors';
import { failure, SUCCESS } from './result';

/** What a fabric needs from its monitor. */
export interface FabricHost {
  readonly localUserID: string;
  readonly logger: Logger;
  readonly statsIntervalMs: number;
  readonly statsCallbackIntervalMs: number;
  readonly collectIP: boolean;
  now(): number;
  conferenceURL(conferenceID: string): string;
  emitFabricEvent(record: FabricEventRecord): void;
  emitError(record: ErrorRecord): void;
  emitSample(stats: FabricStats): void;
  emitStats(stats: FabricStats): void;
  fabricTerminated(fabric: FabricImpl): void;
}

const APP_EVENTS = new Set<string>(Object.values(FABRIC_EVENTS));

/** Validates an app-sent event's data; returns an error message or undefined. */
function validateEventData(event: FabricEvent, data: Record<string, unknown> | undefined): string | undefined {
  if (event === 'activeDeviceList') {
    if (!data || !Array.isArray(data.deviceList))
      return "activeDeviceList needs eventData {deviceList: [...]}, the list of active media devices";
  }
  return undefined;
}

function selectorKey(selector: StreamSelector): string | undefined {
  if ('ssrc' in selector && (typeof selector.ssrc === 'string' || typeof selector.ssrc === 'number'))
    return `ssrc:${String(selector.ssrc)}`;
  if ('mid' in selector && typeof selector.mid === 'string') return `mid:${selector.mid}`;
  if ('trackId' in selector && typeof selector.trackId === 'string') return `track:${selector.trackId}`;
  return undefined;
}

let fabricCounter = 0;

export class FabricImpl implements Fabric {
  readonly id: string;
  readonly conferenceID: string;
  readonly remoteUserID: string;
  readonly usage: FabricUsage;
  readonly remoteEndpointType: EndpointType;
  readonly direction: TransmissionDirection;
  readonly attributes: Record<string, unknown> | undefined;
  private currentState: FabricState = 'initializing';
  private stateBeforeHold: FabricState = 'initializing';
  private readonly lifecycle: LifecycleObserver;
  private readonly poller: Poller;
  private readonly processor = createStatsProcessor();
  private readonly mappings = new StreamMappings();
  private latest: FabricStats | undefined;
  private lastCallbackAt: number;

  constructor(
    readonly pc: MonitoredPeerConnection,
    options: FabricOptions,
    private readonly host: FabricHost,
  ) {
    this.id = `${host.now().toString(36)}-${(++fabricCounter).toString(36)}`;
    this.conferenceID = options.conferenceID;
    this.remoteUserID = options.remoteUserID;
    this.usage = options.usage ?? 'multiplex';
    this.remoteEndpointType = options.remoteEndpointType ?? 'peer';
    this.direction = options.direction ?? 'sendrecv';
    this.attributes = options.attributes;
    this.lastCallbackAt = host.now();
    this.lifecycle = new LifecycleObserver(pc, host.now(), this.lifecycleCallbacks(), () => host.now());
    this.poller = createPoller({
      intervalMs: host.statsIntervalMs,
      poll: () => this.poll(),
      onError: (error: unknown) => host.logger.warn(`getStats failed for fabric ${this.id}`, error),
    });
  }

  get state(): FabricState {
    return this.currentState;
  }

  /** Starts observing; called once by the monitor after the fabric is registered. */
  start(): void {
    this.lifecycle.start();
    if (this.currentState !== 'terminated') this.poller.start();
  }

  sendEvent(event: FabricEvent, data?: Record<string, unknown>): Result {
    if (this.currentState === 'terminated') return failure(`fabric ${this.id} is terminated; no more events can be sent for it`);
    if (typeof event !== 'string' || !APP_EVENTS.has(event))
      return failure(`unknown fabricEvent '${String(event)}'; use one of: ${[...APP_EVENTS].join(', ')}`);
    if (data !== undefined && (data === null || typeof data !== 'object'))
      return failure('eventData must be an object when given');
    const invalid = validateEventData(event, data);
    if (invalid) return failure(invalid);

    if (event === 'fabricTerminated') {
      this.terminate();
      return SUCCESS;
    }
    this.emitEvent(event, data);
    if (event === 'fabricHold' && this.currentState !== 'hold') {
      this.stateBeforeHold = this.currentState;
      this.setState('hold');
    } else if (event === 'fabricResume' && this.currentState === 'hold') {
      this.setState(this.stateBeforeHold === 'initializing' && this.lifecycle.isEstablished ? 'established' : this.stateBeforeHold);
      void this.poller.pollNow();
    }
    return SUCCESS;
  }

  reportError(fn: WebRTCFunction, error: unknown, details?: ErrorDetails): Result {
    if (!isWebRTCFunction(fn)) return failure(`unknown webRTCFunction '${String(fn)}'`);
    const normalized = normalizeError(error, fn);
    if (normalized.truncated)
      this.host.logger.warn(`applicationLog over 20 KB was truncated (fabric ${this.id})`);
    const record: ErrorRecord = {
      fabricID: this.id,
      conferenceID: this.conferenceID,
      webRTCFunction: fn,
      category: classifyFailure(fn, this.lifecycle.isEstablished),
      ...(normalized.name ? { name: normalized.name } : {}),
      message: normalized.message,
      ...(typeof details?.localSDP === 'string' ? { localSDP: details.localSDP } : {}),
      ...(typeof details?.remoteSDP === 'string' ? { remoteSDP: details.remoteSDP } : {}),
      timestamp: this.host.now(),
    };
    this.host.emitError(record);
    return normalized.truncated ? { status: 'success', message: 'applicationLog truncated to 20 KB' } : SUCCESS;
  }

  mapStream(selector: StreamSelector, mapping: StreamMapping): Result {
    if (!selector || typeof selector !== 'object' || selectorKey(selector) === undefined)
      return failure('stream selector must be {ssrc}, {mid} or {trackId}');
    if (!mapping || typeof mapping !== 'object' || typeof mapping.userID !== 'string' || mapping.userID === '')
      return failure('stream mapping needs a non-empty userID');
    this.mappings.set(selector, mapping);
    return SUCCESS;
  }

  latestStats(): FabricStats | undefined {
    return this.latest;
  }

  async pollNow(): Promise<FabricStats | undefined> {
    await this.poller.pollNow();
    return this.latest;
  }

  terminate(): void {
    if (this.currentState === 'terminated') return;
    this.lifecycle.stop();
    this.poller.stop();
    this.emitEvent('fabricTerminated');
    this.setState('terminated');
    this.host.fabricTerminated(this);
  }

  // -------------------------------------------------------------------------------------------

  private async poll(): Promise<void> {
    this.lifecycle.check();
    // Hold stops getStats; the closed check above still runs because close() fires no event.
    if (this.isPaused()) return;
    const report = await this.pc.getStats();
    // The state may have changed while getStats was pending.
    if (this.isPaused()) return;
    const now = this.host.now();
    const processed = this.processor.process(
      report,
      {
        localUserID: this.host.localUserID,
        remoteUserID: this.remoteUserID,
        localSDP: this.pc.localDescription?.sdp,
        remoteSDP: this.pc.remoteDescription?.sdp,
        mappings: this.mappings,
        collectIP: this.host.collectIP,
      },
      now,
    );
    const stats = toFabricStats({
      fabricID: this.id,
      conferenceID: this.conferenceID,
      connectionState: this.pc.connectionState ?? this.pc.iceConnectionState,
      fabricState: this.currentState,
      conferenceURL: this.host.conferenceURL(this.conferenceID),
      timestamp: now,
      streams: processed.streams,
      connection: processed.connection,
    });
    this.latest = stats;
    this.host.emitSample(stats);
    if (now - this.lastCallbackAt >= this.host.statsCallbackIntervalMs) {
      this.lastCallbackAt = now;
      this.host.emitStats(stats);
    }
  }

  private isPaused(): boolean {
    return this.currentState === 'terminated' || this.currentState === 'hold';
  }

  private setState(next: FabricState): void {
    const prev = this.currentState;
    if (prev === next || prev === 'terminated') return;
    this.currentState = next;
    this.emitEvent('fabricStateChange', { prevState: prev, newState: next });
  }

  private emitEvent(event: FabricEvent | FabricLifecycleEvent, data?: Record<string, unknown>): void {
    this.host.emitFabricEvent({
      fabricID: this.id,
      conferenceID: this.conferenceID,
      event,
      ...(data ? { data } : {}),
      timestamp: this.host.now(),
    });
  }

  private lifecycleCallbacks() {
    const host = this.host;
    return {
      onSetup: (delays: SetupDelays) => {
        this.emitEvent('fabricSetup', { ...delays });
        if (this.currentState === 'initializing') this.setState('established');
        else if (this.currentState === 'hold') this.stateBeforeHold = 'established';
      },
      onSetupFailed: (reason: string) => {
        this.emitEvent('fabricSetupFailed', { reason });
        this.reportError('iceConnectionFailure', `ICE failed before the connection was set up: ${reason}`);
        this.setState('failed');
      },
      onDisruptionStart: (state: string) => {
        this.emitEvent('connectionDisruptionStart', { connectionState: state });
        if (this.currentState === 'established') this.setState('disrupted');
        else if (this.currentState === 'hold') this.stateBeforeHold = 'disrupted';
      },
      onDisruptionEnd: (duration: number) => {
        this.emitEvent('connectionDisruptionEnd', { duration });
        if (this.currentState === 'disrupted') this.setState('established');
        else if (this.currentState === 'hold') this.stateBeforeHold = 'established';
      },
      onDropped: () => {
        this.emitEvent('fabricDropped');
        this.reportError('iceConnectionFailure', 'ICE connection failed after the fabric was set up');
      },
      onIceRestart: () => this.emitEvent('iceRestarted'),
      onClosed: () => this.terminate(),
      onStateChange: (kind: string, prev: string, next: string) =>
        host.logger.debug(`fabric ${this.id} ${kind}: ${prev || '(none)'} -> ${next}`),
    };
  }
}
