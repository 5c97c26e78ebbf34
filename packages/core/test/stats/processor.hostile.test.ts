// Hostile reports: recorded Chromium polls with entries that throw when read (F11) and values out of
// any plausible range (F15). The rule: bad input loses nothing else, is told (warn), never throws.
import { describe, expect, it, vi } from 'vitest';
import type { StatsEntry, StatsReportLike, StreamStats } from '../../src/types';
import { StreamMappings } from '../../src/stats/mapping';
import { inRange, LIMITS } from '../../src/stats/normalize/fields';
import { createStatsProcessor, type ProcessedStats, type StatsContext, type StatsProcessorOptions } from '../../src/stats/processor';
import { entryOf, loadFixture, patched, reportOf, side } from '../fixtures/load';

const NOW = 1_800_000_000_000;
const recorded = side(loadFixture('chromium/p2p-audio-video.json'), 'caller');
const context = (): StatsContext => ({
  localUserID: 'alice',
  remoteUserID: 'bob',
  localSDP: recorded.localSDP,
  remoteSDP: recorded.remoteSDP,
  mappings: new StreamMappings(),
  collectIP: false,
});
const poll3 = recorded.polls[3] ?? [];
const idOf = (type: string, kind?: string): string => entryOf(poll3, (e) => e.type === type && (kind === undefined || e.kind === kind)).id;
const IN_AUDIO = idOf('inbound-rtp', 'audio');
const IN_VIDEO = idOf('inbound-rtp', 'video');
const OUT_AUDIO = idOf('outbound-rtp', 'audio');
const REMOTE_IN_VIDEO = idOf('remote-inbound-rtp', 'video');
const PAIR = idOf('candidate-pair');

/** Recorded polls 0..2, then `last` (anything: a report, null...), on a new processor: the last result. */
function afterRecorded(last: unknown, options: StatsProcessorOptions = {}): ProcessedStats {
  const p = createStatsProcessor(options);
  const ctx = context();
  for (const poll of recorded.polls.slice(0, 3)) p.process(reportOf(poll), ctx, NOW);
  return p.process(last as StatsReportLike, ctx, NOW);
}
const reference = afterRecorded(reportOf(poll3));
const key = (s: StreamStats): string => `${s.statsType}:${s.ssrc}`;

/** A copy of the entry whose `field` getter throws. */
function throwingGetter(entry: StatsEntry, field: string): StatsEntry {
  return Object.defineProperty({ ...entry }, field, {
    enumerable: true,
    get() {
      throw new Error(`${field} getter`);
    },
  });
}
/** The entries and one more under the key 'extra' (its id is not read: its getter may throw). */
const withEntry = (entries: readonly StatsEntry[], entry: StatsEntry): StatsReportLike => new Map([...reportOf(entries), ['extra', entry]]);
const warnSpy = () => vi.fn<(message: string, error: unknown) => void>();

describe('F11: an unreadable entry loses only itself', () => {
  it('the recorded poll has 4 streams and a connection RTT (the reference)', () => {
    expect(reference.streams).toHaveLength(4);
    expect(reference.connection.rtt).toBeGreaterThan(0);
  });

  for (const field of ['type', 'id', 'timestamp']) {
    it(`an extra inbound-rtp entry whose ${field} getter throws is skipped: the rest is as without it, and told`, () => {
      const extra = throwingGetter({ ...entryOf(poll3, (e) => e.id === IN_AUDIO), id: 'extra', ssrc: 1234 }, field);
      const warn = warnSpy();
      expect(afterRecorded(withEntry(poll3, extra), { warn })).toEqual(reference);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toBe('1 entry of the getStats() report cannot be read: skipped');
      expect(warn.mock.calls[0]?.[1]).toMatchObject({ message: `${field} getter` });
    });
  }

  it('a recorded stream whose counter getter throws loses that stream only', () => {
    const poll = poll3.map((e) => (e.id === IN_VIDEO ? throwingGetter(e, 'bytesReceived') : e));
    const warn = warnSpy();
    const r = afterRecorded(reportOf(poll), { warn });
    const video = reference.streams.find((s) => s.statsType === 'inbound-rtp' && s.mediaType === 'video');
    expect(video).toBeDefined();
    expect(r.streams).toEqual(reference.streams.filter((s) => s !== video));
    expect(r.connection).toEqual(reference.connection);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('an entry that is a Proxy whose every trap throws is skipped', () => {
    const boom = (): never => {
      throw new Error('trap');
    };
    const evil = new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom }) as StatsEntry;
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const warn = warnSpy();
    const report: StatsReportLike = {
      forEach: (cb) => {
        for (const e of poll3) cb(e, e.id);
        cb(evil, 'evil');
        cb(revoked.proxy as StatsEntry, 'revoked');
      },
    };
    expect(afterRecorded(report, { warn })).toEqual(reference);
    expect(warn.mock.calls[0]?.[0]).toBe('2 entries of the getStats() report cannot be read: skipped');
  });

  for (const type of ['constructor', '__proto__', 'hasOwnProperty']) {
    it(`an extra entry of type '${type}' (an Object.prototype name) loses only itself`, () => {
      const warn = warnSpy();
      const r = afterRecorded(withEntry(poll3, { id: 'extra', type, timestamp: 1 } as StatsEntry), { warn });
      expect(r.streams.map(key).sort()).toEqual(reference.streams.map(key).sort());
      expect(r.connection.rtt).toBe(reference.connection.rtt);
    });
  }

  it('values that throw when compared or converted (an object type, a Symbol timestamp) read as absent', () => {
    const odd = {
      id: 'odd',
      type: {
        toString() {
          throw new Error('toString');
        },
      },
      timestamp: Symbol('t'),
    } as unknown as StatsEntry;
    const pair = patched(poll3, PAIR, { state: { valueOf: () => { throw new Error('valueOf'); } } });
    const warn = warnSpy();
    expect(afterRecorded(withEntry(poll3, odd), { warn })).toEqual(reference);
    // A malformed value is no value (as a string where a number belongs): nothing was unreadable.
    expect(warn).not.toHaveBeenCalled();
    expect(afterRecorded(reportOf(pair)).streams).toEqual(reference.streams);
  });
});

