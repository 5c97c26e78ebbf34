// Page entry for test/servers/janus.browser.test.ts (bundled with esbuild by test/harness/browser.ts).
// Drives npm janus-gateway (janus.js 1.4.x, ESM npm/dist/janus.es.js) + webrtc-adapter against the
// real Janus started by test/harness/janus.ts, and exposes `window.janusTest` returning plain data.
//
// Besides the app-style code (echotest, videoroom publisher + one multistream subscriber), the page
// installs a *probe* that hooks janus.js the way an adapter could without app code: it wraps
// `Janus.sessions.set` (called for every session right before the app's `success` callback) to wrap
// that session's own `attach` (an instance property, not on a prototype), and wraps every plugin
// callback in the options object. The test asserts on what the probe saw.
import Janus from 'janus-gateway';
import adapter from 'webrtc-adapter';

// ---------------------------------------------------------------------------------------------
// Local structural types (the package's d.ts misses `session`, `connectionState`, ...)
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
interface Jsep {
  type: string;
  sdp: string;
}
interface Handle {
  id: number;
  plugin: string;
  session: unknown;
  detached: boolean;
  webrtcStuff: { pc: RTCPeerConnection | null };
  send(p: { message: Json; jsep?: Jsep; success?: (d?: unknown) => void; error?: (e: string) => void }): void;
  createOffer(p: { tracks?: Json[]; success: (j: Jsep) => void; error: (e: unknown) => void }): void;
  createAnswer(p: { jsep: Jsep; tracks?: Json[]; success: (j: Jsep) => void; error: (e: unknown) => void }): void;
  handleRemoteJsep(p: { jsep: Jsep; success?: () => void; error?: (e: unknown) => void }): void;
  hangup(sendRequest?: boolean): void;
  detach(p?: { success?: () => void; error?: (e: string) => void }): void;
}
interface Session {
  attach(o: Json): void;
  destroy(o: Json): void;
  getSessionId(): number;
}
type JanusCtor = {
  new (o: Json): Session;
  init(o: Json): void;
  useDefaultDependencies(d: Json): unknown;
  sessions: Map<number, Session>;
};
const J = Janus as unknown as JanusCtor;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const DEADLINE_MS = 20_000;
const t0 = performance.now();
const now = (): number => Math.round(performance.now() - t0);

function waitFor(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  return new Promise((ok, ko) => {
    const started = Date.now();
    const tick = async (): Promise<void> => {
      try {
        if (await cond()) return ok();
      } catch (e) {
        return ko(e);
      }
      if (Date.now() - started > DEADLINE_MS) return ko(new Error(`timed out waiting for ${what}`));
      setTimeout(() => void tick(), 50);
    };
    void tick();
  });
}

/** JSON-safe copy of callback arguments (tracks and other objects summarized). */
function plain(v: unknown): unknown {
  if (v instanceof MediaStreamTrack) return { track: v.kind, id: v.id, readyState: v.readyState };
  if (v === null || typeof v !== 'object') return v;
  try {
    return JSON.parse(JSON.stringify(v)) as unknown;
  } catch {
    return String(v);
  }
}

export interface InboundSummary {
  kind: string;
  mid: string;
  packetsReceived: number;
  framesDecoded?: number;
}
export interface PcSummary {
  connectionState: string;
  inbound: InboundSummary[];
  outbound: { kind: string; mid: string; packetsSent: number }[];
  localCandidateAddresses: string[];
  remoteCandidateAddresses: string[];
  /** `address/type/protocol` of every candidate in the stats. */
  localCandidates: string[];
  remoteCandidates: string[];
  succeededPairs: number;
  /** Addresses of the transport's selected candidate pair. */
  selected: { local: string; remote: string } | null;
}

