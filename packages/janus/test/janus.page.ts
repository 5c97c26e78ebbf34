// Page entry for janus.browser.test.ts (bundled with esbuild by test/harness/browser.ts): the real
// janus.js 1.4 (npm janus-gateway) + webrtc-adapter, @callmetry/core and @callmetry/janus from
// source, against the real Janus Gateway started by test/harness/janus.ts. The app code here is
// what a Janus app writes (echotest; the videoroom publisher + one multistream subscriber of
// test/harness/pages/videoroom.ts) and knows nothing about Callmetry except attachJanus /
// instrumentJanus. Exposes `window.jt` (plain data).
import Janus from 'janus-gateway';
import adapter from 'webrtc-adapter';
import { createMonitor, type Monitor } from '@callmetry/core';
import { attachJanus, instrumentJanus, type DetachJanus } from '@callmetry/janus';
import { playTrack, waitFor } from '../../../test/harness/pages/common';
import { attach, createSession, initJanus, J, sendAsync, startEchotest, type Handle, type Json, type Jsep, type Session } from '../../../test/harness/pages/janus';
import { feedInactive, joinVideoroom, leaveVideoroom, participant } from '../../../test/harness/pages/videoroom';

/** Where Janus must send this client's packets (set by relayedEchotest). */
let ownCandidateRewrite: { host: string; port: number } | null = null;

/**
 * A WebSocket for janus.js that tells Janus one candidate of this client only: the relay's back
 * address (see relayedEchotest). Other trickled candidates are dropped; end-of-candidates passes.
 */
class RelayCandidateWebSocket extends WebSocket {
  private sentOne = false;
  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (typeof data === 'string' && data.includes('"trickle"') && ownCandidateRewrite) {
      const m = JSON.parse(data) as { janus?: string; candidate?: { completed?: boolean; candidate?: string } };
      if (m.janus === 'trickle' && m.candidate && m.candidate.completed !== true) {
        if (this.sentOne || !m.candidate.candidate) return;
        this.sentOne = true;
        m.candidate.candidate = m.candidate.candidate.replace(/^(candidate:\S+ \d+ udp \d+) \S+ \d+ typ host.*$/, `$1 ${ownCandidateRewrite.host} ${ownCandidateRewrite.port} typ host`);
        super.send(JSON.stringify(m));
        return;
      }
    }
    super.send(data);
  }
}

function init(options: { relayCandidate?: boolean } = {}): Promise<void> {
  return initJanus(['error'], options.relayCandidate ? { adapter, WebSocket: RelayCandidateWebSocket } : { adapter });
}

// ---------------------------------------------------------------------------------------------
// The monitor and what it reported

export interface SeenStream {
  statsType: string;
  mediaType: string;
  userID: string;
  mid?: string;
  usageLabel?: string;
  bitrate?: number;
}
export interface SeenFabric {
  fabricID: string;
  conferenceID: string;
  remoteUserID: string;
  remoteEndpointType: string;
  direction: string;
  usage: string;
  state: string;
  /** The latest sample's streams. */
  streams: SeenStream[];
  samples: number;
}
export interface Seen {
  events: Array<{ fabricID: string; conferenceID: string; event: string; data?: Json }>;
  errors: Array<{ fabricID?: string; webRTCFunction: string; message: string }>;
  custom: Array<{ conferenceID: string; name: string; data?: Json; fabricID?: string }>;
  fabrics: SeenFabric[];
  samplesTotal: number;
}

let monitor: Monitor | null = null;
const seen: Seen = { events: [], errors: [], custom: [], fabrics: [], samplesTotal: 0 };
const fabricsSeen = new Map<string, SeenFabric>();

