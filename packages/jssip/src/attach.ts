/**
 * `attachJsSip(ua, monitor, options?) => detach`: monitors every RTCSession of a JsSIP 3.x UA.
 *
 *  - `newRTCSession` (outgoing and incoming): the session is followed. Its fabric is added as soon
 *    as its RTCPeerConnection exists: at once for outgoing calls (JsSIP creates the PC inside
 *    `ua.call()`, and fires the session's `peerconnection` event before `newRTCSession`), on the
 *    session's `peerconnection` event for incoming calls (inside `answer()`), and, as a fallback,
 *    whenever a later session event finds `session.connection` set.
 *  - Conference: the Call-ID (same on both ends) unless `options.conferenceID` says otherwise.
 *    Remote user: `session.remote_identity.uri.user`.
 *  - hold/unhold (either side) give fabricHold/fabricResume; muted/unmuted give
 *    audioMute/audioUnmute and videoPause/videoResume.
 *  - getusermediafailed and peerconnection:*failed are reported with their webRTCFunction and SDPs.
 *  - ended/failed: the cause is reported after ./causes.ts, then the fabric is terminated.
 *    JsSIP has closed the PC by then: the last stats are the last poll's (`fabric.latestStats()`).
 *  - `ua.stop()` is wrapped on the instance: after it, the adapter detaches itself.
 */
import type { Fabric, FabricEvent, Logger, Monitor, WebRTCFunction } from '@callmetry/core';
import { jssipCauseReport } from './causes';
import type {
  AttachJsSipOptions,
  JsSipEmitterLike,
  JsSipEndEvent,
  JsSipMessageLike,
  JsSipNewRTCSessionEvent,
  JsSipPeerConnectionLike,
  JsSipRTCSessionLike,
  JsSipSessionInfo,
  JsSipUALike,
} from './types';

type Detach = () => void;
type Listener = (...args: unknown[]) => void;

/** `JsSIP.UA.C.STATUS_USER_CLOSED`: the UA was stopped. */
const UA_STATUS_USER_CLOSED = 2;

/** Every session event the adapter listens to. */
export const JSSIP_SESSION_EVENTS = [
  'peerconnection',
  'connecting',
  'sending',
  'progress',
  'accepted',
  'confirmed',
  'sdp',
  'hold',
  'unhold',
  'muted',
  'unmuted',
  'getusermediafailed',
  'peerconnection:createofferfailed',
  'peerconnection:createanswerfailed',
  'peerconnection:setlocaldescriptionfailed',
  'peerconnection:setremotedescriptionfailed',
  'ended',
  'failed',
] as const;

/** Every UA event the adapter listens to. */
export const JSSIP_UA_EVENTS = ['newRTCSession', 'disconnected'] as const;

const attachments = new WeakMap<object, Map<Monitor, Attachment>>();

function consoleLogger(): Logger {
  const c = typeof console !== 'undefined' ? console : undefined;
  const prefix = '[callmetry/jssip]';
  return {
    debug: () => undefined,
    info: (m, ...d) => c?.info?.(prefix, m, ...d),
    warn: (m, ...d) => c?.warn?.(prefix, m, ...d),
    error: (m, ...d) => c?.error?.(prefix, m, ...d),
  };
}

/** The app's logger, else the monitor's (guarded: a logger that throws must not break a call). */
function loggerOf(monitor: Monitor, options: AttachJsSipOptions): Logger {
  const candidate: unknown = options.logger ?? monitor.logger;
  if (candidate && typeof candidate === 'object' && typeof (candidate as Logger).warn === 'function') {
    const l = candidate as Logger;
    const guard =
      (level: keyof Logger) =>
      (message: string, ...details: unknown[]): void => {
        try {
          l[level](`[jssip] ${message}`, ...details);
        } catch {
          // a broken logger must not break the call
        }
      };
    return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
  }
  return consoleLogger();
}

function isEmitter(x: unknown): x is JsSipEmitterLike {
  return !!x && typeof x === 'object' && typeof (x as JsSipEmitterLike).on === 'function' && typeof (x as JsSipEmitterLike).removeListener === 'function';
}

function isMonitor(x: unknown): x is Monitor {
  return !!x && typeof x === 'object' && typeof (x as Monitor).tryAddFabric === 'function' && typeof (x as Monitor).reportError === 'function';
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x.length > 0 ? x : undefined;
}

function uriText(uri: unknown): string | undefined {
  if (!uri || typeof uri !== 'object') return undefined;
  try {
    return str(String(uri));
  } catch {
    return undefined;
  }
}

