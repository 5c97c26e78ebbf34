import type {
  ErrorDetails,
  ErrorRecord,
  Fabric,
  FabricEventRecord,
  FabricOptions,
  FabricStats,
  Feedback,
  Logger,
  Monitor,
  MonitorEvents,
  MonitorOptions,
  MonitoredPeerConnection,
  Result,
  TransportStatus,
  Unsubscribe,
  UserIdentity,
  WebRTCFunction,
} from '../types';
import { endpointType, fabricUsage, transmissionDirection } from '../callstats/enums';
import { SafeEmitter } from '../util/emitter';
import { createConsoleLogger, guardLogger } from '../util/logger';
import { createTransport, type Transport, type OutgoingItem } from '../transport/index';
import { FabricImpl, type FabricHost } from './fabric';
import { classifyFailure, isWebRTCFunction, normalizeError } from './errors';
import { failure, SUCCESS } from './result';
import { toWireStats } from './wire';

export const MIN_STATS_INTERVAL_MS = 1000;
export const DEFAULT_STATS_CALLBACK_INTERVAL_MS = 10_000;

/** The user id sent on the wire: a string, or callstats.js's `{userName, aliasName}` object. */
export function userIdentityToString(id: UserIdentity): string | undefined {
  if (typeof id === 'string') return id.length > 0 ? id : undefined;
  if (id && typeof id === 'object') {
    const { aliasName, userName } = id as { aliasName?: unknown; userName?: unknown };
    if (typeof aliasName === 'string' && aliasName) return aliasName;
    if (typeof userName === 'string' && userName) return userName;
  }
  return undefined;
}

function isPeerConnection(pc: unknown): pc is MonitoredPeerConnection {
  if (!pc || typeof pc !== 'object') return false;
  const p = pc as Record<string, unknown>;
  return typeof p.getStats === 'function' && typeof p.addEventListener === 'function' && typeof p.removeEventListener === 'function';
}

const USAGES = new Set<string>(Object.values(fabricUsage));
const ENDPOINT_TYPES = new Set<string>(Object.values(endpointType));
const DIRECTIONS = new Set<string>(Object.values(transmissionDirection));

/** Checks addFabric's options; returns a message a developer can act on, or undefined. */
export function validateFabricOptions(options: FabricOptions): string | undefined {
  if (!options || typeof options !== 'object') return 'fabric options must be an object';
  if (typeof options.remoteUserID !== 'string') return 'remoteUserID must be a string';
  if (typeof options.conferenceID !== 'string' || options.conferenceID.length === 0 || options.conferenceID.length > 256)
    return 'conferenceID must be a non-empty string of at most 256 characters';
  if (options.usage !== undefined && !USAGES.has(options.usage)) return `Invalid fabricUsage value ${String(options.usage)}`;
  if (options.remoteEndpointType !== undefined && !ENDPOINT_TYPES.has(options.remoteEndpointType))
    return `Invalid EndPoint Type ${String(options.remoteEndpointType)}`;
  if (options.direction !== undefined && !DIRECTIONS.has(options.direction))
    return `Invalid fabric transmission direction ${String(options.direction)}`;
  return undefined;
}

class MonitorImpl implements Monitor, FabricHost {
  readonly appID: string;
  readonly localUserID: string;
  readonly logger: Logger;
  readonly statsIntervalMs: number;
  readonly statsCallbackIntervalMs: number;
  readonly collectIP: boolean;
  readonly ready: Promise<Result>;
  private readonly emitter: SafeEmitter<MonitorEvents>;
  private readonly byPc = new Map<MonitoredPeerConnection, FabricImpl>();
  private readonly transport: Transport | undefined;
  private readonly collectorURL: string | undefined;
  private closed = false;

  /** Set when the monitor was created from invalid options: every call then fails with it. */
  private readonly disabledReason: string | undefined;

