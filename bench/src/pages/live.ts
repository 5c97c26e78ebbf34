// getStats() in real Chromium: a 1:1 audio+video call between two RTCPeerConnections of this page
// (fake camera and microphone, remote media attached to elements). Spaced calls (Chromium caches a
// report for ~50 ms) are timed from the call to the resolution; Callmetry's stats processor runs
// on each live report right after it (timed on its own).
import { createStatsProcessor, StreamMappings } from '../../../packages/core/src/stats/index';
import { realNow, register, sleep } from './common';

async function connectPair(): Promise<{ caller: RTCPeerConnection; callee: RTCPeerConnection }> {
  const caller = new RTCPeerConnection();
  const callee = new RTCPeerConnection();
  caller.onicecandidate = (e) => void (e.candidate && callee.addIceCandidate(e.candidate));
  callee.onicecandidate = (e) => void (e.candidate && caller.addIceCandidate(e.candidate));
  for (const pc of [caller, callee]) {
    pc.ontrack = (e) => {
      const el = document.createElement(e.track.kind === 'audio' ? 'audio' : 'video') as HTMLMediaElement;
      el.autoplay = true;
      el.muted = e.track.kind === 'video';
      el.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      document.body.appendChild(el);
      void el.play().catch(() => {});
    };
  }
  const a = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const b = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  a.getTracks().forEach((t) => caller.addTrack(t, a));
  b.getTracks().forEach((t) => callee.addTrack(t, b));
  await caller.setLocalDescription(await caller.createOffer());
  await callee.setRemoteDescription(caller.localDescription as RTCSessionDescriptionInit);
  await callee.setLocalDescription(await callee.createAnswer());
  await caller.setRemoteDescription(callee.localDescription as RTCSessionDescriptionInit);
  for (let i = 0; i < 200 && caller.connectionState !== 'connected'; i++) await sleep(25);
  if (caller.connectionState !== 'connected') throw new Error(`the 1:1 call did not connect (${caller.connectionState})`);
  return { caller, callee };
}

register({
  async run(arg: { calls: number; spacingMs: number; warmupMs: number }) {
    const { caller } = await connectPair();
    await sleep(arg.warmupMs); // remote-inbound-rtp shows up after the first RTCP receiver reports
    const processor = createStatsProcessor();
    const context = {
      localUserID: 'alice',
      remoteUserID: 'bob',
      localSDP: caller.localDescription?.sdp,
      remoteSDP: caller.remoteDescription?.sdp,
      mappings: new StreamMappings(),
      collectIP: false,
    };
    const getStatsMs: number[] = [];
    const processUs: number[] = [];
    let entries = 0;
    let streams = 0;
    const live: unknown[] = [];
    // The floor any SDK pays: Chromium builds a JS object for an RTCStatsReport entry each time one
    // is read; one forEach over the report reads every entry once.
    const readUs: number[] = [];
    let sink = 0;
    for (let i = 0; i < arg.calls + 5; i++) {
      await sleep(arg.spacingMs);
      const t0 = realNow();
      const report = await caller.getStats();
      const t1 = realNow();
      const out = processor.process(report as never, context, Date.now());
      const t2 = realNow();
      report.forEach((e: { timestamp?: number }) => {
        sink += e.timestamp ? 1 : 0;
      });
      const t3 = realNow();
      if (i < 5) continue; // warm-up (JIT) calls
      getStatsMs.push(t1 - t0);
      processUs.push((t2 - t1) * 1000);
      readUs.push((t3 - t2) * 1000);
      entries = report.size;
      streams = out.streams.length;
      live.push(report);
    }
    // The same live reports again, back to back on a fresh processor (JIT-warm, as with many
    // fabrics): the cost when the code is hot. Passes of all reports, timed together.
    const warmUs: number[] = [];
    for (let pass = 0; pass < 60; pass++) {
      const p = createStatsProcessor();
      p.process(live[0] as never, context, Date.now());
      const t0 = realNow();
      for (let i = 1; i < live.length; i++) p.process(live[i] as never, context, Date.now());
      const dt = realNow() - t0;
      if (pass >= 10) warmUs.push((dt * 1000) / (live.length - 1));
    }
    const warmReadUs: number[] = [];
    for (let pass = 0; pass < 60; pass++) {
      const t0 = realNow();
      for (const r of live) (r as RTCStatsReport).forEach((e: { timestamp?: number }) => void (sink += e.timestamp ? 1 : 0));
      if (pass >= 10) warmReadUs.push(((realNow() - t0) * 1000) / live.length);
    }
    return { getStatsMs, processUs, warmUs, readUs, warmReadUs, entries, streams, sink, isolated: crossOriginIsolated };
  },
});