describe('F11: a report that cannot be read is told, never thrown', () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const unreadable: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'report'],
    ['an object without forEach', {}],
    ['a throwing forEach', { forEach: () => { throw new Error('forEach'); } }],
    ['a throwing forEach getter', { get forEach() { throw new Error('getter'); } }],
    ['a revoked Proxy', revoked.proxy],
  ];
  for (const [name, report] of unreadable) {
    it(`${name}: no streams, and warn says the report cannot be read`, () => {
      const warn = warnSpy();
      const r = afterRecorded(report, { warn });
      expect(r.streams).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toBe('the getStats() report cannot be read: no stats this poll');
      expect(warn.mock.calls[0]?.[1]).toBeInstanceOf(Error);
    });
  }

  it('a forEach that throws part-way keeps the entries it gave, and says so', () => {
    const warn = warnSpy();
    const report: StatsReportLike = {
      forEach(cb) {
        for (const e of poll3) cb(e, e.id);
        throw new Error('part-way');
      },
    };
    expect(afterRecorded(report, { warn })).toEqual(reference);
    expect(warn).toHaveBeenCalledWith(`the getStats() report could be read only in part (its first ${poll3.length} entries)`, expect.objectContaining({ message: 'part-way' }));

    const half: StatsReportLike = {
      forEach(cb) {
        for (const e of poll3) {
          if (e.id === IN_VIDEO) throw new Error('part-way');
          cb(e, e.id);
        }
      },
    };
    const r = afterRecorded(half);
    expect(r.streams.length).toBeGreaterThan(0);
    expect(r.streams.every((s) => reference.streams.some((x) => key(x) === key(s)))).toBe(true);
  });

  it('each problem is told when it starts, not at every poll; a throwing warn is contained', () => {
    const warn = warnSpy();
    const p = createStatsProcessor({ warn });
    const ctx = context();
    const bad = throwingGetter({ ...entryOf(poll3, (e) => e.id === OUT_AUDIO), id: 'bad', ssrc: 99 }, 'type');
    const polls: unknown[] = [withEntry(poll3, bad), withEntry(poll3, bad), reportOf(poll3), withEntry(poll3, bad), null, null, 7];
    for (const report of polls) p.process(report as StatsReportLike, ctx, NOW);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      '1 entry of the getStats() report cannot be read: skipped',
      '1 entry of the getStats() report cannot be read: skipped',
      'the getStats() report cannot be read: no stats this poll',
    ]);

    const throwing = createStatsProcessor({
      warn: () => {
        throw new Error('app logger');
      },
    });
    expect(throwing.process(null as unknown as StatsReportLike, ctx, NOW).streams).toEqual([]);
    expect(throwing.process(withEntry(poll3, bad), ctx, NOW).streams).toHaveLength(4);
  });
});

// ---------------------------------------------------------------------------------------------

/** Every number the app gets is finite and in its range (LIMITS; packetsLost is signed). */
function expectInRange(r: ProcessedStats): void {
  const max: Record<string, number> = {
    bitrate: LIMITS.kbps,
    packetRate: LIMITS.packetsPerSecond,
    fractionLoss: 1,
    packetLossPercentage: 100,
    jitter: LIMITS.ms,
    averageJitter: LIMITS.ms,
    rtt: LIMITS.ms,
    averageRTT: LIMITS.ms,
    audioInputLevel: 1,
    audioOutputLevel: 1,
    frameRate: LIMITS.framesPerSecond,
    frameWidth: LIMITS.pixels,
    frameHeight: LIMITS.pixels,
    mos: 4.5,
    availableOutgoingBitrate: LIMITS.kbps,
    availableIncomingBitrate: LIMITS.kbps,
  };
  for (const obj of [...r.streams, r.connection] as Array<Record<string, unknown>>) {
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v != 'number') continue;
      if (k == 'packetsLost') expect(Math.abs(v), k).toBeLessThanOrEqual(LIMITS.counter);
      else {
        expect(max[k], `limit for ${k}`).toBeDefined();
        expect(inRange(v, max[k]!), `${k}=${v}`).toBe(v);
      }
    }
  }
}

