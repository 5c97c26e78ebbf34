// The videoroom app code shared by the Janus page entries (test/servers/janus.page.ts, the Janus
// adapter's packages/janus/test/janus.page.ts): what a Janus app writes to join a room as a
// publisher (audio + video, send only) with one multistream subscriber handle for every other
// publisher. One participant per page. Everything the handles got is recorded in plain data.
import { playTrack, waitFor } from './common';
import { attach, createSession, offerAudioVideo, sendAsync, type Handle, type Json, type Jsep, type Session } from './janus';

export interface StreamInfo {
  mid: string;
  type: string;
  feed_id?: number;
  feed_display?: string;
  feed_mid?: string;
  active?: boolean;
}

export interface Participant {
  room: number;
  display: string;
  session: Session;
  pub: Handle;
  sub: Handle | null;
  /** The plugin callbacks the app gave each handle. */
  callbacks: Map<Handle, Json>;
  myId: number | null;
  privateId: number | null;
  /** feed id -> display, from 'joined' / 'event' publishers lists. */
  publishers: Map<number, string>;
  /** Everything the publisher handle's onmessage got (plus the jsep type). */
  pubMessages: Json[];
  /** Everything the subscriber handle's onmessage got (plus the jsep type). */
  subMessages: Json[];
  /** The subscriber's current mid -> stream (from 'attached' / 'updated'). */
  subStreams: Map<string, StreamInfo>;
  subscribed: Set<number>;
  /** Serializes subscription changes: one negotiation at a time. */
  chain: Promise<void>;
  pending: { resolve: () => void; reject: (e: Error) => void } | null;
  remoteTracks: { mid: string; kind: string; on: boolean; reason?: string }[];
  failure: Error | null;
  published: boolean;
  destroyed: boolean;
}

let me: Participant | null = null;

/** This page's participant, if it joined (for state dumps). */
export function currentParticipant(): Participant | null {
  return me;
}

/** This page's participant; throws if it did not join, or if its subscriber failed. */
export function participant(): Participant {
  if (!me) throw new Error('joinRoom() first');
  if (me.failure) throw me.failure;
  return me;
}

const withJsepType = (msg: Json, jsep?: Jsep): Json => ({ ...msg, ...(jsep ? { jsep_type: jsep.type } : {}) });

function subscribeTo(p: Participant, feeds: number[]): void {
  const todo = feeds.filter((f) => f !== p.myId && !p.subscribed.has(f));
  if (todo.length === 0) return;
  for (const f of todo) p.subscribed.add(f);
  p.chain = p.chain
    .then(async () => {
      const streams = todo.map((feed) => ({ feed }));
      const negotiated = new Promise<void>((resolve, reject) => (p.pending = { resolve, reject }));
      if (!p.sub) {
        const callbacks: Json = {
          onmessage: (msg: Json, jsep?: Jsep) => onSubscriberMessage(p, msg, jsep),
          onremotetrack: (track: MediaStreamTrack, mid: string, on: boolean, meta?: { reason?: string }) => {
            p.remoteTracks.push({ mid, kind: track.kind, on, ...(meta?.reason ? { reason: meta.reason } : {}) });
            if (on && meta?.reason === 'created') playTrack(track);
          },
        };
        p.sub = await attach(p.session, { plugin: 'janus.plugin.videoroom', ...callbacks });
        p.callbacks.set(p.sub, callbacks);
        await sendAsync(p.sub, { request: 'join', ptype: 'subscriber', room: p.room, private_id: p.privateId, streams });
      } else {
        await sendAsync(p.sub, { request: 'subscribe', streams });
      }
      await negotiated;
    })
    .catch((e: unknown) => {
      p.failure = e instanceof Error ? e : new Error(String(e));
    });
}

function onSubscriberMessage(p: Participant, msg: Json, jsep?: Jsep): void {
  p.subMessages.push(withJsepType(msg, jsep));
  const ev = msg.videoroom;
  if (msg.error) {
    p.pending?.reject(new Error(`subscriber: ${String(msg.error)}`));
    return;
  }
  if ((ev === 'attached' || ev === 'updated') && Array.isArray(msg.streams)) {
    p.subStreams.clear();
    for (const s of msg.streams as StreamInfo[]) p.subStreams.set(String(s.mid), s);
  }
  if (jsep && p.sub) {
    const sub = p.sub;
    sub.createAnswer({
      jsep,
      // Only data mentioned: audio/video offered by Janus are accepted recvonly.
      tracks: [{ type: 'data' }],
      success: (answer) => {
        sendAsync(sub, { request: 'start', room: p.room }, answer).catch((e: Error) => p.pending?.reject(e));
      },
      error: (e) => p.pending?.reject(new Error(`createAnswer: ${String(e)}`)),
    });
  }
  if (ev === 'event' && msg.started === 'ok') {
    const pend = p.pending;
    p.pending = null;
    pend?.resolve();
  }
}

function onPublisherMessage(p: Participant, msg: Json, jsep?: Jsep): void {
  p.pubMessages.push(withJsepType(msg, jsep));
  if (jsep) p.pub.handleRemoteJsep({ jsep, error: (e) => (p.failure = new Error(`handleRemoteJsep: ${String(e)}`)) });
  const list = msg.publishers as { id: number; display?: string }[] | undefined;
  if (Array.isArray(list)) {
    for (const pub of list) p.publishers.set(pub.id, pub.display ?? '');
    subscribeTo(p, list.map((x) => x.id));
  }
  if (msg.configured === 'ok') p.published = true;
}

