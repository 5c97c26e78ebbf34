/**
 * Delta coding of `stats` items (docs/protocol.md, "Items"): per (fabricID, stream key) a stream
 * entry carries only the fields that changed since the previous stats item of this session for that
 * key (first occurrence: all fields); `null` = the field became unknown. Every stream present in a
 * sample is listed (an entry may be just `{key}`), so the collector knows which streams existed.
 *
 * `connection` is sent whole (all current fields) plus `null` for fields that disappeared since the
 * previous connection of the fabric: correct whether or not the collector carries connection fields
 * forward.
 *
 * If the same key shows up under two fabrics of one session (SSRC collision), the entry is sent whole
 * with `null` for every field known under either, so reconstruction is exact whether the collector
 * keys its state by (sid, key) or by (sid, fabricID, key).
 */
import { isPlainObject } from './util';

export type Fields = Record<string, unknown>;
export interface StreamEntry {
  key: string;
  [field: string]: unknown;
}

const SEP = '\u0000';

/** Own enumerable fields, without `key`, undefined values and non-finite numbers. */
export function cleanFields(entry: Fields): Fields {
  const out: Fields = {};
  for (const f of Object.keys(entry)) {
    if (f === 'key') continue;
    const v = entry[f];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    out[f] = v;
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** The stream entries of a stats sample: an array of `{key?, ...}` or an object keyed by stream key. */
export function streamEntries(streams: unknown): StreamEntry[] {
  const list: Array<[string | undefined, unknown]> = Array.isArray(streams)
    ? streams.map((s) => [undefined, s])
    : isPlainObject(streams)
      ? Object.keys(streams).map((k) => [k, streams[k]])
      : [];
  const out: StreamEntry[] = [];
  for (const [objKey, s] of list) {
    if (!isPlainObject(s)) continue;
    let key = typeof s.key === 'string' && s.key ? s.key : objKey;
    if (!key && s.statsType !== undefined && s.ssrc !== undefined) key = `${String(s.statsType)}:${String(s.ssrc)}`;
    if (!key) continue;
    out.push({ ...s, key });
  }
  return out;
}

export class DeltaEncoder {
  /** `${fabricID}\0${key}` -> the last full fields sent. */
  private readonly last = new Map<string, Fields>();
  /** stream key -> fabricID that sent it last. */
  private readonly lastFabricOfKey = new Map<string, string>();
  /** fabricID -> last full connection fields. */
  private readonly lastConnection = new Map<string, Fields>();

  /** Encodes one full sample; updates the state as if the result reached the collector. */
  encode(fabricID: string, streams: StreamEntry[], connection: Fields | undefined): { streams: StreamEntry[]; connection?: Fields } {
    const outStreams: StreamEntry[] = [];
    const seen = new Set<string>();
    for (const s of streams) {
      if (seen.has(s.key)) continue; // a key once per item
      seen.add(s.key);
      const cur = cleanFields(s);
      const id = fabricID + SEP + s.key;
      const prev = this.last.get(id);
      const otherFabric = this.lastFabricOfKey.get(s.key);
      const other = otherFabric !== undefined && otherFabric !== fabricID ? this.last.get(otherFabric + SEP + s.key) : undefined;
      const out: StreamEntry = { key: s.key };
      if (other) {
        for (const f of Object.keys(other)) if (!(f in cur)) out[f] = null;
        if (prev) for (const f of Object.keys(prev)) if (!(f in cur)) out[f] = null;
        Object.assign(out, cur);
      } else if (!prev) {
        Object.assign(out, cur);
      } else {
        for (const f of Object.keys(cur)) if (!same(prev[f], cur[f])) out[f] = cur[f];
        for (const f of Object.keys(prev)) if (!(f in cur)) out[f] = null;
      }
      this.last.set(id, cur);
      this.lastFabricOfKey.set(s.key, fabricID);
      outStreams.push(out);
    }
    if (!connection) return { streams: outStreams };
    const cur = cleanFields(connection);
    const prev = this.lastConnection.get(fabricID);
    const out: Fields = {};
    if (prev) for (const f of Object.keys(prev)) if (!(f in cur)) out[f] = null;
    Object.assign(out, cur);
    this.lastConnection.set(fabricID, cur);
    return { streams: outStreams, connection: out };
  }
}

/**
 * Folds the fields of an older (dropped) entry into a newer one of the same key: applying the result
 * to the state before the older entry gives the state after the newer one.
 */
export function mergeFields<T extends Fields>(older: Fields, newer: T): T {
  return { ...older, ...newer };
}

/**
 * Carry-forward reconstruction as the collector does it: applies an encoded entry to the previous
 * full fields. `null` removes a field. (Used by tests and tools.)
 */
export function applyDelta(prev: Fields | undefined, delta: Fields): Fields {
  const out: Fields = { ...(prev ?? {}) };
  for (const f of Object.keys(delta)) {
    if (f === 'key') continue;
    const v = delta[f];
    if (v === null) delete out[f];
    else out[f] = v;
  }
  return out;
}