/** `message` of an ended/failed event: a SIP message, an error text, or nothing. */
function messageFields(message: JsSipEndEvent['message']): Record<string, unknown> {
  if (typeof message === 'string') return message ? { detail: message } : {};
  if (!message || typeof message !== 'object') return {};
  const m = message as JsSipMessageLike;
  // A response (status) or a request (method: BYE, CANCEL); a response's method is its CSeq's.
  if (typeof m.status_code === 'number')
    return { statusCode: m.status_code, ...(str(m.reason_phrase) ? { reasonPhrase: m.reason_phrase } : {}) };
  return str(m.method) ? { method: m.method } : {};
}

interface Registered {
  emitter: JsSipEmitterLike;
  event: string;
  fn: Listener;
}

class Attachment {
  readonly detach: Detach = () => this.stop('detach');
  readonly log: Logger;
  detached = false;
  private readonly listeners: Registered[] = [];
  private readonly sessions = new Map<JsSipRTCSessionLike, SessionMonitor>();
  private stopWrapper: ((...args: unknown[]) => unknown) | undefined;
  private originalStop: unknown;
  private hadOwnStop = false;
  private stopPending = false;

  constructor(
    readonly ua: JsSipUALike,
    readonly monitor: Monitor,
    readonly options: AttachJsSipOptions,
  ) {
    this.log = loggerOf(monitor, options);
  }

  start(): void {
    // Prepended: the adapter sees a session before an app listener that answers or rejects it
    // inside newRTCSession (whose events would otherwise fire before the adapter listens).
    this.listen(this.ua, 'newRTCSession', (data: JsSipNewRTCSessionEvent) => this.onNewSession(data), true);
    // Fallback for a stop that bypassed the wrapper (e.g. JsSIP.UA.prototype.stop.call(ua)).
    this.listen(this.ua, 'disconnected', () => {
      if (this.ua.status === UA_STATUS_USER_CLOSED) this.onUaStopped();
    });
    this.wrapStop();
  }

  /** Adds a listener that never throws into JsSIP, and remembers it for detach. */
  listen(emitter: JsSipEmitterLike, event: string, body: (...args: never[]) => void, prepend = false): void {
    const fn: Listener = (...args: unknown[]) => {
      if (this.detached) return;
      try {
        // The data's shape is JsSIP's; every handler checks what it reads.
        body(...(args as never[]));
      } catch (error) {
        this.log.error(`'${event}' handler failed`, error);
      }
    };
    const e = emitter as JsSipEmitterLike & { prependListener?: (event: string, listener: Listener) => unknown };
    if (prepend && typeof e.prependListener === 'function') e.prependListener(event, fn);
    else emitter.on(event, fn);
    this.listeners.push({ emitter, event, fn });
  }

  /** Removes the listeners this attachment added on `emitter`. */
  unlisten(emitter: JsSipEmitterLike): void {
    for (let i = this.listeners.length - 1; i >= 0; i--) {
      const l = this.listeners[i];
      if (!l || l.emitter !== emitter) continue;
      this.listeners.splice(i, 1);
      try {
        l.emitter.removeListener(l.event, l.fn);
      } catch (error) {
        this.log.warn(`could not remove the '${l.event}' listener`, error);
      }
    }
  }

  sessionDone(session: JsSipRTCSessionLike): void {
    this.sessions.delete(session);
  }

  private onNewSession(data: JsSipNewRTCSessionEvent): void {
    const session = data?.session;
    if (!isEmitter(session)) {
      this.log.warn('newRTCSession without a session');
      return;
    }
    if (this.sessions.has(session)) return;
    const direction: JsSipSessionInfo['direction'] = data.originator === 'local' ? 'outgoing' : 'incoming';
    const callID = str(data.request?.call_id) ?? str(session.id) ?? 'jssip-unknown-call';
    const info: JsSipSessionInfo = { session, callID, direction };
    const monitor = new SessionMonitor(this, session, info, this.conferenceIDOf(info), this.remoteUserIDOf(info));
    this.sessions.set(session, monitor);
    monitor.start();
  }

