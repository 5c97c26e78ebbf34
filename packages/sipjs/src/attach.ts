/**
 * `attachSipJs(userAgent | sessionManager | simpleUser, monitor, options?) => detach`: every
 * SIP.js 0.21 session of the UserAgent, outgoing and incoming, becomes a fabric.
 *
 * Built on core's `attachAdapter`: the UserAgent is one attachment (idempotent per monitor,
 * detached when the monitor closes or the UA stops), and each session is a nested attachment
 * of its own, detached when the session ends (its listeners and wrappers go, its fabrics are
 * terminated) or with the UA's. Every callback handed to SIP.js goes through the scope's `safe`
 * (directly or through `spy`/`side`): nothing here throws into SIP.js or the app.
 *
 * Hooks (see README "Hooks"):
 *  - New sessions: the UA's private session registry (./internals.ts), which every Inviter and
 *    Invitation joins in its constructor, before the app can call invite()/accept()/reject().
 *  - The RTCPeerConnection: the UA's public `configuration.sessionDescriptionHandlerFactory` is
 *    wrapped; every SDH of every session is made by it, with the session as first argument. The
 *    Web SDH creates its RTCPeerConnection in its constructor, so the fabric is added at once.
 *  - Per session (public API): `stateChange` (Established / Terminated), `invite()` wrapped on the
 *    instance to chain the app's `requestDelegate` (final status of the initial INVITE, local
 *    hold/unhold accepted), and the private `incomingInviteRequest.reject()` of an Invitation
 *    (the final status the callee sent).
 *  - Per SDH: getDescription/setDescription rejections (errors with their SDPs; the failing step
 *    is found by wrapping the Web SDH's protected steps), setDescription of a remote re-offer
 *    (remote hold), and `enableSenderTracks` (mute, which is what SimpleUser/SessionManager.mute() call).
 *  - Also read (private): `session.isCanceled` (CANCEL sent or received) and
 *    `simpleUser.sessionManager` (whose `userAgent` is public).
 */
import { attachAdapter, type AdapterScope, type ErrorDetails, type Fabric, type Monitor, type WebRTCFunction } from '@callmetry/core';
import { checkSipJsVersion, hookSessionRegistry } from './internals';
import { isHoldOffer } from './sdp';
import { classifySipStatus } from './status';
import type {
  AttachSipJsOptions,
  SipJsAttachTarget,
  SipJsEmitterLike,
  SipJsIncomingResponseLike,
  SipJsInvitationLike,
  SipJsInviteOptionsLike,
  SipJsNameAddrLike,
  SipJsPeerConnectionLike,
  SipJsRequestDelegateLike,
  SipJsSessionDescriptionHandlerLike,
  SipJsSessionLike,
  SipJsUserAgentLike,
} from './types';

/**
 * A session as the adapter reads it: Invitation members are optional. Private in SIP.js:
 * `isCanceled` (CANCEL sent or received) and an Invitation's `incomingInviteRequest`, whose
 * `reject()` answers the response it sent (`{message: 'SIP/2.0 486 Busy Here...'}`).
 */
type Session = SipJsSessionLike &
  Partial<Pick<SipJsInvitationLike, 'accept'>> & { isCanceled?: boolean; localIdentity?: SipJsNameAddrLike; incomingInviteRequest?: object };
/** Hook arguments and results are the library's: typed loosely on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Data = Record<string, unknown>;

/** getUserMedia's DOMException names: a description failure with one of these is a media failure. */
const MEDIA_ERROR = /^(NotAllowed|NotFound|NotReadable|Overconstrained|Security|Abort)Error$/;
/** Sender track kind -> its [unmute, mute] events. */
const MUTE = { audio: ['audioUnmute', 'audioMute'], video: ['videoResume', 'videoPause'] } as const;
/**
 * The SDH methods wrapped to name a failure: [method, webRTCFunction, the SDP field its first
 * argument fills]. First the Web SDH's protected steps (createLocalOfferOrAnswer: createOffer or
 * createAnswer, from the signaling state), then the public methods, for what no step saw (SDP
 * modifiers, the ICE gathering wait, a custom SDH).
 */