  constructor(options: MonitorOptions, localUserID: string, disabledReason?: string) {
    this.disabledReason = disabledReason;
    this.appID = options.appID;
    this.localUserID = localUserID;
    this.logger = guardLogger(options.logger ?? createConsoleLogger());
    this.emitter = new SafeEmitter<MonitorEvents>(this.logger);
    this.statsIntervalMs = Math.max(MIN_STATS_INTERVAL_MS, Number(options.statsIntervalMs) || MIN_STATS_INTERVAL_MS);
    this.statsCallbackIntervalMs = Math.max(
      this.statsIntervalMs,
      Number(options.statsCallbackIntervalMs) || DEFAULT_STATS_CALLBACK_INTERVAL_MS,
    );
    this.collectIP = options.collectIP === true;
    this.collectorURL = typeof options.collectorURL === 'string' && options.collectorURL ? options.collectorURL.replace(/\/+$/, '') : undefined;

    if (disabledReason) {
      this.transport = undefined;
      this.ready = Promise.resolve(failure(disabledReason));
    } else if (this.collectorURL) {
      this.transport = createTransport({
        collectorURL: this.collectorURL,
        appID: this.appID,
        userID: this.localUserID,
        ...(typeof options.appSecret === 'string' ? { appSecret: options.appSecret } : {}),
        ...(typeof options.tokenGenerator === 'function' ? { tokenGenerator: options.tokenGenerator } : {}),
        collectIP: this.collectIP,
        ...(options.transport ? { options: options.transport } : {}),
        logger: this.logger,
      });
      this.transport.onStatus((status) => this.emitter.safeEmit('transport', status));
      this.ready = this.transport.start().then(
        (outcome): Result => (outcome.ok ? SUCCESS : failure(`${outcome.error}: ${outcome.message}`)),
        (error: unknown): Result => failure(`httpError: ${String(error)}`),
      );
    } else {
      this.ready = Promise.resolve(SUCCESS);
    }
  }

  now(): number {
    return Date.now();
  }

  conferenceURL(conferenceID: string): string {
    if (!this.collectorURL) return '';
    return `${this.collectorURL}/#/apps/${encodeURIComponent(this.appID)}/conferences/${encodeURIComponent(conferenceID)}`;
  }

  on<K extends keyof MonitorEvents>(event: K, listener: MonitorEvents[K]): Unsubscribe {
    if (typeof listener !== 'function') return () => undefined;
    return this.emitter.on(event, listener);
  }

  addFabric(pc: MonitoredPeerConnection, options: FabricOptions): Fabric | undefined {
    return this.tryAddFabric(pc, options).fabric;
  }

  /** addFabric with the reason when it refuses. */
  tryAddFabric(pc: MonitoredPeerConnection, options: FabricOptions): { fabric?: Fabric; result: Result } {
    if (this.disabledReason) return { result: failure(this.disabledReason) };
    if (this.closed) return { result: failure('the monitor is closed') };
    if (!isPeerConnection(pc)) return { result: failure('Invalid PeerConnection object passed') };
    const existing = this.byPc.get(pc);
    if (existing) return { fabric: existing, result: SUCCESS };
    const invalid = validateFabricOptions(options);
    if (invalid) return { result: failure(invalid) };
    if (pc.signalingState === 'closed') return { result: failure('the PeerConnection is already closed') };

    const fabric = new FabricImpl(pc, options, this);
    this.byPc.set(pc, fabric);
    this.send({
      kind: 'fabric',
      conferenceID: fabric.conferenceID,
      fabricID: fabric.id,
      localUserID: this.localUserID,
      remoteUserID: fabric.remoteUserID,
      fabricUsage: fabric.usage,
      remoteEndpointType: fabric.remoteEndpointType,
      direction: fabric.direction,
      ...(fabric.attributes ? { attributes: fabric.attributes } : {}),
    });
    fabric.start();
    return { fabric, result: SUCCESS };
  }

