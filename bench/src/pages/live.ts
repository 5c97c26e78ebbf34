// getStats() in real Chromium, for the two shapes of the recorded fixtures:
// - p2p: a 1:1 audio+video call between two RTCPeerConnections of this page (the caller is measured);
// - sfu: one PC sending 10 audio + 10 video tracks (160x120@10) to a receiving PC, as an SFU would
//   (the receiver, with 20 inbound streams, is measured).
// Fake camera and microphone; remote media attached to elements. Spaced calls (Chromium caches a
// report for ~50 ms) are timed from the call to the resolution. Callmetry's stats processor then
// runs on each live report as the first work after it (timed alone), then a bare forEach over the
// same report (what any reader of the report pays at the least).
import { createStatsProcessor, StreamMappings } from '../../../packages/core/src/stats/index';
import { realNow, register, sleep } from './common';

type Scenario = 'p2p' | 'sfu';

function attachRemoteMedia(pc: RTCPeerConnection): void {
  pc.ontrack = (e) => {
    const el = document.createElement(e.track.kind === 'audio' ? 'audio' : 'video') as HTMLMediaElement;
    el.autoplay = true;
    el.muted = e.track.kind === 'video';
    el.srcObject = new MediaStream([e.track]);
    document.body.appendChild(el);
    void el.play().catch(() => {});
  };
}

async function connect(a: RTCPeerConnection, b: RTCPeerConnection): Promise<void> {
  a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
  b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription as RTCSessionDescriptionInit);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription as RTCSessionDescriptionInit);
  for (let i = 0; i < 200 && (a.connectionState !== 'connected' || b.connectionState !== 'connected'); i++) await sleep(25);
  if (a.connectionState !== 'connected') throw new Error(`the call did not connect (${a.connectionState})`);
}

/** The pair for a scenario; `measured` is the PC whose getStats() is timed. */
async function setUp(scenario: Scenario): Promise<{ measured: RTCPeerConnection; pcs: RTCPeerConnection[] }> {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  attachRemoteMedia(a);
  attachRemoteMedia(b);
  if (scenario === 'p2p') {
    for (const pc of [a, b]) {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      s.getTracks().forEach((t) => pc.addTrack(t, s));
    }
    await connect(a, b);
    return { measured: a, pcs: [a, b] };
  }
  const base = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 160, height: 120, frameRate: 10 } });
  for (let i = 0; i < 10; i++) {
    const s = new MediaStream([base.getAudioTracks()[0]!.clone(), base.getVideoTracks()[0]!.clone()]);
    s.getTracks().forEach((t) => a.addTransceiver(t, { direction: 'sendonly', streams: [s] }));
  }
  await connect(a, b);
  return { measured: b, pcs: [a, b] };
}

register({
  async run(arg: { scenario: Scenario; calls: number; spacingMs: number; warmupMs: number }) {
    const { measured, pcs } = await setUp(arg.scenario);
    await sleep(arg.warmupMs); // remote-inbound-rtp shows up after the first RTCP receiver reports
    const processor = createStatsProcessor();
    const context = {
      localUserID: 'alice',
      remoteUserID: 'bob',
      localSDP: measured.localDescription?.sdp,
      remoteSDP: measured.remoteDescription?.sdp,
      mappings: new StreamMappings(),
      collectIP: false,
    };
    const getStatsMs: number[] = [];
    const processUs: number[] = [];
    // The floor any reader pays: Chromium builds a JS object for an RTCStatsReport entry each time
    // one is read; one forEach over the report reads every entry once.
    const readUs: number[] = [];
    let entries = 0;
    let inbound = 0;
    let streams = 0;
    let sink = 0;
    const live: RTCStatsReport[] = [];
    for (let i = 0; i < arg.calls + 5; i++) {
      await sleep(arg.spacingMs);
      const t0 = realNow();
      const report = await measured.getStats();
      const t1 = realNow();
      const out = processor.process(report as never, context, Date.now());
      const t2 = realNow();
      report.forEach((e: { timestamp?: number }) => void (sink += e.timestamp ? 1 : 0));
      const t3 = realNow();
      if (i < 5) continue; // warm-up (JIT) calls
      getStatsMs.push(t1 - t0);
      processUs.push((t2 - t1) * 1000);
      readUs.push((t3 - t2) * 1000);
      entries = report.size;
      inbound = out.streams.filter((s) => s.statsType === 'inbound-rtp').length;
      streams = out.streams.length;
      live.push(report);
    }
    // Hot: the same live reports again, back to back (JIT-warm and cache-warm, as with many
    // fabrics), three ways interleaved pass by pass so that drift and GC fall on all three alike:
    // the processor on the live reports, a bare forEach over them, and the processor on plain
    // copies of their entries (what it costs on the same data without Chromium's entry objects,
    // comparable with the recorded-report figure). Per pass: µs per report.
    const copies = live.map((r) => {
      const m = new Map<string, object>();
      r.forEach((e: object, k: string) => m.set(k, { ...e }));
      return m;
    });
    const warmUs: number[] = [];
    const warmReadUs: number[] = [];
    const copiesUs: number[] = [];
    const perReport = (t0: number): number => ((realNow() - t0) * 1000) / live.length;
    for (let pass = 0; pass < 70; pass++) {
      let p = createStatsProcessor();
      let t0 = realNow();
      for (const r of live) p.process(r as never, context, Date.now());
      const proc = perReport(t0);
      t0 = realNow();
      for (const r of live) r.forEach((e: { timestamp?: number }) => void (sink += e.timestamp ? 1 : 0));
      const read = perReport(t0);
      p = createStatsProcessor();
      t0 = realNow();
      for (const r of copies) p.process(r as never, context, Date.now());
      const copy = perReport(t0);
      if (pass < 10) continue; // warm-up passes
      warmUs.push(proc);
      warmReadUs.push(read);
      copiesUs.push(copy);
    }
    for (const pc of pcs) pc.close();
    return { getStatsMs, processUs, warmUs, readUs, warmReadUs, copiesUs, entries, inbound, streams, sink, isolated: crossOriginIsolated };
  },
});