const STEPS = [
  ['mediaStreamFactory', 'getUserMedia'],
  ['createLocalOfferOrAnswer'],
  ['setLocalSessionDescription', 'setLocalDescription', 'localSDP'],
  ['setRemoteSessionDescription', 'setRemoteDescription', 'remoteSDP'],
  ['getDescription', 'applicationError'],
  ['setDescription', 'setRemoteDescription', 'remoteSDP'],
] as const;

const open = (pc?: SipJsPeerConnectionLike): pc is SipJsPeerConnectionLike => !!pc && pc.signalingState != 'closed' && pc.connectionState != 'closed';

/** `fn()`, or undefined if it throws (SIP.js getters and the app's option functions). */
const attempt = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};

/** Observes a promise on a side branch (what the caller sees is unchanged), with safe handlers. */
const side = (scope: AdapterScope, result: unknown, ko: (error: Loose) => unknown, ok: () => unknown = () => 0): void =>
  void Promise.resolve(result).then(scope.safe(ok), scope.safe(ko));

/**
 * Wraps `obj[name]` (when it is a function) through the scope: `before(args)` runs first (made
 * safe; it may edit args) and may return `after(result)` (made safe too). Returns what the
 * original returns.
 */
function spy(scope: AdapterScope, obj: Loose, name: string, before: (args: Loose[]) => ((result: Loose) => void) | void): void {
  if (typeof obj?.[name] == 'function')
    scope.wrap(obj, name, (original: Loose) =>
      function (this: unknown, ...args: Loose[]) {
        let after!: ((result: unknown) => void) | void;
        scope.safe(() => (after = before(args)))();
        const result = original.apply(this, args);
        if (after) scope.safe(after)(result);
        return result;
      },
    );
}

/** A SIP.js `Emitter` (listener-only API) through scope.listen. */
const listen = (scope: AdapterScope, emitter: SipJsEmitterLike<Loose>, listener: (data: Loose) => unknown): unknown =>
  scope.listen({ on: (_: string, l: Loose) => emitter.addListener(l), off: (_: string, l: Loose) => emitter.removeListener(l) }, '', listener);

/**
 * The UserAgent behind what attachSipJs was given: a UserAgent, a Web.SessionManager (its public
 * `userAgent`) or a Web.SimpleUser (its private `sessionManager.userAgent`). Undefined otherwise.
 */
export const userAgentOf = (target: unknown): SipJsUserAgentLike | undefined =>
  attempt(() => {
    const t = target as Loose;
    return [t, t?.userAgent, t?.sessionManager?.userAgent].find((x) => x?.stateChange?.addListener && x.configuration);
  });

/**
 * Monitors every session of a SIP.js UserAgent (given directly, or as its Web.SessionManager or
 * Web.SimpleUser): returns `detach`. Attaching the same UA to the same monitor again returns the
 * first attachment's detach. Never throws.
 */
