// The janus.js adapter on core's `attachAdapter` skeleton: one attachment per (session, monitor)
// and one per (plugin handle, monitor), so a handle can be unwrapped on its own (ondetached,
// handle.detach()) and the session's detach takes every handle with it. janus.js has no emitters:
// the adapter wraps the callbacks janus.js copied onto the handle and the handle's methods
// (`hook`), and the callbacks given to attach/createOffer/createAnswer/handleRemoteJsep (`patch`).
// Sizes matter (see README): internal objects use short property names, since minifiers keep them.
import { attachAdapter, type AdapterScope, type Fabric, type FabricEvent, type FabricUsage, type Monitor, type MonitoredPeerConnection, type WebRTCFunction } from '@callmetry/core';
import type { AttachJanusOptions, DetachJanus, JanusPluginHandleLike, JanusSessionLike } from './types';

// janus.js objects and messages are read defensively (anything may be missing or malformed).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type O = Record<string, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = any[];

const NAME = 'janus';

/** A known feed (VideoRoom publisher): i = feed id, d = display, p = still publishing. */
interface Feed {
  i: number | string;
  d?: string;
  p: boolean;
}
/** What a subscriber mid carries: k = feed key, u = usage label, on = active. */
interface MidFeed {
  k: string;
  u: string;
  on: boolean;
}
/** What the session needs from a watched handle. */
interface HandleCtx {
  /** mid -> feed */
  m: Map<string, MidFeed>;
  /** Applies changed mappings to the fabric. */
  a(): void;
  /** The live fabric, if any. */
  f(): Fabric | undefined;
  /** Ends the fabric (also one the app added itself when `all`). */
  e(all?: unknown): void;
  /** Sends a custom event for this handle's conference and pc. */
  c(name: string, data: O): void;
}

/** Session attachment -> its handle watcher, for `handles` given to a second attachJanus. */
const watchers = new WeakMap<DetachJanus, (handle: JanusPluginHandleLike) => void>();

/** An id as a string (room, feed, mid, ...); undefined for none. */
const str = (v: unknown): string | undefined => (v == null || v === '' ? undefined : String(v));

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

/** Wraps the method or callback `obj[key]` (if it is a function) for this attachment. */
function hook(s: AdapterScope, obj: O, key: string, work: (a: Args, r?: unknown) => unknown, late?: unknown): void {
  if (typeof obj[key] == 'function') s.wrap(obj, key, (original) => around(original, s.safe(work), late));
}

/**
 * Replaces the params object `a[0]` by a copy whose callback `key` is wrapped like `hook` does.
 * janus.js mutates what it is given: the copy keeps the app's object intact.
 */