async function summarize(pc: RTCPeerConnection): Promise<PcSummary> {
  const report = await pc.getStats();
  const s: PcSummary = {
    connectionState: pc.connectionState,
    inbound: [],
    outbound: [],
    localCandidateAddresses: [],
    remoteCandidateAddresses: [],
    localCandidates: [],
    remoteCandidates: [],
    succeededPairs: 0,
    selected: null,
  };
  const byId = new Map<string, Json>();
  report.forEach((r: Json & { id: string }) => byId.set(r.id, r));
  report.forEach((r: Json & { type: string }) => {
    if (r.type === 'inbound-rtp') {
      s.inbound.push({
        kind: String(r.kind),
        mid: String(r.mid),
        packetsReceived: Number(r.packetsReceived ?? 0),
        ...(r.kind === 'video' ? { framesDecoded: Number(r.framesDecoded ?? 0) } : {}),
      });
    } else if (r.type === 'outbound-rtp') {
      s.outbound.push({ kind: String(r.kind), mid: String(r.mid), packetsSent: Number(r.packetsSent ?? 0) });
    } else if (r.type === 'local-candidate') {
      s.localCandidateAddresses.push(String(r.address ?? r.ip));
      s.localCandidates.push(`${String(r.address ?? r.ip)}/${String(r.candidateType)}/${String(r.protocol)}`);
    } else if (r.type === 'remote-candidate') {
      s.remoteCandidateAddresses.push(String(r.address ?? r.ip));
      s.remoteCandidates.push(`${String(r.address ?? r.ip)}/${String(r.candidateType)}/${String(r.protocol)}`);
    } else if (r.type === 'candidate-pair' && r.state === 'succeeded') {
      s.succeededPairs++;
    } else if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') {
      const pair = byId.get(r.selectedCandidatePairId);
      const l = pair && byId.get(String(pair.localCandidateId));
      const rc = pair && byId.get(String(pair.remoteCandidateId));
      if (l && rc) s.selected = { local: String(l.address ?? l.ip), remote: String(rc.address ?? rc.ip) };
    }
  });
  s.localCandidates = [...new Set(s.localCandidates)].sort();
  s.remoteCandidates = [...new Set(s.remoteCandidates)].sort();
  s.localCandidateAddresses = [...new Set(s.localCandidateAddresses)].sort();
  s.remoteCandidateAddresses = [...new Set(s.remoteCandidateAddresses)].sort();
  return s;
}

function playRemote(track: MediaStreamTrack): void {
  // Audio is only decoded once attached to a media element.
  const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
  el.autoplay = true;
  el.muted = true;
  el.srcObject = new MediaStream([track]);
  document.body.append(el);
}

// ---------------------------------------------------------------------------------------------
// Probe: hooks janus.js without app code (what an adapter could do)
// ---------------------------------------------------------------------------------------------

export const CALLBACK_NAMES = [
  'success', 'error', 'consentDialog', 'connectionState', 'iceState', 'mediaState', 'webrtcState',
  'slowLink', 'onmessage', 'onlocaltrack', 'onremotetrack', 'ondataopen', 'ondata', 'oncleanup', 'ondetached',
] as const;

export interface ProbeEvent {
  t: number;
  session: number | null;
  plugin: string;
  handle: number | null;
  cb: string;
  args: unknown[];
  /** Whether handle.webrtcStuff.pc was set when the callback ran. */
  pc: boolean | null;
}

const probe = {
  installed: false,
  sessionsHooked: 0,
  events: [] as ProbeEvent[],
  /** Handle ids whose pc was already set synchronously right after createOffer()/createAnswer() returned. */
  pcAfterCreateCall: [] as { handle: number; call: string; pc: boolean; pcBefore: boolean }[],
  /** Distinct RTCPeerConnections seen per handle (captured while set, kept after cleanup). */
  pcs: new Map<number, RTCPeerConnection>(),
  destroyCalls: 0,
};

function hookSession(session: Session): void {
  const s = session as Session & { __probe?: boolean };
  if (s.__probe) return; // `claim` (reconnect) sets the same session again
  s.__probe = true;
  probe.sessionsHooked++;
  const origAttach = session.attach;
  session.attach = function (opts: Json) {
    const plugin = String(opts.plugin);
    let handle: Handle | null = null;
    for (const name of CALLBACK_NAMES) {
      const user = opts[name] as ((...a: unknown[]) => unknown) | undefined;
      opts[name] = function (this: unknown, ...args: unknown[]) {
        if (name === 'success') handle = args[0] as Handle;
        const pc = handle?.webrtcStuff.pc ?? null;
        if (handle && pc) probe.pcs.set(handle.id, pc);
        probe.events.push({
          t: now(),
          session: session.getSessionId(),
          plugin,
          handle: handle?.id ?? null,
          cb: name,
          args: name === 'success' ? [] : args.map(plain),
          pc: handle ? pc !== null : null,
        });
        if (name === 'success' && handle) hookHandle(handle);
        return typeof user === 'function' ? user.apply(this, args) : undefined;
      };
    }
    return origAttach.call(this, opts);
  };
  const origDestroy = session.destroy;
  session.destroy = function (opts: Json) {
    probe.destroyCalls++;
    return origDestroy.call(this, opts);
  };
}