  getFabric(pc: MonitoredPeerConnection): Fabric | undefined {
    return this.byPc.get(pc);
  }

  fabrics(): Fabric[] {
    return [...this.byPc.values()];
  }

  sendFeedback(conferenceID: string, feedback: Feedback): Result {
    if (this.disabledReason) return failure(this.disabledReason);
    if (typeof conferenceID !== 'string' || !conferenceID) return failure('conferenceID must be a non-empty string');
    if (!feedback || typeof feedback !== 'object') return failure('feedback must be an object {overall, audio?, video?, comment?}');
    const rating = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 5;
    if (!rating(feedback.overall)) return failure('feedback.overall must be an integer rating from 1 to 5');
    for (const key of ['audio', 'video'] as const)
      if (feedback[key] !== undefined && !rating(feedback[key])) return failure(`feedback.${key} must be an integer rating from 1 to 5`);
    if (feedback.comment !== undefined && typeof feedback.comment !== 'string') return failure('feedback.comment must be a string');
    const userID = (feedback.userID !== undefined ? userIdentityToString(feedback.userID) : undefined) ?? this.localUserID;
    this.send({
      kind: 'feedback',
      conferenceID,
      userID,
      rating: {
        overall: feedback.overall,
        ...(feedback.audio !== undefined ? { audio: feedback.audio } : {}),
        ...(feedback.video !== undefined ? { video: feedback.video } : {}),
      },
      ...(feedback.comment !== undefined ? { comment: feedback.comment.slice(0, 2000) } : {}),
    });
    return SUCCESS;
  }

  sendCustomEvent(conferenceID: string, name: string, data?: Record<string, unknown>, pc?: MonitoredPeerConnection): Result {
    if (this.disabledReason) return failure(this.disabledReason);
    if (typeof conferenceID !== 'string' || !conferenceID) return failure('conferenceID must be a non-empty string');
    if (typeof name !== 'string' || !name) return failure('a custom event needs a name');
    if (data !== undefined && (data === null || typeof data !== 'object')) return failure('custom event data must be an object');
    const fabric = pc ? this.byPc.get(pc) : undefined;
    this.send({ kind: 'custom', conferenceID, name, ...(fabric ? { fabricID: fabric.id } : {}), ...(data ? { data } : {}) });
    return SUCCESS;
  }