function patch(s: AdapterScope, a: Args, key: string, work: (v: Args) => unknown, late?: unknown): void {
  const app: unknown = a[0];
  if (app && typeof app == 'object') a[0] = { ...app, [key]: around((app as O)[key], s.safe(work), late) };
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
  const detach = attachAdapter(NAME, (Object(session).attach && session) as object, monitor, (s) => {
    const feeds = new Map<string, Feed>();
    const handles = new Set<HandleCtx>();
    const sid = () => str(session.getSessionId?.());
    const fallback = (id = sid()) => (id ? `janus-${id}` : NAME);
    const userOf = (f: Feed) => o.userIdFromFeed?.(f.i, f.d) || f.d || String(f.i);

    /** A publisher stopped publishing or left: reported once, its mids unmapped everywhere. */
    const left = (from: HandleCtx, feed: unknown, reason: string) => {
      const key = str(feed);
      const f = key && feeds.get(key);
      if (!f || !f.p) return;
      f.p = false;
      let target: HandleCtx | undefined;
      const mids: string[] = [];
      for (const h of handles) {
        for (const [mid, e] of h.m) {
          if (e.k != key) continue;
          mids.push(mid);
          e.on = false;
          if (!target || h.f()) target = h;
        }
        h.a();
      }
      (target ?? from).c('publisherLeft', { feedId: f.i, display: f.d, userID: userOf(f), reason, mids: mids.sort() });
    };

    hook(s, session, 'attach', (a) => {
      const plugin = Object(a[0]).plugin;
      patch(s, a, 'success', ([handle]) => watch!(handle));
      patch(s, a, 'error', ([e]) =>
        monitor.reportError((typeof o.conferenceID == 'string' && o.conferenceID) || fallback(), 'signalingError', `Janus: attaching ${plugin} failed: ${e}`),
      );
    });
    // janus.js calls no handle callback on destroy (and leaves the PCs open by default).
    hook(s, session, 'destroy', () => {
      for (const h of handles) h.e(1);
      s.detach();
    });

    watch = s.safe((handle: O) => {
      s.onDetach(
        attachAdapter(NAME, handle, monitor, (hs) => {
          const plugin: string = handle.plugin || handle.getPlugin?.() || 'unknown';
          const handleId = str(handle.id ?? handle.getId?.());
          let pc: MonitoredPeerConnection | undefined;
          /** undefined: not created yet; null: refused by the monitor. */
          let fabric: Fabric | null | undefined;
          let own = false;
          let room: string | undefined;
          let ptype: string | undefined;
          let offerer: boolean | undefined;
          let sends = false;
          const kinds = new Set<string>();
          const mids = new Map<string, MidFeed>();
          const applied = new Map<string, string>();
          const muted = new Map<string, boolean>();

          const option = (value: unknown): string | undefined =>
            (typeof value == 'function' ? value(handle, { plugin, handleId, sessionId: sid(), room, ptype }) : value) || undefined;
          const conference = () => option(o.conferenceID) ?? room;
          const alive = () => (fabric && fabric.state != 'terminated' ? fabric : undefined);
          const custom = (name: string, data: O) => monitor.sendCustomEvent(fabric?.conferenceID ?? conference() ?? fallback(), name, data, pc);
          const sdpKinds = (sdp: unknown) => {
            for (const [, kind, port] of String(sdp).matchAll(/^m=(\w+) (\d+)/gm)) if (port != '0') kinds.add(kind == 'application' ? 'data' : kind!);
          };
          const report = (fn: WebRTCFunction, error: unknown) => {
            const f = alive();
            f ? f.reportError(fn, error) : monitor.reportError(fabric?.conferenceID ?? conference() ?? fallback(), fn, error);
          };
          // getUserMedia's NotAllowed/NotFound/NotReadable/Overconstrained/Security/AbortError.
          const fail = (fn: WebRTCFunction) => ([error]: Args) =>
            report(/^(Not[AFR]|Ov|Sec|Ab)/.test(Object(error).name) ? 'getUserMedia' : fn, error);

          /** Gives the fabric the mid -> publisher mappings that changed since it last got them. */
          const apply = () => {
            const f = alive();
            if (f) {
              for (const [mid, e] of mids) {
                // No "unmap" in core: a stream without feed goes back to the fabric's remote user.
                if (!e.on) {
                  if (applied.delete(mid)) f.mapStream({ mid }, { userID: f.remoteUserID });
                  continue;
                }
                const userID = userOf(feeds.get(e.k)!);
                const key = `${e.k} ${userID} ${e.u}`;
                if (applied.get(mid) != key) {
                  f.mapStream({ mid }, { userID, usageLabel: e.u });
                  applied.set(mid, key);
                }
              }
            }
          };

          /** The PeerConnection is gone: end its fabric (one the app added only when `all` or closed). */
          const end = (all?: unknown) => {
            const f = alive();
            if (f && (all || own || pc?.signalingState == 'closed')) f.terminate();
            pc = fabric = undefined;
            applied.clear();
          };

          /**
           * Creates the fabric for janus.js's current pc. Room plugins wait for the room (join request
           * or joined event) unless `force`d (the offer/answer is done): then `janus-<sessionId>`.
           */
          const ensure = (force?: unknown) => {
            const current = handle.webrtcStuff?.pc;
            if (current && current != pc) {
              end();
              pc = current;
              muted.clear();
            }
            const conferenceID = conference() ?? (force || !/videoroom|audiobridge/.test(plugin) ? fallback() : '');
            if (pc && fabric === undefined && conferenceID) {
              const has = (kind: string) => kinds.has(kind);
              const audio = has('audio');
              const video = has('video');
              const screen = has('screen');
              const usage: FabricUsage =
                audio && (video || screen) ? 'multiplex' : audio ? 'audio' : video ? 'video' : screen ? 'screen' : has('data') ? 'data' : 'multiplex';
              own = !monitor.getFabric(pc);
              fabric =
                monitor.addFabric(pc, {
                  remoteUserID: option(o.remoteUserID) ?? NAME,
                  conferenceID,
                  usage,
                  remoteEndpointType: 'server',
                  direction: ptype == 'publisher' ? 'sendonly' : ptype || (offerer === false && !sends) ? 'receiveonly' : 'sendrecv',
                  attributes: { janusPlugin: plugin, janusSessionId: sid(), janusHandleId: handleId, janusRoom: room, janusRole: ptype },
                }) ?? null;
              apply();
            }
          };

          const ctx: HandleCtx = { m: mids, a: apply, f: alive, e: end, c: custom };
          handles.add(ctx);
          hs.onDetach(() => {
            handles.delete(ctx);
            end();
          });

          hook(hs, handle, 'onmessage', ([message, jsep]) => {
            const m: O = Object(message);
            const event = m.videoroom;
            room = str(m.room) ?? room;
            if (event == 'joined') ptype ??= 'publisher';
            // Publisher handles: who publishes (feed id -> display).
            if (Array.isArray(m.publishers)) {
              for (const p of m.publishers) {
                const key = str(p?.id);
                if (key) feeds.set(key, { i: p.id, d: p.display || undefined, p: true });
              }
            }
            // Subscriber handles: which feed each mid carries.
            if (event == 'attached' || event == 'updated' || m.switched == 'ok') {
              ptype = 'subscriber';
              if (Array.isArray(m.streams)) {
                for (const x of m.streams) {
                  const mid = str(x?.mid);
                  const key = str(x?.feed_id);
                  const feed = key && feeds.get(key);
                  if (!mid || !/^(audio|video)$/.test(x.type)) continue;
                  if (!key || x.active === false || (feed && !feed.p)) {
                    const e = mids.get(mid);
                    if (e) e.on = false;
                  } else {
                    const display: string | undefined = x.feed_display || undefined;
                    if (feed) feed.d = display ?? feed.d;
                    else feeds.set(key, { i: x.feed_id, d: display, p: true });
                    mids.set(mid, { k: key, u: x.feed_description || x.type, on: true });
                  }
                }
              }
              apply();
            }
            for (const reason of ['unpublished', 'leaving']) {
              if (m[reason] != null && m[reason] != 'ok') left(ctx, m[reason], reason);
            }
            if (m.error != null || m.error_code != null) {
              report('signalingError', `Janus ${plugin} error${m.error_code != null ? ` ${m.error_code}` : ''}: ${m.error ?? ''}`);
            }
            sdpKinds(jsep?.sdp);
            ensure();
          });
          hook(hs, handle, 'webrtcState', ([up, reason]) => {
            if (up) return ensure(1);
            // Janus hung up (janus.js cleans up right after): the reason goes with fabricTerminated.
            const f = alive();
            if (f) {
              if (/ICE failed|DTLS error/i.test(reason) && f.state != 'failed') f.reportError('iceConnectionFailure', `Janus hung up the PeerConnection: ${reason}`);
              f.terminate({ reason });
            }
          });
          hook(hs, handle, 'iceState', () => ensure(1));
          hook(hs, handle, 'mediaState', ([type, receiving, mid]) => alive() && custom('mediaState', { type: String(type), receiving: receiving === true, mid: str(mid) }));
          // Janus' uplink is its own link towards the user: uplink=true = this client's receive path loses.
          hook(hs, handle, 'slowLink', ([uplink, lost, mid]) =>
            custom('slowLink', { uplink: uplink === true, direction: uplink === true ? 'receive' : 'send', lost: +lost || 0, mid: str(mid) }),
          );
          hook(hs, handle, 'oncleanup', () => end());
          hook(hs, handle, 'ondetached', hs.detach);

          // janus.js creates the pc synchronously inside createOffer/createAnswer.
          for (const method of ['createOffer', 'createAnswer'] as const) {
            hook(
              hs,
              handle,
              method,
              ([p]) => {
                // janus.js has turned the deprecated `media` into `tracks` on this object by now.
                offerer ??= method == 'createOffer';
                for (const t of Array.isArray(p?.tracks) ? p.tracks : []) {
                  const capture = t?.capture != null && t.capture !== false;
                  if (typeof t?.type != 'string' || t.remove === true) continue;
                  if (t.type != 'data' && capture) sends = true;
                  if (t.type == 'data' || capture || t.recv !== false) kinds.add(t.type);
                }
                sdpKinds(p?.jsep?.sdp);
                ensure();
              },
              1,
            );
            hook(hs, handle, method, (a) => {
              // The app's success has had its chance to send the join (with the room): create now.
              patch(hs, a, 'success', () => ensure(1), 1);
              patch(hs, a, 'error', fail(method));
            });
          }
          hook(hs, handle, 'handleRemoteJsep', (a) => patch(hs, a, 'error', fail('setRemoteDescription')));
          hook(hs, handle, 'send', ([p]) => {
            const m: O = Object(p?.message);
            if (/^join/.test(m.request)) {
              room = str(m.room) ?? room;
              ptype = m.ptype == 'publisher' ? m.ptype : /^(subscriber|listener)$/.test(m.ptype) ? 'subscriber' : ptype;
            }
            ensure();
          });
          // Mutes janus.js accepted (it answers true), once per change.
          for (const [kind, on, off] of [
            ['Audio', 'audioMute', 'audioUnmute'],
            ['Video', 'videoPause', 'videoResume'],
          ] as const) {
            for (const un of [0, 1]) {
              hook(hs, handle, (un ? 'unmute' : 'mute') + kind, ([mid], r) => {
                const f = alive();
                const m = str(mid);
                const key = kind + (m ?? '');
                if (!r || !f || (muted.get(key) ?? muted.get(kind) ?? false) == !un) return;
                if (m == null) for (const k of muted.keys()) if (k.startsWith(kind)) muted.delete(k);
                muted.set(key, !un);
                f.sendEvent((un ? off : on) as FabricEvent, m ? { mid: m } : undefined);
              }, 1);
            }
          }
          // janus.js has cleaned up synchronously (oncleanup ran): stop watching the handle.
          hook(hs, handle, 'detach', hs.detach, 1);
          ensure(1);
        }),
      );
    });
  });
  if (watch) watchers.set(detach, watch);
  const add = watchers.get(detach);
  if (add && Array.isArray(o.handles)) o.handles.forEach(add);
  return detach;
}

/**
 * Monitors every janus.js session created from now on (and those already in `Janus.sessions`,
 * without their earlier handles) by wrapping `Janus.sessions.set`. Pass the `Janus` default
 * export. Idempotent per (Janus, monitor). Never throws.
 */
export function instrumentJanus(janus: object, monitor: Monitor, options?: AttachJanusOptions): DetachJanus {
  const sessions: O | undefined = (janus as O | null)?.sessions;
  return attachAdapter(NAME, (Object(sessions).set && sessions) as object, monitor, (s) => {
    const add = (session: JanusSessionLike) => Object(session).attach && s.onDetach(attachJanus(session, monitor, { ...options, handles: [] }));
    sessions!.forEach(add);
    // Restored as it was: Map.prototype.set, not an own copy of it.
    s.onDetach(() => sessions!.set == Map.prototype.set && delete sessions!.set);
    hook(s, sessions!, 'set', (a) => add(a[1]), 1);
  });
}