function setup(localUserID: string): void {
  const m = createMonitor({ appID: 'janus-test', localUserID, statsIntervalMs: 1000 });
  m.on('fabricEvent', (e) => void seen.events.push({ fabricID: e.fabricID, conferenceID: e.conferenceID, event: e.event, ...(e.data ? { data: e.data } : {}) }));
  m.on('error', (e) => void seen.errors.push({ ...(e.fabricID ? { fabricID: e.fabricID } : {}), webRTCFunction: e.webRTCFunction, message: e.message }));
  m.on('sample', (s) => {
    seen.samplesTotal++;
    const f = fabricsSeen.get(s.fabricID);
    if (!f) return;
    f.samples++;
    f.state = s.fabricState;
    f.streams = s.mediaStreamTracks.map((t) => ({
      statsType: t.statsType,
      mediaType: t.mediaType,
      userID: t.userID,
      ...(t.mid !== undefined ? { mid: t.mid } : {}),
      ...(t.usageLabel !== undefined ? { usageLabel: t.usageLabel } : {}),
      ...(t.bitrate !== undefined ? { bitrate: t.bitrate } : {}),
    }));
  });
  m.on('customEvent', (c) => void seen.custom.push({ conferenceID: c.conferenceID, name: c.name, ...(c.data ? { data: c.data as Json } : {}), ...(c.fabricID ? { fabricID: c.fabricID } : {}) }));
  // Fabrics as they are added (addFabric is what the adapter calls).
  const tryAdd = m.tryAddFabric.bind(m);
  m.tryAddFabric = (pc, options) => {
    const r = tryAdd(pc, options);
    const f = r.fabric;
    if (f && !fabricsSeen.has(f.id)) {
      const entry: SeenFabric = {
        fabricID: f.id,
        conferenceID: f.conferenceID,
        remoteUserID: f.remoteUserID,
        remoteEndpointType: f.remoteEndpointType,
        direction: f.direction,
        usage: f.usage,
        state: f.state,
        streams: [],
        samples: 0,
      };
      fabricsSeen.set(f.id, entry);
      seen.fabrics.push(entry);
    }
    return r;
  };
  monitor = m;
}

function need(): Monitor {
  if (!monitor) throw new Error('setup() first');
  return monitor;
}

function state(): Seen & { monitorFabrics: string[] } {
  for (const f of seen.fabrics) {
    const live = need().fabrics().find((x) => x.id === f.fabricID);
    f.state = live ? live.state : 'terminated';
  }
  return { ...seen, monitorFabrics: need().fabrics().map((f) => f.id) };
}

