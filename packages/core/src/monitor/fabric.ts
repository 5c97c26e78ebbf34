import type {
  ErrorDetails,
  Fabric,
  FabricEvent,
  FabricEventRecord,
  FabricOptions,
  FabricState,
  FabricStats,
  Logger,
  MonitoredPeerConnection,
  Result,
  WebRTCFunction,
} from '../types';
import { fabricEvent } from '../callstats/enums';
import { createStatsProcessor } from '../stats/processor';
import { toFabricStats } from '../stats/callbackShape';
import { StreamMappings } from '../stats/mapping';
import { createPoller } from '../stats/poller';
import { checkSendable, hasOwn, isPlainObject, isString, printable } from '../util/values';
import { observeLifecycle, type LifecycleEvent } from './lifecycle';
import { guardMethods } from '../util/guard';
import { failure, SUCCESS } from './result';

/** What a fabric needs from its monitor. */
export interface FabricHost {
  readonly localUserID: string;
  readonly logger: Logger;
  readonly statsIntervalMs: number;
  readonly statsCallbackIntervalMs: number;
  readonly collectIP: boolean;
  conferenceURL(conferenceID: string): string;
  event(record: FabricEventRecord): void;
  reportError(conferenceID: string, fn: WebRTCFunction, error: unknown, details?: ErrorDetails, fabricID?: string, established?: boolean): Result;
  /** Every poll's stats; `callback`: also due for the 'stats' event (statsCallbackIntervalMs). */
  sample(stats: FabricStats, callback: boolean): void;
  terminated(fabric: Fabric): void;
}

/** A failure message for an event the app may not send (see fabricEvent), or for bad event data. */
export function checkFabricEvent(event: unknown, data: unknown): string | undefined {
  if (!isString(event) || !hasOwn(fabricEvent, event)) return `Invalid fabricEvents value ${printable(event)}`;
  if (data !== undefined && !isPlainObject(data)) return 'eventData must be an object when given';
  if (event == 'activeDeviceList' && !Array.isArray(data?.deviceList))
    return 'activeDeviceList needs eventData {deviceList: [...]}';
  return undefined;
}

/** Fabric states driven by the lifecycle: [from, to]; on hold, `to` becomes the state to resume to. */
const TRANSITIONS: Partial<Record<LifecycleEvent, [FabricState, FabricState]>> = {
  fabricSetup: ['initializing', 'established'],
  connectionDisruptionStart: ['established', 'disrupted'],
  connectionDisruptionEnd: ['disrupted', 'established'],
};

let fabricCounter = 0;
const BAD_SELECTOR = 'stream selector must be {ssrc}, {mid} or {trackId}';

/** A fabric as the monitor holds it: `start()` is called once after registering it. */
export type FabricImpl = Fabric & { start(): void };