  private conferenceIDOf(info: JsSipSessionInfo): string {
    const opt = this.options.conferenceID;
    let id: unknown = opt;
    if (typeof opt === 'function') {
      try {
        id = opt(info);
      } catch (error) {
        this.log.warn('options.conferenceID threw; using the Call-ID', error);
        id = undefined;
      }
    }
    if (id === undefined) return info.callID;
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
      this.log.warn(`invalid conferenceID ${JSON.stringify(id)} (a non-empty string of at most 256 characters); using the Call-ID`);
      return info.callID;
    }
    return id;
  }

  private remoteUserIDOf(info: JsSipSessionInfo): string {
    const opt = this.options.remoteUserID;
    if (typeof opt === 'function') {
      try {
        const id = opt(info);
        if (str(id)) return id;
        this.log.warn('options.remoteUserID returned no string; using the remote identity');
      } catch (error) {
        this.log.warn('options.remoteUserID threw; using the remote identity', error);
      }
    }
    const identity = info.session.remote_identity;
    return str(identity?.uri?.user) ?? uriText(identity?.uri) ?? 'unknown';
  }

  // ua.stop ------------------------------------------------------------------------------------

  private wrapStop(): void {
    const ua = this.ua as unknown as Record<string, unknown>;
    const original = ua.stop;
    if (typeof original !== 'function') {
      this.log.warn('the UA has no stop(); the adapter will not detach itself when the UA stops');
      return;
    }
    const self = this;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const result: unknown = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (!self.detached) {
        try {
          self.onUaStopped();
        } catch (error) {
          self.log.error('detaching after ua.stop() failed', error);
        }
      }
      return result;
    };
    try {
      this.hadOwnStop = Object.prototype.hasOwnProperty.call(ua, 'stop');
      this.originalStop = original;
      ua.stop = wrapper;
      this.stopWrapper = wrapper;
    } catch (error) {
      this.log.warn('could not wrap ua.stop(); the adapter will not detach itself when the UA stops', error);
    }
  }

  private restoreStop(): void {
    const wrapper = this.stopWrapper;
    if (!wrapper) return;
    this.stopWrapper = undefined;
    const ua = this.ua as unknown as Record<string, unknown>;
    try {
      // Only our own wrapper is removed; one added on top of it stays (and ours is inert now).
      if (ua.stop !== wrapper) return;
      if (this.hadOwnStop) ua.stop = this.originalStop;
      else delete ua.stop;
    } catch (error) {
      this.log.warn('could not restore ua.stop()', error);
    }
  }

  /**
   * ua.stop() terminated every session synchronously (their ended/failed handlers ran and queued
   * their fabric terminations): detach after those, in a microtask.
   */
  private onUaStopped(): void {
    if (this.stopPending || this.detached) return;
    this.stopPending = true;
    queueMicrotask(() => this.stop('the UA was stopped'));
  }

  stop(reason: string): void {
    if (this.detached) return;
    this.detached = true;
    try {
      for (const l of this.listeners.splice(0)) {
        try {
          l.emitter.removeListener(l.event, l.fn);
        } catch (error) {
          this.log.warn(`could not remove the '${l.event}' listener`, error);
        }
      }
      this.restoreStop();
      for (const s of [...this.sessions.values()]) s.dispose(true);
      this.sessions.clear();
    } catch (error) {
      this.log.error('detach failed', error);
    } finally {
      const byMonitor = attachments.get(this.ua);
      if (byMonitor?.get(this.monitor) === this) {
        byMonitor.delete(this.monitor);
        if (byMonitor.size === 0) attachments.delete(this.ua);
      }
      this.log.debug(`detached: ${reason}`);
    }
  }
}

class SessionMonitor {
  private fabric: Fabric | undefined;
  /** Whether the adapter created the fabric (then detach terminates it). */
  private ownsFabric = false;
  private ended = false;
  private disposed = false;
  /** A PC the monitor refused (closed monitor, closed PC): not tried again at every event. */
  private refused: JsSipPeerConnectionLike | undefined;
  private readonly held = { local: false, remote: false };
  /** The last remote `sdp` event: its `sdp` is read when needed (an app may rewrite it). */
  private remoteSdpEvent: { sdp?: unknown } | undefined;

  constructor(
    private readonly att: Attachment,
    private readonly session: JsSipRTCSessionLike,
    private readonly info: JsSipSessionInfo,
    private readonly conferenceID: string,
    private readonly remoteUserID: string,
  ) {}

