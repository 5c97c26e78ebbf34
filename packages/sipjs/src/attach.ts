/**
 * `attachSipJs(userAgent | sessionManager | simpleUser, monitor, options?) => detach`: every
 * SIP.js 0.21 session of the UserAgent, outgoing and incoming, becomes a fabric.
 *
 * Hooks (see README "Hooks"):
 *  - New sessions: the UA's private session registry (./internals.ts), which every Inviter and
 *    Invitation joins in its constructor, before the app can call invite()/accept()/reject().
 *  - The RTCPeerConnection: the UA's public `configuration.sessionDescriptionHandlerFactory` is
 *    wrapped; every SDH of every session is made by it, with the session as first argument. The
 *    Web SDH creates its RTCPeerConnection in its constructor, so the fabric is added at once.
 *  - Per session (public API): `stateChange` (Established / Terminated), `invite()` wrapped on the
 *    instance to chain the app's `requestDelegate` (final status of the initial INVITE, local
 *    hold/unhold accepted), `reject()` wrapped on an Invitation (the status the callee sent).
 *  - Per SDH: getDescription/setDescription rejections (errors with their SDPs; the failing step
 *    is found through ./internals.ts), setDescription of a remote re-offer (remote hold), and
 *    `enableSenderTracks` (mute, which is what SimpleUser/SessionManager.mute() call).
 *  - The UA's `stateChange` to Stopped detaches.
 */
import type { ErrorDetails, Fabric, FabricEvent, Logger, Monitor, WebRTCFunction } from '@callmetry/core';
import {
  checkSipJsVersion,
  hookSessionRegistry,
  sessionWasCanceled,
  sipJsVersionOf,
  TESTED_SIPJS_VERSION,
  userAgentOfSimpleUser,
  wrapSdhSteps,
  type SdhStepFailure,
  type SessionRegistryHook,
} from './internals';
import { isHoldOffer } from './sdp';
import { classifySipStatus, reasonPhraseOf } from './status';
import { onRejected, onSettled, read, replaceMethod } from './wrap';
import type {
  AttachSipJsOptions,
  SipJsAttachTarget,
  SipJsIncomingResponseLike,
  SipJsInviteOptionsLike,
  SipJsPeerConnectionLike,
  SipJsRequestDelegateLike,
  SipJsSessionDescriptionHandlerLike,
  SipJsSessionLike,
  SipJsUserAgentLike,
} from './types';

type Detach = () => void;
type MediaKind = 'audio' | 'video';
type Originator = 'local' | 'remote';

const noop: Detach = () => undefined;
const attachments = new WeakMap<object, Map<Monitor, Attachment>>();

/** getUserMedia's DOMException names: a description failure with one of these is a media failure. */
const MEDIA_ERROR_NAMES = new Set(['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError', 'SecurityError', 'AbortError', 'PermissionDeniedError', 'DevicesNotFoundError', 'TrackStartError']);

function consoleLogger(): Logger {
  const c = typeof console !== 'undefined' ? console : undefined;
  const prefix = '[callmetry/sipjs]';
  return {
    debug: () => undefined,
    info: (m, ...d) => c?.info?.(prefix, m, ...d),
    warn: (m, ...d) => c?.warn?.(prefix, m, ...d),
    error: (m, ...d) => c?.error?.(prefix, m, ...d),
  };
}

/** options.logger, else the monitor's own logger (`Monitor.logger`). */
function loggerOf(monitor: unknown, options: AttachSipJsOptions | undefined): Logger {
  const candidate = options?.logger ?? read(monitor, 'logger');
  if (candidate && typeof candidate === 'object' && typeof (candidate as Logger).warn === 'function') {
    const l = candidate as Logger;
    const guard =
      (level: keyof Logger) =>
      (message: string, ...details: unknown[]): void => {
        try {
          l[level](`[sipjs] ${message}`, ...details);
        } catch {
          // a broken logger must not break the call
        }
      };
    return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
  }
  return consoleLogger();
}

function isUserAgentLike(x: unknown): x is SipJsUserAgentLike {
  const stateChange = read(x, 'stateChange');
  const configuration = read(x, 'configuration');
  return (
    !!stateChange &&
    typeof read(stateChange, 'addListener') === 'function' &&
    typeof read(stateChange, 'removeListener') === 'function' &&
    !!configuration &&
    typeof configuration === 'object'
  );
}

