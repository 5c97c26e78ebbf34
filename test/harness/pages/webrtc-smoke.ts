// Page entry for test/harness/browser.smoke.browser.test.ts (bundled with esbuild by the harness).
// Exposes `window.smoke` with plain-data results so the test can assert on them.
import { playRemoteTracks, waitFor } from './common';

export interface GatheredCandidate {
  pc: string;
  address: string;
  type: string;
  protocol: string;
  candidate: string;
}

export interface StatsSummary {
  types: string[];
  inbound: { kind: string; packetsReceived: number; bytesReceived: number }[];
  outbound: { kind: string; packetsSent: number; bytesSent: number }[];
  localCandidateAddresses: string[];
  remoteCandidateAddresses: string[];
  succeededPairs: number;
  /** The transport has a selected candidate pair (the pair's own state can lag behind). */
  selectedPair: boolean;
}

export interface PeerResult {
  connectionState: RTCPeerConnectionState;
  iceConnectionState: RTCIceConnectionState;
  localTrackKinds: string[];
  remoteTrackKinds: string[];
  stats: StatsSummary;
}

/** The address of a candidate: `.address`, or field 5 of the candidate line. */
function addressOf(c: RTCIceCandidate): string {
  return c.address ?? c.candidate.split(' ')[4] ?? '';
}

function collectCandidates(pc: RTCPeerConnection, name: string, out: GatheredCandidate[], sink: (c: RTCIceCandidate) => void): void {
  pc.addEventListener('icecandidate', (e) => {
    if (!e.candidate || !e.candidate.candidate) return;
    out.push({
      pc: name,
      address: addressOf(e.candidate),
      type: e.candidate.type ?? '',
      protocol: e.candidate.protocol ?? '',
      candidate: e.candidate.candidate,
    });
    sink(e.candidate);
  });
}

async function summarize(pc: RTCPeerConnection): Promise<StatsSummary> {
  const report = await pc.getStats();
  const s: StatsSummary = {
    types: [],
    inbound: [],
    outbound: [],
    localCandidateAddresses: [],
    remoteCandidateAddresses: [],
    succeededPairs: 0,
    selectedPair: false,
  };
  const types = new Set<string>();
  report.forEach((r: Record<string, unknown> & { type: string }) => {
    types.add(r.type);
    if (r.type === 'inbound-rtp') {
      s.inbound.push({ kind: String(r.kind), packetsReceived: Number(r.packetsReceived ?? 0), bytesReceived: Number(r.bytesReceived ?? 0) });
    } else if (r.type === 'outbound-rtp') {
      s.outbound.push({ kind: String(r.kind), packetsSent: Number(r.packetsSent ?? 0), bytesSent: Number(r.bytesSent ?? 0) });
    } else if (r.type === 'local-candidate') {
      s.localCandidateAddresses.push(String(r.address ?? r.ip));
    } else if (r.type === 'remote-candidate') {
      s.remoteCandidateAddresses.push(String(r.address ?? r.ip));
    } else if (r.type === 'candidate-pair' && r.state === 'succeeded') {
      s.succeededPairs++;
    } else if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') {
      s.selectedPair = true;
    }
  });
  s.types = [...types].sort();
  return s;
}

/** True once inbound-rtp and outbound-rtp of both kinds (audio, video) have counted packets. */
async function mediaFlowing(pc: RTCPeerConnection): Promise<boolean> {
  const { inbound, outbound } = await summarize(pc);
  return ['audio', 'video'].every(
    (k) => inbound.some((i) => i.kind === k && i.packetsReceived > 0) && outbound.some((o) => o.kind === k && o.packetsSent > 0),
  );
}

function attachRemote(pc: RTCPeerConnection, remoteKinds: string[]): void {
  playRemoteTracks(pc, (track) => remoteKinds.push(track.kind));
}

async function result(pc: RTCPeerConnection, local: MediaStream, remoteKinds: string[]): Promise<PeerResult> {
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    localTrackKinds: local.getTracks().map((t) => t.kind).sort(),
    remoteTrackKinds: [...remoteKinds].sort(),
    stats: await summarize(pc),
  };
}

const open: { pcs: RTCPeerConnection[]; streams: MediaStream[]; sockets: WebSocket[] } = { pcs: [], streams: [], sockets: [] };

