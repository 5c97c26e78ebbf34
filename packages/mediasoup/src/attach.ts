import type { Fabric, FabricEvent, Logger, Monitor, StreamMapping } from '@callmetry/core';
import type {
  AppDataLike,
  AttachMediasoupOptions,
  ConsumerLike,
  ConsumerUser,
  DetachMediasoup,
  DeviceLike,
  MediasoupEmitterLike,
  ProducerLike,
  RtpParametersLike,
  TransportLike,
} from './types';
import { localIdIsMid, peerConnectionFor } from './peerConnection';

/** Removers of the listeners one object got from the adapter. */
type Listeners = Array<() => void>;

interface ItemWatch {
  readonly listeners: Listeners;
  /** The item's transport closed (its 'transportclose' came before its observer 'close'). */
  transportClosed: boolean;
}

interface TransportWatch {
  readonly transport: TransportLike;
  readonly fabric: Fabric;
  readonly handlerName: string | undefined;
  readonly listeners: Listeners;
  readonly items: Map<ProducerLike | ConsumerLike, ItemWatch>;
}

const DEFAULT_REMOTE_USER = 'sfu';
const MUTE_EVENTS: Record<string, { pause: FabricEvent; resume: FabricEvent }> = {
  audio: { pause: 'audioMute', resume: 'audioUnmute' },
  video: { pause: 'videoPause', resume: 'videoResume' },
};

// -----------------------------------------------------------------------------------------------
// Small helpers

