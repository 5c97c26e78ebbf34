import type {
  ErrorDetails,
  ErrorRecord,
  Fabric,
  FabricOptions,
  Feedback,
  Monitor,
  MonitorEvents,
  MonitorOptions,
  MonitoredPeerConnection,
  Result,
  UserIdentity,
  WebRTCFunction,
} from '../types';
import { csError, endpointType, fabricUsage, transmissionDirection } from '../callstats/enums';
import { clampInterval } from '../stats/poller';
import { createEmitter, safeCall } from '../util/emitter';
import { safeLogger } from '../util/logger';
import { guardMethods } from '../util/guard';
import { checkSendable, defined, errorMessage, hasOwn, isConferenceID, isPlainObject, isString, printable, utf8Length } from '../util/values';
import { createTransport, type OutgoingItem } from '../transport/index';
import { createFabric, type FabricHost, type FabricImpl } from './fabric';
import { checkWebRTCFunction, classifyFailure, MAX_SDP_BYTES, normalizeError, truncateUtf8 } from './errors';
import { failure, SUCCESS } from './result';
import { toWireStats } from './wire';

export const DEFAULT_STATS_CALLBACK_INTERVAL_MS = 10_000;

/** The user id sent on the wire: a string, or callstats.js's `{userName, aliasName}` object. */
export function userIdentityToString(id: UserIdentity): string | undefined {
  const { aliasName, userName } = (isPlainObject(id) ? id : {}) as { aliasName?: unknown; userName?: unknown };
  for (const name of [id, aliasName, userName]) if (isString(name) && name) return name;
  return undefined;
}

/** A failure message unless `pc` looks like an RTCPeerConnection. */
export const checkPeerConnection = (pc: unknown): string | undefined =>
  ['getStats', 'addEventListener', 'removeEventListener'].every((m) => typeof (pc as Record<string, unknown> | null)?.[m] == 'function')
    ? undefined
    : 'Invalid PeerConnection object passed';

/** A failure message unless conferenceID is a non-empty string of at most 256 characters. */
export const checkConferenceID = (conferenceID: unknown): string | undefined =>
  isConferenceID(conferenceID) ? undefined : 'conferenceID must be a string of 1..256 characters';

/** The optional fabric options that take an enum's values, with callstats.js's failure texts. */
const CHOICES = [
  ['usage', fabricUsage, 'Invalid fabricUsage value'],
  ['remoteEndpointType', endpointType, csError.invalidEndPointType],
  ['direction', transmissionDirection, csError.invalidTransmissionDirection],
] as const;

/** Checks addFabric's options; returns a message a developer can act on (callstats.js's wording), or undefined. */
export function validateFabricOptions(options: FabricOptions): string | undefined {
  if (!isPlainObject(options)) return 'fabric options must be an object';
  if (!isString(options.remoteUserID)) return 'remoteUserID must be a string';
  for (const [key, values, text] of CHOICES) {
    const value = options[key];
    if (value !== undefined && !(isString(value) && hasOwn(values, value))) return `${text} ${printable(value)}`;
  }
  return checkConferenceID(options.conferenceID);
}

/** A failure message unless `feedback` is {overall 1..5, audio?, video?, comment?}. */
export function checkFeedback(feedback: unknown): string | undefined {
  if (!isPlainObject(feedback)) return 'feedback must be {overall, audio?, video?, comment?}';
  const { overall, audio, video, comment } = feedback;
  for (const [key, rating] of Object.entries({ overall, audio, video }))
    if ((key == 'overall' || rating !== undefined) && !(Number.isInteger(rating) && (rating as number) >= 1 && (rating as number) <= 5))
      return `feedback.${key} must be an integer 1..5`;
  return comment !== undefined && !isString(comment) ? 'feedback.comment must be a string' : undefined;
}

/** A failure message unless `data` is an object of finite numbers. */
export function checkCustomStats(data: unknown): string | undefined {
  if (!isPlainObject(data)) return 'custom stats must be an object of numbers';
  const notNumber = Object.keys(data).find((k) => !(typeof data[k] == 'number' && isFinite(data[k] as number)));
  return notNumber === undefined ? undefined : `custom stat '${notNumber}' must be a finite number`;
}

