// @observertc/client-monitor-js 4 as an app uses it: a ClientMonitor with the RTCPeerConnection
// added as a source; one poll = monitor.collect() (getStats, every monitor's update, detectors,
// score calculator) and, with collecting = sampling = 1 s, createSample(). Its own collecting
// timer is cleared so that only the harness polls. Sending the sample is the app's job (not timed).
import { ClientMonitor } from '@observertc/client-monitor-js';
import { FakePeerConnection, fetchFixture, register, sleep, timePolls } from './common';

register({
  async run(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    FakePeerConnection.sdp = { local: fx.localSDP, remote: fx.remoteSDP };
    const monitor = new ClientMonitor({ collectingPeriodInMs: 1000, samplingPeriodInMs: 1000, integrateNavigatorMediaDevices: false });
    clearInterval((monitor as unknown as { _timer: number })._timer);
    let samples = 0;
    monitor.on('sample-created', () => {
      samples++;
    });
    const pc = new FakePeerConnection();
    monitor.addSource(pc, 'RTCPeerConnection');
    await sleep(50);
    if (monitor.peerConnections.length !== 1) throw new Error('ClientMonitor did not take the peer connection');
    const r = await timePolls({ polls: fx.polls, poll: () => monitor.collect() });
    if (!samples) throw new Error('ClientMonitor created no sample');
    const inbound = monitor.inboundRtps.length;
    monitor.close();
    return { ...r, samples, inboundRtps: inbound };
  },
});
