// Page bundle for stats.browser.test.ts: real RTCPeerConnections in Chromium, and the stats
// processor (bundled from source) fed with the page's real getStats reports.
import { createStatsProcessor, StreamMappings, type ProcessedStats, type StatsProcessor } from '../../src/stats';
import type { StreamMapping, StreamSelector } from '../../src/types';

interface Call {
  sender: RTCPeerConnection;
  receiver: RTCPeerConnection;
  processors: Map<RTCPeerConnection, StatsProcessor>;
  mappings: StreamMappings;
}

const calls = new Map<number, Call>();
let nextId = 0;

function attach(track: MediaStreamTrack): void {
  const el = document.createElement(track.kind === 'audio' ? 'audio' : 'video');
  el.autoplay = true;
  if (el instanceof HTMLVideoElement) el.muted = true;
  el.srcObject = new MediaStream([track]);
  document.body.appendChild(el);
  void el.play().catch(() => {});
}

async function connect(a: RTCPeerConnection, b: RTCPeerConnection): Promise<void> {
  a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate).catch(() => {}));
  b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate).catch(() => {}));
  b.ontrack = (e) => attach(e.track);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  const up = (pc: RTCPeerConnection) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        else if (pc.connectionState === 'failed') reject(new Error('connection failed'));
      };
      pc.addEventListener('connectionstatechange', check);
      check();
    });
  await Promise.all([up(a), up(b)]);
}

function register(sender: RTCPeerConnection, receiver: RTCPeerConnection): number {
  const id = ++nextId;
  calls.set(id, {
    sender,
    receiver,
    processors: new Map([
      [sender, createStatsProcessor()],
      [receiver, createStatsProcessor()],
    ]),
    mappings: new StreamMappings(),
  });
  return id;
}

function call(id: number): Call {
  const c = calls.get(id);
  if (!c) throw new Error(`no call ${id}`);
  return c;
}

/** What the test needs from the raw report, to check the processor independently. */
export interface RawView {
  rtp: Array<{ type: string; kind: string; ssrc: string; mid?: string; bytes: number; timestamp: number }>;
  selectedPairRttMs?: number;
}

export interface PollResult {
  processed: ProcessedStats;
  raw: RawView;
  /** performance.now() when getStats resolved (a clock independent of the stats timestamps). */
  at: number;
}

function rawView(report: RTCStatsReport): RawView {
  const raw: RawView = { rtp: [] };
  let pairId: string | undefined;
  report.forEach((e: Record<string, unknown>) => {
    if (e.type === 'inbound-rtp' || e.type === 'outbound-rtp') {
      raw.rtp.push({
        type: String(e.type),
        kind: String(e.kind),
        ssrc: String(e.ssrc),
        ...(typeof e.mid === 'string' ? { mid: e.mid } : {}),
        bytes: Number(e.type === 'inbound-rtp' ? e.bytesReceived : e.bytesSent),
        timestamp: Number(e.timestamp),
      });
    }
    if (e.type === 'transport' && typeof e.selectedCandidatePairId === 'string') pairId = e.selectedCandidatePairId;
  });
  const pair = pairId ? (report.get(pairId) as Record<string, unknown> | undefined) : undefined;
  if (pair && typeof pair.currentRoundTripTime === 'number') raw.selectedPairRttMs = pair.currentRoundTripTime * 1000;
  return raw;
}

const lab = {
  /** 1:1 audio + video (640x480) from sender to receiver; video capped with setParameters. */
  async p2p(maxBitrateKbps: number): Promise<number> {
    const sender = new RTCPeerConnection();
    const receiver = new RTCPeerConnection();
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    for (const t of media.getTracks()) sender.addTrack(t, media);
    await connect(sender, receiver);
    const video = sender.getSenders().find((s) => s.track?.kind === 'video');
    if (!video) throw new Error('no video sender');
    const params = video.getParameters();
    const encoding = params.encodings[0];
    if (!encoding) throw new Error('no encoding');
    encoding.maxBitrate = maxBitrateKbps * 1000;
    await video.setParameters(params);
    return register(sender, receiver);
  },

  /** An SFU stand-in: `n` audio + `n` video tracks from one PC to another. */
  async sfu(n: number): Promise<number> {
    const sender = new RTCPeerConnection();
    const receiver = new RTCPeerConnection();
    const base = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 160, height: 120, frameRate: 10 } });
    for (let i = 0; i < n; i++) {
      const s = new MediaStream([base.getAudioTracks()[0]!.clone(), base.getVideoTracks()[0]!.clone()]);
      for (const t of s.getTracks()) sender.addTransceiver(t, { direction: 'sendonly', streams: [s] });
    }
    await connect(sender, receiver);
    return register(sender, receiver);
  },

  setMapping(id: number, selector: StreamSelector, mapping: StreamMapping): boolean {
    return call(id).mappings.set(selector, mapping);
  },

  remoteSDP(id: number): string {
    return call(id).receiver.remoteDescription?.sdp ?? '';
  },

  /** getStats of one side, processed in the page by the bundled processor. */
  async poll(id: number, which: 'sender' | 'receiver'): Promise<PollResult> {
    const c = call(id);
    const pc = which === 'sender' ? c.sender : c.receiver;
    const report = await pc.getStats();
    const at = performance.now();
    const processor = c.processors.get(pc)!;
    const processed = processor.process(
      report,
      {
        localUserID: which,
        remoteUserID: which === 'sender' ? 'receiver' : 'sender',
        localSDP: pc.localDescription?.sdp,
        remoteSDP: pc.remoteDescription?.sdp,
        mappings: c.mappings,
        collectIP: true,
      },
      Date.now(),
    );
    return { processed, raw: rawView(report), at };
  },

  close(id: number): void {
    const c = call(id);
    c.sender.close();
    c.receiver.close();
    calls.delete(id);
  },
};

declare global {
  interface Window {
    statsLab: typeof lab;
  }
}
window.statsLab = lab;
