// Memory stays flat: the processor's state is bounded by the live streams, however long the call.
// Asserts on the processor's own state size (stateSize), not on heap timing.
import { describe, expect, it } from 'vitest';
import type { StatsEntry, StatsReportLike } from '../../src/types';
import { StreamMappings } from '../../src/stats/mapping';
import { createStatsProcessor } from '../../src/stats/processor';
import { sdpCacheSize } from '../../src/stats/sdp';
import { loadFixture, reportOf, side } from '../fixtures/load';

/**
 * Replays a recording for ever: one private copy of the polls whose timestamps (and, for churn,
 * SSRCs) are rewritten in place before each poll, so 20,000 polls need no 20,000 copies. (The
 * processor keeps no reference to an entry after process() returns, which makes this valid.)
 */
function replayer(polls: readonly StatsEntry[][]) {
  const copy = structuredClone(polls) as StatsEntry[][];
  const original = copy.map((poll) => poll.map((e) => ({ timestamp: e.timestamp, ssrc: e.ssrc })));
  return (cycle: number, index: number, cycleMs: number, ssrcOffset = 0): StatsReportLike => {
    const poll = copy[index] ?? [];
    const orig = original[index] ?? [];
    poll.forEach((e, k) => {
      const o = orig[k];
      if (!o) return;
      e.timestamp = o.timestamp + cycle * cycleMs;
      if (typeof o.ssrc === 'number') e.ssrc = o.ssrc + ssrcOffset;
    });
    return reportOf(poll);
  };
}

describe('processor memory over 20,000 polls', () => {
  for (const [file, name, streams] of [
    ['chromium/p2p-audio-video.json', 'caller', 4],
    ['chromium/sfu-20-inbound.json', 'receiver', 20],
    ['firefox/p2p-audio-video.json', 'caller', 4],
    ['firefox/sfu-20-inbound.json', 'receiver', 20],
  ] as const) {
    it(`${file}: state size stays at the number of live streams`, () => {
      const s = side(loadFixture(file), name);
      const first = s.polls[0]?.[0]?.timestamp ?? 0;
      const last = s.polls[s.polls.length - 1]?.[0]?.timestamp ?? 0;
      const cycleMs = last - first + 1000;
      const p = createStatsProcessor();
      const ctx = {
        localUserID: 'a',
        remoteUserID: 'b',
        localSDP: s.localSDP,
        remoteSDP: s.remoteSDP,
        mappings: new StreamMappings(),
        collectIP: false,
      };
      const replay = replayer(s.polls);
      const sizes = new Set<number>();
      let streamsOut = 0;
      for (let i = 0; i < 20_000; i++) {
        const cycle = Math.floor(i / s.polls.length);
        const r = p.process(replay(cycle, i % s.polls.length, cycleMs), ctx, 0);
        streamsOut = r.streams.length;
        if (i % 1000 === 999) sizes.add(p.stateSize());
      }
      expect(streamsOut).toBe(streams);
      expect(Math.max(...sizes)).toBe(streams);
    });
  }

  it('SSRC churn (every cycle new SSRCs): old streams are forgotten, state stays bounded', () => {
    const s = side(loadFixture('chromium/p2p-audio-video.json'), 'caller');
    const forgetAfterPolls = 5;
    const p = createStatsProcessor({ forgetAfterPolls });
    const ctx = { localUserID: 'a', remoteUserID: 'b', mappings: new StreamMappings(), collectIP: false };
    const replay = replayer(s.polls);
    let max = 0;
    for (let i = 0; i < 20_000; i++) {
      const cycle = Math.floor(i / s.polls.length);
      p.process(replay(cycle, i % s.polls.length, 20_000, cycle), ctx, 0);
      max = Math.max(max, p.stateSize());
    }
    // At most the live 4 streams plus the 4 of the previous SSRC generation not yet forgotten.
    expect(max).toBeLessThanOrEqual(8);
  });

  it('changing SDPs do not grow the SDP cache without bound', () => {
    const s = side(loadFixture('chromium/p2p-audio-video.json'), 'caller');
    const p = createStatsProcessor();
    const replay = replayer(s.polls);
    for (let i = 0; i < 2000; i++) {
      p.process(replay(i, 3, 1000), {
        localUserID: 'a',
        remoteUserID: 'b',
        localSDP: `${s.localSDP}a=x-renegotiation:${i}\r\n`,
        remoteSDP: s.remoteSDP,
        mappings: new StreamMappings(),
        collectIP: false,
      }, 0);
    }
    expect(sdpCacheSize()).toBeLessThanOrEqual(32);
  });
});
