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
import { defined, hasOwn, isConferenceID, isPlainObject, isString } from '../util/values';
import { createTransport, type OutgoingItem } from '../transport/index';
import { createFabric, type FabricHost, type FabricImpl } from './fabric';
import { checkWebRTCFunction, classifyFailure, normalizeError } from './errors';
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
    if (value !== undefined && !hasOwn(values, value)) return `${text} ${String(value)}`;
  }
  return checkConferenceID(options.conferenceID);
}

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
  const refusal = (conferenceID: unknown): string | undefined => disabled ?? checkConferenceID(conferenceID);

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
    const sdp = (s: unknown): string | undefined => (isString(s) ? s : undefined);
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
    if (!truncated) return SUCCESS;
    const truncation = 'applicationLog truncated to 20 KB';
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

    // A listener that is not a function is never called (the emitter checks).
    // A 'closed' listener added once close() has begun runs at once (asynchronously): an adapter
    // attached to a closed monitor detaches instead of staying attached for ever.
    on: (event, listener) => {
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
      if (existing) return { fabric: existing, result: SUCCESS };
      const invalid =
        disabled ??
        (closed ? 'the monitor is closed' : undefined) ??
        checkPeerConnection(pc) ??
        validateFabricOptions(fabricOptions) ??
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
      fabric.start();
      return { fabric, result: SUCCESS };
    },

    getFabric: fabricOf,
    fabrics: () => [...byPc.values()],

    sendFeedback(conferenceID: string, feedback: Feedback): Result {
      const invalid = refusal(conferenceID) ?? (isPlainObject(feedback) ? undefined : 'feedback must be {overall, audio?, video?, comment?}');
      if (invalid) return failure(invalid);
      const { overall, audio, video, comment } = feedback;
      for (const [key, rating] of Object.entries({ overall, audio, video }))
        if ((key == 'overall' || rating !== undefined) && !(Number.isInteger(rating) && rating! >= 1 && rating! <= 5))
          return failure(`feedback.${key} must be an integer 1..5`);
      if (comment !== undefined && !isString(comment)) return failure('feedback.comment must be a string');
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
      const invalid =
        refusal(conferenceID) ??
        (!isString(name) || !name ? 'a custom event needs a name' : data !== undefined && !isPlainObject(data) ? 'custom event data must be an object' : undefined);
      if (invalid) return failure(invalid);
      const fabricID = fabricOf(pc)?.id;
      send({ kind: 'custom', conferenceID, name, fabricID, data });
      emitter.emit('customEvent', defined({ conferenceID, fabricID, name, data, timestamp: Date.now() }));
      return SUCCESS;
    },

    sendCustomStats(conferenceID, data, pc) {
      const notNumber = isPlainObject(data) ? Object.keys(data).find((k) => !(typeof data[k] == 'number' && isFinite(data[k]))) : undefined;
      const invalid =
        refusal(conferenceID) ??
        (!isPlainObject(data)
          ? 'custom stats must be an object of numbers'
          : notNumber !== undefined
            ? `custom stat '${notNumber}' must be a finite number`
            : undefined);
      if (invalid) return failure(invalid);
      send({ kind: 'customStats', conferenceID, data: { ...data }, fabricID: fabricOf(pc)?.id });
      return SUCCESS;
    },

    reportError: (conferenceID, fn, error, details) => reportError(conferenceID, fn, error, details),

    transportStatus: () => transport?.status() ?? { state: 'local-only', droppedSamples: 0 },

    async close() {
      if (closed) return;
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
  return monitor;
}

/**
 * Creates a monitor: the typed API that the callstats.js facade and the adapters build on.
 * Never throws: invalid options give `{monitor: undefined, result}`.
 */
export function tryCreateMonitor(options: MonitorOptions): { monitor?: Monitor; result: Result } {
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
  try {
    return { monitor: makeMonitor(options), result: SUCCESS };
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
  const reason = `createMonitor: ${result.message}`;
  const logger = safeLogger(isPlainObject(options) ? options.logger : undefined);
  logger.error(reason);
  return makeMonitor({ appID: 'invalid', localUserID: 'invalid', logger }, reason);
}
