import { describe, expect, it } from 'vitest';
import { applyDelta, DeltaEncoder, streamEntries } from '../../src/transport/deltas';
import { expected, makeSamples } from './helpers';

describe('DeltaEncoder', () => {
  it('sends all fields first, then only changes, and null for fields that became unknown', () => {
    const enc = new DeltaEncoder();
    const a = enc.encode('f1', [{ key: 'inbound-rtp:1', ssrc: '1', bitrate: 10, jitter: 3 }], { rtt: 5, protocol: 'udp' });
    expect(a.streams).toEqual([{ key: 'inbound-rtp:1', ssrc: '1', bitrate: 10, jitter: 3 }]);
    expect(a.connection).toEqual({ rtt: 5, protocol: 'udp' });

    const b = enc.encode('f1', [{ key: 'inbound-rtp:1', ssrc: '1', bitrate: 12, jitter: 3 }], { rtt: 5 });
    expect(b.streams).toEqual([{ key: 'inbound-rtp:1', bitrate: 12 }]);
    // connection: whole, with null for what disappeared
    expect(b.connection).toEqual({ rtt: 5, protocol: null });

    const c = enc.encode('f1', [{ key: 'inbound-rtp:1', ssrc: '1', bitrate: 12 }], undefined);
    expect(c.streams).toEqual([{ key: 'inbound-rtp:1', jitter: null }]);
    expect(c.connection).toBeUndefined();

    // unchanged stream: listed with its key only
    const d = enc.encode('f1', [{ key: 'inbound-rtp:1', ssrc: '1', bitrate: 12 }], undefined);
    expect(d.streams).toEqual([{ key: 'inbound-rtp:1' }]);
  });

  it('keeps state per (fabricID, key); the same key under another fabric is sent whole', () => {
    const enc = new DeltaEncoder();
    enc.encode('f1', [{ key: 'k', bitrate: 1, rtt: 9 }], undefined);
    const other = enc.encode('f2', [{ key: 'k', bitrate: 1 }], undefined);
    // whole, and null for the field known under f1: exact for either collector keying
    expect(other.streams).toEqual([{ key: 'k', rtt: null, bitrate: 1 }]);
    const back = enc.encode('f1', [{ key: 'k', bitrate: 1, rtt: 9 }], undefined);
    expect(back.streams).toEqual([{ key: 'k', bitrate: 1, rtt: 9 }]);
  });

  it('treats undefined and non-finite numbers as absent', () => {
    const enc = new DeltaEncoder();
    enc.encode('f', [{ key: 'k', bitrate: 1, jitter: 2 }], undefined);
    const r = enc.encode('f', [{ key: 'k', bitrate: Number.NaN, jitter: undefined }], undefined);
    expect(r.streams).toEqual([{ key: 'k', bitrate: null, jitter: null }]);
  });

  it('derives stream keys from statsType:ssrc and accepts an object keyed by stream key', () => {
    expect(streamEntries([{ statsType: 'inbound-rtp', ssrc: '5', bitrate: 1 }])).toEqual([{ key: 'inbound-rtp:5', statsType: 'inbound-rtp', ssrc: '5', bitrate: 1 }]);
    expect(streamEntries({ 'outbound-rtp:7': { bitrate: 2 } })).toEqual([{ key: 'outbound-rtp:7', bitrate: 2 }]);
    expect(streamEntries([{ bitrate: 1 }, 'x'])).toEqual([]);
  });

  it.each([false, true])('carry-forward reconstruction of 2000 random samples equals the samples (SSRCs shared by fabrics: %s)', (sharedSsrcs) => {
    const enc = new DeltaEncoder();
    const state = new Map<string, Record<string, unknown>>();
    let partial = 0;
    for (const s of makeSamples(2000, 42, ['fA', 'fB'], { sharedSsrcs })) {
      const e = enc.encode(s.fabricID, s.streams, s.connection);
      const want = expected(s);
      for (const entry of e.streams) {
        const id = `${s.fabricID}/${entry.key}`;
        const full = applyDelta(state.get(id), entry);
        state.set(id, full);
        expect(full).toEqual(want.streams[entry.key]);
        if (Object.keys(entry).length < Object.keys(want.streams[entry.key] ?? {}).length + 1) partial++;
      }
      expect(e.streams.map((x) => x.key).sort()).toEqual(Object.keys(want.streams).sort());
      const cid = `${s.fabricID}/#connection`;
      const conn = applyDelta(state.get(cid), e.connection ?? {});
      state.set(cid, conn);
      expect(conn).toEqual(want.connection);
    }
    expect(partial).toBeGreaterThan(sharedSsrcs ? 500 : 3000); // deltas really are partial
  });
});
