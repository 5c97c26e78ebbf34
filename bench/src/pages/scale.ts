// 50 monitored RTCPeerConnections in one page: 25 connected pairs, each side sending audio and a
// small video (160x120 at 10 fps, to keep 2 cores from saturating on encoding) to the other. The
// SDK is the built dist/callstats.min.js loaded as its own script (window.Callmetry), so that the
// CPU profile can attribute main-thread time to it by script URL. Its transport talks to a
// WebSocket stand-in that acknowledges like the collector.
import type * as Core from '../../../packages/core/src/index';
import type { Fabric, Monitor } from '../../../packages/core/src/types';
import { FakeWebSocket, callmetryServer, installTokenFetch, register, sleep } from './common';

(window as unknown as { WebSocket: unknown }).WebSocket = FakeWebSocket;
FakeWebSocket.server = callmetryServer();
installTokenFetch();

const Callmetry = (globalThis as unknown as { Callmetry: typeof Core }).Callmetry;
let monitor: Monitor | undefined;
/** Polls done (one 'sample' event per fabric poll). */
let samples = 0;
const fabrics: Fabric[] = [];
const pcs: RTCPeerConnection[] = [];

async function pair(stream: MediaStream): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
  b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  stream.getTracks().forEach((t) => b.addTrack(t, stream));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription as RTCSessionDescriptionInit);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription as RTCSessionDescriptionInit);
  return [a, b];
}

register({
  async setup(arg: { pairs: number }) {
    if (!Callmetry?.createMonitor) throw new Error('window.Callmetry missing: dist/callstats.min.js not loaded');
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 160, height: 120, frameRate: 10 },
    });
    for (let i = 0; i < arg.pairs; i++) pcs.push(...(await pair(stream)));
    for (let i = 0; i < 400 && pcs.some((pc) => pc.connectionState !== 'connected'); i++) await sleep(25);
    const connected = pcs.filter((pc) => pc.connectionState === 'connected').length;
    if (connected !== pcs.length) throw new Error(`${connected} of ${pcs.length} peer connections connected`);
    monitor = Callmetry.createMonitor({
      appID: 'bench',
      appSecret: 'bench-secret',
      localUserID: 'alice',
      collectorURL: location.origin,
      statsIntervalMs: 1000,
      logger: { debug() {}, info() {}, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) },
    });
    monitor.on('sample', () => {
      samples++;
    });
    const ready = await monitor.ready;
    if (ready.status !== 'success') throw new Error(`monitor not ready: ${ready.message}`);
    pcs.forEach((pc, i) => {
      const f = monitor?.addFabric(pc as never, { remoteUserID: `peer-${i ^ 1}`, conferenceID: `room-${i >> 1}` });
      if (!f) throw new Error(`addFabric refused pc ${i}`);
      fabrics.push(f);
    });
    return { pcs: pcs.length, fabrics: fabrics.length };
  },

  /** Resolves once the monitor has done this many polls in total (all fabrics, 1 s timers). */
  async waitPolls(arg: { polls: number; timeoutMs: number }) {
    const until = performance.now() + arg.timeoutMs;
    while (samples < arg.polls && performance.now() < until) await sleep(50);
    return { samples };
  },

  status() {
    const s = monitor?.transportStatus();
    const streams = fabrics.reduce((n, f) => n + (f.latestStats()?.mediaStreamTracks.length ?? 0), 0);
    return { samples, transport: s?.state, dropped: s?.droppedSamples, streams, framesSent: FakeWebSocket.sentFrames, bytesSent: FakeWebSocket.sentBytes };
  },
});