/** A failure message unless a custom event can be sent: a name and, when given, sendable object data. */
export const checkCustomEvent = (name: unknown, data: unknown): string | undefined =>
  !isString(name) || !name
    ? 'a custom event needs a name'
    : data !== undefined && !isPlainObject(data)
      ? 'custom event data must be an object'
      : checkSendable('custom event data', data);

/** Known monitor events: a typo in on() is told, not silently never called. */
const MONITOR_EVENTS = ['sample', 'stats', 'fabricEvent', 'error', 'customEvent', 'transport', 'closed'];

/** The monitor; `disabled`: created from invalid options, every call fails with this reason. */
function makeMonitor(options: MonitorOptions, disabled?: string): Monitor {
  const { appID } = options;
  const localUserID = userIdentityToString(options.localUserID)!;
  const log = safeLogger(options.logger);
  const emitter = createEmitter<MonitorEvents>(log);
  const byPc = new Map<MonitoredPeerConnection, FabricImpl>();
  const statsIntervalMs = clampInterval(options.statsIntervalMs);
  const collectIP = options.collectIP === true;
  const collectorURL = isString(options.collectorURL) && options.collectorURL ? options.collectorURL.replace(/\/+$/, '') : undefined;
  let closed = false;

  const transport =
    disabled || !collectorURL
      ? undefined
      : createTransport({
          collectorURL,
          appID,
          userID: localUserID,
          appSecret: isString(options.appSecret) ? options.appSecret : undefined,
          tokenGenerator: typeof options.tokenGenerator == 'function' ? options.tokenGenerator : undefined,
          collectIP,
          options: options.transport,
          logger: log,
        });
  transport?.onStatus((status) => emitter.emit('transport', status));
  /** Never throws (the transport catches and logs); nothing to send in local-only mode. */
  const send = (item: OutgoingItem): void => transport?.send(item);

  /** The first reason the call cannot be made, if any. */
  const refusal = (conferenceID: unknown): string | undefined =>
    disabled ?? (closed ? 'the monitor is closed' : undefined) ?? checkConferenceID(conferenceID);

  function reportError(
    conferenceID: string,
    fn: WebRTCFunction,
    error: unknown,
    details?: ErrorDetails,
    fabricID?: string,
    established = false,
  ): Result {
    const invalid = refusal(conferenceID) ?? checkWebRTCFunction(fn);
    if (invalid) return failure(invalid);
    const { name, message, truncated } = normalizeError(error, fn);
    let sdpTruncated = false;
    // An SDP is a few KB; a huge one is cut so that the error item still fits the wire.
    const sdp = (s: unknown): string | undefined => {
      if (!isString(s) || utf8Length(s) <= MAX_SDP_BYTES) return isString(s) ? s : undefined;
      sdpTruncated = true;
      return truncateUtf8(s, MAX_SDP_BYTES);
    };
    const record: ErrorRecord = defined({
      fabricID,
      conferenceID,
      webRTCFunction: fn,
      category: classifyFailure(fn, established),
      name,
      message,
      localSDP: sdp(details?.localSDP),
      remoteSDP: sdp(details?.remoteSDP),
      timestamp: Date.now(),
    });
    const { timestamp, webRTCFunction, ...item } = record;
    send({ ...item, kind: 'error', t: timestamp, fn: webRTCFunction });
    emitter.emit('error', record);
    if (!truncated && !sdpTruncated) return SUCCESS;
    const truncation = [truncated, sdpTruncated && `SDP truncated to ${MAX_SDP_BYTES / 1024} KB`].filter(Boolean).join('; ');
    log.warn(truncation);
    return { status: 'success', message: truncation };
  }

  const host: FabricHost = {
    localUserID,
    logger: log,
    statsIntervalMs,
    statsCallbackIntervalMs: Math.max(statsIntervalMs, Number(options.statsCallbackIntervalMs) || DEFAULT_STATS_CALLBACK_INTERVAL_MS),
    collectIP,
    conferenceURL: (conferenceID) =>
      collectorURL ? `${collectorURL}/#/apps/${encodeURIComponent(appID)}/conferences/${encodeURIComponent(conferenceID)}` : '',
    event(record) {
      const { timestamp, ...item } = record;
      send({ ...item, kind: 'event', t: timestamp });
      emitter.emit('fabricEvent', record);
    },
    reportError,
    sample(stats, callback) {
      if (transport) transport.send(toWireStats(stats));
      emitter.emit('sample', stats);
      if (callback) emitter.emit('stats', stats);
    },
    // Release the fabric so that a long-lived monitor does not grow with every call.
    terminated: (fabric) => byPc.get(fabric.pc) === fabric && byPc.delete(fabric.pc),
  };

  const fabricOf = (pc?: MonitoredPeerConnection): Fabric | undefined => (pc ? byPc.get(pc) : undefined);

  const monitor: Monitor = {
    appID,
    localUserID,
    logger: log,
    // transport.start() never rejects.
    ready: disabled
      ? Promise.resolve(failure(disabled))
      : transport
        ? transport.start().then((r) => (r.ok ? SUCCESS : failure(`${r.error}: ${r.message}`)))
        : Promise.resolve(SUCCESS),

    // A 'closed' listener added once close() has begun runs at once (asynchronously): an adapter
    // attached to a closed monitor detaches instead of staying attached for ever.
    on: (event, listener) => {
      if (!MONITOR_EVENTS.includes(event) || typeof listener != 'function') {
        log.warn(`monitor.on: ${MONITOR_EVENTS.includes(event) ? 'the listener is not a function' : `no event '${printable(event)}' (events: ${MONITOR_EVENTS.join(', ')})`}; ignored`);
        return () => {};
      }
      if (event != 'closed' || !closed) return emitter.on(event, listener);
      queueMicrotask(() => safeCall(log, "the app's 'closed' callback threw", listener as () => void));
      return () => {};
    },

    addFabric(pc, fabricOptions) {
      const { fabric, result } = monitor.tryAddFabric(pc, fabricOptions);
      // The caller (often an adapter) only gets undefined: say why here.
      if (!fabric) log.warn(`addFabric refused: ${result.message}`);
      return fabric;
    },

    tryAddFabric(pc, fabricOptions) {
      const existing = !disabled && !closed && byPc.get(pc);
      if (existing) {
        // Same pc again: the first options stay. Say so when the new ones differ.
        const { conferenceID, remoteUserID } = isPlainObject(fabricOptions) ? fabricOptions : ({} as Partial<FabricOptions>);
        if (conferenceID === existing.conferenceID && remoteUserID === existing.remoteUserID) return { fabric: existing, result: SUCCESS };
        const message = `this PeerConnection is already monitored (fabric ${existing.id}, conference ${existing.conferenceID}, remote ${existing.remoteUserID}); the new options are ignored`;
        log.warn(`addFabric: ${message}`);
        return { fabric: existing, result: { status: 'success', message } };
      }
      const invalid =
        disabled ??
        (closed ? 'the monitor is closed' : undefined) ??
        checkPeerConnection(pc) ??
        validateFabricOptions(fabricOptions) ??
        checkSendable('attributes', fabricOptions.attributes) ??
        (pc.signalingState == 'closed' ? 'the PeerConnection is already closed' : undefined);
      if (invalid) return { result: failure(invalid) };
      const fabric = createFabric(pc, fabricOptions, host);
      byPc.set(pc, fabric);
      send({
        kind: 'fabric',
        conferenceID: fabric.conferenceID,
        fabricID: fabric.id,
        localUserID,
        remoteUserID: fabric.remoteUserID,
        fabricUsage: fabric.usage,
        remoteEndpointType: fabric.remoteEndpointType,
        direction: fabric.direction,
        attributes: fabricOptions.attributes,
      });
      // Never throws: the lifecycle observer catches what the pc throws, and the poller its polls.
      fabric.start();
      return { fabric, result: SUCCESS };
    },

    getFabric: fabricOf,
    fabrics: () => [...byPc.values()],

    sendFeedback(conferenceID: string, feedback: Feedback): Result {
      const invalid = refusal(conferenceID) ?? checkFeedback(feedback);
      if (invalid) return failure(invalid);
      const { overall, audio, video, comment } = feedback;
      send({
        kind: 'feedback',
        conferenceID,
        userID: (feedback.userID !== undefined && userIdentityToString(feedback.userID)) || localUserID,
        rating: defined({ overall, audio, video }),
        comment: comment?.slice(0, 2000),
      });
      return SUCCESS;
    },

    sendCustomEvent(conferenceID, name, data, pc) {
      const invalid = refusal(conferenceID) ?? checkCustomEvent(name, data);
      if (invalid) return failure(invalid);
      const fabricID = fabricOf(pc)?.id;
      send({ kind: 'custom', conferenceID, name, fabricID, data });
      emitter.emit('customEvent', defined({ conferenceID, fabricID, name, data, timestamp: Date.now() }));
      return SUCCESS;
    },

    sendCustomStats(conferenceID, data, pc) {
      const invalid = refusal(conferenceID) ?? checkCustomStats(data);
      if (invalid) return failure(invalid);
      send({ kind: 'customStats', conferenceID, data: { ...data }, fabricID: fabricOf(pc)?.id });
      return SUCCESS;
    },

    reportError: (conferenceID, fn, error, details) => reportError(conferenceID, fn, error, details),

    transportStatus: () => transport?.status() ?? { state: 'local-only', droppedSamples: 0 },

    async close() {
      if (closed) return;
      // terminate() never throws (guarded); every fabric ends whatever one of them does.
      for (const fabric of [...byPc.values()]) fabric.terminate();
      closed = true;
      try {
        await transport?.close();
      } catch (error) {
        log.warn('closing the transport failed', error);
      }
      emitter.emit('closed');
      emitter.clear();
    },
  };
  // Whatever the app passes (throwing getters, revoked Proxies), these answer and never throw.
  return guardMethods(monitor, log, {
    on: () => () => {},
    addFabric: () => undefined,
    tryAddFabric: (message) => ({ result: failure(message) }),
    getFabric: () => undefined,
    fabrics: () => [],
    sendFeedback: failure,
    sendCustomEvent: failure,
    sendCustomStats: failure,
    reportError: failure,
  });
}