describe('F15: out-of-range values never reach the app; they read as absent', () => {
  it('inRange: 0..max only; NaN and ±Infinity fail', () => {
    expect(inRange(0, 1)).toBe(0);
    expect(inRange(1, 1)).toBe(1);
    expect(inRange(-0.001, 1)).toBeUndefined();
    expect(inRange(1.001, 1)).toBeUndefined();
    expect(inRange(Number.NaN, 1)).toBeUndefined();
    expect(inRange(Infinity, Infinity)).toBe(Infinity); // only a finite max excludes it
    expect(inRange(Infinity, LIMITS.counter)).toBeUndefined();
    expect(inRange('1', 1)).toBeUndefined();
  });

  // [entry, field, hostile values]: each gives exactly what the field's absence gives.
  const cases: Array<[string, string, unknown[]]> = [
    [IN_VIDEO, 'jitter', [-3, 1e306]], // -3 s was -3000 ms
    [IN_VIDEO, 'frameWidth', [-640, 1e9]],
    [IN_VIDEO, 'frameHeight', [-1, 70_000]],
    [IN_VIDEO, 'framesPerSecond', [1e308, -30, 5000]],
    [IN_AUDIO, 'audioLevel', [7, -0.5]],
    [IN_AUDIO, 'packetsLost', [1e308, -1e308]],
    [IN_AUDIO, 'packetsReceived', [-5, 1e300]],
    [IN_AUDIO, 'bytesReceived', [-1, 2 ** 60]],
    [IN_AUDIO, 'timestamp', [-1e308, 1e300]],
    [OUT_AUDIO, 'bytesSent', [1e300, -10]],
    [REMOTE_IN_VIDEO, 'roundTripTime', [-0.2, 1e308]],
    [REMOTE_IN_VIDEO, 'jitter', [1e308, -1]],
    [REMOTE_IN_VIDEO, 'packetsLost', [1e308]],
    [PAIR, 'currentRoundTripTime', [1e308, -1]], // 1e308 s was Infinity ms
    [PAIR, 'availableOutgoingBitrate', [-5e6, 1e300]],
  ];
  for (const [id, field, values] of cases) {
    it(`${id}.${field} = ${values.join(', ')}: as if absent`, () => {
      const absent = afterRecorded(reportOf(patched(poll3, id, { [field]: undefined })));
      for (const value of values) {
        const r = afterRecorded(reportOf(patched(poll3, id, { [field]: value })));
        expect(r, `${field}=${value}`).toEqual(absent);
        expectInRange(r);
      }
    });
  }

  it('the review’s repro: jitter -3 s, frameWidth -640, framesPerSecond 1e308, currentRoundTripTime 1e308', () => {
    let poll = patched(poll3, IN_VIDEO, { jitter: -3, frameWidth: -640, framesPerSecond: 1e308 });
    poll = patched(poll, PAIR, { currentRoundTripTime: 1e308 });
    const r = afterRecorded(reportOf(poll));
    const video = r.streams.find((s) => s.statsType === 'inbound-rtp' && s.mediaType === 'video');
    expect(video?.jitter).toBeUndefined();
    expect(video?.frameWidth).toBeUndefined();
    expect(video?.frameRate).toBeGreaterThan(0); // framesDecoded over the interval instead
    expect(video?.frameRate).toBeLessThan(100);
    expect(r.connection.rtt).toBeUndefined();
    expectInRange(r);
  });

  it('counters over a tiny interval give no infinite or huge rate, and loss deltas give no NaN', () => {
    const audio = entryOf(poll3, (e) => e.id === IN_AUDIO);
    const p = createStatsProcessor();
    const ctx = context();
    const entry = (fields: Record<string, unknown>): StatsReportLike => reportOf([{ ...audio, ...fields }]);
    p.process(entry({ timestamp: 5e-324, bytesReceived: 0, packetsReceived: 0, packetsLost: 0 }), ctx, NOW);
    const r = p.process(entry({ timestamp: 1e-323, bytesReceived: 2 ** 52, packetsReceived: 2 ** 52, packetsLost: 2 ** 52 }), ctx, NOW);
    const s = r.streams[0];
    // 2^52 bytes over 5e-324 ms: Infinity kbps before; now no value rather than an absurd one.
    expect(s?.bitrate).toBeUndefined();
    expect(s?.packetRate).toBeUndefined();
    expect(s?.fractionLoss).toBe(0.5);
    expectInRange(r);

    const q = createStatsProcessor();
    q.process(entry({ timestamp: 1000, packetsLost: -1e308 }), ctx, NOW);
    const lost = q.process(entry({ timestamp: 2000, packetsLost: 1e308 }), ctx, NOW).streams[0];
    expect(lost?.fractionLoss).toBeUndefined(); // (1e308 - -1e308) was Infinity: NaN loss
    expect(lost?.packetsLost).toBeUndefined();
  });
});