  start(): void {
    const s = this.session;
    const on = (event: string, body: (...args: never[]) => void): void => this.att.listen(s, event, body);
    on('peerconnection', (d: { peerconnection?: JsSipPeerConnectionLike }) => this.ensureFabric(d?.peerconnection ?? s.connection));
    for (const ev of ['connecting', 'sending', 'progress', 'accepted', 'confirmed']) on(ev, () => this.ensureFabric(s.connection));
    on('sdp', (d: { originator?: string; sdp?: unknown }) => {
      if (d && typeof d === 'object' && d.originator === 'remote') this.remoteSdpEvent = d;
    });
    on('hold', (d: { originator?: string }) => this.onHold(d, true));
    on('unhold', (d: { originator?: string }) => this.onHold(d, false));
    on('muted', (d: { audio?: boolean; video?: boolean }) => this.onMute(d, true));
    on('unmuted', (d: { audio?: boolean; video?: boolean }) => this.onMute(d, false));
    on('getusermediafailed', (e: unknown) => this.report('getUserMedia', e));
    on('peerconnection:createofferfailed', (e: unknown) => this.report('createOffer', e, this.sdps(false)));
    // The callstats.js JsSIP wrapper reported this one as createOffer; it is createAnswer.
    on('peerconnection:createanswerfailed', (e: unknown) => this.report('createAnswer', e, this.sdps(false)));
    on('peerconnection:setlocaldescriptionfailed', (e: unknown) => this.report('setLocalDescription', e, this.sdps(false)));
    on('peerconnection:setremotedescriptionfailed', (e: unknown) => this.report('setRemoteDescription', e, this.sdps(true)));
    on('ended', (d: JsSipEndEvent) => this.onEnd('ended', d));
    on('failed', (d: JsSipEndEvent) => this.onEnd('failed', d));

    if (typeof s.isEnded === 'function' && s.isEnded()) {
      // Terminated before the adapter saw it (it cannot tell why): nothing left to monitor.
      this.att.log.debug(`session ${this.info.callID} already ended at newRTCSession`);
      this.finish();
      return;
    }
    this.ensureFabric(s.connection);
  }

  private ensureFabric(pc: JsSipPeerConnectionLike | null | undefined): void {
    if (!pc || this.ended || this.disposed) return;
    if ((this.fabric && this.fabric.pc === pc) || this.refused === pc) return;
    const monitor = this.att.monitor;
    if (this.fabric) {
      // JsSIP keeps one PC per session; should that change, the old fabric ends here.
      if (this.ownsFabric) this.fabric.terminate();
      this.fabric = undefined;
    }
    const existed = monitor.getFabric(pc) !== undefined;
    const identity = this.session.remote_identity;
    const local = this.session.local_identity;
    const attributes: Record<string, unknown> = {
      sipCallID: this.info.callID,
      sipDirection: this.info.direction,
      ...(uriText(identity?.uri) ? { sipRemoteURI: uriText(identity?.uri) } : {}),
      ...(uriText(local?.uri) ? { sipLocalURI: uriText(local?.uri) } : {}),
      ...(this.att.options.attributes ?? {}),
    };
    const { fabric, result } = monitor.tryAddFabric(pc, {
      remoteUserID: this.remoteUserID,
      conferenceID: this.conferenceID,
      remoteEndpointType: 'peer',
      attributes,
    });
    if (!fabric) {
      this.refused = pc;
      this.att.log.warn(`no fabric for call ${this.info.callID}: ${result.message ?? 'refused'}`);
      return;
    }
    this.fabric = fabric;
    this.ownsFabric = !existed;
  }

  private sendEvent(event: FabricEvent, data?: Record<string, unknown>): void {
    const fabric = this.fabric;
    if (!fabric) {
      this.att.log.debug(`${event} before the call ${this.info.callID} had a peer connection: not reported`);
      return;
    }
    const r = fabric.sendEvent(event, data);
    if (r.status !== 'success') this.att.log.debug(`${event} not sent: ${r.message ?? ''}`);
  }

  private onHold(d: { originator?: string } | undefined, on: boolean): void {
    this.ensureFabric(this.session.connection);
    const originator = d?.originator === 'remote' ? 'remote' : 'local';
    const was = this.held.local || this.held.remote;
    this.held[originator] = on;
    const is = this.held.local || this.held.remote;
    // One fabric state: on hold while either side holds.
    if (!was && is) this.sendEvent('fabricHold', { originator });
    else if (was && !is) this.sendEvent('fabricResume', { originator });
  }

  private onMute(d: { audio?: boolean; video?: boolean } | undefined, muted: boolean): void {
    this.ensureFabric(this.session.connection);
    if (d?.audio) this.sendEvent(muted ? 'audioMute' : 'audioUnmute');
    if (d?.video) this.sendEvent(muted ? 'videoPause' : 'videoResume');
  }

