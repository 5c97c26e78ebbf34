/**
 * The offline buffer: every item not yet acknowledged, in `n` order (acknowledged items leave it).
 *
 * Bounded by an item count. When over the bound, the oldest `stats` item that was never transmitted
 * is dropped (then the oldest `customStats`); `fabric`, `event`, `error`, `feedback`, `custom` and
 * `dropped` items are never dropped (if only those are left, the buffer grows past its bound and
 * warns once). Items already transmitted are never dropped: the collector may have stored them.
 *
 * Stats are delta-coded, so a dropped stats item's fields are merged into the next buffered stats
 * item of the same (fabricID, stream key) -- or, if there is none yet, kept aside and merged into
 * the next such item pushed. The collector's carry-forward reconstruction stays exact for every
 * sample that survives. Drops are reported as one `dropped` item per conference
 * (`{kind: 'dropped', count, reason: 'buffer_full'}`), coalesced while it is not yet transmitted.
 */
import { isPlainObject, utf8Length } from './util';
import { mergeFields, type Fields, type StreamEntry } from './deltas';

export interface WireItem {
  n: number;
  t: number;
  kind: string;
  conferenceID: string;
  [field: string]: unknown;
}

export interface BufferedItem {
  readonly n: number;
  item: WireItem;
  /** Sent at least once (WS, HTTP or beacon): may be stored already; never dropped or modified. */
  transmitted: boolean;
  /** Cached serialization and its UTF-8 size. */
  json?: string;
  bytes?: number;
}

const SEP = '\u0000';

export class OutboxBuffer {
  private items: BufferedItem[] = [];
  private readonly carryStreams = new Map<string, Fields>();
  private readonly carryConnection = new Map<string, Fields>();
  /** Per conference, the `dropped` item still open for counting (not transmitted). */
  private readonly openDropped = new Map<string, BufferedItem>();
  private warnedFull = false;
  /** Stats samples dropped so far. */
  dropped = 0;