/** Two RTCPeerConnections in this page, fake camera + microphone on the first. */
async function loopbackCall(): Promise<{ a: PeerResult; b: PeerResult; candidates: GatheredCandidate[] }> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  open.pcs.push(a, b);
  open.streams.push(stream);
  const candidates: GatheredCandidate[] = [];
  collectCandidates(a, 'a', candidates, (c) => void b.addIceCandidate(c));
  collectCandidates(b, 'b', candidates, (c) => void a.addIceCandidate(c));
  const remoteKinds: string[] = [];
  attachRemote(b, remoteKinds);
  for (const t of stream.getTracks()) a.addTrack(t, stream);
  // b sends media back so both sides have inbound and outbound RTP.
  const back = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  open.streams.push(back);
  for (const t of back.getTracks()) b.addTrack(t, back);
  attachRemote(a, []);

  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);

  await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 'both PCs connected');
  await waitFor(() => mediaFlowing(b), 'b sending and receiving audio and video');
  await waitFor(() => mediaFlowing(a), 'a sending and receiving audio and video');
  await waitFor(() => a.iceGatheringState === 'complete' && b.iceGatheringState === 'complete', 'ICE gathering complete');
  return { a: await result(a, stream, []), b: await result(b, back, remoteKinds), candidates };
}

interface Signal {
  sdp?: RTCSessionDescriptionInit;
  candidate?: RTCIceCandidateInit;
}

/** One side of a call signaled over the Node WebSocket relay at `wsUrl`. */
async function relayCall(wsUrl: string, role: 'caller' | 'callee'): Promise<{ peer: PeerResult; candidates: GatheredCandidate[] }> {
  const ws = new WebSocket(wsUrl);
  open.sockets.push(ws);
  // The relay delivers what the other side queued as soon as this socket opens, before the pc
  // below exists: keep those signals until the handler is ready (they were lost before: a flake).
  const early: Signal[] = [];
  let onSignal: ((m: Signal) => void) | undefined;
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data)) as Signal;
    if (onSignal) onSignal(m);
    else early.push(m);
  };
  await new Promise<void>((ok, ko) => {
    ws.onopen = () => ok();
    ws.onerror = () => ko(new Error(`WebSocket ${wsUrl} failed`));
  });
  const send = (m: Signal): void => ws.send(JSON.stringify(m));

  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection();
  open.pcs.push(pc);
  open.streams.push(stream);
  const candidates: GatheredCandidate[] = [];
  collectCandidates(pc, role, candidates, (c) => send({ candidate: c.toJSON() }));
  const remoteKinds: string[] = [];
  attachRemote(pc, remoteKinds);
  for (const t of stream.getTracks()) pc.addTrack(t, stream);

  // Signals are handled strictly in order; candidates wait for the remote description.
  const pending: RTCIceCandidateInit[] = [];
  let chain = Promise.resolve();
  let failure: unknown;
  onSignal = (m) => {
    chain = chain
      .then(async () => {
        if (m.sdp) {
          await pc.setRemoteDescription(m.sdp);
          if (m.sdp.type === 'offer') {
            await pc.setLocalDescription(await pc.createAnswer());
            send({ sdp: pc.localDescription!.toJSON() });
          }
          for (const c of pending.splice(0)) await pc.addIceCandidate(c);
        } else if (m.candidate) {
          if (pc.remoteDescription) await pc.addIceCandidate(m.candidate);
          else pending.push(m.candidate);
        }
      })
      .catch((e: unknown) => {
        failure = e;
      });
  };
  for (const m of early.splice(0)) onSignal(m);

  if (role === 'caller') {
    await pc.setLocalDescription(await pc.createOffer());
    send({ sdp: pc.localDescription!.toJSON() });
  }
  await waitFor(() => {
    if (failure) throw failure;
    return pc.connectionState === 'connected';
  }, `${role} connected`);
  await waitFor(() => mediaFlowing(pc), `${role} sending and receiving audio and video`);
  await waitFor(() => pc.iceGatheringState === 'complete', `${role} ICE gathering complete`);
  return { peer: await result(pc, stream, remoteKinds), candidates };
}

/** Close everything this page opened. */
function hangup(): void {
  for (const pc of open.pcs.splice(0)) pc.close();
  for (const s of open.streams.splice(0)) s.getTracks().forEach((t) => t.stop());
  for (const ws of open.sockets.splice(0)) ws.close();
}

const smoke = { loopbackCall, relayCall, hangup };
declare global {
  interface Window {
    smoke: typeof smoke;
  }
}
window.smoke = smoke;
