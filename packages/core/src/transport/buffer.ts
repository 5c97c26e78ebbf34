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
import { isPlainObject, utf8Length } from '../util/values';
import { SEP, type Fields, type StreamEntry } from './deltas';

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
  transmitted?: boolean;
  /** Cached serialization and its UTF-8 size (json undefined: the item changed since). */
  json?: string;
  bytes?: number;
}

/** The item's JSON and its UTF-8 size (cached until the item changes). */
function serialized(b: BufferedItem): { json: string; bytes: number } {
  if (b.json === undefined) b.bytes = utf8Length((b.json = JSON.stringify(b.item)));
  return b as { json: string; bytes: number };
}

/** A batch body: `{<head>"sid":..,"items":[..]}` (head: e.g. `"type":"batch","id":1,`). */
export const batchJson = (sid: string, items: readonly BufferedItem[], head = ''): string =>
  `{${head}"sid":${JSON.stringify(sid)},"items":[${items.map((b) => serialized(b).json).join()}]}`;

/** The first items, at most maxItems and (but at least one) `maxBytes` (already `bytes` used) with a comma each. */
export function fitting(items: readonly BufferedItem[], maxItems: number, maxBytes: number, bytes = 0): BufferedItem[] {
  let count = 0;
  for (const b of items) {
    bytes += serialized(b).bytes + 1;
    if (count >= maxItems || (count && bytes > maxBytes)) break;
    count++;
  }
  return items.slice(0, count);
}

/** A stats item's entries by key: its stream entries, and its connection under the key ''. */
function entries(item: WireItem): Array<[key: string, entry: Fields]> {
  const out: Array<[string, Fields]> = Array.isArray(item.streams) ? (item.streams as StreamEntry[]).map((e) => [e.key, e]) : [];
  if (isPlainObject(item.connection)) out.push(['', item.connection]);
  return out;
}

const entryOf = (item: WireItem, key: string): Fields | undefined => entries(item).find(([k]) => k == key)?.[1];

/** Where the carry keeps a dropped entry of a stats item. (fabricID: a string, checked by the transport.) */
const carryId = (item: WireItem, key: string): string => `${item.fabricID as string}${SEP}${key}`;

/**
 * Folds the fields of an older (dropped) entry of the same key into a newer one, in place:
 * applying the result to the state before the older entry gives the state after the newer one.
 */
function mergeInto(newer: Fields, older: Fields | undefined): void {
  for (const f in older) if (!(f in newer)) newer[f] = older[f];
}

/** See the top of this file. `new OutboxBuffer(bound, allocN, now, warn)`. */
export interface OutboxBuffer {
  readonly size: number;
  /** Stats samples dropped so far. */
  readonly dropped: number;
  all(): readonly BufferedItem[];
  /** Adds an item (its n must be higher than every buffered n); drops stats while over the bound. */
  push(item: WireItem, json?: string, bytes?: number): void;
  /** Removes the acknowledged items (or a refused one). */
  ack(ns: readonly number[]): void;
  /**
   * The first items in n order, at most maxItems and (but at least one) maxBytes of serialized items
   * plus a comma each; marks them transmitted. A `dropped` item waits while an earlier one of its
   * conference is buffered.
   */
  takeBatch(maxItems: number, maxBytes: number): BufferedItem[];
  markTransmitted(b: BufferedItem): void;
}

function createOutbox(bound: number, allocN: () => number, now: () => number, warn: (message: string) => void): OutboxBuffer {
  let items: BufferedItem[] = [];
  /** Fields of dropped stats entries with no buffered successor: by fabricID SEP key (connection: key ''). */
  const carry = new Map<string, Fields>();
  /** Per conference, the `dropped` item still open for counting (not transmitted). */
  const openDropped = new Map<string, BufferedItem>();
  let warnedFull = false;

  function markTransmitted(b: BufferedItem): void {
    b.transmitted = true;
    // (Resending an older `dropped` item must not close the open one.)
    if (openDropped.get(b.item.conferenceID) == b) openDropped.delete(b.item.conferenceID);
  }

  /** Drops the oldest untransmitted stats (else customStats) item; false if there is none. */
  function evictOne(): boolean {
    const untransmitted = (kind: string): number => items.findIndex((b) => !b.transmitted && b.item.kind == kind);
    let i = untransmitted('stats');
    if (i < 0) i = untransmitted('customStats');
    if (i < 0) return false;
    const { item: gone } = items.splice(i, 1)[0]!;
    const { conferenceID } = gone;
    if (gone.kind == 'stats') {
      // Fold its entries into the later stats items of its fabric, else into the carry.
      const later = items.slice(i).filter((b) => b.item.kind == 'stats' && b.item.fabricID == gone.fabricID);
      for (const [key, older] of entries(gone)) {
        const b = later.find((b) => entryOf(b.item, key));
        if (b) {
          mergeInto(entryOf(b.item, key)!, older);
          b.json = undefined;
        } else {
          const id = carryId(gone, key);
          mergeInto(older, carry.get(id));
          carry.set(id, older);
        }
      }
    }
    buffer.dropped++;
    // Count it in the conference's open `dropped` item, or open one.
    const open = openDropped.get(conferenceID);
    if (open) {
      open.item.count = (open.item.count as number) + 1;
      open.json = undefined;
    } else {
      const n = allocN();
      const b: BufferedItem = { n, item: { n, t: now(), kind: 'dropped', conferenceID, count: 1, reason: 'buffer_full' } };
      openDropped.set(conferenceID, b);
      items.push(b);
    }
    return true;
  }

  const buffer = {
    dropped: 0,
    get size() {
      return items.length;
    },
    all: () => items,
    push(item: WireItem, json?: string, bytes?: number) {
      if (item.kind == 'stats' && carry.size) {
        // Merge what was kept aside from dropped items into this item's entries.
        for (const [key, entry] of entries(item)) {
          const id = carryId(item, key);
          mergeInto(entry, carry.get(id));
          carry.delete(id);
        }
        json = undefined; // the item may have changed: serialize it again when needed
      }
      items.push({ n: item.n, item, json, bytes });
      while (items.length > bound)
        if (!evictOne()) {
          if (!warnedFull) warn(`Offline buffer over its size (${bound}) with nothing droppable: it grows until the collector answers.`);
          warnedFull = true;
          break;
        }
    },
    ack(ns: readonly number[]) {
      const set = new Set(ns);
      items = items.filter((b) => !set.has(b.n));
      for (const [conference, b] of openDropped) if (set.has(b.n)) openDropped.delete(conference);
    },
    takeBatch(maxItems: number, maxBytes: number) {
      // A conference's newer `dropped` item stays open (counting) while an earlier one is
      // unacknowledged: sending it would close it, and one new item per failed attempt grew the
      // buffer for as long as the collector was down.
      const droppedOf = new Set<string>();
      const eligible = items.filter((b) => b.item.kind != 'dropped' || (!droppedOf.has(b.item.conferenceID) && droppedOf.add(b.item.conferenceID)));
      const out = fitting(eligible, maxItems, maxBytes);
      out.forEach(markTransmitted);
      return out;
    },
    markTransmitted,
  };
  return buffer;
}

/** A constructor, as tests and tools use it: `new OutboxBuffer(bound, allocN, now, warn)`. */
export const OutboxBuffer = createOutbox as unknown as new (...args: Parameters<typeof createOutbox>) => OutboxBuffer;
