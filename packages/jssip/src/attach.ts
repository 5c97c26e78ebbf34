/**
 * `attachJsSip(ua, monitor, options?) => detach`: monitors every RTCSession of a JsSIP 3.x UA,
 * on core's adapter skeleton (`attachAdapter`: idempotent attach, safe handlers, detach on
 * monitor close).
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
 *  - ended/failed: the cause is reported after ./causes.ts, then the fabric is terminated with
 *    `{cause, originator, ...}`. JsSIP has closed the PC by then: the last stats are the last
 *    poll's (`fabric.latestStats()`).
 *  - `ua.stop()` is wrapped on the instance: after it, the adapter detaches itself.
 */
import { attachAdapter, type ErrorDetails, type Fabric, type FabricEvent, type Monitor, type WebRTCFunction } from '@callmetry/core';
import { jssipCauseReport } from './causes';
import type { AttachJsSipOptions, JsSipEndEvent, JsSipNewRTCSessionEvent, JsSipPeerConnectionLike, JsSipRTCSessionLike, JsSipSessionInfo, JsSipUALike } from './types';

// JsSIP's listeners get its event data, whose shape each handler checks.
type Handler = (...args: never[]) => void;
type End = (detaching?: boolean, data?: Record<string, unknown>) => void;

const text = (uri: unknown): string | undefined => (uri ? String(uri) : undefined);

/** An option's value for a session: the string, or what the function returns; else `fallback`. */
function pick(option: string | ((info: JsSipSessionInfo) => string) | undefined, info: JsSipSessionInfo, fallback: string): string {
  let v: unknown;
  try {
    v = typeof option == 'function' ? option(info) : option;
  } catch {
    // the app's function threw: the default
  }
  return typeof v == 'string' && v && v.length < 257 ? v : fallback;
}

/**
 * Monitors every RTCSession of a JsSIP 3.x UA on `monitor`. Returns `detach()`, which removes
 * every listener and wrapper and terminates the fabrics the adapter created (the calls go on).
 * Attaching the same UA to the same monitor again returns the same detach. Never throws.
 */