  constructor(
    private readonly bound: number,
    private readonly allocN: () => number,
    private readonly now: () => number,
    private readonly warn: (message: string) => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Highest n buffered, or 0. */
  get lastN(): number {
    return this.items.length ? (this.items[this.items.length - 1] as BufferedItem).n : 0;
  }

  /** Lowest n buffered, or undefined when empty. */
  get firstN(): number | undefined {
    return this.items[0]?.n;
  }

  all(): readonly BufferedItem[] {
    return this.items;
  }

  /** Adds an item (its n must be higher than every buffered n); returns how many samples were dropped. */
  push(item: WireItem): number {
    if (item.kind === 'stats') this.applyCarry(item);
    this.items.push({ n: item.n, item, transmitted: false });
    const before = this.dropped;
    while (this.items.length > this.bound) {
      if (!this.evictOne()) {
        if (!this.warnedFull) {
          this.warnedFull = true;
          this.warn(`Offline buffer holds ${this.items.length} items, over its size of ${this.bound}, and none can be dropped (only events, errors, fabrics, feedback): it grows until the collector is reachable.`);
        }
        break;
      }
    }
    return this.dropped - before;
  }

  /** Removes the acknowledged items; returns how many were buffered. */
  ack(ns: readonly number[]): number {
    if (!ns.length || !this.items.length) return 0;
    const set = new Set(ns);
    const before = this.items.length;
    this.items = this.items.filter((b) => !set.has(b.n));
    for (const [conf, b] of this.openDropped) if (set.has(b.n)) this.openDropped.delete(conf);
    return before - this.items.length;
  }

  /** Removes one item without merging (an item the collector refused). */
  discard(n: number): BufferedItem | undefined {
    const i = this.items.findIndex((b) => b.n === n);
    if (i < 0) return undefined;
    const [b] = this.items.splice(i, 1);
    for (const [conf, d] of this.openDropped) if (d.n === n) this.openDropped.delete(conf);
    return b;
  }

  /**
   * The first items in n order, at most maxItems and (but at least one) maxBytes of serialized items
   * plus a comma each; marks them transmitted.
   */
  takeBatch(maxItems: number, maxBytes: number): BufferedItem[] {
    const out: BufferedItem[] = [];
    let bytes = 0;
    for (const b of this.items) {
      if (out.length >= maxItems) break;
      const size = serialized(b).bytes + 1;
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(b);
    }
    for (const b of out) this.markTransmitted(b);
    return out;
  }

  markTransmitted(b: BufferedItem): void {
    b.transmitted = true;
    if (b.item.kind === 'dropped') this.openDropped.delete(b.item.conferenceID);
  }

  private applyCarry(item: WireItem): void {
    const fabricID = String(item.fabricID);
    if (Array.isArray(item.streams) && this.carryStreams.size) {
      item.streams = (item.streams as StreamEntry[]).map((e) => {
        const id = fabricID + SEP + e.key;
        const carried = this.carryStreams.get(id);
        if (!carried) return e;
        this.carryStreams.delete(id);
        return mergeFields(carried, e);
      });
    }
    const cc = this.carryConnection.get(fabricID);
    if (cc && isPlainObject(item.connection)) {
      this.carryConnection.delete(fabricID);
      item.connection = mergeFields(cc, item.connection);
    }
  }

  private evictOne(): boolean {
    let idx = this.items.findIndex((b) => !b.transmitted && b.item.kind === 'stats');
    if (idx < 0) idx = this.items.findIndex((b) => !b.transmitted && b.item.kind === 'customStats');
    if (idx < 0) return false;
    const [victim] = this.items.splice(idx, 1) as [BufferedItem];
    if (victim.item.kind === 'stats') this.mergeForward(victim.item, idx);
    this.dropped++;
    this.countDrop(victim.item.conferenceID);
    return true;
  }

  /** Folds a dropped stats item into the following items (from index `from` on) or the carry. */
  private mergeForward(d: WireItem, from: number): void {
    const fabricID = String(d.fabricID);
    const sameFabric = (b: BufferedItem): boolean => b.item.kind === 'stats' && String(b.item.fabricID) === fabricID;
    for (const e of Array.isArray(d.streams) ? (d.streams as StreamEntry[]) : []) {
      let merged = false;
      for (let j = from; j < this.items.length && !merged; j++) {
        const b = this.items[j] as BufferedItem;
        if (!sameFabric(b) || !Array.isArray(b.item.streams)) continue;
        const streams = b.item.streams as StreamEntry[];
        const k = streams.findIndex((s) => s.key === e.key);
        if (k < 0) continue;
        streams[k] = mergeFields(e, streams[k] as StreamEntry);
        invalidate(b);
        merged = true;
      }
      if (!merged) {
        const id = fabricID + SEP + e.key;
        this.carryStreams.set(id, mergeFields(this.carryStreams.get(id) ?? {}, e));
      }
    }
    if (isPlainObject(d.connection)) {
      const conn = d.connection;
      const target = this.items.slice(from).find((b) => sameFabric(b) && isPlainObject(b.item.connection));
      if (target) {
        target.item.connection = mergeFields(conn, target.item.connection as Fields);
        invalidate(target);
      } else {
        this.carryConnection.set(fabricID, mergeFields(this.carryConnection.get(fabricID) ?? {}, conn));
      }
    }
  }

  private countDrop(conferenceID: string): void {
    const open = this.openDropped.get(conferenceID);
    if (open) {
      (open.item as WireItem & { count: number }).count += 1;
      invalidate(open);
      return;
    }
    const b: BufferedItem = {
      n: 0,
      item: { n: 0, t: this.now(), kind: 'dropped', conferenceID, count: 1, reason: 'buffer_full' },
      transmitted: false,
    };
    const n = this.allocN();
    (b as { n: number }).n = n;
    b.item.n = n;
    this.openDropped.set(conferenceID, b);
    this.items.push(b);
  }
}

function invalidate(b: BufferedItem): void {
  b.json = undefined;
  b.bytes = undefined;
}

export function serialized(b: BufferedItem): { json: string; bytes: number } {
  if (b.json === undefined || b.bytes === undefined) {
    b.json = JSON.stringify(b.item);
    b.bytes = utf8Length(b.json);
  }
  return { json: b.json, bytes: b.bytes };
}
