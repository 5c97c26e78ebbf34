// Callmetry's stats processor alone: createStatsProcessor().process(report, context, now) with the
// context a fabric gives it (users, both SDPs, stream mappings as an SFU app sets them).
import { createStatsProcessor, StreamMappings } from '../../../packages/core/src/stats/index';
import { fetchFixture, register, timePolls } from './common';

register({
  async run(arg: { fixture: string }) {
    const fx = await fetchFixture(arg.fixture);
    const mappings = new StreamMappings();
    // An SFU app maps each remote stream to its sender (associateMstWithUserID / mapStream).
    const inbound = (fx.polls[fx.polls.length - 1] ?? []).filter((e) => e.type === 'inbound-rtp');
    if (inbound.length > 2) inbound.forEach((e, i) => mappings.set({ ssrc: String(e.ssrc) }, { userID: `user-${Math.floor(i / 2)}`, usageLabel: 'camera' }));
    const context = { localUserID: 'alice', remoteUserID: 'bob', localSDP: fx.localSDP, remoteSDP: fx.remoteSDP, mappings, collectIP: false };
    const processor = createStatsProcessor();
    let streams = 0;
    const r = await timePolls({
      polls: fx.polls,
      poll: (report) => {
        streams = processor.process(report, context, Date.now()).streams.length;
      },
    });
    return { ...r, streams, stateSize: processor.stateSize() };
  },
});