function hookHandle(handle: Handle): void {
  for (const call of ['createOffer', 'createAnswer'] as const) {
    const orig = handle[call] as (p: unknown) => void;
    (handle as unknown as Record<string, unknown>)[call] = function (this: unknown, p: unknown) {
      const pcBefore = handle.webrtcStuff.pc !== null;
      orig.call(this, p);
      // prepareWebrtc() creates the PC before its first await: it is there synchronously.
      const pc = handle.webrtcStuff.pc;
      if (pc) probe.pcs.set(handle.id, pc);
      probe.pcAfterCreateCall.push({ handle: handle.id, call, pc: pc !== null, pcBefore });
    };
  }
}

function installProbe(): void {
  if (probe.installed) return;
  probe.installed = true;
  const sessions = J.sessions;
  const origSet = sessions.set.bind(sessions);
  sessions.set = (id: number, session: Session) => {
    hookSession(session);
    return origSet(id, session);
  };
}

// ---------------------------------------------------------------------------------------------
// App-style code
// ---------------------------------------------------------------------------------------------

let initDone: Promise<void> | null = null;
function init(): Promise<void> {
  installProbe();
  initDone ??= new Promise((ok) => J.init({ debug: ['warn', 'error'], dependencies: J.useDefaultDependencies({ adapter }), callback: ok }));
  return initDone;
}

function createSession(server: string, onDestroyed?: () => void): Promise<Session> {
  return new Promise((ok, ko) => {
    const s: Session = new J({
      server,
      iceServers: [],
      success: () => ok(s),
      error: (e: unknown) => ko(new Error(`Janus session: ${String(e)}`)),
      destroyed: () => onDestroyed?.(),
    });
  });
}

function attach(session: Session, opts: Json): Promise<Handle> {
  return new Promise((ok, ko) => {
    session.attach({ ...opts, success: (h: Handle) => ok(h), error: (e: string) => ko(new Error(`attach ${String(opts.plugin)}: ${e}`)) });
  });
}

function sendAsync(handle: Handle, message: Json, jsep?: Jsep): Promise<void> {
  return new Promise((ok, ko) =>
    handle.send({ message, ...(jsep ? { jsep } : {}), success: () => ok(), error: (e) => ko(new Error(`${String(message.request)}: ${e}`)) }),
  );
}

// ---- echotest -------------------------------------------------------------------------------

export interface EchoResult {
  webrtcUp: boolean;
  webrtcUpAfterMs: number;
  messages: unknown[];
  remoteTrackKinds: string[];
  localTrackKinds: string[];
  stats: PcSummary;
  pcSetAtAttach: boolean;
}

let echo: { session: Session; handle: Handle } | null = null;

async function echotest(server: string): Promise<EchoResult> {
  await init();
  const session = await createSession(server);
  const messages: unknown[] = [];
  const remoteTrackKinds: string[] = [];
  const localTrackKinds: string[] = [];
  let up = false;
  let failure: unknown = null;
  const handle = await attach(session, {
    plugin: 'janus.plugin.echotest',
    webrtcState: (on: boolean) => {
      if (on) up = true;
    },
    onmessage: (msg: Json, jsep?: Jsep) => {
      messages.push(msg);
      if (jsep) handle.handleRemoteJsep({ jsep, error: (e) => (failure = e) });
    },
    onlocaltrack: (track: MediaStreamTrack, on: boolean) => {
      if (on) localTrackKinds.push(track.kind);
    },
    onremotetrack: (track: MediaStreamTrack, _mid: string, on: boolean) => {
      if (on && !remoteTrackKinds.includes(track.kind)) {
        remoteTrackKinds.push(track.kind);
        playRemote(track);
      }
    },
  });
  echo = { session, handle };
  const pcSetAtAttach = handle.webrtcStuff.pc !== null;
  const started = performance.now();
  const offer = await new Promise<Jsep>((ok, ko) =>
    handle.createOffer({ tracks: [{ type: 'audio', capture: true, recv: true }, { type: 'video', capture: true, recv: true }], success: ok, error: ko }),
  );
  await sendAsync(handle, { audio: true, video: true }, offer);
  await waitFor(() => {
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
    return up;
  }, 'echotest webrtcState(true)');
  const webrtcUpAfterMs = Math.round(performance.now() - started);
  const pc = handle.webrtcStuff.pc!;
  await waitFor(async () => {
    const s = await summarize(pc);
    return ['audio', 'video'].every((k) => s.inbound.some((i) => i.kind === k && i.packetsReceived > 0));
  }, 'echoed audio and video');
  return { webrtcUp: up, webrtcUpAfterMs, messages, remoteTrackKinds, localTrackKinds, stats: await summarize(pc), pcSetAtAttach };
}