  private sdps(failedRemote: boolean): { localSDP?: string; remoteSDP?: string } {
    const pc = this.session.connection ?? this.fabric?.pc;
    let localSDP: string | undefined;
    let remoteSDP: string | undefined;
    try {
      localSDP = str(pc?.localDescription?.sdp);
      remoteSDP = str(pc?.remoteDescription?.sdp);
    } catch {
      // a closed or odd PC: no SDP
    }
    // setRemoteDescription failed: the SDP it was given is the last remote 'sdp' event's.
    const given = failedRemote ? str(this.remoteSdpEvent?.sdp) : undefined;
    return { ...(localSDP ? { localSDP } : {}), ...((given ?? remoteSDP) ? { remoteSDP: given ?? remoteSDP } : {}) };
  }

  /** Reports on the fabric, or on the conference when the session has no peer connection. */
  private report(fn: WebRTCFunction, error: unknown, details?: { localSDP?: string; remoteSDP?: string }): void {
    if (!this.fabric) this.ensureFabric(this.session.connection);
    const r = this.fabric
      ? this.fabric.reportError(fn, error, details)
      : this.att.monitor.reportError(this.conferenceID, fn, error, details);
    if (r.status !== 'success') this.att.log.warn(`${fn} error not reported: ${r.message ?? ''}`);
  }

  private onEnd(kind: 'ended' | 'failed', d: JsSipEndEvent | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const cause = str(d?.cause) ?? 'unknown';
    const originator = str(d?.originator) ?? 'unknown';
    const fields = messageFields(d?.message);
    const how = jssipCauseReport(cause, this.att.options.causeReports);
    if (how === 'callUnAnswered') {
      const data = { cause, originator, ...fields };
      if (this.fabric && this.fabric.state !== 'terminated') this.sendEvent('callUnAnswered', data);
      else {
        const r = this.att.monitor.sendCustomEvent(this.conferenceID, 'callUnAnswered', { ...data, sipCallID: this.info.callID, sipDirection: this.info.direction });
        if (r.status !== 'success') this.att.log.warn(`callUnAnswered not sent: ${r.message ?? ''}`);
      }
    } else if (how !== 'none') {
      const status = typeof fields.statusCode === 'number' ? ` ${fields.statusCode}${fields.reasonPhrase ? ` ${String(fields.reasonPhrase)}` : ''}` : '';
      const detail = typeof fields.detail === 'string' ? `: ${fields.detail}` : '';
      const message = `JsSIP call ${kind}: ${cause}${status} (originator ${originator})${detail}`;
      this.report(how, { name: cause, message });
    }
    // Errors JsSIP emits right after 'failed' (getusermediafailed, setremotedescriptionfailed)
    // still go to this fabric: it is terminated a microtask later.
    queueMicrotask(() => this.finish());
  }

  /** The session is over: terminate its fabric, drop its listeners. */
  private finish(): void {
    if (this.disposed) return;
    this.dispose(false);
  }

  /** `detaching`: the whole attachment goes (terminates only fabrics the adapter created). */
  dispose(detaching: boolean): void {
    if (this.disposed) return;
    this.disposed = true;
    const fabric = this.fabric;
    try {
      if (fabric && fabric.state !== 'terminated' && (!detaching || this.ownsFabric || this.ended)) fabric.terminate();
    } catch (error) {
      this.att.log.warn('terminating the fabric failed', error);
    }
    this.att.unlisten(this.session);
    this.att.sessionDone(this.session);
  }
}

/**
 * Monitors every RTCSession of a JsSIP 3.x UA on `monitor`. Returns `detach()`, which removes
 * every listener and wrapper and terminates the fabrics the adapter created (the calls go on).
 * Attaching the same UA to the same monitor again returns the same detach. Never throws.
 */
export function attachJsSip(ua: JsSipUALike, monitor: Monitor, options?: AttachJsSipOptions): Detach {
  try {
    if (!isMonitor(monitor)) {
      consoleLogger().error('attachJsSip: the second argument must be a Monitor from @callmetry/core');
      return () => undefined;
    }
    const opts: AttachJsSipOptions = options && typeof options === 'object' ? options : {};
    if (!isEmitter(ua)) {
      loggerOf(monitor, opts).error('attachJsSip: the first argument must be a JsSIP.UA');
      return () => undefined;
    }
    let byMonitor = attachments.get(ua);
    const existing = byMonitor?.get(monitor);
    if (existing) return existing.detach;
    if (!byMonitor) {
      byMonitor = new Map();
      attachments.set(ua, byMonitor);
    }
    const attachment = new Attachment(ua, monitor, opts);
    byMonitor.set(monitor, attachment);
    attachment.start();
    return attachment.detach;
  } catch (error) {
    consoleLogger().error('attachJsSip failed', error);
    return () => undefined;
  }
}