/** A monitored peer connection. */
export function createFabric(pc: MonitoredPeerConnection, options: FabricOptions, host: FabricHost): FabricImpl {
  const now = (): number => Date.now();
  const { conferenceID, remoteUserID } = options;
  const id = `${now().toString(36)}-${(++fabricCounter).toString(36)}`;
  const log = host.logger;
  let state: FabricState = 'initializing';
  let stateBeforeHold: FabricState = state;
  let latest: FabricStats | undefined;
  let lastCallbackAt = now();
  const processor = createStatsProcessor({ warn: (message, error) => log.warn(`fabric ${id}: ${message}`, error) });
  const mappings = new StreamMappings();

  function emit(event: FabricEventRecord['event'], data?: Record<string, unknown>): void {
    const record: FabricEventRecord = { fabricID: id, conferenceID, event, timestamp: now() };
    if (data) record.data = data;
    host.event(record);
  }

  function setState(next: FabricState): void {
    const prevState = state;
    if (prevState == next || prevState == 'terminated') return;
    state = next;
    emit('fabricStateChange', { prevState, newState: next });
  }

  const paused = (): boolean => state == 'terminated' || state == 'hold';
  let lifecycleWarned = false;

  const lifecycle = observeLifecycle(
    pc,
    now(),
    now,
    (event, data) => {
      if (event == 'closed') return terminate();
      emit(event, data);
      const [from, to] = TRANSITIONS[event] ?? [];
      if (state == from) setState(to!);
      else if (to && state == 'hold') stateBeforeHold = to;
      if (event == 'fabricSetupFailed') {
        reportError('iceConnectionFailure', data?.reason); // 'connection failed before it was ever connected'
        setState('failed');
      }
      if (event == 'fabricDropped') reportError('iceConnectionFailure', 'ICE connection failed after the fabric was set up');
    },
    // Once per fabric: a broken state getter would otherwise log at every tick.
    (what, error) => {
      if (lifecycleWarned) return;
      lifecycleWarned = true;
      log.warn(`fabric ${id}: ${what}; the error was caught (states are read again at every poll)`, error);
    },
  );

  const poller = createPoller({
    intervalMs: host.statsIntervalMs,
    // close() fires no event: every tick looks (before its poll, and also while a poll hangs:
    // Firefox never settles a getStats() pending at close; terminating stops the poller, which
    // settles that poll). An app's pollNow() looks first too (pollNow below).
    onTick: () => lifecycle.check(),
    async poll() {
      // Hold stops getStats; the ticks' close check still runs.
      if (paused()) return;
      const report = await pc.getStats();
      // The state may have changed while getStats was pending.
      if (paused()) return;
      const timestamp = now();
      const { streams, connection } = processor.process(
        report,
        {
          localUserID: host.localUserID,
          remoteUserID,
          localSDP: pc.localDescription?.sdp,
          remoteSDP: pc.remoteDescription?.sdp,
          mappings,
          collectIP: host.collectIP,
        },
        timestamp,
      );
      latest = toFabricStats({
        fabricID: id,
        conferenceID,
        connectionState: pc.connectionState ?? pc.iceConnectionState,
        fabricState: state,
        conferenceURL: host.conferenceURL(conferenceID),
        timestamp,
        streams,
        connection,
      });
      const callback = timestamp - lastCallbackAt >= host.statsCallbackIntervalMs;
      if (callback) lastCallbackAt = timestamp;
      host.sample(latest, callback);
    },
    onError: (error: unknown) => log.warn(`getStats failed for fabric ${id}`, error),
  });

  /** A poll now, not waiting for the tick; the closed check first, as a tick does. */
  function pollNow(): Promise<void> {
    lifecycle.check();
    return poller.pollNow();
  }

  function reportError(fn: WebRTCFunction, error: unknown, details?: ErrorDetails): Result {
    return host.reportError(conferenceID, fn, error, details, id, lifecycle.established);
  }

  function terminate(data?: Record<string, unknown>): void {
    if (state == 'terminated') return;
    lifecycle.stop();
    poller.stop();
    // Data that cannot be sent is left out: the fabric still ends.
    const unsendable = isPlainObject(data) ? checkSendable('fabricTerminated data', data) : undefined;
    if (unsendable) log.warn(`${unsendable}; terminating without it`);
    emit('fabricTerminated', isPlainObject(data) && !unsendable ? data : undefined);
    setState('terminated');
    host.terminated(fabric);
  }

  const fabric = {
    id,
    pc,
    conferenceID,
    remoteUserID,
    usage: options.usage ?? 'multiplex',
    remoteEndpointType: options.remoteEndpointType ?? 'peer',
    direction: options.direction ?? 'sendrecv',
    attributes: options.attributes,
    get state() {
      return state;
    },
    start(): void {
      lifecycle.start();
      if (state != 'terminated') poller.start();
    },
    sendEvent(event: FabricEvent, data?: Record<string, unknown>): Result {
      if (state == 'terminated') return failure(`fabric ${id} is terminated`);
      const invalid = checkFabricEvent(event, data) ?? checkSendable('eventData', data);
      if (invalid) return failure(invalid);
      if (event == 'fabricTerminated') {
        terminate(data);
        return SUCCESS;
      }
      emit(event, data);
      if (event == 'fabricHold' && state != 'hold') {
        stateBeforeHold = state;
        setState('hold');
      } else if (event == 'fabricResume' && state == 'hold') {
        setState(stateBeforeHold == 'initializing' && lifecycle.established ? 'established' : stateBeforeHold);
        void pollNow();
      }
      return SUCCESS;
    },
    reportError,
    mapStream(selector, mapping): Result {
      if (!isPlainObject(mapping) || !isString(mapping.userID) || !mapping.userID) return failure('stream mapping needs a non-empty userID');
      return mappings.set(selector, mapping) ? SUCCESS : failure(BAD_SELECTOR);
    },
    unmapStream: (selector): Result => (mappings.delete(selector) ? SUCCESS : failure(BAD_SELECTOR)),
    latestStats: () => latest,
    async pollNow() {
      // Never rejects: the closed check catches what the pc throws, and the poller settles every poll.
      await pollNow();
      return latest;
    },
    terminate,
  } satisfies FabricImpl;
  // Whatever the app passes (throwing getters, revoked Proxies), these answer and never throw.
  return guardMethods(fabric, log, { sendEvent: failure, reportError: failure, mapStream: failure, unmapStream: failure, terminate: () => undefined });
}
