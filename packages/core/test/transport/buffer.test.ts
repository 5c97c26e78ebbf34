import { describe, expect, it } from 'vitest';
import { OutboxBuffer, type WireItem } from '../../src/transport/buffer';
import { DeltaEncoder } from '../../src/transport/deltas';
import { reconstruct, type StoredItem } from './fakeCollector';
import { expected, makeSamples } from './helpers';

function setup(bound: number) {
  let n = 1;
  const warnings: string[] = [];
  const buffer = new OutboxBuffer(bound, () => n++, () => 42, (m) => warnings.push(m));
  const enc = new DeltaEncoder();
  return {
    buffer,
    warnings,
    nextN: () => n++,
    pushStats(s: ReturnType<typeof makeSamples>[number]): number {
      const e = enc.encode(s.fabricID, s.streams, s.connection);
      const item: WireItem = { n: n++, t: s.t, kind: 'stats', conferenceID: s.conferenceID, fabricID: s.fabricID, streams: e.streams, ...(e.connection ? { connection: e.connection } : {}) };
      buffer.push(item);
      return item.n;
    },
    push(kind: string, extra: Record<string, unknown> = {}): number {
      const item: WireItem = { n: n++, t: 1, kind, conferenceID: 'conf1', ...extra };
      buffer.push(item);
      return item.n;
    },
  };
}

const asStored = (items: readonly { item: WireItem }[]): StoredItem[] => items.map((b) => ({ ...b.item, appID: 'a', sid: 's' }) as StoredItem);