/**
 * Creates a monitor: the typed API that the callstats.js facade and the adapters build on.
 * Never throws: invalid options give `{monitor: undefined, result}`.
 */
export function tryCreateMonitor(options: MonitorOptions): { monitor?: Monitor; result: Result } {
  try {
    return createChecked(options);
  } catch (error) {
    return { result: failure(`could not create the monitor: ${errorMessage(error)}`) };
  }
}

function createChecked(options: MonitorOptions): { monitor?: Monitor; result: Result } {
  const invalid = !isPlainObject(options)
    ? 'monitor options must be an object'
    : !isString(options.appID) || !options.appID
      ? 'appID must be a non-empty string'
      : userIdentityToString(options.localUserID) === undefined
        ? 'localUserID must be a non-empty string or {userName}'
        : options.collectorURL !== undefined && options.appSecret === undefined && options.tokenGenerator === undefined
          ? 'a collectorURL needs an appSecret or a tokenGenerator'
          : undefined;
  if (invalid) return { result: failure(invalid) };
  return { monitor: makeMonitor(options), result: SUCCESS };
}

/**
 * Creates a monitor. Never throws: with invalid options it logs the reason and returns an inert
 * monitor whose `ready` resolves with the failure and whose calls all fail with that message.
 */
export function createMonitor(options: MonitorOptions): Monitor {
  const { monitor, result } = tryCreateMonitor(options);
  if (monitor) return monitor;
  const reason = `createMonitor: ${result.message}`;
  let logger = safeLogger();
  try {
    logger = safeLogger(isPlainObject(options) ? options.logger : undefined);
  } catch {}
  logger.error(reason);
  return makeMonitor({ appID: 'invalid', localUserID: 'invalid', logger }, reason);
}
