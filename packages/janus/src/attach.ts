// The janus.js adapter on core's `attachAdapter` skeleton: one attachment per (session, monitor)
// and one per (plugin handle, monitor), so a handle can be unwrapped on its own (handle.detach(),
// which janus.js also calls after ondetached) and the session's detach takes every handle with it.
// janus.js has no emitters: the adapter wraps the callbacks janus.js copied onto the handle and
// the handle's methods (`hook`), and the callbacks given to attach/createOffer/createAnswer/
// handleRemoteJsep (`patch`). It relies on janus.js's own call patterns rather than re-checking
// them (it calls oncleanup whenever it drops a pc, detach() after ondetached, and creates the pc
// only inside createOffer/createAnswer).
import { attachAdapter, type AdapterScope, type Fabric, type FabricUsage, type Monitor, type MonitoredPeerConnection, type WebRTCFunction } from '@callmetry/core';
import type { AttachJanusOptions, DetachJanus, JanusHandleInfo, JanusPluginHandleLike, JanusSessionLike } from './types';

// janus.js objects and messages are read defensively (anything may be missing or malformed).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type O = Record<string, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = any[];

const NAME = 'janus';

/** A VideoRoom feed that publishes (forgotten once it stops or leaves). */
interface Feed {
  display?: string;
}
/** What a subscriber mid carries. */
interface MidFeed {
  /** The feed it carries (the last one, when inactive). */
  feedId?: unknown;
  usageLabel: string;
  active: boolean;
}
/** What the session needs from a watched handle. */
interface HandleCtx {
  mids: Map<string, MidFeed>;
  /** Applies changed mappings to the fabric. */
  applyMappings(): void;
  /** Sends a custom event for this handle's conference and pc. */
  sendCustomEvent(name: string, data: O): void;
  /** Detaches the handle's attachment. */
  detach(): void;
}

/** Session attachment -> its handle watcher, for `handles` given to a second attachJanus. */
const watchers = new WeakMap<DetachJanus, (handle: JanusPluginHandleLike) => void>();

/** An id as a string (room, handle, session, mid); undefined for none. */
const str = (v: unknown): string | undefined => `${v ?? ''}` || undefined;

/**
 * `original` with the adapter's `work(args, result)` before it (or after it, even if it threw,
 * with `late`). `work` may replace args; errors of the original propagate unchanged.
 */
const around = (original: ((...a: Args) => unknown) | undefined, work: (a: Args, r?: unknown) => void, late?: unknown) =>
  function (this: unknown, ...a: Args) {
    let r: unknown;
    late || work(a);
    try {
      return (r = original?.apply(this, a));
    } finally {
      late && work(a, r);
    }
  };

/** Wraps the method or callback `obj[key]` (if janus.js has it) for this attachment. */
function hook(s: AdapterScope, obj: O, key: string, work: (a: Args, r?: unknown) => unknown, late?: unknown): void {
  if (obj[key]) s.wrap(obj, key, (original) => around(original, s.safe(work), late));
}

/**
 * Replaces the params object `a[0]` by a copy whose callback `key` is wrapped like `hook` does.
 * janus.js mutates what it is given: the copy keeps the app's object intact.
 */
function patch(s: AdapterScope, a: Args, key: string, work: (v: Args) => unknown, late?: unknown): void {
  a[0] = { ...a[0], [key]: around(a[0]?.[key], s.safe(work), late) };
}

/**
 * Monitors a janus.js session: every plugin handle attached from now on (plus `options.handles`)
 * gets its PeerConnection monitored as a fabric to the server, VideoRoom subscriber streams are
 * attributed to their publishers, and hangups, slow links, mutes and leaving publishers are
 * reported. Idempotent per (session, monitor). Never throws.
 */