  sendCustomStats(conferenceID: string, data: Record<string, number>, pc?: MonitoredPeerConnection): Result {
    if (this.disabledReason) return failure(this.disabledReason);
    if (typeof conferenceID !== 'string' || !conferenceID) return failure('conferenceID must be a non-empty string');
    if (!data || typeof data !== 'object') return failure('custom stats must be an object of numbers');
    const numbers: Record<string, number> = {};
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return failure(`custom stat '${k}' must be a finite number`);
      numbers[k] = v;
    }
    const fabric = pc ? this.byPc.get(pc) : undefined;
    this.send({ kind: 'customStats', conferenceID, data: numbers, ...(fabric ? { fabricID: fabric.id } : {}) });
    return SUCCESS;
  }

  reportError(conferenceID: string, fn: WebRTCFunction, error: unknown, details?: ErrorDetails): Result {
    if (this.disabledReason) return failure(this.disabledReason);
    if (typeof conferenceID !== 'string' || !conferenceID) return failure('conferenceID must be a non-empty string');
    if (!isWebRTCFunction(fn)) return failure(`Invalid webRTC functionName value ${String(fn)}`);
    const normalized = normalizeError(error, fn);
    this.emitError({
      conferenceID,
      webRTCFunction: fn,
      category: classifyFailure(fn, false),
      ...(normalized.name ? { name: normalized.name } : {}),
      message: normalized.message,
      ...(typeof details?.localSDP === 'string' ? { localSDP: details.localSDP } : {}),
      ...(typeof details?.remoteSDP === 'string' ? { remoteSDP: details.remoteSDP } : {}),
      timestamp: this.now(),
    });
    return SUCCESS;
  }

  transportStatus(): TransportStatus {
    return this.transport?.status() ?? { state: 'local-only', droppedSamples: 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const fabric of [...this.byPc.values()]) fabric.terminate();
    this.closed = true;
    try {
      await this.transport?.close();
    } catch (error) {
      this.logger.warn('closing the transport failed', error);
    }
    this.emitter.removeAllListeners();
  }

  // FabricHost ---------------------------------------------------------------------------------

  emitFabricEvent(record: FabricEventRecord): void {
    this.send({
      kind: 'event',
      conferenceID: record.conferenceID,
      t: record.timestamp,
      fabricID: record.fabricID,
      event: record.event,
      ...(record.data ? { data: record.data } : {}),
    });
    this.emitter.safeEmit('fabricEvent', record);
  }

  emitError(record: ErrorRecord): void {
    this.send({
      kind: 'error',
      conferenceID: record.conferenceID,
      t: record.timestamp,
      ...(record.fabricID ? { fabricID: record.fabricID } : {}),
      fn: record.webRTCFunction,
      category: record.category,
      ...(record.name ? { name: record.name } : {}),
      message: record.message,
      ...(record.localSDP ? { localSDP: record.localSDP } : {}),
      ...(record.remoteSDP ? { remoteSDP: record.remoteSDP } : {}),
    });
    this.emitter.safeEmit('error', record);
  }

  emitSample(stats: FabricStats): void {
    if (this.transport) this.send(toWireStats(stats, this.collectIP));
    this.emitter.safeEmit('sample', stats);
  }

  emitStats(stats: FabricStats): void {
    this.emitter.safeEmit('stats', stats);
  }

  fabricTerminated(fabric: FabricImpl): void {
    // Release the fabric so that a long-lived monitor does not grow with every call.
    if (this.byPc.get(fabric.pc) === fabric) this.byPc.delete(fabric.pc);
  }

  private send(item: OutgoingItem): void {
    if (!this.transport) return;
    try {
      this.transport.send(item);
    } catch (error) {
      this.logger.error('the transport refused an item', error);
    }
  }
}

/**
 * Creates a monitor: the typed API that the callstats.js facade and the adapters build on.
 * Never throws: invalid options give `{monitor: undefined, result}`.
 */
export function tryCreateMonitor(options: MonitorOptions): { monitor?: Monitor; result: Result } {
  if (!options || typeof options !== 'object') return { result: failure('monitor options must be an object') };
  if (typeof options.appID !== 'string' || options.appID.length === 0) return { result: failure('appID must be a non-empty string') };
  const localUserID = userIdentityToString(options.localUserID);
  if (localUserID === undefined)
    return { result: failure('localUserID must be a non-empty string or {userName, aliasName}') };
  if (options.collectorURL !== undefined && options.appSecret === undefined && options.tokenGenerator === undefined)
    return { result: failure('a collectorURL needs an appSecret or a tokenGenerator') };
  try {
    return { monitor: new MonitorImpl(options, localUserID), result: SUCCESS };
  } catch (error) {
    return { result: failure(`could not create the monitor: ${String(error)}`) };
  }
}

/**
 * Creates a monitor. Never throws: with invalid options it logs the reason and returns an inert
 * monitor whose `ready` resolves with the failure and whose calls all fail with that message.
 */
export function createMonitor(options: MonitorOptions): Monitor {
  const { monitor, result } = tryCreateMonitor(options);
  if (monitor) return monitor;
  const reason = `createMonitor: ${result.message ?? 'invalid options'}`;
  const logger = guardLogger((options && typeof options === 'object' && options.logger) || createConsoleLogger());
  logger.error(reason);
  return new MonitorImpl({ appID: 'invalid', localUserID: 'invalid', logger }, 'invalid', reason);
}

