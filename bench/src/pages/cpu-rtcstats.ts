// @jitsi/rtcstats 9.7.1 as an app uses it: trace-ws (its sender) + rtcstats (which wraps
// window.RTCPeerConnection and polls getStats on a setInterval). The harness fires the captured
// interval; the timed work is the interval callback -> getStats resolution -> map2obj, JSON clone,
// deltaCompression, obfuscator, the trace's JSON.stringify twice and WebSocket.send.
import rtcstats from '@jitsi/rtcstats/rtcstats';
import traceWs from '@jitsi/rtcstats/trace-ws';
import { FakePeerConnection, FakeWebSocket, captureIntervals, fetchFixture, register, reportOf, settle, sleep, timePolls } from './common';

interface Trace {
  statsEntry: (...a: unknown[]) => void;
  connect: (isBreakoutRoom: boolean) => void;
}

(window as unknown as { WebSocket: unknown }).WebSocket = FakeWebSocket;
// rtcstats-server answers a new connection with the last sequence number it has ("initial").
FakeWebSocket.server = { hello: () => [JSON.stringify({ type: 'sn', body: { value: 0, state: 'initial' } })] };
(window as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = FakePeerConnection;
const intervals = captureIntervals(1000);
const trace = (traceWs as unknown as (o: Record<string, unknown>) => Trace)({
  endpoint: 'ws://127.0.0.1:9',
  meetingFqn: 'bench/conference',
  onCloseCallback: () => {},
});
(rtcstats as unknown as (t: Trace, o: Record<string, unknown>) => void)(trace, { pollInterval: 1000 });
trace.connect(false);

async function newPc(fx: { localSDP: string; remoteSDP: string }): Promise<() => unknown> {
  FakePeerConnection.sdp = { local: fx.localSDP, remote: fx.remoteSDP };
  const before = intervals.length;
  new (window as unknown as { RTCPeerConnection: new (c: unknown) => unknown }).RTCPeerConnection({ iceServers: [] });
  if (intervals.length !== before + 1) throw new Error(`rtcstats set ${intervals.length - before} 1 s intervals for one pc`);
  await sleep(20);
  return intervals[intervals.length - 1] as () => unknown;
}

register({
  async run(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    const fire = await newPc(fx);
    const r = await timePolls({ polls: fx.polls, poll: () => fire() });
    return { ...r, framesSent: FakeWebSocket.sentFrames };
  },
  async wire(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    const fire = await newPc(fx); // a new pc: its delta compression starts from nothing, as ours
    const perPoll: Array<{ frame: string }> = [];
    FakeWebSocket.recording = true;
    for (const entries of fx.polls) {
      FakeWebSocket.frames = [];
      FakePeerConnection.nextReport = reportOf(entries);
      fire();
      await settle();
      const frames = FakeWebSocket.frames.filter((f) => f.includes('getstats'));
      if (frames.length !== 1) throw new Error(`expected one getstats frame per poll, got ${frames.length}`);
      perPoll.push({ frame: frames[0] as string });
    }
    FakeWebSocket.recording = false;
    return { perPoll };
  },
});