/**
 * The UserAgent behind what attachSipJs was given: a UserAgent, a Web.SessionManager (its public
 * `userAgent`) or a Web.SimpleUser (its private `sessionManager.userAgent`). Undefined otherwise.
 */
export function userAgentOf(target: unknown): SipJsUserAgentLike | undefined {
  if (isUserAgentLike(target)) return target;
  const managed = read(target, 'userAgent');
  if (isUserAgentLike(managed)) return managed;
  const simple = userAgentOfSimpleUser(target);
  if (isUserAgentLike(simple)) return simple;
  return undefined;
}

/**
 * Monitors every session of a SIP.js UserAgent (given directly, or as its Web.SessionManager or
 * Web.SimpleUser): returns `detach`. Attaching the same UA to the same monitor again returns the
 * first attachment's detach. Never throws.
 */
export function attachSipJs(target: SipJsAttachTarget, monitor: Monitor, options: AttachSipJsOptions = {}): () => void {
  const log = loggerOf(monitor, options);
  try {
    if (!monitor || typeof monitor.tryAddFabric !== 'function') {
      log.error('attachSipJs: the second argument is not a Callmetry Monitor; nothing is monitored');
      return noop;
    }
    const userAgent = userAgentOf(target);
    if (!userAgent) {
      log.error('attachSipJs: expected a SIP.js UserAgent, Web.SessionManager or Web.SimpleUser; nothing is monitored');
      return noop;
    }
    let byMonitor = attachments.get(userAgent);
    const existing = byMonitor?.get(monitor);
    if (existing) return existing.detach;
    if (!byMonitor) {
      byMonitor = new Map();
      attachments.set(userAgent, byMonitor);
    }
    const attachment = new Attachment(userAgent, monitor, options ?? {}, log, () => {
      const map = attachments.get(userAgent);
      if (map?.get(monitor) === attachment) map.delete(monitor);
    });
    byMonitor.set(monitor, attachment);
    attachment.start();
    return attachment.detach;
  } catch (e) {
    log.error('attachSipJs failed; nothing is monitored', e);
    return noop;
  }
}

// ---------------------------------------------------------------------------------------------

interface SdhEntry {
  sdh: SipJsSessionDescriptionHandlerLike;
  pc?: SipJsPeerConnectionLike;
  fabric?: Fabric;
  refused: boolean;
  muted: Record<MediaKind, boolean>;
  restorers: Array<() => void>;
  /** Errors already reported by a step wrapper (the outer getDescription/setDescription skips them). */
  reported: WeakSet<object>;
}

interface SessionEntry {
  session: SipJsSessionLike;
  direction: 'outgoing' | 'incoming';
  conferenceID: string;
  remoteUserID: string;
  remoteURI: string;
  localURI: string;
  callId: string | undefined;
  sdhs: Map<SipJsSessionDescriptionHandlerLike, SdhEntry>;
  restorers: Array<() => void>;
  established: boolean;
  terminated: boolean;
  /** The status an Invitation was rejected with by this side (invitation.reject()). */
  localReject?: { statusCode: number; reasonPhrase?: string };
  /** The final non-2xx of the initial INVITE was reported. */
  outcomeReported: boolean;
  localHold: boolean;
  remoteHold: boolean;
  /** A hold/unhold re-INVITE of ours is in flight: sender track changes belong to it, not to mute. */
  pendingHold: boolean | undefined;
}

class Attachment {
  readonly detach: Detach = () => this.stop('detach');
  private detached = false;
  private readonly sessions = new Map<object, SessionEntry>();
  private readonly restorers: Array<() => void> = [];
  private registry: SessionRegistryHook | undefined;
  private readonly attributes: Record<string, unknown> = {};

  constructor(
    private readonly ua: SipJsUserAgentLike,
    private readonly monitor: Monitor,
    private readonly options: AttachSipJsOptions,
    private readonly log: Logger,
    private readonly onStopped: () => void,
  ) {}