/** Whether janus.js's own functions are back (the adapter's wrappers are gone). */
function pristine(session: Session, handles: Handle[], appCallbacks: Map<Handle, Json>): Record<string, boolean> {
  // janus.js's own one-liners (esbuild may suffix the parameter name: callbacks2).
  const is = (f: unknown, re: RegExp) => typeof f === 'function' && re.test(String(f).replace(/\s+/g, ' '));
  const out: Record<string, boolean> = {
    'session.attach': is(session.attach, /^function\s*\(callbacks\d*\) \{ createHandle\(callbacks\d*\); \}$/),
    'session.destroy': is(session.destroy, /^function\s*\(callbacks\d*\) \{ destroySession\(callbacks\d*\); \}$/),
    'Janus.sessions.set': !Object.prototype.hasOwnProperty.call(J.sessions, 'set'),
  };
  handles.forEach((h, i) => {
    out[`h${i}.createOffer`] = is(h.createOffer, /\{ prepareWebrtc\(handleId, true, callbacks\d*\); \}$/);
    out[`h${i}.createAnswer`] = is(h.createAnswer, /\{ prepareWebrtc\(handleId, false, callbacks\d*\); \}$/);
    out[`h${i}.handleRemoteJsep`] = is(h.handleRemoteJsep, /\{ prepareWebrtcPeer\(handleId, callbacks\d*\); \}$/);
    out[`h${i}.send`] = is(h.send, /\{ sendMessage\(handleId, callbacks\d*\); \}$/);
    out[`h${i}.detach`] = is(h.detach, /\{ destroyHandle\(handleId, callbacks\d*\); \}$/);
    out[`h${i}.muteAudio`] = is(h.muteAudio, /\{ return mute\(handleId, mid, false, true\); \}$/);
    out[`h${i}.unmuteAudio`] = is(h.unmuteAudio, /\{ return mute\(handleId, mid, false, false\); \}$/);
    out[`h${i}.muteVideo`] = is(h.muteVideo, /\{ return mute\(handleId, mid, true, true\); \}$/);
    out[`h${i}.unmuteVideo`] = is(h.unmuteVideo, /\{ return mute\(handleId, mid, true, false\); \}$/);
    const app = appCallbacks.get(h) ?? {};
    for (const cb of ['onmessage', 'webrtcState', 'iceState', 'mediaState', 'slowLink', 'oncleanup', 'ondetached']) {
      out[`h${i}.${cb}`] = cb in app ? h[cb] === app[cb] : h[cb] === (Janus as unknown as { noop: unknown }).noop;
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// echotest (attachJanus on an existing session)

let echo: { session: Session; handle: Handle; detach: DetachJanus; callbacks: Json; up: boolean; down: string | null } | null = null;

async function echotest(server: string): Promise<{ pcCreated: boolean }> {
  await init();
  const session = await createSession(server);
  const detach = attachJanus(session as never, need());
  let failure: unknown = null;
  const e = { session, handle: null as unknown as Handle, detach, callbacks: {} as Json, up: false, down: null as string | null };
  const callbacks: Json = {
    webrtcState: (on: boolean, reason?: string) => {
      if (on) e.up = true;
      else e.down = reason ?? '';
    },
    onmessage: (_msg: Json, jsep?: Jsep) => {
      if (jsep) e.handle.handleRemoteJsep({ jsep, error: (err: unknown) => (failure = err) });
    },
    onremotetrack: (track: MediaStreamTrack, _mid: string, on: boolean, meta?: { reason?: string }) => {
      if (on && meta?.reason === 'created') playTrack(track);
    },
    oncleanup: () => undefined,
  };
  e.callbacks = callbacks;
  e.handle = await attach(session, { plugin: 'janus.plugin.echotest', ...callbacks });
  echo = e;
  await startEchotest(e.handle, () => e.up, () => failure);
  return { pcCreated: true };
}

function echoMute(): boolean[] {
  if (!echo) throw new Error('echotest() first');
  const h = echo.handle;
  return [h.muteAudio(), h.muteAudio(), h.unmuteAudio(), h.muteVideo(), h.unmuteVideo()];
}

async function echoHangup(): Promise<{ pcAfterHangup: boolean }> {
  if (!echo) throw new Error('echotest() first');
  const e = echo;
  e.handle.hangup(true);
  const pcAfterHangup = e.handle.webrtcStuff.pc !== null;
  // Janus answers the hangup request with a hangup event: webrtcState(false, 'Janus API').
  await waitFor(() => e.down !== null, "webrtcState(false, 'Janus API')");
  return { pcAfterHangup };
}

/** A second echotest handle whose PeerConnection the app closes behind janus.js's back. */
async function echoPeerClose(): Promise<{ reason: string }> {
  if (!echo) throw new Error('echotest() first');
  const e = echo;
  let up = false;
  let down: string | null = null;
  let h!: Handle;
  h = await attach(e.session, {
    plugin: 'janus.plugin.echotest',
    webrtcState: (on: boolean, reason?: string) => {
      if (on) up = true;
      else down = reason ?? '';
    },
    onmessage: (_m: Json, jsep?: Jsep) => {
      if (jsep) h.handleRemoteJsep({ jsep });
    },
  });
  const offer = await new Promise<Jsep>((ok, ko) => h.createOffer({ tracks: [{ type: 'audio', capture: true, recv: true }], success: ok, error: ko }));
  await sendAsync(h, { audio: true }, offer);
  await waitFor(() => up, 'second echotest up');
  h.webrtcStuff.pc!.close();
  await waitFor(() => down !== null, 'Janus hangup after the peer closed');
  return { reason: down as unknown as string };
}

async function echoDestroy(): Promise<Record<string, boolean>> {
  if (!echo) throw new Error('echotest() first');
  const e = echo;
  await new Promise<void>((ok) => e.session.destroy({ success: ok, error: ok }));
  return pristine(e.session, [e.handle], new Map([[e.handle, e.callbacks]]));
}

// ---------------------------------------------------------------------------------------------
// videoroom (instrumentJanus: no Callmetry call on the session or its handles)

let instrumentDetach: DetachJanus | null = null;

async function joinRoom(arg: { server: string; room: number; display: string }): Promise<{ myId: number }> {
  await init();
  instrumentDetach ??= instrumentJanus(Janus, need());
  const { myId } = await joinVideoroom(arg);
  return { myId };
}

/** The app's own view: the feeds whose audio and video arrive (mid -> feed_id from the plugin). */
async function waitForFeeds(feeds: number[]): Promise<void> {
  const p = participant();
  await waitFor(async () => {
    if (p.failure) throw p.failure;
    const pc = p.sub?.webrtcStuff.pc;
    if (!pc) return false;
    const got = new Map<number, Set<string>>();
    (await pc.getStats()).forEach((r: Json) => {
      if (r.type !== 'inbound-rtp' || !Number(r.packetsReceived)) return;
      const s = p.subStreams.get(String(r.mid));
      if (s?.feed_id === undefined || s.active === false) return;
      got.set(s.feed_id, (got.get(s.feed_id) ?? new Set()).add(String(r.kind)));
    });
    return feeds.every((f) => got.get(f)?.size === 2);
  }, `audio+video of feeds ${feeds.join(',')}`);
}

/** Waits until the publisher handle saw `feed` leave and the subscriber's streams of it went inactive. */
async function waitForLeave(feed: number): Promise<void> {
  const p = participant();
  await waitFor(() => p.pubMessages.some((m) => m.leaving === feed), `'leaving' for feed ${feed}`);
  await feedInactive(p, feed, `feed ${feed} inactive`);
}

async function leaveRoom(): Promise<{ pcStates: string[] }> {
  const { pcStates } = await leaveVideoroom('destroy');
  return { pcStates };
}

/** Detaches the instrumentation; reports whether janus.js's own functions are back. */
function detachAdapter(): Record<string, boolean> {
  const p = participant();
  instrumentDetach?.();
  return pristine(p.session, [p.pub, ...(p.sub ? [p.sub] : [])], p.callbacks);
}

function muteAll(): boolean[] {
  const p = participant();
  return [p.pub.muteAudio(), p.pub.muteVideo(), p.pub.unmuteAudio()];
}

// ---------------------------------------------------------------------------------------------
// A lossy path: the test's UDP relay between Chromium and Janus (window.cmRelay*, exposed by Node)

declare global {
  interface Window {
    /** Creates the test's relay: `front` (Janus, as this client sees it), `back` (this client, as Janus sees it). */
    cmRelayCreate?: () => Promise<{ host: string; front: number; back: number }>;
    /** Tells the relay Janus' real candidate port (on 127.0.0.2). */
    cmRelayTarget?: (janusPort: number) => Promise<void>;
  }
}

/**
 * An echotest whose every packet crosses the test's relay: Janus' answer candidate (its only one,
 * half-trickle) is rewritten to the relay's front address before janus.js sees it, and this page's
 * janus.js trickles Janus a single candidate, the relay's back address. Must be the page's first
 * Janus call (janus.js is initialized once per page, here with that WebSocket).
 */
async function relayedEchotest(server: string): Promise<void> {
  if (!window.cmRelayCreate || !window.cmRelayTarget) throw new Error('the test did not expose cmRelayCreate/cmRelayTarget');
  const relay = await window.cmRelayCreate();
  ownCandidateRewrite = { host: relay.host, port: relay.back };
  await init({ relayCandidate: true });
  const session = await createSession(server);
  attachJanus(session as never, need(), { conferenceID: 'lossy' });
  let up = false;
  let failure: unknown = null;
  let slow = 0;
  let h!: Handle;
  h = await attach(session, {
    plugin: 'janus.plugin.echotest',
    webrtcState: (on: boolean) => void (on && (up = true)),
    slowLink: () => void slow++,
    onremotetrack: (track: MediaStreamTrack, _mid: string, on: boolean, meta?: { reason?: string }) => {
      if (on && meta?.reason === 'created') playTrack(track);
    },
    onmessage: (_m: Json, jsep?: Jsep) => {
      if (!jsep) return;
      void (async () => {
        const m = /^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.2 (\d+) typ host/m.exec(jsep.sdp);
        if (!m) throw new Error(`no Janus candidate to relay in the answer:\n${jsep.sdp}`);
        await window.cmRelayTarget!(Number(m[1]));
        const sdp = jsep.sdp.replace(/^a=candidate:(\S+) 1 udp (\d+) 127\.0\.0\.2 \d+ typ host/gm, `a=candidate:$1 1 udp $2 ${relay.host} ${relay.front} typ host`);
        h.handleRemoteJsep({ jsep: { type: jsep.type, sdp }, error: (e: unknown) => (failure = e) });
      })().catch((e: unknown) => (failure = e));
    },
  });
  await startEchotest(h, () => up, () => failure, 'relayed echotest webrtcState(true)');
  relayedSlowLinkCalls = () => slow;
}
/** How often the app's own slowLink callback ran (the adapter passes every call on). */
let relayedSlowLinkCalls = (): number => 0;
const relayedSlowLinks = (): number => relayedSlowLinkCalls();

const jt = { relayedEchotest, relayedSlowLinks, setup, state, echotest, echoMute, echoHangup, echoPeerClose, echoDestroy, joinRoom, waitForFeeds, waitForLeave, leaveRoom, detachAdapter, muteAll };

declare global {
  interface Window {
    jt: typeof jt;
  }
}
window.jt = jt;