async function echoHangup(): Promise<{ pcAfterHangup: boolean }> {
  if (!echo) return { pcAfterHangup: false };
  const { session, handle } = echo;
  echo = null;
  handle.hangup(true);
  const pcAfterHangup = handle.webrtcStuff.pc !== null;
  await new Promise<void>((ok) => session.destroy({ success: ok, error: ok }));
  return { pcAfterHangup };
}

// ---- videoroom ------------------------------------------------------------------------------

export interface StreamInfo {
  mid: string;
  type: string;
  feed_id?: number;
  feed_display?: string;
  feed_mid?: string;
  active?: boolean;
}

interface Participant {
  room: number;
  display: string;
  session: Session;
  pub: Handle;
  sub: Handle | null;
  myId: number | null;
  privateId: number | null;
  /** feed id -> display, from 'joined' / 'event' publishers lists. */
  publishers: Map<number, string>;
  /** Everything the publisher handle's onmessage got. */
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

function subscribeTo(p: Participant, feeds: number[]): void {
  const todo = feeds.filter((f) => f !== p.myId && !p.subscribed.has(f));
  if (todo.length === 0) return;
  for (const f of todo) p.subscribed.add(f);
  p.chain = p.chain
    .then(async () => {
      const streams = todo.map((feed) => ({ feed }));
      const negotiated = new Promise<void>((resolve, reject) => (p.pending = { resolve, reject }));
      if (!p.sub) {
        p.sub = await attach(p.session, {
          plugin: 'janus.plugin.videoroom',
          onmessage: (msg: Json, jsep?: Jsep) => void onSubscriberMessage(p, msg, jsep),
          onremotetrack: (track: MediaStreamTrack, mid: string, on: boolean, meta?: { reason?: string }) => {
            p.remoteTracks.push({ mid, kind: track.kind, on, ...(meta?.reason ? { reason: meta.reason } : {}) });
            if (on && meta?.reason === 'created') playRemote(track);
          },
        });
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
  p.subMessages.push({ ...msg, ...(jsep ? { jsep_type: jsep.type } : {}) });
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
  p.pubMessages.push({ ...msg, ...(jsep ? { jsep_type: jsep.type } : {}) });
  if (jsep) p.pub.handleRemoteJsep({ jsep, error: (e) => (p.failure = new Error(`handleRemoteJsep: ${String(e)}`)) });
  const list = msg.publishers as { id: number; display?: string }[] | undefined;
  if (Array.isArray(list)) {
    for (const pub of list) p.publishers.set(pub.id, pub.display ?? '');
    subscribeTo(p, list.map((x) => x.id));
  }
  if (msg.configured === 'ok') p.published = true;
}

async function joinRoom(arg: { server: string; room: number; display: string }): Promise<{ myId: number; privateId: number; publishersAtJoin: { id: number; display: string }[] }> {
  await init();
  const session = await createSession(arg.server, () => {
    if (me) me.destroyed = true;
  });
  const p: Participant = {
    room: arg.room,
    display: arg.display,
    session,
    pub: null as unknown as Handle,
    sub: null,
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
  p.pub = await attach(session, {
    plugin: 'janus.plugin.videoroom',
    onmessage: (msg: Json, jsep?: Jsep) => {
      if (msg.videoroom === 'joined') {
        joined = msg;
        p.myId = msg.id as number;
        p.privateId = msg.private_id as number;
      }
      onPublisherMessage(p, msg, jsep);
    },
  });
  await sendAsync(p.pub, { request: 'join', ptype: 'publisher', room: arg.room, display: arg.display });
  await waitFor(() => {
    const err = p.pubMessages.find((m) => m.error);
    if (err) throw new Error(`join: ${String(err.error)}`);
    return joined !== null;
  }, 'videoroom joined');
  const j = joined as unknown as { id: number; private_id: number; publishers: { id: number; display?: string }[] };
  const offer = await new Promise<Jsep>((ok, ko) =>
    p.pub.createOffer({ tracks: [{ type: 'audio', capture: true, recv: false }, { type: 'video', capture: true, recv: false }], success: ok, error: ko }),
  );
  await sendAsync(p.pub, { request: 'configure', audio: true, video: true }, offer);
  await waitFor(() => {
    if (p.failure) throw p.failure;
    return p.published && p.pub.webrtcStuff.pc?.connectionState === 'connected';
  }, 'published (configured ok + PC connected)');
  return { myId: j.id, privateId: j.private_id, publishersAtJoin: j.publishers.map((x) => ({ id: x.id, display: x.display ?? '' })) };
}

export interface FeedMedia {
  feedId: number;
  display: string;
  kinds: string[];
  mids: string[];
  packets: number;
}

/** Per remote feed: media received on the subscriber PC, mapped mid -> feed id -> display. */
async function feedMedia(p: Participant): Promise<FeedMedia[]> {
  const pc = p.sub?.webrtcStuff.pc;
  if (!pc) return [];
  const s = await summarize(pc);
  const byFeed = new Map<number, FeedMedia>();
  for (const i of s.inbound) {
    const stream = p.subStreams.get(i.mid);
    if (!stream || stream.feed_id === undefined || stream.active === false) continue;
    const f = byFeed.get(stream.feed_id) ?? { feedId: stream.feed_id, display: stream.feed_display ?? '', kinds: [], mids: [], packets: 0 };
    if (i.packetsReceived > 0 && (i.kind !== 'video' || (i.framesDecoded ?? 0) > 0)) {
      if (!f.kinds.includes(i.kind)) f.kinds.push(i.kind);
    }
    f.mids.push(i.mid);
    f.packets += i.packetsReceived;
    byFeed.set(stream.feed_id, f);
  }
  return [...byFeed.values()].map((f) => ({ ...f, kinds: f.kinds.sort(), mids: f.mids.sort() })).sort((a, b) => a.feedId - b.feedId);
}

function need(): Participant {
  if (!me) throw new Error('joinRoom() first');
  if (me.failure) throw me.failure;
  return me;
}

/** Wait until audio and video of every feed in `feeds` arrive on the subscriber PC. */
async function waitForFeeds(feeds: number[]): Promise<{ media: FeedMedia[]; sub: PcSummary; pub: PcSummary; streams: StreamInfo[] }> {
  const p = need();
  await waitFor(async () => {
    if (p.failure) throw p.failure;
    const media = await feedMedia(p);
    return feeds.every((id) => media.find((m) => m.feedId === id)?.kinds.join(',') === 'audio,video');
  }, `audio+video from feeds ${feeds.join(',')}`);
  return {
    media: await feedMedia(p),
    sub: await summarize(p.sub!.webrtcStuff.pc!),
    pub: await summarize(p.pub.webrtcStuff.pc!),
    streams: [...p.subStreams.values()],
  };
}

/** Wait until the publisher handle saw `feed` leave ('leaving'); reports whether 'unpublished' came too. */
async function waitForLeave(feed: number): Promise<{ unpublished: number; leaving: number; subStreams: StreamInfo[] }> {
  const p = need();
  const seen = (key: string) => p.pubMessages.filter((m) => m.videoroom === 'event' && m[key] === feed).length;
  await waitFor(() => seen('leaving') > 0, `'leaving' for feed ${feed}`);
  // The subscriber gets an 'updated' (streams of that feed now inactive / gone).
  await waitFor(
    () => ![...p.subStreams.values()].some((s) => s.feed_id === feed && s.active !== false),
    `subscriber streams of feed ${feed} inactive`,
  );
  return { unpublished: seen('unpublished'), leaving: seen('leaving'), subStreams: [...p.subStreams.values()] };
}

/**
 * Leave the room. 'destroy': janus.destroy() (what the demos' "Stop" and a closing app do);
 * 'destroy-cleanup': janus.destroy({cleanupHandles: true}); 'leave': a videoroom
 * {request: 'leave'} on the publisher handle, then detach both handles, then destroy;
 * 'unpublish': {request: 'unpublish'} (Janus closes the publisher PC), then destroy.
 */
async function leaveRoom(mode: 'destroy' | 'destroy-cleanup' | 'leave' | 'unpublish' = 'destroy'): Promise<{ destroyedCallback: boolean; pcStates: string[] }> {
  const p = need();
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

function state(): Json {
  const p = me;
  return {
    myId: p?.myId ?? null,
    publishers: p ? Object.fromEntries(p.publishers) : {},
    pubMessages: p?.pubMessages ?? [],
    subMessages: p?.subMessages ?? [],
    remoteTracks: p?.remoteTracks ?? [],
    failure: p?.failure ? String(p.failure) : null,
    probe: {
      sessionsHooked: probe.sessionsHooked,
      destroyCalls: probe.destroyCalls,
      events: probe.events,
      pcAfterCreateCall: probe.pcAfterCreateCall,
      handlesWithPc: [...probe.pcs.keys()],
      pcStatesNow: Object.fromEntries([...probe.pcs].map(([id, pc]) => [id, pc.connectionState])),
    },
  };
}

const janusTest = { init, echotest, echoHangup, joinRoom, waitForFeeds, waitForLeave, leaveRoom, state };

declare global {
  interface Window {
    janusTest: typeof janusTest;
  }
}
window.janusTest = janusTest;
