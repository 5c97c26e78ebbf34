// @testrtc/watchrtc-sdk as an app uses it: init() wraps window.RTCPeerConnection; 3 s after the
// first signalingstatechange it opens its WebSocket and starts its collection setInterval. The
// harness fires that captured interval; the timed work is the interval callback -> getStats
// resolution -> map2obj, JSON clone, RTT patch, raw-stats stash, deltaCompression, trace (with the
// default sendInterval 1: JSON.stringify + LZString compression + WebSocket.send per poll) and the
// application stats it exposes.
import watchRTC from '@testrtc/watchrtc-sdk';
import { FakePeerConnection, FakeWebSocket, captureIntervals, fetchFixture, register, sleep, timePolls } from './common';

(window as unknown as { WebSocket: unknown }).WebSocket = FakeWebSocket;
// What watchRTC's server sends on connect (fields the SDK reads; interval = the one configured).
FakeWebSocket.server = {
  hello: () => [JSON.stringify({ connectionId: 'bench', interval: 1000, projectId: 'bench', collectConsoleLogEnabled: false })],
};
(window as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = FakePeerConnection;
const intervals = captureIntervals(1000);

let fire: (() => unknown) | undefined;

register({
  async run(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    FakePeerConnection.sdp = { local: fx.localSDP, remote: fx.remoteSDP };
    if (!fire) {
      (watchRTC as unknown as { init: (c: Record<string, unknown>) => void }).init({
        rtcApiKey: 'bench-api-key',
        rtcRoomId: 'bench-room',
        rtcPeerId: 'bench-peer',
        collectionInterval: 1000,
        logLevel: 'silent',
      });
      const pc = new (window as unknown as { RTCPeerConnection: new (c: unknown) => EventTarget }).RTCPeerConnection({ iceServers: [] });
      pc.dispatchEvent(new Event('signalingstatechange'));
      for (let i = 0; i < 100 && intervals.length === 0; i++) await sleep(50);
      if (intervals.length !== 1) throw new Error(`watchRTC started ${intervals.length} 1 s intervals (expected its collection interval)`);
      fire = intervals[0];
      await sleep(100);
    }
    const f = fire as () => unknown;
    const calls = FakePeerConnection.getStatsCalls;
    const r = await timePolls({ polls: fx.polls, poll: () => f() });
    if (FakePeerConnection.getStatsCalls === calls) throw new Error('watchRTC did not call getStats');
    return { ...r, framesSent: FakeWebSocket.sentFrames, bytesSent: FakeWebSocket.sentBytes };
  },
});
