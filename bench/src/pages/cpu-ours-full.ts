// Callmetry's whole poll as a fabric runs it: fabric.pollNow() = getStats (resolved at once) +
// processor + the sample (callstats.js callback shape) + the wire item + the transport's
// sanitizing, delta coding and JSON serialization into its outbox. The WebSocket is a stand-in that
// acknowledges like the collector; the token request is answered by a window.fetch stand-in.
// Also records the wire frames of one pass through the recorded session (section 3).
import { createMonitor } from '../../../packages/core/src/index';
import type { Fabric, Monitor } from '../../../packages/core/src/types';
import {
  FakePeerConnection,
  FakeWebSocket,
  callmetryServer,
  fetchFixture,
  installTokenFetch,
  register,
  reportOf,
  sleep,
  timePolls,
  type PageFixture,
} from './common';

(window as unknown as { WebSocket: unknown }).WebSocket = FakeWebSocket;
FakeWebSocket.server = callmetryServer();
installTokenFetch();

async function setup(fx: PageFixture, batchIntervalMs?: number, local = false): Promise<{ monitor: Monitor; fabric: Fabric }> {
  FakePeerConnection.sdp = { local: fx.localSDP, remote: fx.remoteSDP };
  const monitor = createMonitor({
    appID: 'bench',
    appSecret: 'bench-secret',
    localUserID: 'alice',
    // local: no collector, so no transport (callbacks only): the difference to the full poll is the transport.
    ...(local ? {} : { collectorURL: location.origin }),
    // Polls come from the harness (pollNow), not from the fabric's own 1 s timer.
    statsIntervalMs: 3_600_000,
    ...(batchIntervalMs !== undefined ? { transport: { batchIntervalMs } } : {}),
    logger: { debug() {}, info() {}, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) },
  });
  const ready = await monitor.ready;
  if (ready.status !== 'success') throw new Error(`monitor not ready: ${ready.message}`);
  const pc = new FakePeerConnection();
  const sfu = fx.name === 'sfu';
  const fabric = monitor.addFabric(pc as never, { remoteUserID: sfu ? 'sfu' : 'bob', conferenceID: 'bench-conference', remoteEndpointType: sfu ? 'server' : 'peer' });
  if (!fabric) throw new Error('addFabric refused the fake peer connection');
  if (sfu) {
    const inbound = (fx.polls[fx.polls.length - 1] ?? []).filter((e) => e.type === 'inbound-rtp');
    inbound.forEach((e, i) => fabric.mapStream({ ssrc: String(e.ssrc) }, { userID: `user-${Math.floor(i / 2)}`, usageLabel: 'camera' }));
  }
  // Let the WebSocket open and the fabric/event items go out.
  for (let i = 0; i < 50 && !local && monitor.transportStatus().state !== 'connected'; i++) await sleep(10);
  await sleep(50);
  return { monitor, fabric };
}

register({
  async run(arg: { fixture: string; local?: boolean }) {
    const fx = await fetchFixture(arg.fixture);
    const { monitor, fabric } = await setup(fx, undefined, arg.local === true);
    let streams = 0;
    const r = await timePolls({
      polls: fx.polls,
      poll: async () => {
        streams = (await fabric.pollNow())?.mediaStreamTracks.length ?? 0;
      },
    });
    const status = monitor.transportStatus();
    await monitor.close();
    return { ...r, streams, transport: status.state, framesSent: FakeWebSocket.sentFrames };
  },

  /** One pass through the recording on a fresh monitor: the frames each poll put on the wire. */
  async wire(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    // One stats item per batch (the most envelope overhead per sample; at 1 s sampling and the
    // default 1 s batching a batch holds one or two samples of a fabric).
    const { monitor, fabric } = await setup(fx, 0);
    const perPoll: Array<{ frame: string; statsItem: string }> = [];
    FakeWebSocket.recording = true;
    for (const entries of fx.polls) {
      FakeWebSocket.frames = [];
      FakePeerConnection.nextReport = reportOf(entries);
      await fabric.pollNow();
      for (let i = 0; i < 100 && !FakeWebSocket.frames.some((f) => f.includes('"kind":"stats"')); i++) await sleep(5);
      const frame = FakeWebSocket.frames.find((f) => f.includes('"kind":"stats"'));
      if (!frame) throw new Error('no stats frame was sent for a poll');
      const items = (JSON.parse(frame) as { items: Array<{ kind: string }> }).items;
      const stats = items.filter((i) => i.kind === 'stats');
      if (items.length !== 1 || stats.length !== 1) throw new Error(`expected one stats item per frame, got ${items.map((i) => i.kind).join(',')}`);
      perPoll.push({ frame, statsItem: JSON.stringify(stats[0]) });
      await sleep(5); // the ack
    }
    FakeWebSocket.recording = false;
    await monitor.close();
    return { perPoll };
  },
});
