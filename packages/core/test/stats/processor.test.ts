import { describe, expect, it, vi } from 'vitest';
import type { StatsEntry, StreamStats } from '../../src/types';
import { StreamMappings } from '../../src/stats/mapping';
import { estimateMos } from '../../src/stats/metrics';
import { createStatsProcessor, type ProcessedStats, type StatsContext } from '../../src/stats/processor';
import { loadFixture, patched, reportOf, side, type RecordedSide } from '../fixtures/load';

const NOW = 1_800_000_000_000;

function context(s: RecordedSide, extra: Partial<StatsContext> = {}): StatsContext {
  return {
    localUserID: 'alice',
    remoteUserID: 'bob',
    localSDP: s.localSDP,
    remoteSDP: s.remoteSDP,
    mappings: new StreamMappings(),
    collectIP: false,
    ...extra,
  };
}

function runAll(s: RecordedSide, ctx: StatsContext = context(s), polls = s.polls): ProcessedStats[] {
  const p = createStatsProcessor();
  return polls.map((poll) => p.process(reportOf(poll), ctx, NOW));
}

const find = (r: ProcessedStats | undefined, statsType: string, mediaType: string): StreamStats | undefined =>
  r?.streams.find((x) => x.statsType === statsType && x.mediaType === mediaType);

const rtp = (poll: readonly StatsEntry[], type: string, kind: string): StatsEntry => {
  const e = poll.find((x) => x.type === type && x.kind === kind);
  if (!e) throw new Error(`no ${type} ${kind}`);
  return e;
};
const n = (e: StatsEntry | undefined, f: string): number => {
  const v = e?.[f];
  if (typeof v !== 'number') throw new Error(`${f} is not a number`);
  return v;
};