  start(): void {
    // Self-detach when the UA stops (after its graceful shutdown ended the sessions).
    const onUaState = this.safe((state: unknown) => {
      if (state === 'Stopped') this.stop('UserAgent stopped');
    });
    this.ua.stateChange.addListener(onUaState);
    this.restorers.push(() => this.ua.stateChange.removeListener(onUaState));

    // Every SDH is made by the UA's factory (public option), with its session.
    const configuration = this.ua.configuration as unknown as object;
    const self = this;
    const factoryUndo = replaceMethod(configuration, 'sessionDescriptionHandlerFactory', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const sdh = original.apply(this, args);
        if (!self.detached) self.safe(() => self.onSessionDescriptionHandler(args[0], sdh))();
        return sdh;
      },
    );
    if (factoryUndo) this.restorers.push(factoryUndo);
    else this.log.warn('userAgent.configuration.sessionDescriptionHandlerFactory is not a function: peer connections are found at Established only');

    // New sessions: the private registry, when this SIP.js is one whose layout is known.
    const version = this.options.sipjsVersion ?? sipJsVersionOf(this.ua);
    if (version) this.attributes.sipjsVersion = version;
    const verdict = checkSipJsVersion(version);
    if (!verdict.usable) {
      this.log.warn(`${verdict.reason}: its session registry is not hooked. Sessions are seen when their media starts; the final status of outgoing calls is not reported`);
    } else {
      if (verdict.version && !verdict.tested) this.log.info(`SIP.js ${verdict.version} is untested (tested: ${TESTED_SIPJS_VERSION})`);
      const hooked = hookSessionRegistry(this.ua, (session) => {
        if (!this.detached) this.safe(() => this.ensureSession(session))();
      });
      if (hooked.ok) {
        this.registry = hooked.hook;
        for (const session of hooked.hook.existing()) this.safe(() => this.adoptExisting(session))();
      } else {
        this.log.warn(`${hooked.reason}: sessions are seen when their media starts; the final status of outgoing calls is not reported`);
      }
    }
  }

  private stop(why: string): void {
    if (this.detached) return;
    this.detached = true;
    this.registry?.release();
    for (const undo of this.restorers.splice(0).reverse()) this.run(undo);
    for (const entry of [...this.sessions.values()]) this.releaseSession(entry, true);
    this.sessions.clear();
    this.onStopped();
    this.log.debug(`detached (${why})`);
  }

  // ---- guards -------------------------------------------------------------------------------

  private safe<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.detached) return;
      try {
        fn(...args);
      } catch (e) {
        this.log.error('a SIP.js hook failed (the call is not affected)', e);
      }
    };
  }

  private run(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.debug('cleanup step failed', e);
    }
  }

  // ---- sessions -----------------------------------------------------------------------------

  private isSession(x: unknown): x is SipJsSessionLike {
    const sc = read(x, 'stateChange');
    return !!sc && typeof read(sc, 'addListener') === 'function' && typeof read(x, 'invite') === 'function';
  }

  /** A session that existed before attach: adopt it with whatever it already has. */
  private adoptExisting(session: unknown): void {
    const entry = this.ensureSession(session);
    if (!entry) return;
    if (session && read(session, 'state') === 'Established') entry.established = true;
    const sdh = read(session, 'sessionDescriptionHandler');
    if (sdh) this.onSessionDescriptionHandler(session, sdh);
  }

  private ensureSession(session: unknown): SessionEntry | undefined {
    if (!this.isSession(session)) return undefined;
    const known = this.sessions.get(session);
    if (known) return known;
    const state = read(session, 'state');
    if (state === 'Terminated') return undefined;

    const direction = typeof read(session, 'accept') === 'function' ? 'incoming' : 'outgoing';
    const callId = read(read(session, 'request'), 'callId');
    const remote = read(session, 'remoteIdentity');
    const uri = read(remote, 'uri');
    const remoteURI = uriText(uri);
    const localURI = uriText(read(read(session, 'localIdentity'), 'uri'));
    const entry: SessionEntry = {
      session,
      direction,
      callId: typeof callId === 'string' ? callId : undefined,
      conferenceID: '',
      remoteUserID: '',
      remoteURI,
      localURI,
      sdhs: new Map(),
      restorers: [],
      established: false,
      terminated: false,
      outcomeReported: false,
      localHold: false,
      remoteHold: false,
      pendingHold: undefined,
    };
    entry.conferenceID = this.conferenceIdOf(entry);
    entry.remoteUserID = this.remoteUserIdOf(entry, read(uri, 'user'));
    this.sessions.set(session, entry);

    const onState = this.safe((s: unknown) => this.onSessionState(entry, s));
    session.stateChange.addListener(onState);
    entry.restorers.push(() => session.stateChange.removeListener(onState));
    this.wrapInvite(entry);
    if (direction === 'incoming') this.wrapReject(entry);
    this.log.debug(`${direction} session ${String(read(session, 'id'))} (conference '${entry.conferenceID}', remote '${entry.remoteUserID}')`);
    return entry;
  }

  private conferenceIdOf(entry: SessionEntry): string {
    const opt = this.options.conferenceID;
    try {
      const id = typeof opt === 'function' ? opt(entry.session) : opt;
      if (typeof id === 'string' && id && id.length <= 256) return id;
      if (id !== undefined && id !== '') this.log.warn(`invalid conferenceID ${JSON.stringify(id)} (a non-empty string of at most 256 characters); using the Call-ID`);
    } catch (e) {
      this.log.warn('options.conferenceID threw; using the Call-ID', e);
    }
    if (entry.callId) return entry.callId;
    const id = read(entry.session, 'id');
    return typeof id === 'string' && id ? id : 'sipjs-call';
  }

  private remoteUserIdOf(entry: SessionEntry, user: unknown): string {
    const opt = this.options.remoteUserID ?? 'user';
    if (typeof opt === 'function') {
      try {
        const id = opt(entry.session);
        if (typeof id === 'string' && id) return id;
      } catch (e) {
        this.log.warn('options.remoteUserID threw; using the remote URI user', e);
      }
    }
    if (opt !== 'uri' && typeof user === 'string' && user) return user;
    return entry.remoteURI || 'unknown';
  }

  private onSessionState(entry: SessionEntry, state: unknown): void {
    if (state === 'Established') {
      entry.established = true;
      // A custom SDH factory may create its peer connection late: look again.
      const sdh = read(entry.session, 'sessionDescriptionHandler');
      if (sdh) this.onSessionDescriptionHandler(entry.session, sdh);
      for (const se of entry.sdhs.values()) this.ensureFabric(entry, se);
    } else if (state === 'Terminated') {
      this.onTerminated(entry);
    }
  }

  /**
   * Terminated: a last stats poll while the peer connection is still open (SIP.js closes it right
   * after the Terminated listeners), then the fabrics end. The final status of an outgoing call
   * arrives through onReject in the same call stack, before the poll resolves.
   */
  private onTerminated(entry: SessionEntry): void {
    if (entry.terminated) return;
    entry.terminated = true;
    const polls: Array<Promise<unknown>> = [];
    for (const se of entry.sdhs.values()) {
      const fabric = se.fabric;
      if (!fabric || fabric.state === 'terminated' || !pcOpen(se.pc)) continue;
      try {
        polls.push(fabric.pollNow().catch(() => undefined));
      } catch {
        // pollNow never throws; nothing to wait for then
      }
    }
    void Promise.all(polls).then(() => this.safe(() => this.finalize(entry))());
  }

  private finalize(entry: SessionEntry): void {
    if (entry.direction === 'incoming' && !entry.established) this.reportIncomingOutcome(entry);
    this.releaseSession(entry, true);
    this.sessions.delete(entry.session);
  }

  /** Removes the session's wrappers and listeners; with `terminate`, ends its fabrics. */
  private releaseSession(entry: SessionEntry, terminate: boolean): void {
    for (const se of entry.sdhs.values()) {
      for (const undo of se.restorers.splice(0).reverse()) this.run(undo);
      if (terminate && se.fabric && se.fabric.state !== 'terminated') {
        const fabric = se.fabric;
        this.run(() => fabric.terminate());
      }
    }
    for (const undo of entry.restorers.splice(0).reverse()) this.run(undo);
  }

  private liveFabrics(entry: SessionEntry): Fabric[] {
    const out: Fabric[] = [];
    for (const se of entry.sdhs.values()) if (se.fabric && se.fabric.state !== 'terminated') out.push(se.fabric);
    return out;
  }

  /** The fabric of the session's current SDH, else any live one. */
  private mainFabric(entry: SessionEntry): Fabric | undefined {
    const current = read(entry.session, 'sessionDescriptionHandler');
    const se = current ? entry.sdhs.get(current as SipJsSessionDescriptionHandlerLike) : undefined;
    if (se?.fabric && se.fabric.state !== 'terminated') return se.fabric;
    return this.liveFabrics(entry)[0];
  }

  private send(fabrics: Fabric[], event: FabricEvent, data?: Record<string, unknown>): void {
    for (const fabric of fabrics) {
      const r = fabric.sendEvent(event, data);
      if (r.status !== 'success') this.log.debug(`${event} refused: ${r.message ?? ''}`);
    }
  }

  private reportError(entry: SessionEntry, fabric: Fabric | undefined, fn: WebRTCFunction, error: unknown, details?: ErrorDetails): void {
    const clean: ErrorDetails = {};
    if (typeof details?.localSDP === 'string') clean.localSDP = details.localSDP;
    if (typeof details?.remoteSDP === 'string') clean.remoteSDP = details.remoteSDP;
    const r =
      fabric && fabric.state !== 'terminated'
        ? fabric.reportError(fn, error, clean)
        : this.monitor.reportError(entry.conferenceID, fn, error, clean);
    if (r.status !== 'success') this.log.debug(`reportError(${fn}) refused: ${r.message ?? ''}`);
  }

  // ---- outgoing INVITE, re-INVITEs (public: invite() options.requestDelegate) -----------------

  private wrapInvite(entry: SessionEntry): void {
    const self = this;
    const undo = replaceMethod(entry.session, 'invite', (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (self.detached) return original.apply(this, args);
        let call = args;
        let hold: boolean | undefined;
        try {
          const prepared = self.prepareInvite(entry, args[0]);
          if (prepared) {
            call = [prepared.options, ...args.slice(1)];
            hold = prepared.hold;
          }
        } catch (e) {
          self.log.error('could not observe invite(); the call is not affected', e);
        }
        const result = original.apply(this, call);
        if (hold !== undefined) onRejected(result, () => {
          if (entry.pendingHold === hold) entry.pendingHold = undefined;
        });
        return result;
      },
    );
    if (undo) entry.restorers.push(undo);
  }

  /** A copy of the app's invite options whose requestDelegate tells the adapter too. */
  private prepareInvite(entry: SessionEntry, raw: unknown): { options: SipJsInviteOptionsLike; hold: boolean | undefined } | undefined {
    const state = read(entry.session, 'state');
    const initial = state === 'Initial';
    const reinvite = state === 'Established';
    if (!initial && !reinvite) return undefined;
    const options: SipJsInviteOptionsLike = raw && typeof raw === 'object' ? (raw as SipJsInviteOptionsLike) : {};

    let hold: boolean | undefined;
    if (reinvite && !options.withoutSdp) {
      const sdhOptions = options.sessionDescriptionHandlerOptions ?? (read(entry.session, 'sessionDescriptionHandlerOptionsReInvite') as { hold?: unknown } | undefined);
      hold = read(sdhOptions, 'hold') === true;
      entry.pendingHold = hold;
    }

    const app = options.requestDelegate;
    // The app's delegate stays the prototype: its other hooks (and `this`) work as before.
    const delegate = Object.create(app && typeof app === 'object' ? app : null) as SipJsRequestDelegateLike;
    const chain =
      (name: 'onAccept' | 'onReject' | 'onRedirect', ours: (response: SipJsIncomingResponseLike) => void) =>
      (response: SipJsIncomingResponseLike): void => {
        this.safe(ours)(response);
        const fn = app ? (app as Record<string, unknown>)[name] : undefined;
        if (typeof fn === 'function') (fn as (r: SipJsIncomingResponseLike) => void).call(app, response);
      };
    if (initial) {
      delegate.onReject = chain('onReject', (r) => this.onInitialFinal(entry, r));
      delegate.onRedirect = chain('onRedirect', (r) => this.onInitialFinal(entry, r));
    } else {
      delegate.onAccept = chain('onAccept', () => {
        if (hold === undefined) return;
        if (entry.pendingHold === hold) entry.pendingHold = undefined;
        if (read(entry.session, 'state') === 'Established') this.setHold(entry, 'local', hold);
      });
      delegate.onReject = chain('onReject', () => {
        if (hold !== undefined && entry.pendingHold === hold) entry.pendingHold = undefined;
      });
    }
    return { options: { ...options, requestDelegate: delegate }, hold };
  }

  /** The final non-2xx response (3xx-6xx) to an outgoing call's initial INVITE: see README. */
  private onInitialFinal(entry: SessionEntry, response: SipJsIncomingResponseLike): void {
    if (entry.outcomeReported) return;
    entry.outcomeReported = true;
    const statusCode = Number(read(read(response, 'message'), 'statusCode')) || 0;
    const phrase = read(read(response, 'message'), 'reasonPhrase');
    const reasonPhrase = typeof phrase === 'string' && phrase ? phrase : (reasonPhraseOf(statusCode) ?? '');
    const outcome = classifySipStatus(statusCode);
    const fabric = this.mainFabric(entry);
    if (outcome.callUnAnswered) {
      // 487 after our own CANCEL: the caller hung up (local); otherwise the callee or a proxy decided.
      const originator = statusCode === 487 && sessionWasCanceled(entry.session) === true ? 'local' : 'remote';
      this.callUnAnswered(entry, fabric, { cause: outcome.cause, originator, statusCode, reasonPhrase });
    }
    const message = `${statusCode} ${reasonPhrase}`.trim() + (entry.remoteURI ? ` (INVITE to ${entry.remoteURI})` : '');
    this.reportError(entry, fabric, outcome.webRTCFunction, { name: 'SIPError', message });
  }

  /** The fabric event, or without a fabric the conference-level custom event of the same name. */
  private callUnAnswered(entry: SessionEntry, fabric: Fabric | undefined, data: Record<string, unknown>): void {
    if (fabric && fabric.state !== 'terminated') {
      this.send([fabric], 'callUnAnswered', data);
      return;
    }
    const r = this.monitor.sendCustomEvent(entry.conferenceID, 'callUnAnswered', {
      ...data,
      ...(entry.callId ? { sipCallID: entry.callId } : {}),
      sipDirection: entry.direction,
    });
    if (r.status !== 'success') this.log.debug(`callUnAnswered not sent: ${r.message ?? ''}`);
  }

  // ---- incoming calls that never got media --------------------------------------------------

  private wrapReject(entry: SessionEntry): void {
    const self = this;
    const undo = replaceMethod(entry.session, 'reject', (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (!self.detached && !entry.localReject) {
          self.safe(() => {
            const code = Number(read(args[0], 'statusCode')) || 480; // SIP.js's default
            const phrase = read(args[0], 'reasonPhrase');
            entry.localReject = {
              statusCode: code,
              ...(typeof phrase === 'string' && phrase ? { reasonPhrase: phrase } : reasonPhraseOf(code) ? { reasonPhrase: reasonPhraseOf(code) } : {}),
            };
          })();
        }
        return original.apply(this, args);
      },
    );
    if (undo) entry.restorers.push(undo);
  }

  /**
   * An Invitation that ended unanswered has no fabric: the conference gets the custom event
   * `callUnAnswered` (when the status is an unanswered one, as for the caller) and an applicationLog.
   */
  private reportIncomingOutcome(entry: SessionEntry): void {
    if (this.liveFabrics(entry).length > 0) return; // it had media: its failures were reported on the fabric
    const from = entry.remoteURI ? ` from ${entry.remoteURI}` : '';
    let message: string;
    if (entry.localReject) {
      const { statusCode, reasonPhrase } = entry.localReject;
      message = `incoming call${from} rejected here: ${statusCode}${reasonPhrase ? ` ${reasonPhrase}` : ''}`;
      const outcome = classifySipStatus(statusCode);
      if (outcome.callUnAnswered) {
        this.callUnAnswered(entry, undefined, { cause: outcome.cause, originator: 'local', statusCode, ...(reasonPhrase ? { reasonPhrase } : {}) });
      }
    } else if (sessionWasCanceled(entry.session)) {
      message = `incoming call${from} cancelled by the caller before it was answered (487 Request Terminated)`;
      this.callUnAnswered(entry, undefined, { cause: 'cancelled', originator: 'remote', statusCode: 487, reasonPhrase: 'Request Terminated' });
    } else {
      message = `incoming call${from} ended before it was answered`;
      this.callUnAnswered(entry, undefined, { cause: 'noAnswer', originator: 'local' });
    }
    this.reportError(entry, undefined, 'applicationLog', { name: 'SIPIncomingCall', message });
  }

  // ---- session description handlers ---------------------------------------------------------

  private onSessionDescriptionHandler(sessionRaw: unknown, sdhRaw: unknown): void {
    if (!sdhRaw || typeof sdhRaw !== 'object') return;
    const entry = this.sessions.get(sessionRaw as object) ?? this.ensureSession(sessionRaw);
    if (!entry || entry.terminated) return;
    const sdh = sdhRaw as SipJsSessionDescriptionHandlerLike;
    let se = entry.sdhs.get(sdh);
    if (se) {
      this.ensureFabric(entry, se);
      return;
    }
    se = { sdh, refused: false, muted: { audio: false, video: false }, restorers: [], reported: new WeakSet() };
    entry.sdhs.set(sdh, se);
    this.wrapSdh(entry, se);
    this.ensureFabric(entry, se);
  }

  private ensureFabric(entry: SessionEntry, se: SdhEntry): void {
    if (se.fabric || se.refused || entry.terminated) return;
    const pc = read(se.sdh, 'peerConnection') as SipJsPeerConnectionLike | undefined;
    if (!pc || typeof pc !== 'object' || !pcOpen(pc)) return;
    se.pc = pc;
    const { fabric, result } = this.monitor.tryAddFabric(pc, {
      remoteUserID: entry.remoteUserID,
      conferenceID: entry.conferenceID,
      usage: 'multiplex',
      remoteEndpointType: this.options.remoteEndpointType ?? 'peer',
      direction: 'sendrecv',
      attributes: {
        ...this.attributes,
        ...(entry.callId ? { sipCallID: entry.callId } : {}),
        sipDirection: entry.direction,
        ...(entry.remoteURI ? { sipRemoteURI: entry.remoteURI } : {}),
        ...(entry.localURI ? { sipLocalURI: entry.localURI } : {}),
        ...(this.options.attributes ?? {}),
      },
    });
    if (!fabric) {
      se.refused = true;
      this.log.warn(`the monitor refused the peer connection of call ${entry.callId ?? ''}: ${result.message ?? 'unknown reason'}`);
      return;
    }
    se.fabric = fabric;
    // Hold that happened before the fabric existed (a re-offer to an adopted session).
    if (entry.localHold || entry.remoteHold) this.send([fabric], 'fabricHold', { originator: entry.localHold ? 'local' : 'remote' });
  }

  private wrapSdh(entry: SessionEntry, se: SdhEntry): void {
    const self = this;
    const sdh = se.sdh as unknown as object;

    // Which step failed, with its SDPs (protected members: ./internals.ts).
    se.restorers.push(
      ...wrapSdhSteps(sdh, (failure) => {
        if (!self.detached) self.safe(() => self.onStepFailure(entry, se, failure))();
      }),
    );

    const getUndo = replaceMethod(sdh, 'getDescription', (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (!self.detached) self.safe(() => self.ensureFabric(entry, se))();
        const result = original.apply(this, args);
        if (!self.detached) onRejected(result, (error) => self.safe(() => self.onDescriptionFailure(entry, se, 'getDescription', error))());
        return result;
      },
    );
    if (getUndo) se.restorers.push(getUndo);

    const setUndo = replaceMethod(sdh, 'setDescription', (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (self.detached) return original.apply(this, args);
        self.safe(() => self.ensureFabric(entry, se))();
        // A remote offer (re-INVITE) on an established call: the direction tells remote hold.
        const pc = read(sdh, 'peerConnection') as SipJsPeerConnectionLike | undefined;
        const remoteReOffer = pc?.signalingState === 'stable' && read(entry.session, 'state') === 'Established';
        const sdp = args[0];
        const result = original.apply(this, args);
        onSettled(
          result,
          () => {
            if (remoteReOffer && typeof sdp === 'string') self.safe(() => self.setHold(entry, 'remote', isHoldOffer(sdp)))();
          },
          (error) => self.safe(() => self.onDescriptionFailure(entry, se, 'setDescription', error, typeof sdp === 'string' ? sdp : undefined))(),
        );
        return result;
      },
    );
    if (setUndo) se.restorers.push(setUndo);

    // SimpleUser/SessionManager.mute() -> sdh.enableSenderTracks(false).
    const muteUndo = replaceMethod(sdh, 'enableSenderTracks', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        if (!self.detached) self.safe(() => self.evaluateMute(entry, se))();
        return result;
      },
    );
    if (muteUndo) se.restorers.push(muteUndo);
  }

  /** Failures while the peer connection is being torn down are consequences, not causes. */
  private tornDown(entry: SessionEntry, se: SdhEntry): boolean {
    if (read(entry.session, 'state') === 'Terminated') return true;
    const pc = read(se.sdh, 'peerConnection') as SipJsPeerConnectionLike | undefined;
    // SIP.js's close() sets peerConnection to undefined; an SDH that never had one is not closed.
    if (pc === undefined) return se.pc !== undefined;
    return !pcOpen(pc);
  }

  private onStepFailure(entry: SessionEntry, se: SdhEntry, failure: SdhStepFailure): void {
    if (failure.error && typeof failure.error === 'object') se.reported.add(failure.error);
    if (this.tornDown(entry, se)) return;
    this.ensureFabric(entry, se);
    this.reportError(entry, se.fabric, failure.fn, failure.error, {
      ...(failure.localSDP !== undefined ? { localSDP: failure.localSDP } : {}),
      ...(failure.remoteSDP !== undefined ? { remoteSDP: failure.remoteSDP } : {}),
    });
  }

  /** getDescription/setDescription rejected for a reason no step wrapper saw (custom SDH, modifiers, ...). */
  private onDescriptionFailure(entry: SessionEntry, se: SdhEntry, method: 'getDescription' | 'setDescription', error: unknown, sdp?: string): void {
    if (error && typeof error === 'object' && se.reported.has(error)) return;
    if (this.tornDown(entry, se)) return;
    const name = read(error, 'name');
    const pc = read(se.sdh, 'peerConnection') as SipJsPeerConnectionLike | undefined;
    let fn: WebRTCFunction;
    if (typeof name === 'string' && MEDIA_ERROR_NAMES.has(name)) fn = 'getUserMedia';
    else if (method === 'setDescription') fn = 'setRemoteDescription';
    else fn = 'applicationError';
    this.ensureFabric(entry, se);
    this.reportError(entry, se.fabric, fn, error, {
      ...(method === 'setDescription' && sdp !== undefined ? { remoteSDP: sdp } : {}),
      ...(pc?.localDescription?.sdp ? { localSDP: pc.localDescription.sdp } : {}),
      ...(method === 'getDescription' && pc?.remoteDescription?.sdp ? { remoteSDP: pc.remoteDescription.sdp } : {}),
    });
  }

  // ---- hold and mute -------------------------------------------------------------------------

  /** Held = held locally or by the remote side; events only when that changes. */
  private setHold(entry: SessionEntry, originator: Originator, held: boolean): void {
    const before = entry.localHold || entry.remoteHold;
    if (originator === 'local') entry.localHold = held;
    else entry.remoteHold = held;
    const after = entry.localHold || entry.remoteHold;
    if (before === after) return;
    this.send(this.liveFabrics(entry), after ? 'fabricHold' : 'fabricResume', { originator });
  }

  /** After enableSenderTracks: a kind is muted when all its sender tracks are disabled. */
  private evaluateMute(entry: SessionEntry, se: SdhEntry): void {
    // SessionManager's hold disables the sender tracks too: that is hold, not mute.
    if (entry.localHold || entry.pendingHold !== undefined) return;
    const pc = read(se.sdh, 'peerConnection') as SipJsPeerConnectionLike | undefined;
    if (!pcOpen(pc) || typeof pc?.getSenders !== 'function') return;
    const tracks: Record<MediaKind, boolean[]> = { audio: [], video: [] };
    for (const sender of pc.getSenders()) {
      const kind = sender.track?.kind;
      if (kind === 'audio' || kind === 'video') tracks[kind].push(sender.track?.enabled !== false);
    }
    for (const kind of ['audio', 'video'] as const) {
      if (tracks[kind].length === 0) continue;
      const muted = tracks[kind].every((enabled) => !enabled);
      if (muted === se.muted[kind]) continue;
      se.muted[kind] = muted;
      if (!se.fabric) continue;
      const event: FabricEvent = kind === 'audio' ? (muted ? 'audioMute' : 'audioUnmute') : muted ? 'videoPause' : 'videoResume';
      this.send([se.fabric], event);
    }
  }
}

function uriText(uri: unknown): string {
  if (!uri || typeof uri !== 'object') return '';
  try {
    return String(uri);
  } catch {
    return '';
  }
}

function pcOpen(pc: SipJsPeerConnectionLike | undefined): pc is SipJsPeerConnectionLike {
  if (!pc) return false;
  try {
    return pc.signalingState !== 'closed' && pc.connectionState !== 'closed';
  } catch {
    return false;
  }
}