describe('OutboxBuffer', () => {
  it('when full drops the oldest stats first, never events, and reconstruction of the survivors stays exact', () => {
    const b = setup(100);
    const samples = makeSamples(600, 7);
    const byT = new Map(samples.map((s) => [s.t, s]));
    const eventNs: number[] = [];
    samples.forEach((s, i) => {
      b.pushStats(s);
      if (i % 10 === 0) eventNs.push(b.push('event', { event: 'audioMute', data: { i } }));
    });
    const items = b.buffer.all();
    expect(items.length).toBe(100);
    // every event survived
    expect(items.filter((x) => x.item.kind === 'event').map((x) => x.n)).toEqual(eventNs);
    // the surviving stats are the newest ones, contiguous up to the last
    const statsT = items.filter((x) => x.item.kind === 'stats').map((x) => x.item.t);
    const newest = samples.slice(samples.length - statsT.length).map((s) => s.t);
    expect(statsT).toEqual(newest);
    // drops are counted and reported as one dropped item for the conference
    const dropped = items.filter((x) => x.item.kind === 'dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.item).toMatchObject({ kind: 'dropped', reason: 'buffer_full', conferenceID: 'conf1' });
    expect(dropped[0]?.item.count).toBe(b.buffer.dropped);
    expect(b.buffer.dropped).toBe(600 - statsT.length);
    // the collector reconstructs every surviving sample exactly
    const rec = reconstruct(asStored(items));
    let checked = 0;
    for (const x of items) {
      if (x.item.kind !== 'stats') continue;
      const want = expected(byT.get(x.item.t) as (typeof samples)[number]);
      const got = rec.get(x.n);
      expect(Object.fromEntries(got?.streams ?? [])).toEqual(want.streams);
      expect(got?.connection).toEqual(want.connection);
      checked++;
    }
    expect(checked).toBe(statsT.length);
  });

  it('carries the fields of a dropped entry whose key has no buffered successor into the next pushed one', () => {
    const b = setup(3);
    const enc = new DeltaEncoder();
    const mk = (t: number, key: string, fields: Record<string, unknown>, n: number): WireItem => {
      const e = enc.encode('f', [{ key, ...fields }], undefined);
      return { n, t, kind: 'stats', conferenceID: 'c', fabricID: 'f', streams: e.streams };
    };
    const push = (it: WireItem): void => {
      b.buffer.push(it);
    };
    push(mk(1, 'A', { bitrate: 1, jitter: 5, rtt: 3 }, b.nextN()));
    push(mk(2, 'B', { bitrate: 7 }, b.nextN()));
    push(mk(3, 'B', { bitrate: 8 }, b.nextN()));
    push(mk(4, 'B', { bitrate: 9 }, b.nextN())); // drops t=1 (A): no A after it -> carry
    push(mk(5, 'A', { bitrate: 2, rtt: 3 }, b.nextN())); // encoded {bitrate: 2, jitter: null}, merged with the carried t=1 entry
    const items = b.buffer.all();
    const a = items.find((x) => x.item.t === 5);
    expect(a).toBeDefined();
    const rec = reconstruct(asStored(items));
    expect(rec.get(a!.n)?.streams.get('A')).toEqual({ bitrate: 2, rtt: 3 });
    // B's survivors are exact too
    for (const x of items.filter((i) => i.item.kind === 'stats' && i.item.t !== 5)) {
      expect(rec.get(x.n)?.streams.get('B')).toEqual({ bitrate: x.item.t + 5 });
    }
  });

  it('never drops or modifies transmitted items, and counts only real drops', () => {
    const b = setup(5);
    const samples = makeSamples(20, 3);
    for (const s of samples.slice(0, 5)) b.pushStats(s);
    const batch = b.buffer.takeBatch(3, 1 << 20);
    const sentJson = batch.map((x) => JSON.stringify(x.item));
    for (const s of samples.slice(5)) b.pushStats(s);
    const kept = b.buffer.all();
    expect(kept.slice(0, 3).map((x) => x.n)).toEqual(batch.map((x) => x.n));
    expect(kept.slice(0, 3).map((x) => JSON.stringify(x.item))).toEqual(sentJson);
    expect(b.buffer.dropped).toBeGreaterThan(0);
    const d = kept.find((x) => x.item.kind === 'dropped');
    expect(d?.item.count).toBe(b.buffer.dropped);
  });

  it('drops customStats only when no stats can go, and grows past its bound rather than drop events', () => {
    const b = setup(3);
    b.push('customStats', { data: { x: 1 } });
    b.push('event', { event: 'audioMute' });
    b.push('error', { fn: 'createOffer', category: 'sdpGeneration', message: 'x' });
    b.push('feedback', { userID: 'u', rating: { overall: 3 } });
    // the customStats went; a dropped item came
    expect(b.buffer.all().map((x) => x.item.kind)).toEqual(['event', 'error', 'feedback', 'dropped']);
    b.push('fabric', { fabricID: 'f' });
    expect(b.buffer.all().map((x) => x.item.kind)).toEqual(['event', 'error', 'feedback', 'dropped', 'fabric']);
    expect(b.buffer.dropped).toBe(1);
    expect(b.warnings.length).toBe(1);
  });

  it('keeps one dropped item per conference, and opens a new one once the previous was transmitted', () => {
    const b = setup(2);
    const s = makeSamples(10, 1);
    for (const x of s.slice(0, 4)) b.pushStats({ ...x, conferenceID: 'c1' });
    for (const x of s.slice(4, 6)) b.pushStats({ ...x, conferenceID: 'c2' });
    const dropped = () => b.buffer.all().filter((x) => x.item.kind === 'dropped').map((x) => [x.item.conferenceID, x.item.count]);
    expect(dropped().map(([c]) => c)).toEqual(['c1', 'c2']);
    const total = dropped().reduce((a, [, c]) => a + Number(c), 0);
    expect(total).toBe(b.buffer.dropped);
    b.buffer.takeBatch(10, 1 << 20);
    for (const x of s.slice(6)) b.pushStats({ ...x, conferenceID: 'c1' });
    expect(dropped().filter(([c]) => c === 'c1').length).toBe(2);
  });

  it('holds a newer dropped item back while an earlier one is unacknowledged: failed attempts add no items', () => {
    const b = setup(5);
    const samples = makeSamples(200, 4);
    let i = 0;
    for (; i < 8; i++) b.pushStats(samples[i]!);
    // the collector is down: every attempt takes (and transmits) the whole buffer, never acknowledged
    for (let attempt = 0; attempt < 20; attempt++) {
      b.buffer.takeBatch(500, 1 << 20);
      for (const end = i + 9; i < end; i++) b.pushStats(samples[i]!);
    }
    const dropped = () => b.buffer.all().filter((x) => x.item.kind === 'dropped');
    // one transmitted, one open and counting (it was one more per attempt)
    expect(dropped()).toHaveLength(2);
    expect(b.buffer.size).toBeLessThanOrEqual(7);
    const counts = dropped().reduce((a, x) => a + Number(x.item.count), 0);
    expect(counts).toBe(b.buffer.dropped);
    // the first is acknowledged: the open one goes in the next batch, with every drop counted
    const first = dropped()[0]!;
    const heldBack = dropped()[1]!;
    expect(b.buffer.takeBatch(500, 1 << 20)).not.toContain(heldBack);
    b.buffer.ack(b.buffer.all().filter((x) => x.transmitted).map((x) => x.n));
    expect(b.buffer.all()).not.toContain(first);
    expect(b.buffer.takeBatch(500, 1 << 20)).toContain(heldBack);
    expect(Number(first.item.count) + Number(heldBack.item.count)).toBe(b.buffer.dropped);
  });

  it('takes batches by item count and by serialized bytes, at least one item', () => {
    const b = setup(1000);
    for (let i = 0; i < 10; i++) b.push('custom', { name: 'x', data: { pad: 'y'.repeat(1000) } });
    const first = b.buffer.takeBatch(4, 1 << 20);
    expect(first).toHaveLength(4);
    const b2 = setup(1000);
    for (let i = 0; i < 10; i++) b2.push('custom', { name: 'x', data: { pad: 'y'.repeat(1000) } });
    const small = b2.buffer.takeBatch(500, 2500);
    expect(small).toHaveLength(2);
    expect(b2.buffer.takeBatch(500, 10)).toHaveLength(1);
  });
});
