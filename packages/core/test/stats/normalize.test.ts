// The whole normalization chain over each browser's fixture: the same NormalizedReport shape.
import { describe, expect, it } from 'vitest';
import { normalizeReport } from '../../src/stats/normalize';
import { parseSdp } from '../../src/stats/sdp';
import { loadFixture, reportOf, side } from '../fixtures/load';

/** [fixture, side, poll]: a poll where every stream has data and its RTCP report an RTT. */
const cases = [
  ['chromium/p2p-audio-video.json', 'caller', 3],
  // Firefox's first receiver report of audio has no RTT (roundTripTimeMeasurements 0) at poll 3.
  ['firefox/p2p-audio-video.json', 'caller', 8],
  ['firefox/p2p-audio-video.json', 'callee', 8],
  ['firefox/firefox-1to1.json', 'caller', 3],
  ['firefox/firefox-legacy-isremote.json', 'caller', 3],
  ['safari/safari-1to1.json', 'caller', 3],
] as const;

describe('normalizeReport: one shape from every browser', () => {
  for (const [file, name, index] of cases) {
    it(`${file} (${name}, poll ${index})`, () => {
      const s = side(loadFixture(file), name);
      const poll = s.polls[index] ?? [];
      const n = normalizeReport(reportOf(poll));
      expect(n.inbound.map((x) => x.kind).sort()).toEqual(['audio', 'video']);
      expect(n.outbound.map((x) => x.kind).sort()).toEqual(['audio', 'video']);
      for (const st of [...n.inbound, ...n.outbound]) {
        expect(st.ssrc).toMatch(/^\d+$/);
        expect(st.bytes).toBeGreaterThan(0);
        expect(st.packets).toBeGreaterThan(0);
        expect(st.timestamp).toBeGreaterThan(0);
      }
      for (const st of n.outbound) {
        expect(st.remote?.roundTripTimeMs).toBeGreaterThan(0);
        expect(st.remote?.roundTripTimeMs).toBeLessThan(1000); // ms, not s and not µs
      }
      for (const st of n.inbound) {
        expect(st.jitterMs).toBeLessThan(1000);
      }
      expect(n.connection.localCandidateType).toBe('host');
      expect(n.timestamp).toBe(Math.max(...poll.map((x) => x.timestamp)));
    });
  }

  it('an SDP-grouped RTX stream reported as its own entry is folded into its primary', () => {
    const s = side(loadFixture('firefox/firefox-1to1.json'), 'caller');
    const poll = s.polls[2] ?? [];
    const video = poll.find((x) => x.id === '{in-video}');
    const rtx = { ...video, id: '{in-video-rtx}', ssrc: 2222222223, bytesReceived: 100, packetsReceived: 1 } as typeof poll[number];
    const info = parseSdp(s.remoteSDP);
    const n = normalizeReport(reportOf([...poll, rtx]), { primaryOf: (x) => info.secondaryToPrimary.get(x) });
    expect(n.inbound.map((x) => x.ssrc).sort()).toEqual(['1111111111', '2222222222']);
    expect(n.inbound.find((x) => x.ssrc === '2222222222')?.associatedSsrcs).toEqual(['2222222223']);
    // without the SDP groups it would be a third stream
    expect(normalizeReport(reportOf([...poll, rtx])).inbound).toHaveLength(3);
  });
});