/**
 * Joins `room` on a new session as publisher `display`, publishes audio + video and resolves once
 * Janus configured it and the publisher PC is connected; subscribes to every publisher listed,
 * then and later. janus.js must be initialized first.
 */
export async function joinVideoroom(arg: { server: string; room: number; display: string }): Promise<{ myId: number; privateId: number; publishersAtJoin: { id: number; display: string }[] }> {
  const session = await createSession(arg.server, () => {
    if (me) me.destroyed = true;
  });
  const p: Participant = {
    room: arg.room,
    display: arg.display,
    session,
    pub: null as unknown as Handle,
    sub: null,
    callbacks: new Map(),
    myId: null,
    privateId: null,
    publishers: new Map(),
    pubMessages: [],
    subMessages: [],
    subStreams: new Map(),
    subscribed: new Set(),
    chain: Promise.resolve(),
    pending: null,
    remoteTracks: [],
    failure: null,
    published: false,
    destroyed: false,
  };
  me = p;
  let joined: Json | null = null;
  // Janus lists a publisher to later joiners only after its plugin's setup_media, which runs just
  // before Janus sends 'webrtcup' (janus.js: webrtcState(true)); the browser's PC can be
  // 'connected' before that, so a join right after would miss this publisher.
  let webrtcUp = false;
  const callbacks: Json = {
    webrtcState: (up: boolean) => {
      if (up) webrtcUp = true;
    },
    onmessage: (msg: Json, jsep?: Jsep) => {
      if (msg.videoroom === 'joined') {
        joined = msg;
        p.myId = msg.id as number;
        p.privateId = msg.private_id as number;
      }
      onPublisherMessage(p, msg, jsep);
    },
  };
  p.pub = await attach(session, { plugin: 'janus.plugin.videoroom', ...callbacks });
  p.callbacks.set(p.pub, callbacks);
  await sendAsync(p.pub, { request: 'join', ptype: 'publisher', room: arg.room, display: arg.display });
  await waitFor(() => {
    const err = p.pubMessages.find((m) => m.error);
    if (err) throw new Error(`join: ${String(err.error)}`);
    return joined !== null;
  }, 'videoroom joined');
  const j = joined as unknown as { id: number; private_id: number; publishers: { id: number; display?: string }[] };
  const offer = await offerAudioVideo(p.pub, false);
  await sendAsync(p.pub, { request: 'configure', audio: true, video: true }, offer);
  await waitFor(() => {
    if (p.failure) throw p.failure;
    return p.published && webrtcUp && p.pub.webrtcStuff.pc?.connectionState === 'connected';
  }, 'published (configured ok + webrtcup + PC connected)');
  return { myId: j.id, privateId: j.private_id, publishersAtJoin: j.publishers.map((x) => ({ id: x.id, display: x.display ?? '' })) };
}

/** Resolves once no stream of `feed` on the subscriber is active any more (Janus sent 'updated'). */
export function feedInactive(p: Participant, feed: number, what: string): Promise<void> {
  return waitFor(() => ![...p.subStreams.values()].some((s) => s.feed_id === feed && s.active !== false), what);
}

/**
 * Leave the room. 'destroy': janus.destroy() (what the demos' "Stop" and a closing app do);
 * 'destroy-cleanup': janus.destroy({cleanupHandles: true}); 'leave': a videoroom
 * {request: 'leave'} on the publisher handle, then detach both handles, then destroy;
 * 'unpublish': {request: 'unpublish'} (Janus closes the publisher PC), then destroy.
 * Resolves once the session's destroyed callback ran, with the states of the PCs it had.
 */
export async function leaveVideoroom(mode: 'destroy' | 'destroy-cleanup' | 'leave' | 'unpublish' = 'destroy'): Promise<{ destroyedCallback: boolean; pcStates: string[] }> {
  const p = participant();
  const pcs = [p.pub.webrtcStuff.pc, p.sub?.webrtcStuff.pc].filter((x): x is RTCPeerConnection => !!x);
  if (mode === 'unpublish') {
    await sendAsync(p.pub, { request: 'unpublish' });
    await waitFor(() => p.pubMessages.some((m) => m.unpublished === 'ok'), "'unpublished: ok'");
    await waitFor(() => p.pub.webrtcStuff.pc === null, 'publisher PC cleaned up');
  }
  if (mode === 'leave') {
    await sendAsync(p.pub, { request: 'leave' });
    await waitFor(() => p.pubMessages.some((m) => m.leaving === 'ok'), "'leaving: ok'");
    for (const h of [p.sub, p.pub]) if (h) await new Promise<void>((ok) => h.detach({ success: ok, error: () => ok() }));
  }
  await new Promise<void>((ok) => p.session.destroy({ success: ok, error: ok, ...(mode === 'destroy-cleanup' ? { cleanupHandles: true } : {}) }));
  await waitFor(() => p.destroyed, 'destroyed callback');
  return { destroyedCallback: p.destroyed, pcStates: pcs.map((pc) => pc.connectionState) };
}
