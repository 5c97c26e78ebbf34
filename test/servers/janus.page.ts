// Page entry for test/servers/janus.browser.test.ts (bundled with esbuild by test/harness/browser.ts).
// Drives npm janus-gateway (janus.js 1.4.x, ESM npm/dist/janus.es.js) + webrtc-adapter against the
// real Janus started by test/harness/janus.ts, and exposes `window.janusTest` returning plain data.
//
// Besides the app-style code (echotest; the videoroom publisher + one multistream subscriber of
// test/harness/pages/videoroom.ts, shared with the Janus adapter's page), the page installs a
// *probe* that hooks janus.js the way an adapter could without app code: it wraps
// `Janus.sessions.set` (called for every session right before the app's `success` callback) to wrap
// that session's own `attach` (an instance property, not on a prototype), and wraps every plugin
// callback in the options object. The test asserts on what the probe saw.
import { playTrack, waitFor } from '../harness/pages/common';
import { attach, createSession, initJanus, J, startEchotest, type Handle, type Json, type Jsep, type Session } from '../harness/pages/janus';
import { currentParticipant, feedInactive, joinVideoroom, leaveVideoroom, participant, type Participant, type StreamInfo } from '../harness/pages/videoroom';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const t0 = performance.now();
const now = (): number => Math.round(performance.now() - t0);

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

function init(): Promise<void> {
  installProbe();
  return initJanus(['warn', 'error']);
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
        playTrack(track);
      }
    },
  });
  echo = { session, handle };
  const pcSetAtAttach = handle.webrtcStuff.pc !== null;
  const started = performance.now();
  await startEchotest(handle, () => up, () => failure);
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

async function joinRoom(arg: { server: string; room: number; display: string }): Promise<{ myId: number; privateId: number; publishersAtJoin: { id: number; display: string }[] }> {
  await init();
  return joinVideoroom(arg);
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

/** Wait until audio and video of every feed in `feeds` arrive on the subscriber PC. */
async function waitForFeeds(feeds: number[]): Promise<{ media: FeedMedia[]; sub: PcSummary; pub: PcSummary; streams: StreamInfo[] }> {
  const p = participant();
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
  const p = participant();
  const seen = (key: string) => p.pubMessages.filter((m) => m.videoroom === 'event' && m[key] === feed).length;
  await waitFor(() => seen('leaving') > 0, `'leaving' for feed ${feed}`);
  // The subscriber gets an 'updated' (streams of that feed now inactive / gone).
  await feedInactive(p, feed, `subscriber streams of feed ${feed} inactive`);
  return { unpublished: seen('unpublished'), leaving: seen('leaving'), subStreams: [...p.subStreams.values()] };
}

function state(): Json {
  const p = currentParticipant();
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

const janusTest = { init, echotest, echoHangup, joinRoom, waitForFeeds, waitForLeave, leaveRoom: leaveVideoroom, state };

declare global {
  interface Window {
    janusTest: typeof janusTest;
  }
}
window.janusTest = janusTest;