export const attachJsSip = (ua: JsSipUALike, monitor: Monitor, options: AttachJsSipOptions = {}): (() => void) =>
  attachAdapter('jssip', ua, monitor, (scope) => {
    const sessions = new Map<JsSipRTCSessionLike, End>();
    // ua.stop() ended every session synchronously (their ended handlers queued the fabric
    // terminations): detach after those.
    const stopped = (): void => queueMicrotask(scope.detach);
    scope.onDetach(() => sessions.forEach((end) => end(true)));

    const follow = ({ originator, session: s, request }: JsSipNewRTCSessionEvent): void => {
      // Already ended (the adapter cannot tell why): nothing to monitor.
      if (sessions.has(s) || s.isEnded?.()) return;
      const callID = request?.call_id || s.id || 'unknown';
      const direction = originator == 'local' ? 'outgoing' : 'incoming';
      const info: JsSipSessionInfo = { session: s, callID, direction };
      const uri = s.remote_identity?.uri;
      const conferenceID = pick(options.conferenceID, info, callID);
      const remoteUserID = pick(options.remoteUserID, info, uri?.user || text(uri) || 'unknown');
      // Also tells the adapter's own fabrics (fabric.attributes is this object) from the app's.
      const attributes = { sipCallID: callID, sipDirection: direction, sipRemoteURI: text(uri), sipLocalURI: text(s.local_identity?.uri), ...options.attributes };
      const held = new Set<string>();
      let fabric: Fabric | undefined;
      let refused: unknown; // a PC the monitor refused: not tried again at every event
      let ended = false;
      let remoteSdp: { sdp?: string } | undefined; // the last remote 'sdp' event (the app may rewrite it)

      const ensure = (pc: JsSipPeerConnectionLike | null | undefined = s.connection): void => {
        if (pc && !fabric && !ended && pc != refused) {
          const r = monitor.tryAddFabric(pc, { remoteUserID, conferenceID, attributes });
          fabric = r.fabric;
          if (!fabric) {
            refused = pc;
            scope.logger.warn(`jssip: no fabric for ${callID}`, r.result.message);
          }
        }
      };
      const send = (event: FabricEvent, data?: Record<string, unknown>): void => {
        ensure();
        fabric?.sendEvent(event, data);
      };
      // On the fabric, or on the conference when the session has no PC.
      const report = (fn: WebRTCFunction, error: unknown, details?: ErrorDetails): void => {
        ensure();
        if (fabric) fabric.reportError(fn, error, details);
        else monitor.reportError(conferenceID, fn, error, details);
      };
      const hold = (on?: boolean) => (d?: { originator?: string }) => {
        const originator = d?.originator == 'remote' ? 'remote' : 'local';
        const was = held.size;
        if (on) held.add(originator);
        else held.delete(originator);
        // One fabric state: on hold while either side holds.
        if (!was != !held.size) send(was ? 'fabricResume' : 'fabricHold', { originator });
      };
      const mute = (on?: boolean) => (d?: { audio?: boolean; video?: boolean }) => {
        if (d?.audio) send(on ? 'audioMute' : 'audioUnmute');
        if (d?.video) send(on ? 'videoPause' : 'videoResume');
      };
      const onEnd = (kind: string) => (d?: JsSipEndEvent) => {
        if (ended) return;
        ended = true;
        // Queued first: the session is released even if reading `d` (or the session) throws below.
        // Errors JsSIP emits right after 'failed' (getusermediafailed, setremotedescriptionfailed)
        // still go to this fabric: it is terminated a microtask later.
        let data: Record<string, unknown> | undefined;
        queueMicrotask(scope.safe(() => end(false, data)));
        const cause = d?.cause || 'unknown';
        const originator = d?.originator || 'unknown';
        const m = d?.message;
        // The message: an error text, a response (status), or a request (BYE, CANCEL).
        data = {
          cause,
          originator,
          ...(typeof m == 'string'
            ? m && { detail: m }
            : m?.status_code
              ? { statusCode: m.status_code, ...(m.reason_phrase && { reasonPhrase: m.reason_phrase }) }
              : m?.method && { method: m.method }),
        };
        const how = jssipCauseReport(cause, options.causeReports);
        if (how == 'callUnAnswered') {
          if (fabric) fabric.sendEvent(how, data);
          else monitor.sendCustomEvent(conferenceID, how, { ...data, sipCallID: callID, sipDirection: direction });
        } else if (how != 'none')
          report(how, {
            name: cause,
            message: `JsSIP call ${kind}: ${[cause, data.statusCode, data.reasonPhrase].filter(Boolean).join(' ')} (originator ${originator})${m && typeof m == 'string' ? `: ${m}` : ''}`,
          });
      };

      const on: Record<string, Handler> = {
        peerconnection: (d?: { peerconnection?: JsSipPeerConnectionLike }) => ensure(d?.peerconnection),
        sdp: (d?: { originator?: string; sdp?: string }) => {
          if (d?.originator == 'remote') remoteSdp = d;
        },
        hold: hold(true),
        unhold: hold(),
        muted: mute(true),
        unmuted: mute(),
        ended: onEnd('ended'),
        failed: onEnd('failed'),
      };
      for (const e of ['connecting', 'sending', 'progress', 'accepted', 'confirmed']) on[e] = () => ensure();
      // 'getusermediafailed', 'peerconnection:createofferfailed', ...: the event names are the
      // functions' in lower case. setRemoteDescription's SDP is the one it was given.
      for (const fn of ['getUserMedia', 'createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription'] as const) {
        const gum = fn == 'getUserMedia';
        on[`${gum ? '' : 'peerconnection:'}${fn.toLowerCase()}failed`] = (error: unknown) => {
          const pc = s.connection || fabric?.pc;
          report(
            fn,
            error,
            gum ? undefined : { localSDP: pc?.localDescription?.sdp, remoteSDP: (fn == 'setRemoteDescription' && remoteSdp?.sdp) || pc?.remoteDescription?.sdp },
          );
        };
      }
      const off = Object.keys(on).map((e) => scope.listen(s, e, on[e]!));
      // The session is over (or the adapter detaches: then only the adapter's own fabric ends).
      const end: End = (detaching, data) => {
        if (!sessions.delete(s)) return;
        off.forEach((f) => f());
        if (fabric && (!detaching || fabric.attributes == attributes)) fabric.terminate(data);
      };
      sessions.set(s, end);
      ensure();
    };

    // Prepended: the adapter sees a session before an app listener that answers or rejects it
    // inside newRTCSession (whose events would otherwise fire before the adapter listens).
    scope.listen({ on: ua.prependListener.bind(ua), off: ua.removeListener.bind(ua) }, 'newRTCSession', follow);
    // Fallback for a stop that bypassed the wrapper (JsSIP.UA.prototype.stop.call(ua)): a
    // disconnected UA whose status is STATUS_USER_CLOSED.
    scope.listen(ua, 'disconnected', () => ua.status == 2 && stopped());
    // (On detach the scope deletes the own property it added: the prototype's stop shows again.)
    scope.wrap(ua, 'stop', (stop) =>
      function (this: JsSipUALike) {
        stop.call(this);
        stopped();
      },
    );
  });