/** Every numeric field of every stream and of the connection is finite and not negative. */
function expectSaneNumbers(results: readonly ProcessedStats[]): void {
  for (const r of results) {
    for (const obj of [...r.streams, r.connection] as Array<Record<string, unknown>>) {
      for (const [k, v] of Object.entries(obj)) {
        if (typeof v !== 'number') continue;
        expect(Number.isFinite(v), `${k}=${v}`).toBe(true);
        expect(v, k).toBeGreaterThanOrEqual(0);
      }
    }
    for (const s of r.streams) {
      if (s.fractionLoss !== undefined) expect(s.fractionLoss).toBeLessThanOrEqual(1);
      if (s.mos !== undefined) {
        expect(s.mos).toBeGreaterThanOrEqual(1);
        expect(s.mos).toBeLessThanOrEqual(4.5);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * The recorded 1:1 calls (record-chromium.mjs, record-firefox.mjs: the same scenario), and what
 * each browser does not report: Firefox has no qualityLimitationReason, no
 * availableOutgoingBitrate on the candidate pair and no audioLevel on an audio media-source.
 */
const RECORDED_CALLS = [
  { browser: 'Chromium', dir: 'chromium', qualityLimitationReason: true, availableOutgoingBitrate: true },
  { browser: 'Firefox', dir: 'firefox', qualityLimitationReason: false, availableOutgoingBitrate: false },
] as const;

/** The selected candidate pair of a poll (through the transport: Firefox lists every pair). */
const selectedPair = (poll: readonly StatsEntry[]): StatsEntry | undefined => {
  const transport = poll.find((x) => x.type === 'transport');
  return poll.find((x) => x.id === transport?.selectedCandidatePairId);
};

for (const call of RECORDED_CALLS)
describe(`${call.browser} (recorded 1:1 audio+video call)`, () => {
  const f = loadFixture(`${call.dir}/p2p-audio-video.json`);

  for (const name of ['caller', 'callee'] as const) {
    const s = side(f, name);
    const results = runAll(s);

    it(`${name}: bitrate and packet rate equal the counter deltas over the entry timestamps`, () => {
      for (let i = 1; i < s.polls.length; i++) {
        const prev = s.polls[i - 1] ?? [];
        const cur = s.polls[i] ?? [];
        for (const [type, bytes, packets] of [
          ['outbound-rtp', 'bytesSent', 'packetsSent'],
          ['inbound-rtp', 'bytesReceived', 'packetsReceived'],
        ] as const) {
          for (const kind of ['audio', 'video']) {
            // No inbound-rtp before the first packet arrived (poll 0 here).
            if (!prev.some((x) => x.type === type && x.kind === kind)) {
              expect(find(results[i], type, kind)?.bitrate).toBeUndefined();
              continue;
            }
            const a = rtp(prev, type, kind);
            const b = rtp(cur, type, kind);
            const dt = b.timestamp - a.timestamp;
            const st = find(results[i], type, kind);
            expect(st?.bitrate).toBeCloseTo(((n(b, bytes) - n(a, bytes)) * 8) / dt, 9);
            expect(st?.packetRate).toBeCloseTo(((n(b, packets) - n(a, packets)) * 1000) / dt, 9);
          }
        }
      }
      // No interval values at the first poll.
      for (const st of results[0]?.streams ?? []) {
        expect(st.bitrate).toBeUndefined();
        expect(st.packetRate).toBeUndefined();
      }
    });

    it(`${name}: streams, ids and default users`, () => {
      const last = results[results.length - 1];
      expect(last?.streams.map((x) => `${x.statsType}/${x.mediaType}`).sort()).toEqual([
        'inbound-rtp/audio',
        'inbound-rtp/video',
        'outbound-rtp/audio',
        'outbound-rtp/video',
      ]);
      const poll = s.polls[s.polls.length - 1] ?? [];
      for (const st of last?.streams ?? []) {
        expect(st.userID).toBe(st.statsType === 'outbound-rtp' ? 'alice' : 'bob');
        expect(st.remoteUserID).toBe('bob');
        const entry = rtp(poll, st.statsType, st.mediaType);
        expect(st.ssrc).toBe(String(entry.ssrc));
        expect(st.mid).toBe(entry.mid);
        expect(st.cname).toBeTruthy();
        expect(st.msid).toMatch(/^\S+ \S+$/);
      }
      // The RTX SSRC of the received video: the remote SDP's FID group (and Chromium's rtxSsrc).
      const vinEntry = rtp(poll, 'inbound-rtp', 'video');
      const fid = new RegExp(`a=ssrc-group:FID ${vinEntry.ssrc} (\\d+)`).exec(s.remoteSDP)?.[1];
      expect(fid).toBeDefined();
      expect(find(last, 'inbound-rtp', 'video')?.associatedSsrcs).toEqual([fid]);
      if (vinEntry.rtxSsrc !== undefined) expect(String(vinEntry.rtxSsrc)).toBe(fid);
      expect(find(last, 'inbound-rtp', 'audio')?.trackIdentifier).toBe(rtp(poll, 'inbound-rtp', 'audio').trackIdentifier);
    });

    it(`${name}: units: jitter and RTT in ms, levels 0..1, sizes, frame rate`, () => {
      const i = s.polls.length - 1;
      const poll = s.polls[i] ?? [];
      const r = results[i];
      const ain = rtp(poll, 'inbound-rtp', 'audio');
      expect(find(r, 'inbound-rtp', 'audio')?.jitter).toBeCloseTo(n(ain, 'jitter') * 1000, 9);
      expect(find(r, 'inbound-rtp', 'audio')?.audioOutputLevel).toBe(ain.audioLevel);
      const aout = rtp(poll, 'outbound-rtp', 'audio');
      const source = poll.find((x) => x.id === aout.mediaSourceId);
      expect(find(r, 'outbound-rtp', 'audio')?.audioInputLevel).toBe(source?.audioLevel);
      const riv = rtp(poll, 'remote-inbound-rtp', 'video');
      const vout = find(r, 'outbound-rtp', 'video');
      expect(vout?.rtt).toBeCloseTo(n(riv, 'roundTripTime') * 1000, 9);
      expect(vout?.jitter).toBeCloseTo(n(riv, 'jitter') * 1000, 9);
      expect(vout?.fractionLoss).toBe(riv.fractionLost);
      expect(vout?.packetLossPercentage).toBe(n(riv, 'fractionLost') * 100);
      const ov = rtp(poll, 'outbound-rtp', 'video');
      expect(vout).toMatchObject({ frameWidth: ov.frameWidth, frameHeight: ov.frameHeight, frameRate: ov.framesPerSecond });
      expect(vout?.qualityLimitationReason).toBe(call.qualityLimitationReason ? 'none' : undefined);
      const pair = selectedPair(poll);
      expect(r?.connection.rtt).toBeCloseTo(n(pair, 'currentRoundTripTime') * 1000, 9);
      if (call.availableOutgoingBitrate) {
        expect(r?.connection.availableOutgoingBitrate).toBeCloseTo(n(pair, 'availableOutgoingBitrate') / 1000, 9);
      } else {
        expect(pair?.availableOutgoingBitrate).toBeUndefined();
        expect(r?.connection.availableOutgoingBitrate).toBeUndefined();
      }
      // Firefox's answerer can learn the offerer's candidate as peer-reflexive first (trickle order).
      expect(r?.connection).toMatchObject({ localCandidateType: 'host', protocol: 'udp' });
      expect(['host', 'prflx']).toContain(r?.connection.remoteCandidateType);
      expect(r?.connection.localAddress).toBeUndefined(); // collectIP false
    });

    it(`${name}: loopback: zero loss, excellent quality, MOS near the top`, () => {
      for (const r of results.slice(3)) {
        for (const st of r.streams) {
          expect(st.fractionLoss).toBe(0);
          expect(st.quality).toBe('excellent');
          if (st.mediaType === 'audio') expect(st.mos).toBeGreaterThan(4.3);
        }
      }
      expectSaneNumbers(results);
    });

    it(`${name}: running means equal the mean of the samples`, () => {
      const samples = results.map((r) => find(r, 'inbound-rtp', 'video')?.jitter).filter((x): x is number => x !== undefined);
      const avg = samples.reduce((a, b) => a + b, 0) / samples.length;
      expect(find(results[results.length - 1], 'inbound-rtp', 'video')?.averageJitter).toBeCloseTo(avg, 9);
      const rtts = results.map((r) => find(r, 'outbound-rtp', 'audio')?.rtt).filter((x): x is number => x !== undefined);
      expect(find(results[results.length - 1], 'outbound-rtp', 'audio')?.averageRTT).toBeCloseTo(
        rtts.reduce((a, b) => a + b, 0) / rtts.length,
        9,
      );
    });
  }

});

describe('Chromium (recorded 1:1 audio+video call): first polls and addresses', () => {
  const f = loadFixture('chromium/p2p-audio-video.json');

  it('missing remote-inbound-rtp for the first polls: outbound RTT from the candidate pair, no loss/MOS yet', () => {
    const s = side(f, 'caller');
    expect(s.polls[0]?.some((x) => x.type === 'remote-inbound-rtp')).toBe(false);
    const results = runAll(s);
    const first = results[0];
    const pair = s.polls[0]?.find((x) => x.type === 'candidate-pair');
    for (const kind of ['audio', 'video']) {
      const st = find(first, 'outbound-rtp', kind);
      expect(st?.rtt).toBeCloseTo(n(pair, 'currentRoundTripTime') * 1000, 9);
      expect(st?.fractionLoss).toBeUndefined();
      expect(st?.mos).toBeUndefined();
      expect(st?.packetsLost).toBeUndefined();
    }
    // Once the receiver reports arrive, the values appear.
    const idx = s.polls.findIndex((p) => p.filter((x) => x.type === 'remote-inbound-rtp').length === 2);
    expect(find(results[idx], 'outbound-rtp', 'audio')?.mos).toBeGreaterThan(4);
  });

  it('collectIP: candidate addresses only when asked', () => {
    const s = side(f, 'caller');
    const r = runAll(s, context(s, { collectIP: true }), s.polls.slice(0, 2));
    expect(r[1]?.connection).toMatchObject({ localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' });
  });
});

describe('Firefox (recorded 1:1 audio+video call): a receiver report without an RTT', () => {
  it('before any sender report, Firefox leaves roundTripTime out: RTT from the selected pair, loss and jitter from the report', () => {
    const s = side(loadFixture('firefox/p2p-audio-video.json'), 'caller');
    const noRtt = (poll: readonly StatsEntry[]) =>
      poll.some((x) => x.type === 'remote-inbound-rtp' && x.kind === 'audio' && x.roundTripTime === undefined);
    const i = s.polls.findIndex(noRtt);
    expect(i).toBeGreaterThan(0);
    const poll = s.polls[i] ?? [];
    const report = rtp(poll, 'remote-inbound-rtp', 'audio');
    expect(report.roundTripTimeMeasurements).toBe(0);
    const st = find(runAll(s)[i], 'outbound-rtp', 'audio');
    expect(st?.rtt).toBeCloseTo(n(selectedPair(poll), 'currentRoundTripTime') * 1000, 9);
    expect(st?.jitter).toBeCloseTo(n(report, 'jitter') * 1000, 9);
    expect(st?.fractionLoss).toBe(report.fractionLost);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Chromium (recorded replaceTrack + ICE restart)', () => {
  const f = loadFixture('chromium/p2p-replace-track-ice-restart.json');
  const s = side(f, 'caller');
  const results = runAll(s);

  it('replaced track: same SSRC, continuous rates, new track id and size', () => {
    const before = find(results[3], 'outbound-rtp', 'video');
    const after = find(results[6], 'outbound-rtp', 'video');
    expect(after?.ssrc).toBe(before?.ssrc);
    expect(after?.trackIdentifier).not.toBe(before?.trackIdentifier);
    expect(before?.frameWidth).toBe(640);
    expect(after?.frameWidth).toBe(320);
    for (const r of results.slice(1)) expect(find(r, 'outbound-rtp', 'video')?.bitrate).toBeGreaterThan(0);
  });

  it('ICE restart: the connection follows the new selected pair; stream rates continue', () => {
    const pairOf = (i: number) => selectedPair(s.polls[i] ?? []);
    expect(pairOf(9)?.id).not.toBe(pairOf(7)?.id);
    for (const i of [7, 9, 11]) {
      expect(results[i]?.connection.rtt).toBeCloseTo(n(pairOf(i), 'currentRoundTripTime') * 1000, 9);
    }
    expect(s.polls[0]?.some((x) => x.type === 'inbound-rtp')).toBe(false); // first packets after poll 0
    for (const r of results.slice(2)) {
      expect(r.streams).toHaveLength(4);
      for (const st of r.streams) expect(st.bitrate, `${st.statsType} ${st.mediaType}`).toBeGreaterThan(0);
    }
    expectSaneNumbers(results);
  });
});

// ---------------------------------------------------------------------------------------------
for (const call of RECORDED_CALLS)
describe(`${call.browser} (recorded SFU-like PC, 20 inbound streams)`, () => {
  const f = loadFixture(`${call.dir}/sfu-20-inbound.json`);
  const s = side(f, 'receiver');

  it('reports 20 inbound streams with media, RTX not as extra streams', () => {
    const results = runAll(s);
    const last = results[results.length - 1];
    expect(last?.streams).toHaveLength(20);
    expect(last?.streams.filter((x) => x.mediaType === 'video').every((x) => x.associatedSsrcs?.length === 1)).toBe(true);
    for (const st of last?.streams ?? []) expect(st.bitrate, `${st.mediaType} mid ${st.mid}`).toBeGreaterThan(0);
    expectSaneNumbers(results);
  });

  it('maps each stream to its own user by mid, and SSRC mappings win', () => {
    const mappings = new StreamMappings();
    for (let mid = 0; mid < 20; mid++) mappings.set({ mid: String(mid) }, { userID: `user-${Math.floor(mid / 2)}` });
    const last = s.polls[s.polls.length - 1] ?? [];
    const someVideo = last.find((x) => x.type === 'inbound-rtp' && x.kind === 'video');
    mappings.set({ ssrc: n(someVideo, 'ssrc') }, { userID: 'screen-sharer', usageLabel: 'screen' });
    const results = runAll(s, context(s, { mappings }));
    const streams = results[results.length - 1]?.streams ?? [];
    for (const st of streams) {
      if (st.ssrc === String(someVideo?.ssrc)) {
        expect(st).toMatchObject({ userID: 'screen-sharer', usageLabel: 'screen' });
      } else {
        expect(st.userID).toBe(`user-${Math.floor(Number(st.mid) / 2)}`);
      }
      expect(st.remoteUserID).toBe('bob');
    }
    expect(new Set(streams.map((x) => x.userID)).size).toBe(11);
  });

  it('mid comes from the SDP when the stats lack it', () => {
    const noMid = s.polls.map((poll) => poll.map((e) => (e.type === 'inbound-rtp' ? { ...e, mid: undefined } : e)));
    const withMid = runAll(s);
    const without = runAll(s, context(s), noMid);
    const a = withMid[withMid.length - 1]?.streams.map((x) => [x.ssrc, x.mid]);
    const b = without[without.length - 1]?.streams.map((x) => [x.ssrc, x.mid]);
    expect(b).toEqual(a);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Firefox (hand-written shape)', () => {
  const s = side(loadFixture('firefox/firefox-1to1.json'), 'caller');
  const results = runAll(s, context(s, { collectIP: true }));

  it('exact rates and inbound loss from deltas', () => {
    for (const r of results.slice(1)) {
      expect(find(r, 'inbound-rtp', 'audio')).toMatchObject({ bitrate: 32, packetRate: 50, fractionLoss: 0 });
      const v = find(r, 'inbound-rtp', 'video');
      expect(v).toMatchObject({ bitrate: 500, packetRate: 100 });
      expect(v?.fractionLoss).toBeCloseTo(2 / 102, 12);
      expect(v?.packetLossPercentage).toBeCloseTo(200 / 102, 10);
      expect(find(r, 'outbound-rtp', 'video')).toMatchObject({ bitrate: 300, packetRate: 60 });
    }
  });

  it('outbound loss from remote-inbound-rtp packetsLost/packetsReceived deltas (no fractionLost)', () => {
    expect(find(results[1], 'outbound-rtp', 'audio')?.fractionLoss).toBeUndefined(); // first report: no baseline
    for (const r of results.slice(2)) {
      expect(find(r, 'outbound-rtp', 'audio')?.fractionLoss).toBeCloseTo(1 / 50, 12);
      expect(find(r, 'outbound-rtp', 'video')?.fractionLoss).toBe(0);
    }
  });

  it('no transport stats: selected pair from the `selected` flag; RTT from remote-inbound-rtp', () => {
    expect(results[2]?.connection).toEqual({
      localCandidateType: 'host',
      remoteCandidateType: 'srflx',
      protocol: 'udp',
      localAddress: '127.0.0.1',
      remoteAddress: '127.0.0.1',
    });
    expect(find(results[2], 'outbound-rtp', 'video')?.rtt).toBeCloseTo(40, 9);
    expect(find(results[0], 'outbound-rtp', 'video')?.rtt).toBeUndefined();
  });

  it('mid from the SDP; RTX SSRC from the SDP FID group; audio MOS with the measured jitter buffer', () => {
    const r = results[3];
    expect(find(r, 'inbound-rtp', 'audio')?.mid).toBe('0');
    expect(find(r, 'inbound-rtp', 'video')).toMatchObject({ mid: '1', associatedSsrcs: ['2222222223'], frameRate: 30 });
    const a = find(r, 'inbound-rtp', 'audio');
    expect(a?.mos).toBeCloseTo(estimateMos({ lossPercentage: 0, jitterBufferMs: 60, jitterMs: 5, codecMimeType: 'audio/opus' }).mos, 12);
    expectSaneNumbers(results);
  });
});

describe('Firefox before 66 (hand-written isRemote shape)', () => {
  const s = side(loadFixture('firefox/firefox-legacy-isremote.json'), 'caller');
  const results = runAll(s, context(s, { collectIP: true }));

  it('legacy types, isRemote RTCP entries, mozRtt in ms, string SSRCs, ipAddress', () => {
    const r = results[3];
    expect(r?.streams).toHaveLength(4);
    const v = find(r, 'outbound-rtp', 'video');
    expect(v).toMatchObject({ ssrc: '4444444444', bitrate: 300, rtt: 40, packetsLost: 9, jitter: 10 });
    expect(v?.fractionLoss).toBeCloseTo(3 / 60, 12);
    expect(find(r, 'inbound-rtp', 'video')?.fractionLoss).toBeCloseTo(2 / 102, 12);
    expect(find(r, 'outbound-rtp', 'video')?.frameRate).toBe(30); // framesEncoded delta
    expect(r?.connection).toMatchObject({ localAddress: '127.0.0.1', protocol: 'udp', localCandidateType: 'host' });
    expectSaneNumbers(results);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Safari (hand-written shape)', () => {
  const s = side(loadFixture('safari/safari-1to1.json'), 'caller');

  it('frame size, rate and audio level from the legacy track stats', () => {
    const results = runAll(s);
    const r = results[2];
    expect(find(r, 'inbound-rtp', 'video')).toMatchObject({ frameWidth: 1280, frameHeight: 720, frameRate: 30 });
    expect(find(r, 'inbound-rtp', 'audio')?.audioOutputLevel).toBe(0.3);
    expect(find(r, 'outbound-rtp', 'audio')?.audioInputLevel).toBe(0.5);
    expect(find(r, 'outbound-rtp', 'video')).toMatchObject({ frameWidth: 640, frameHeight: 480, qualityLimitationReason: 'bandwidth' });
    expect(find(r, 'outbound-rtp', 'video')?.fractionLoss).toBe(0.03);
    expect(find(r, 'outbound-rtp', 'video')?.quality).toBe('fair');
    expect(r?.connection).toMatchObject({ rtt: 38, availableOutgoingBitrate: 1500, remoteCandidateType: 'prflx' });
    // inbound streams have no remote RTT: the candidate pair's
    expect(find(r, 'inbound-rtp', 'audio')?.rtt).toBeCloseTo(38, 9);
    const a = find(r, 'inbound-rtp', 'audio');
    expect(a?.mos).toBeCloseTo(estimateMos({ lossPercentage: 0, rttMs: 38, jitterBufferMs: 50, jitterMs: 5 }).mos, 12);
    expectSaneNumbers(results);
  });

  it('remote trackIdentifier does not match the SDP: mapping by track id still works via the msid track id', () => {
    const mappings = new StreamMappings();
    mappings.set({ trackId: 'remote-video-track' }, { userID: 'carol', associatedVideoTag: 'v1' });
    mappings.set({ trackId: 'E8D6A3E1-0000-4000-8000-000000000001' }, { userID: 'dave' });
    const r = runAll(s, context(s, { mappings }))[1];
    expect(find(r, 'inbound-rtp', 'video')).toMatchObject({ userID: 'carol', associatedVideoTag: 'v1', mid: '1' });
    expect(find(r, 'inbound-rtp', 'audio')?.userID).toBe('dave');
  });
});

// ---------------------------------------------------------------------------------------------
describe('counter edge cases (recorded Chromium polls, modified)', () => {
  const s = side(loadFixture('chromium/p2p-audio-video.json'), 'caller');
  const polls = s.polls;
  const videoOut = (poll: readonly StatsEntry[]) => rtp(poll, 'outbound-rtp', 'video');
  const videoIn = (poll: readonly StatsEntry[]) => rtp(poll, 'inbound-rtp', 'video');

  it('a counter reset to a lower value gives no rate for that interval, then a new baseline', () => {
    const modified = polls.map((poll, i) => {
      if (i < 6) return poll;
      const v = videoOut(poll);
      // from poll 6 on the sender's counters restart (e.g. a new encoder), 1000 bytes/packets lower base
      return patched(poll, v.id, {
        bytesSent: n(v, 'bytesSent') - n(videoOut(polls[5] ?? []), 'bytesSent') + 10,
        packetsSent: n(v, 'packetsSent') - n(videoOut(polls[5] ?? []), 'packetsSent') + 1,
      });
    });
    const results = runAll(s, context(s), modified);
    expect(find(results[5], 'outbound-rtp', 'video')?.bitrate).toBeGreaterThan(0);
    const atReset = find(results[6], 'outbound-rtp', 'video');
    expect(atReset?.bitrate).toBeUndefined();
    expect(atReset?.packetRate).toBeUndefined();
    const next = find(results[7], 'outbound-rtp', 'video');
    const a = videoOut(polls[6] ?? []);
    const b = videoOut(polls[7] ?? []);
    expect(next?.bitrate).toBeCloseTo(((n(b, 'bytesSent') - n(a, 'bytesSent')) * 8) / (b.timestamp - a.timestamp), 9);
    expectSaneNumbers(results);
  });

  it('inbound loss: delta of packetsLost over lost+received; a lower packetsLost (duplicates) counts as 0', () => {
    const modified = polls.map((poll, i) => {
      if (i === 0) return poll; // no inbound-rtp yet
      const v = videoIn(poll);
      const lost = i < 5 ? 0 : i < 8 ? (i - 4) * 5 : 12; // 5 lost per interval, then it goes down
      return patched(poll, v.id, { packetsLost: lost });
    });
    const results = runAll(s, context(s), modified);
    for (const i of [6, 7]) {
      const a = videoIn(polls[i - 1] ?? []);
      const b = videoIn(polls[i] ?? []);
      const received = n(b, 'packetsReceived') - n(a, 'packetsReceived');
      expect(find(results[i], 'inbound-rtp', 'video')?.fractionLoss).toBeCloseTo(5 / (5 + received), 12);
      expect(find(results[i], 'inbound-rtp', 'video')?.packetsLost).toBe((i - 4) * 5);
    }
    expect(find(results[8], 'inbound-rtp', 'video')?.fractionLoss).toBe(0);
    expect(find(results[8], 'inbound-rtp', 'video')?.packetsLost).toBe(12);
    expectSaneNumbers(results);
  });

  it('a stream that disappears for a few polls and reappears: the rate spans the gap', () => {
    const p = createStatsProcessor({ forgetAfterPolls: 5 });
    const ctx = context(s);
    const without = (poll: readonly StatsEntry[]) => poll.filter((e) => e.id !== videoIn(poll).id);
    const out: ProcessedStats[] = [];
    polls.forEach((poll, i) => out.push(p.process(reportOf(i === 5 || i === 6 ? without(poll) : poll), ctx, NOW)));
    expect(find(out[5], 'inbound-rtp', 'video')).toBeUndefined();
    const a = videoIn(polls[4] ?? []);
    const b = videoIn(polls[7] ?? []);
    expect(find(out[7], 'inbound-rtp', 'video')?.bitrate).toBeCloseTo(
      ((n(b, 'bytesReceived') - n(a, 'bytesReceived')) * 8) / (b.timestamp - a.timestamp),
      9,
    );
  });

  it('a stream gone for forgetAfterPolls polls is forgotten (bounded state) and starts over', () => {
    const p = createStatsProcessor({ forgetAfterPolls: 3 });
    const ctx = context(s);
    const without = (poll: readonly StatsEntry[]) => poll.filter((e) => e.id !== videoIn(poll).id);
    const out: ProcessedStats[] = [];
    const sizes: number[] = [];
    polls.forEach((poll, i) => {
      out.push(p.process(reportOf(i >= 4 && i <= 7 ? without(poll) : poll), ctx, NOW));
      sizes.push(p.stateSize());
    });
    expect(sizes[3]).toBe(4);
    expect(sizes[5]).toBe(4); // missing for 2 polls: kept
    expect(sizes[6]).toBe(3); // missing for 3 polls (4, 5, 6): forgotten
    expect(sizes[7]).toBe(3);
    const back = find(out[8], 'inbound-rtp', 'video');
    expect(back).toBeDefined();
    expect(back?.bitrate).toBeUndefined(); // new baseline
    expect(find(out[9], 'inbound-rtp', 'video')?.bitrate).toBeGreaterThan(0);
  });

  it('SSRC change: the new SSRC is a new stream (no rate at first), the old one is forgotten', () => {
    const p = createStatsProcessor({ forgetAfterPolls: 2 });
    const ctx = context(s);
    const out = polls.map((poll, i) => {
      const v = videoOut(poll);
      return p.process(reportOf(i >= 5 ? patched(poll, v.id, { ssrc: 12345 }) : poll), ctx, NOW);
    });
    expect(find(out[5], 'outbound-rtp', 'video')).toMatchObject({ ssrc: '12345' });
    expect(find(out[5], 'outbound-rtp', 'video')?.bitrate).toBeUndefined();
    expect(find(out[6], 'outbound-rtp', 'video')?.bitrate).toBeGreaterThan(0);
    expect(p.stateSize()).toBe(4);
  });

  it('the same report twice (same timestamps): same values, no division by zero', () => {
    const p = createStatsProcessor();
    const ctx = context(s);
    p.process(reportOf(polls[3] ?? []), ctx, NOW);
    const first = p.process(reportOf(polls[4] ?? []), ctx, NOW);
    const again = p.process(reportOf(polls[4] ?? []), ctx, NOW + 50);
    expect(again.streams).toEqual(first.streams);
    expectSaneNumbers([first, again]);
    const next = p.process(reportOf(polls[5] ?? []), ctx, NOW);
    const a = videoOut(polls[4] ?? []);
    const b = videoOut(polls[5] ?? []);
    expect(find(next, 'outbound-rtp', 'video')?.bitrate).toBeCloseTo(
      ((n(b, 'bytesSent') - n(a, 'bytesSent')) * 8) / (b.timestamp - a.timestamp),
      9,
    );
  });

  it('timestamps going backwards or missing: no negative or infinite rates', () => {
    const p = createStatsProcessor();
    const ctx = context(s);
    const back = (poll: readonly StatsEntry[], dt: number) => poll.map((e) => ({ ...e, timestamp: e.timestamp - dt }));
    const r1 = p.process(reportOf(polls[5] ?? []), ctx, NOW);
    const r2 = p.process(reportOf(back(polls[6] ?? [], 10_000)), ctx, NOW);
    for (const st of r2.streams) expect(st.bitrate).toBeUndefined();
    const noTs = (polls[7] ?? []).map((e) => ({ ...e, timestamp: 0 }));
    const r3 = p.process(reportOf(noTs), ctx, NOW);
    const r4 = p.process(reportOf((polls[8] ?? []).map((e) => ({ ...e, timestamp: 0 }))), ctx, NOW + 1000);
    expectSaneNumbers([r1, r2, r3, r4]);
    expect(find(r4, 'outbound-rtp', 'video')?.bitrate).toBeGreaterThan(0); // measured over `now`
  });

  it('malformed entries and reports never throw', () => {
    const p = createStatsProcessor();
    const ctx = context(s);
    const junk = [
      { id: 'x', type: 'inbound-rtp', timestamp: 1 }, // no ssrc
      { id: 'y', type: 'outbound-rtp', timestamp: 1, ssrc: 'abc', bytesSent: 'many' },
      { id: 'z', type: 'inbound-rtp', timestamp: 1, ssrc: 7, bytesReceived: Number.NaN, kind: 'audio' },
    ] as StatsEntry[];
    expect(() => p.process(reportOf(junk), ctx, NOW)).not.toThrow();
    expect(p.process(reportOf(junk), ctx, NOW).streams.map((x) => x.ssrc)).toEqual(['7']);
    expect(p.process({} as never, ctx, NOW)).toEqual({ streams: [], connection: {} });
    expect(p.process({ forEach: () => { throw new Error('boom'); } }, ctx, NOW)).toEqual({ streams: [], connection: {} });
  });

  it('reads the report without copying or changing it', () => {
    const deepFreeze = (o: unknown): void => {
      if (o && typeof o === 'object' && !Object.isFrozen(o)) {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
    };
    const frozen = polls.map((poll) => poll.map((e) => ({ ...e })));
    deepFreeze(frozen);
    const spies = [vi.spyOn(JSON, 'parse'), vi.spyOn(JSON, 'stringify'), vi.spyOn(globalThis, 'structuredClone')];
    const p = createStatsProcessor();
    const ctx = context(s);
    const results = frozen.map((poll) => p.process(reportOf(poll), ctx, NOW));
    for (const spy of spies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
    expect(results[5]?.streams).toHaveLength(4); // (a write to a frozen entry would have thrown)
    expect(results[5]?.streams[0]?.bitrate).toBeGreaterThan(0);
  });
});
