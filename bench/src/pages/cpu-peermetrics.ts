// @peermetrics/webrtc-stats 5 as an app uses it: new WebRTCStats() + addConnection({pc, peerId}).
// Its 1 s setInterval body is `this.getStats().then(events => events.forEach(e => this.emitEvent(e)))`;
// the harness runs exactly that body (getStats: pc.getStats, map2obj, parseStats with the
// previous poll; emitEvent: timeline + 'stats' event), its own interval captured and never fired.
import { WebRTCStats } from '@peermetrics/webrtc-stats';
import { FakePeerConnection, captureIntervals, fetchFixture, register, timePolls } from './common';

(window as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = FakePeerConnection;
captureIntervals(1000);

interface Internals {
  getStats(): Promise<unknown[]>;
  emitEvent(e: unknown): void;
  addConnection(o: { pc: unknown; peerId: string }): Promise<unknown>;
  on(ev: string, f: (e: unknown) => void): void;
}

register({
  async run(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    FakePeerConnection.sdp = { local: fx.localSDP, remote: fx.remoteSDP };
    const stats = new (WebRTCStats as unknown as new (o: Record<string, unknown>) => Internals)({ getStatsInterval: 1000 });
    let events = 0;
    stats.on('stats', () => {
      events++;
    });
    await stats.addConnection({ pc: new FakePeerConnection(), peerId: 'bob' });
    const r = await timePolls({
      polls: fx.polls,
      poll: async () => {
        const list = await stats.getStats();
        list.forEach((e) => stats.emitEvent(e));
      },
    });
    if (!events) throw new Error('WebRTCStats emitted no stats event');
    return { ...r, events };
  },
});