export function attachJanus(session: JanusSessionLike, monitor: Monitor, options?: AttachJanusOptions): DetachJanus {
  const o: AttachJanusOptions = Object(options);
  let watch: ((handle: JanusPluginHandleLike) => void) | undefined;
  const detach = attachAdapter(NAME, (session as O | null)?.attach && session, monitor, (s) => {
    /** Feed id (as Janus sends it: a number, or a string with string_ids) -> feed. */
    const feeds = new Map<unknown, Feed>();
    const handles = new Set<HandleCtx>();
    const sid = () => str(session.getSessionId?.());
    const fallback = (id = sid()) => (id ? `janus-${id}` : NAME);
    const userOf = (id: unknown, f: Feed) => o.userIdFromFeed?.(id as string, f.display) || f.display || String(id);

    /**
     * A publisher stopped publishing or left: its mids are unmapped everywhere, and it is reported
     * once, by a handle that received it (else by the one that got the message).
     */
    const left = (from: HandleCtx, id: unknown, reason: string) => {
      const f = feeds.get(id);
      if (!f) return;
      feeds.delete(id);
      let target = from;
      const mids: string[] = [];
      for (const h of handles) {
        for (const [mid, e] of h.mids) {
          if (e.feedId === id) {
            mids.push(mid);
            target = h;
          }
        }
        h.applyMappings();
      }
      target.sendCustomEvent('publisherLeft', { feedId: id, display: f.display, userID: userOf(id, f), reason, mids });
    };

    hook(s, session, 'attach', (a) => {
      patch(s, a, 'success', ([handle]) => watch!(handle));
      // (a[0] is now the patched copy of the app's options.)
      patch(s, a, 'error', ([e]) =>
        monitor.reportError((typeof o.conferenceID == 'string' && o.conferenceID) || fallback(), 'signalingError', `Janus: attaching ${a[0].plugin} failed: ${e}`),
      );
    });
    // janus.js calls no handle callback on destroy (and leaves the PCs open by default).
    hook(s, session, 'destroy', s.detach);
    // The live handles go with the session (a handle that detached itself is no longer listed:
    // nothing of it is kept).
    s.onDetach(() => handles.forEach((h) => h.detach()));

    watch = s.safe((handle: O) => {
      attachAdapter(NAME, handle, monitor, (hs) => {
        const plugin: string = handle.plugin;
        const handleId = str(handle.id);
        let pc: MonitoredPeerConnection | undefined;
        /** The pc's fabric, once created (a refused one is tried again at the next occasion). */
        let fabric: Fabric | undefined;
        let own = false;
        let room: string | undefined;
        let ptype: JanusHandleInfo['ptype'];
        /** Whether this end sends media: false for an answerer that captures nothing (e.g. Streaming). */
        let sends: boolean | undefined;
        const kinds = new Set<string>();
        const mids = new Map<string, MidFeed>();
        /** mid -> what the fabric was last given for it (feed, user, label). */
        const applied = new Map<string, string>();
        /** 'Audio'/'Video' -> mid ('': every mid) -> muted, as last reported. */
        let muted: Record<string, Map<string, boolean>> = {};
        const on = (key: string, work: (a: Args, r?: unknown) => unknown, late?: unknown) => hook(hs, handle, key, work, late);

        /** An option's value (a function's result) for this handle; '' and undefined mean the default. */
        const option = (value: AttachJanusOptions['conferenceID']) =>
          typeof value == 'function' ? value(handle, { plugin, handleId, sessionId: sid(), room, ptype }) : value;
        const alive = () => (fabric?.state != 'terminated' ? fabric : undefined);
        /** The fabric's conference, else what it would be (`janus-<sessionId>` only `orFallback`). */
        const conf = (orFallback: unknown = 1) => fabric?.conferenceID || option(o.conferenceID) || room || (orFallback ? fallback() : '');
        const custom = (name: string, data: O) => monitor.sendCustomEvent(conf(), name, data, pc);
        const report = (fn: WebRTCFunction, error: unknown) => alive()?.reportError(fn, error) ?? monitor.reportError(conf(), fn, error);
        // getUserMedia's NotAllowed/NotFound/NotReadable/Overconstrained/Security/AbortError.
        const fail = (fn: WebRTCFunction) => ([error]: Args) =>
          report(/^(Not[AFR]|Ov|Sec|Ab)/.test(error?.name) ? 'getUserMedia' : fn, error);

        /** Gives the fabric the mid -> publisher mappings that changed since it last got them. */
        const apply = () => {
          const f = alive();
          if (f) {
            for (const [mid, e] of mids) {
              const feed = feeds.get(e.feedId);
              const userID = e.active && feed && userOf(e.feedId, feed);
              // '': not mapped (a stream without feed goes back to the fabric's remote user).
              const key = userID ? `${e.feedId} ${userID} ${e.usageLabel}` : '';
              if ((applied.get(mid) ?? '') != key) {
                if (userID) f.mapStream({ mid }, { userID, usageLabel: e.usageLabel });
                else f.unmapStream({ mid });
                applied.set(mid, key);
              }
            }
          }
        };

        /** The PeerConnection is gone: end its fabric (one the app added only if janus.js closed the pc). */
        const end = () => {
          if (own || pc?.signalingState == 'closed') fabric?.terminate();
          pc = fabric = undefined;
          applied.clear();
          muted = {};
        };

        /**
         * Creates the fabric for janus.js's current pc. Room plugins wait for the room (from a request
         * or event) unless `force`d (the offer/answer is done): then `janus-<sessionId>`.
         */
        const ensure = (force?: unknown) => {
          // (janus.js calls oncleanup whenever it drops a pc: `end` forgot the previous one.)
          pc ||= handle.webrtcStuff?.pc;
          const conferenceID = conf(force || !/videoroom|audiobridge/.test(plugin));
          if (pc && !fabric && conferenceID) {
            const has = (kind: string) => kinds.has(kind);
            // Audio with video or screen is multiplex; else the first kind asked for in this order.
            const usage: FabricUsage =
              (has('audio') && (has('video') || has('screen')) ? undefined : (['audio', 'video', 'screen', 'data'] as const).find(has)) ?? 'multiplex';
            own = !monitor.getFabric(pc);
            fabric =
              monitor.addFabric(pc, {
                remoteUserID: option(o.remoteUserID) || NAME,
                conferenceID,
                usage,
                remoteEndpointType: 'server',
                direction: ptype == 'publisher' ? 'sendonly' : ptype || sends === false ? 'receiveonly' : 'sendrecv',
                attributes: { janusPlugin: plugin, janusSessionId: sid(), janusHandleId: handleId, janusRoom: room, janusRole: ptype },
              });
            apply();
          }
        };

        /**
         * Learns the room (from any request or event carrying one: join, changeroom, ...) and the
         * VideoRoom role (join's ptype: publisher, subscriber or the older listener; a subscriber's
         * `attached` event).
         */
        const learn = (m: O) => {
          room = str(m.room) ?? room;
          if (m.ptype || m.videoroom == 'attached') ptype = m.ptype == 'publisher' ? m.ptype : 'subscriber';
        };

        const ctx: HandleCtx = { mids, applyMappings: apply, sendCustomEvent: custom, detach: hs.detach };
        handles.add(ctx);
        hs.onDetach(() => {
          handles.delete(ctx);
          end();
        });

        on('onmessage', ([message, jsep]) => {
          const m: O = Object(message);
          learn(m);
          // Publisher handles: who publishes (feed id -> display).
          for (const p of m.publishers ?? []) if (p?.id != null) feeds.set(p.id, { display: p.display });
          // Subscriber handles (attached, updated, switched): which feed each mid carries. (A
          // publisher's own `streams` have no feed: nothing to map.)
          for (const x of m.streams ?? []) {
            const mid = x?.mid;
            const k = x?.feed_id;
            // A feed first seen here (a session without publisher handle).
            if (k != null && !feeds.has(k)) feeds.set(k, { display: x.feed_display });
            // An inactive mid (no feed_id) still names the feed it carried: Janus may send the
            // subscriber's `updated` before the publisher handle's `unpublished`.
            if (mid && x.type != 'data') mids.set(mid, { feedId: k ?? mids.get(mid)?.feedId, usageLabel: x.feed_description || x.type, active: k != null && x.active !== false });
          }
          apply();
          // ('ok' when this handle left: not a feed id.)
          for (const reason of ['unpublished', 'leaving']) left(ctx, m[reason], reason);
          // (Janus' plugins always send error_code with error.)
          if (m.error_code != null) report('signalingError', `Janus ${plugin} error ${m.error_code}: ${m.error}`);
          ensure();
        });
        on('webrtcState', ([up, reason]) => {
          // Janus hung up (janus.js cleans up right after): the reason goes with fabricTerminated.
          const f = !up && alive();
          if (f) {
            if (/ICE failed|DTLS error/i.test(reason) && f.state != 'failed') f.reportError('iceConnectionFailure', `Janus hung up the PeerConnection: ${reason}`);
            f.terminate({ reason });
          }
        });
        on('mediaState', ([type, receiving, mid]) => alive() && custom('mediaState', { type, receiving, mid }));
        // Janus' uplink is its own link towards the user: uplink=true = this client's receive path loses.
        on('slowLink', ([uplink, lost, mid]) =>
          custom('slowLink', { uplink, direction: uplink ? 'receive' : 'send', lost, mid }),
        );
        on('oncleanup', end);

        // janus.js creates the pc synchronously inside createOffer/createAnswer: the fabric follows at
        // once (handleRemoteJsep takes the same path). A failure is reported as the function named here.
        for (const [method, fn] of Object.entries({ createOffer: 'createOffer', createAnswer: 'createAnswer', handleRemoteJsep: 'setRemoteDescription' } as const)) {
          on(
            method,
            ([p]) => {
              // The first negotiation tells whether this end offered. janus.js has turned the deprecated
              // `media` into `tracks` on this object by now (only tracks that capture, receive or remove).
              sends ??= method != 'createAnswer';
              for (const { type, capture } of p?.tracks ?? []) {
                kinds.add(type);
                if (capture) sends = true;
              }
              // The remote description given (e.g. the offer a VideoRoom subscriber answers): its media sections.
              for (const [, kind] of String(p?.jsep?.sdp).matchAll(/^m=(\w+)/gm)) kinds.add(kind == 'application' ? 'data' : kind!);
              ensure();
            },
            1,
          );
          on(method, (a) => {
            // The app's success has had its chance to send the join (with the room): create now.
            patch(hs, a, 'success', () => ensure(1), 1);
            patch(hs, a, 'error', fail(fn));
          });
        }
        on('send', ([p]) => learn(Object(p?.message)));
        // Mutes janus.js accepted (it answers true), once per change; one without mid covers every mid.
        for (const [kind, muteEvent, unmuteEvent] of [
          ['Audio', 'audioMute', 'audioUnmute'],
          ['Video', 'videoPause', 'videoResume'],
        ] as const) {
          for (const mute of [true, false]) {
            on(
              (mute ? 'mute' : 'unmute') + kind,
              ([mid], accepted) => {
                const m = str(mid) ?? '';
                const state = (muted[kind] ??= new Map());
                if (!accepted || !!(state.get(m) ?? state.get('')) == mute) return;
                if (!m) state.clear();
                state.set(m, mute);
                fabric?.sendEvent(mute ? muteEvent : unmuteEvent, m ? { mid: m } : undefined);
              },
              1,
            );
          }
        }
        // janus.js has cleaned up synchronously (oncleanup ran): stop watching the handle.
        on('detach', hs.detach, 1);
        hs.safe(ensure)(1);
      });
    });
  });
  if (watch) watchers.set(detach, watch);
  if (Array.isArray(o.handles)) o.handles.forEach((handle) => watchers.get(detach)?.(handle));
  return detach;
}

/**
 * Monitors every janus.js session created from now on (and those already in `Janus.sessions`,
 * without their earlier handles) by wrapping `Janus.sessions.set` (restored on detach by
 * attachAdapter). Pass the `Janus` default export. Idempotent per (Janus, monitor). Never throws.
 */
export function instrumentJanus(janus: object, monitor: Monitor, options?: AttachJanusOptions): DetachJanus {
  const sessions: O | undefined = (janus as O | null)?.sessions;
  return attachAdapter(NAME, sessions?.set && sessions, monitor, (s) => {
    const add = (session: JanusSessionLike) => s.onDetach(attachJanus(session, monitor, { ...options, handles: [] }));
    sessions!.forEach(add);
    hook(s, sessions!, 'set', (a) => add(a[1]), 1);
  });
}