function nonEmptyString(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function appDataOf(item: { readonly appData: AppDataLike }): AppDataLike {
  const appData = item.appData as unknown;
  return appData && typeof appData === 'object' ? (appData as AppDataLike) : {};
}

function isLogger(value: unknown): value is Logger {
  if (!value || typeof value !== 'object') return false;
  const l = value as Record<string, unknown>;
  return ['debug', 'info', 'warn', 'error'].every((level) => typeof l[level] === 'function');
}

/** The app's logger, the monitor's (not part of core's public Monitor type), or the console; never throws. */
function resolveLogger(monitor: Monitor, options: AttachMediasoupOptions): Logger {
  const fromMonitor = (monitor as unknown as { logger?: unknown }).logger;
  const base: Logger | undefined = isLogger(options.logger) ? options.logger : isLogger(fromMonitor) ? fromMonitor : undefined;
  const prefix = '[callmetry/mediasoup]';
  const write = (level: keyof Logger, message: string, details: unknown[]): void => {
    try {
      if (base) base[level](`${prefix} ${message}`, ...details);
      else if (level !== 'debug' && typeof console !== 'undefined') console[level](prefix, message, ...details);
    } catch {
      // A broken logger must not break the call.
    }
  };
  return {
    debug: (m, ...d) => write('debug', m, d),
    info: (m, ...d) => write('info', m, d),
    warn: (m, ...d) => write('warn', m, d),
    error: (m, ...d) => write('error', m, d),
  };
}

function isScreenShareByAppData(appData: AppDataLike): boolean {
  if (appData.share === true || appData.screen === true) return true;
  const source = appData.source;
  return typeof source === 'string' && /screen|display/i.test(source);
}

// -----------------------------------------------------------------------------------------------

class MediasoupAttachment {
  private readonly deviceListeners: Listeners = [];
  private readonly transports = new Map<TransportLike, TransportWatch>();
  private detached = false;

  constructor(
    private readonly device: DeviceLike,
    private readonly monitor: Monitor,
    private readonly options: AttachMediasoupOptions,
    private readonly log: Logger,
    private readonly onDetached: () => void,
  ) {}

  start(): void {
    this.listen(this.device.observer, 'newtransport', this.deviceListeners, (transport) =>
      this.onTransport(transport as TransportLike),
    );
  }

  readonly detach: DetachMediasoup = () => {
    if (this.detached) return;
    this.detached = true;
    try {
      removeAll(this.deviceListeners);
      for (const watch of [...this.transports.values()]) this.release(watch);
      this.transports.clear();
    } catch (error) {
      this.log.error('detach failed', error);
    }
    this.onDetached();
  };

  // ---------------------------------------------------------------------------------------------

  /** Registers `body` (wrapped: it never throws into mediasoup-client) and records how to remove it. */
  private listen<E extends string>(
    emitter: MediasoupEmitterLike<E>,
    event: E,
    listeners: Listeners,
    body: (...args: unknown[]) => void,
  ): void {
    const listener = (...args: unknown[]): void => {
      if (this.detached) return;
      try {
        body(...args);
      } catch (error) {
        this.log.error(`handling mediasoup-client '${event}' failed`, error);
      }
    };
    emitter.on(event, listener);
    listeners.push(() => {
      try {
        emitter.off(event, listener);
      } catch (error) {
        this.log.warn(`removing the '${event}' listener failed`, error);
      }
    });
  }

  /** Calls an app-supplied option function; a throw is logged and read as undefined. */
  private call<R>(what: string, fn: () => R): R | undefined {
    try {
      return fn();
    } catch (error) {
      this.log.error(`options.${what} threw`, error);
      return undefined;
    }
  }

  private conferenceIDOf(transport: TransportLike): string | undefined {
    const option = this.options.conferenceID;
    if (typeof option === 'function') return nonEmptyString(this.call('conferenceID', () => option(transport)));
    if (option !== undefined) return nonEmptyString(option);
    const appData = appDataOf(transport);
    return nonEmptyString(appData.conferenceID) ?? nonEmptyString(appData.roomId);
  }

  private remoteUserIDOf(transport: TransportLike): string {
    const option = this.options.remoteUserID;
    const value =
      typeof option === 'function' ? nonEmptyString(this.call('remoteUserID', () => option(transport))) : nonEmptyString(option);
    return value ?? DEFAULT_REMOTE_USER;
  }

  private usageLabelOf(item: ProducerLike | ConsumerLike, direction: 'send' | 'recv', screen: boolean): string {
    const custom = this.options.usageLabel;
    if (custom) {
      const label = nonEmptyString(this.call('usageLabel', () => custom(item, direction)));
      if (label) return label;
    }
    const appData = appDataOf(item);
    return (
      nonEmptyString(appData.usageLabel) ??
      nonEmptyString(appData.source) ??
      (screen ? 'screen' : item.kind === 'audio' ? 'microphone' : 'camera')
    );
  }

  private isScreenShare(producer: ProducerLike): boolean {
    const custom = this.options.isScreenShare;
    if (custom) return this.call('isScreenShare', () => custom(producer)) === true;
    return isScreenShareByAppData(appDataOf(producer));
  }

  private consumerUserOf(consumer: ConsumerLike, transport: TransportLike): ConsumerUser | undefined {
    const custom = this.options.userIdFromConsumer;
    if (custom) {
      const value = this.call('userIdFromConsumer', () => custom(consumer, transport));
      const id = nonEmptyString(value);
      if (id) return { userID: id };
      if (value && typeof value === 'object' && nonEmptyString((value as ConsumerUser).userID)) return value as ConsumerUser;
      return undefined;
    }
    const appData = appDataOf(consumer);
    const id = nonEmptyString(appData.userId) ?? nonEmptyString(appData.peerId) ?? nonEmptyString(appData.displayName);
    return id ? { userID: id } : undefined;
  }

  /** Maps every SSRC (RTX included) of the RTP parameters, and the mid, to `mapping`. */
  private mapStreams(fabric: Fabric, rtp: RtpParametersLike | undefined, mid: string | undefined, mapping: StreamMapping): void {
    const ssrcs = new Set<number>();
    for (const encoding of rtp?.encodings ?? []) {
      if (typeof encoding?.ssrc === 'number') ssrcs.add(encoding.ssrc);
      if (typeof encoding?.rtx?.ssrc === 'number') ssrcs.add(encoding.rtx.ssrc);
    }
    for (const ssrc of ssrcs) fabric.mapStream({ ssrc }, mapping);
    // The mid covers what SSRCs cannot: simulcast by rid (no SSRC in the parameters).
    if (mid) fabric.mapStream({ mid }, mapping);
  }

  // ---------------------------------------------------------------------------------------------
  // Transports

  private onTransport(transport: TransportLike): void {
    if (!transport || typeof transport !== 'object' || this.transports.has(transport) || transport.closed) return;
    const conferenceID = this.conferenceIDOf(transport);
    if (!conferenceID) {
      this.log.warn(
        `transport ${String(transport.id)} is not monitored: no conference ID (give options.conferenceID or appData.conferenceID)`,
      );
      return;
    }
    const choice = peerConnectionFor(transport, this.options.peerConnection === 'public' ? 'public' : 'auto');
    if (choice.reason) this.log.debug(`transport ${transport.id}: public-API stats (${choice.reason})`);
    const { fabric, result } = this.monitor.tryAddFabric(choice.pc, {
      remoteUserID: this.remoteUserIDOf(transport),
      conferenceID,
      remoteEndpointType: 'server',
      direction: transport.direction === 'send' ? 'sendonly' : 'receiveonly',
      usage: 'multiplex',
      attributes: {
        sfu: 'mediasoup',
        transportId: transport.id,
        transportDirection: transport.direction,
        peerConnection: choice.source,
        ...(choice.handlerName ? { handlerName: choice.handlerName } : {}),
        ...(this.options.attributes ?? {}),
      },
    });
    if (!fabric) {
      this.log.warn(`transport ${transport.id} is not monitored: ${result.message ?? 'addFabric refused'}`);
      return;
    }
    const watch: TransportWatch = { transport, fabric, handlerName: choice.handlerName, listeners: [], items: new Map() };
    this.transports.set(transport, watch);
    this.listen(transport.observer, 'newproducer', watch.listeners, (p) => this.onProducer(watch, p as ProducerLike));
    this.listen(transport.observer, 'newconsumer', watch.listeners, (c) => this.onConsumer(watch, c as ConsumerLike));
    this.listen(transport.observer, 'close', watch.listeners, () => this.release(watch));
  }

  /** Removes the transport's listeners (and its producers' and consumers') and terminates its fabric. */
  private release(watch: TransportWatch): void {
    for (const item of watch.items.values()) removeAll(item.listeners);
    watch.items.clear();
    removeAll(watch.listeners);
    this.transports.delete(watch.transport);
    watch.fabric.terminate();
  }

  private releaseItem(watch: TransportWatch, item: ProducerLike | ConsumerLike): void {
    const itemWatch = watch.items.get(item);
    if (!itemWatch) return;
    removeAll(itemWatch.listeners);
    watch.items.delete(item);
  }

  private send(watch: TransportWatch, event: FabricEvent, data: Record<string, unknown>): void {
    const result = watch.fabric.sendEvent(event, data);
    if (result.status !== 'success') this.log.debug(`${event} not sent: ${result.message ?? ''}`);
  }

  /** pause/resume/trackended/transportclose/close, common to producers and consumers. */
  private watchItem(
    watch: TransportWatch,
    what: 'producer' | 'consumer',
    item: ProducerLike | ConsumerLike,
    data: Record<string, unknown>,
    onClose: (reason: 'close' | 'transportclose') => void,
  ): void {
    const itemWatch: ItemWatch = { listeners: [], transportClosed: false };
    watch.items.set(item, itemWatch);
    const mute = MUTE_EVENTS[item.kind];
    if (mute) {
      this.listen(item.observer, 'pause', itemWatch.listeners, () => this.send(watch, mute.pause, data));
      this.listen(item.observer, 'resume', itemWatch.listeners, () => this.send(watch, mute.resume, data));
      if (item.paused) this.send(watch, mute.pause, data);
    }
    this.listen(item.observer, 'trackended', itemWatch.listeners, () => {
      watch.fabric.reportError('applicationLog', {
        name: 'TrackEnded',
        message: `mediasoup ${what} ${item.id} (${item.kind}, ${String(data.usageLabel)}): its track ended`,
      });
    });
    // 'transportclose' is an event of the item itself (not of its observer); 'close' follows it.
    this.listen(item, 'transportclose', itemWatch.listeners, () => {
      itemWatch.transportClosed = true;
    });
    this.listen(item.observer, 'close', itemWatch.listeners, () => {
      const reason = itemWatch.transportClosed || watch.transport.closed ? 'transportclose' : 'close';
      this.releaseItem(watch, item);
      onClose(reason);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Producers and consumers

  private onProducer(watch: TransportWatch, producer: ProducerLike): void {
    if (!producer || watch.items.has(producer) || producer.closed) return;
    const screen = producer.kind === 'video' && this.isScreenShare(producer);
    const usageLabel = this.usageLabelOf(producer, 'send', screen);
    this.mapStreams(watch.fabric, producer.rtpParameters, producer.rtpParameters?.mid, {
      userID: this.monitor.localUserID,
      usageLabel,
    });
    const data = { producerId: producer.id, kind: producer.kind, usageLabel, direction: 'outbound' };
    if (screen) this.send(watch, 'screenShareStart', data);
    this.watchItem(watch, 'producer', producer, data, (reason) => {
      if (screen) this.send(watch, 'screenShareStop', { ...data, reason });
    });
  }

  private onConsumer(watch: TransportWatch, consumer: ConsumerLike): void {
    if (!consumer || watch.items.has(consumer) || consumer.closed) return;
    const user = this.consumerUserOf(consumer, watch.transport);
    const usageLabel =
      nonEmptyString(user?.usageLabel) ??
      this.usageLabelOf(consumer, 'recv', consumer.kind === 'video' && isScreenShareByAppData(appDataOf(consumer)));
    const userID = user?.userID ?? watch.fabric.remoteUserID;
    if (!user) this.log.debug(`consumer ${consumer.id}: no user in appData; its stream stays with ${userID}`);
    const mid =
      nonEmptyString(consumer.rtpParameters?.mid) ?? (localIdIsMid(watch.handlerName) ? nonEmptyString(consumer.localId) : undefined);
    this.mapStreams(watch.fabric, consumer.rtpParameters, mid, {
      userID,
      usageLabel,
      ...(user?.associatedVideoTag ? { associatedVideoTag: user.associatedVideoTag } : {}),
    });
    const data = {
      consumerId: consumer.id,
      producerId: consumer.producerId,
      kind: consumer.kind,
      userID,
      usageLabel,
      direction: 'inbound',
    };
    this.watchItem(watch, 'consumer', consumer, data, () => undefined);
  }
}

function removeAll(listeners: Listeners): void {
  for (const remove of listeners.splice(0)) remove();
}

// -----------------------------------------------------------------------------------------------

const attachments = new WeakMap<DeviceLike, Map<Monitor, MediasoupAttachment>>();
const noop: DetachMediasoup = () => undefined;

/**
 * Monitors every transport a mediasoup-client `Device` creates from now on: each becomes a
 * fabric of `monitor` (remote endpoint `server`), its producers are the local user's streams
 * and its consumers the streams of the users who produced them. Returns `detach`, which removes
 * every listener and terminates the fabrics the adapter created (the call goes on).
 *
 * Attach right after `new Device()` / `Device.factory()`: transports created earlier are not
 * seen (mediasoup-client has no public list of them). Attaching the same device to the same
 * monitor twice returns the first attachment's `detach`. Never throws.
 */
export function attachMediasoup(device: DeviceLike, monitor: Monitor, options: AttachMediasoupOptions = {}): DetachMediasoup {
  try {
    if (!monitor || typeof monitor !== 'object' || typeof monitor.tryAddFabric !== 'function') {
      if (typeof console !== 'undefined') console.error('[callmetry/mediasoup] attachMediasoup: a Monitor from @callmetry/core is required');
      return noop;
    }
    const opts: AttachMediasoupOptions = options && typeof options === 'object' ? options : {};
    const log = resolveLogger(monitor, opts);
    const observer = (device as { observer?: unknown } | undefined)?.observer as MediasoupEmitterLike<'newtransport'> | undefined;
    if (!device || typeof device !== 'object' || !observer || typeof observer.on !== 'function' || typeof observer.off !== 'function') {
      log.error('attachMediasoup: expected a mediasoup-client Device (with an observer)');
      return noop;
    }
    let byMonitor = attachments.get(device);
    const existing = byMonitor?.get(monitor);
    if (existing) return existing.detach;
    if (!byMonitor) attachments.set(device, (byMonitor = new Map()));
    const registry = byMonitor;
    const attachment: MediasoupAttachment = new MediasoupAttachment(device, monitor, opts, log, () => {
      if (registry.get(monitor) === attachment) registry.delete(monitor);
    });
    registry.set(monitor, attachment);
    attachment.start();
    return attachment.detach;
  } catch (error) {
    try {
      console.error('[callmetry/mediasoup] attachMediasoup failed', error);
    } catch {
      // nothing left to report to
    }
    return noop;
  }
}