export function attachSipJs(target: SipJsAttachTarget, monitor: Monitor, options: AttachSipJsOptions = {}): () => void {
  const ua = userAgentOf(target)!;
  return attachAdapter('sipjs', ua, monitor, (scope) => {
    const version = options.sipjsVersion ?? /SIP\.js\/(\d+\.\d+\.\d+)/.exec(`${ua.configuration.userAgentString}`)?.[1];
    /** Live sessions: their SDH handler and detach. */
    const calls = new Map<object, [(sdh: unknown) => void, () => void]>();
    /** Starts watching a session (once: attachAdapter is idempotent); answers its SDH handler. */
    const track = (session: Loose): ((sdh: unknown) => void) | undefined => {
      if (session?.stateChange && session.state != 'Terminated') attachAdapter('sipjs', session, monitor, (cs) => watch(cs, session));
      return calls.get(session)?.[0];
    };

    // Self-detach when the UA stops (after its graceful shutdown ended the sessions).
    listen(scope, ua.stateChange, (state) => state == 'Stopped' && scope.detach());
    spy(scope, ua.configuration, 'sessionDescriptionHandlerFactory', ([session]) => (sdh) => track(session)?.(sdh));
    scope.onDetach(() => calls.forEach(([, detach]) => detach()));
    const verdict = checkSipJsVersion(version);
    const why = verdict.usable ? hookSessionRegistry(scope, ua, track) : verdict.reason;
    if (why) scope.logger.warn(`sipjs: ${why}; public hooks only`);

    /** One session, in its own nested attachment `cs`. */
    function watch(cs: AdapterScope, s: Session): void {
      const incoming = !!s.accept;
      const callId = s.request?.callId;
      const remoteURI = attempt(() => `${s.remoteIdentity.uri}`) ?? '';
      const attributes: Data = {
        sipjsVersion: version,
        sipCallID: callId,
        sipDirection: incoming ? 'incoming' : 'outgoing',
        sipRemoteURI: remoteURI || undefined,
        sipLocalURI: attempt(() => `${s.localIdentity!.uri}`),
        ...options.attributes,
      };
      const { conferenceID: confOption, remoteUserID: userOption } = options;
      const conf = typeof confOption == 'function' ? attempt(() => confOption(s)) : confOption;
      const conferenceID = typeof conf == 'string' && conf && conf.length < 257 ? conf : callId || s.id;
      const remoteUserID =
        (typeof userOption == 'function' && attempt(() => userOption(s))) ||
        (userOption != 'uri' && attempt(() => s.remoteIdentity.uri.user)) ||
        remoteURI ||
        'unknown';

      let established = s.state == 'Established';
      let terminated = false;
      /** Who holds the call ('local', 'remote'): one hold state per call. */
      const held = new Set<string>();
      /** A hold/unhold re-INVITE of ours is in flight: sender track changes belong to it, not to mute. */
      let pendingHold: boolean | undefined;
      /** The final status an Invitation answered with (status, phrase). */
      let rejected: [number, string] | undefined;
      /** The final status of the initial INVITE: callUnAnswered data, then fabricTerminated data. */
      let reason: Data | undefined;
      /** The fabrics of the session (one per SDH with a peer connection) and each SDH's `ensure`. */
      const fabrics: Fabric[] = [];
      const sdhs = new Map<object, () => Fabric | undefined>();
      const live = (): Fabric[] => fabrics.filter((f) => f.state != 'terminated');
      /** On the fabric, or on the conference when the session has none. */
      const report = (f: Fabric | undefined, fn: WebRTCFunction, error: unknown, details?: ErrorDetails): unknown =>
        f ? f.reportError(fn, error, details) : monitor.reportError(conferenceID, fn, error, details);
      /** The fabric event, or without a fabric the conference-level custom event of the same name. */
      const unanswered = (data: Data, f?: Fabric): unknown =>
        f
          ? f.sendEvent('callUnAnswered', data)
          : monitor.sendCustomEvent(conferenceID, 'callUnAnswered', { ...data, sipCallID: callId, sipDirection: attributes.sipDirection });
      /**
       * A final status: the callUnAnswered event when it is an unanswered one; answers its data
       * `{cause, originator, statusCode, reasonPhrase}`, how it is reported, and its text (`486 Busy Here`).
       */
      const conclude = (statusCode: number, reasonPhrase: string | undefined, originator: string, f?: Fabric) => {
        const { cause, callUnAnswered, webRTCFunction } = classifySipStatus(statusCode);
        const data: Data = { cause, originator, statusCode, reasonPhrase };
        if (callUnAnswered) unanswered(data, f);
        return [data, webRTCFunction, `${statusCode} ${reasonPhrase ?? ''}`.trim()] as const;
      };

      /** Events only when the call's hold state (held by either side) changes. */
      const setHold = (originator: string, on: boolean): void => {
        const was = held.size;
        if (on) held.add(originator);
        else held.delete(originator);
        if (!was != !held.size) fabrics.forEach((f) => f.sendEvent(was ? 'fabricResume' : 'fabricHold', { originator }));
      };

      const onSdh = (sdh: Loose): void => {
        if (sdh && !terminated) (sdhs.get(sdh) ?? watchSdh(sdh))();
      };

      /** Watches one SDH; answers its `ensure` (adds the fabric once its PC exists). */
      function watchSdh(sdh: SipJsSessionDescriptionHandlerLike): () => Fabric | undefined {
        let fabric: Fabric | undefined;
        let hadPc = false;
        const muted: Record<string, boolean> = {};
        /** Errors already reported (an inner step's rejection reaches the outer method too). */
        const seen = new Set<unknown>();

        const ensure = (): Fabric | undefined => {
          const pc = sdh.peerConnection;
          if (!hadPc && !terminated && open(pc)) {
            hadPc = true;
            fabric = monitor.addFabric(pc, { remoteUserID, conferenceID, remoteEndpointType: options.remoteEndpointType, attributes });
            if (fabric) fabrics.push(fabric);
          }
          return fabric;
        };
        sdhs.set(sdh, ensure);

        for (const [name, fn, key] of STEPS)
          spy(cs, sdh, name, ([arg]) => {
            ensure();
            const state = sdh.peerConnection?.signalingState;
            const failed = fn ?? (state == 'stable' ? 'createOffer' : state == 'have-remote-offer' ? 'createAnswer' : 'applicationError');
            const sdp: string | undefined = typeof arg == 'string' ? arg : arg?.sdp;
            // A remote offer (re-INVITE) on an established call: its directions tell remote hold.
            const reOffer = name == 'setDescription' && state == 'stable' && s.state == 'Established';
            return (result) =>
              side(
                cs,
                result,
                (error) => {
                  // Reported once, by the innermost step that saw it; not while the PC is torn down
                  // (SIP.js's close() sets peerConnection to undefined; an SDH that never had one is not closed).
                  const pc = sdh.peerConnection;
                  if (seen.has(error) || s.state == 'Terminated' || (pc ? !open(pc) : hadPc)) return;
                  seen.add(error);
                  report(ensure(), MEDIA_ERROR.test(error?.name) ? 'getUserMedia' : failed, error, {
                    localSDP: pc?.localDescription?.sdp,
                    remoteSDP: pc?.remoteDescription?.sdp,
                    ...(key && { [key]: sdp }),
                  });
                },
                () => reOffer && setHold('remote', isHoldOffer(sdp!)),
              );
          });
        // SimpleUser/SessionManager.mute() -> sdh.enableSenderTracks(false). A kind is muted when all
        // its sender tracks are disabled. SessionManager's hold disables the tracks too: not a mute.
        spy(cs, sdh, 'enableSenderTracks', () => () => {
          const pc = sdh.peerConnection;
          if (held.has('local') || pendingHold != undefined || !fabric || !open(pc)) return;
          const senders = pc.getSenders?.() ?? [];
          for (const [kind, events] of Object.entries(MUTE)) {
            const tracks = senders.filter((x) => x.track?.kind == kind);
            const off = tracks.every((x) => !x.track!.enabled);
            if (tracks.length && off != !!muted[kind]) fabric.sendEvent(events[+(muted[kind] = off)]!);
          }
        });
        return ensure;
      }

      /** The final non-2xx response (3xx-6xx) to an outgoing call's initial INVITE: see README. */
      const onFinal = (response: SipJsIncomingResponseLike): void => {
        if (reason) return;
        // 487 after our own CANCEL: the caller hung up (local); otherwise the callee or a proxy decided.
        const { statusCode, reasonPhrase } = response.message;
        const f = live()[0];
        const [data, fn, text] = conclude(statusCode!, reasonPhrase, statusCode == 487 && s.isCanceled ? 'local' : 'remote', f);
        reason = data;
        report(f, fn, { name: 'SIPError', message: text + (remoteURI && ` (INVITE to ${remoteURI})`) });
      };

      /**
       * An Invitation that ended unanswered has no fabric: the conference gets the custom event
       * `callUnAnswered` (when the status is an unanswered one, as for the caller) and an
       * applicationLog. The status is the one SIP.js answered with (487 after the caller's CANCEL).
       */
      const onUnanswered = (): void => {
        const text = rejected && conclude(...rejected, s.isCanceled ? 'remote' : 'local')[2];
        if (!text) unanswered({ cause: 'noAnswer', originator: 'local' });
        const what = !text ? 'ended before it was answered' : s.isCanceled ? `cancelled by the caller before it was answered (${text})` : `rejected here: ${text}`;
        report(undefined, 'applicationLog', { name: 'SIPIncomingCall', message: `incoming call${remoteURI && ` from ${remoteURI}`} ${what}` });
      };

      listen(cs, s.stateChange, (state) => {
        if (state == 'Established') {
          established = true;
        } else if (state == 'Terminated' && !terminated) {
          terminated = true;
          // A last stats poll while the PC is still open (SIP.js closes it right after the Terminated
          // listeners), then the session ends. The final status of an outgoing call arrives through
          // onReject in the same call stack, before the poll resolves. In an executor: a pc whose
          // getters throw rejects, and the session still ends.
          const end = cs.safe(() => {
            if (incoming && !established && !live().length) onUnanswered();
            cs.detach();
          });
          new Promise((r) => r(Promise.all(live().map((f) => open(f.pc) && f.pollNow())))).then(end, end);
        }
      });

      // invite(): a copy of the app's options whose requestDelegate tells the adapter too.
      spy(cs, s, 'invite', (args) => {
        const initial = s.state == 'Initial';
        const options: SipJsInviteOptionsLike = args[0] ?? {};
        // Also none while a re-INVITE of ours is pending: SIP.js refuses this one (RequestPendingError).
        if (!initial && (s.state != 'Established' || options.withoutSdp || pendingHold != undefined)) return;
        const app = options.requestDelegate as Loose;
        const hold = !initial && (options.sessionDescriptionHandlerOptions ?? (s.sessionDescriptionHandlerOptionsReInvite as { hold?: boolean }))?.hold === true;
        const settle = (): void => {
          pendingHold = undefined;
        };
        // The app's delegate stays the prototype: its other hooks (and `this`) work as before.
        const delegate: SipJsRequestDelegateLike = Object.create(app ?? null);
        const chain = (name: keyof SipJsRequestDelegateLike, ours: (r: SipJsIncomingResponseLike) => void) => {
          delegate[name] = (r: SipJsIncomingResponseLike) => {
            cs.safe(ours)(r);
            app?.[name]?.call(app, r);
          };
        };
        if (initial) {
          chain('onReject', onFinal);
          chain('onRedirect', onFinal);
        } else {
          pendingHold = hold;
          chain('onAccept', () => {
            settle();
            if (s.state == 'Established') setHold('local', hold);
          });
          chain('onReject', settle);
        }
        args[0] = { ...options, requestDelegate: delegate };
        return initial ? undefined : (result) => side(cs, result, settle);
      });
      spy(cs, s.incomingInviteRequest, 'reject', () => (response) => {
        const [, status, phrase] = / (\d+) ([^\r\n]*)/.exec(response.message)!;
        rejected ??= [+status!, phrase!];
      });

      cs.onDetach(() => fabrics.forEach((f) => f.terminate(reason)));
      calls.set(s, [onSdh, cs.detach]);
      cs.onDetach(() => calls.delete(s));
      onSdh(s.sessionDescriptionHandler); // a session that existed before attach
    }
  });
}
