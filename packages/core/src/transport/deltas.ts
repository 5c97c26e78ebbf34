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
import { isPlainObject } from '../util/values';

export type Fields = Record<string, unknown>;
export interface StreamEntry {
  key: string;
  [field: string]: unknown;
}

/** Joins fabricID and stream key into one map key. */
export const SEP = '\u0000';

/**
 * Own enumerable fields, without `key`, undefined values and non-finite numbers. (The transport's
 * sanitizer lets only numbers and strings through, so values compare with `===`.)
 */
export function cleanFields(entry: Fields): Fields {
  const out: Fields = {};
  for (const f of Object.keys(entry)) {
    const v = entry[f];
    if (f != 'key' && v !== undefined && (typeof v != 'number' || isFinite(v))) out[f] = v;
  }
  return out;
}

/** Sets `null` in `out` for the fields of `prev` that `cur` lacks. */
function nullsFor(out: Fields, prev: Fields | undefined, cur: Fields): void {
  for (const f in prev) if (!(f in cur)) out[f] = null;
}

/** The stream entries of a stats sample: an array of `{key?, ...}` or an object keyed by stream key. */
export function streamEntries(streams: unknown): StreamEntry[] {
  const out: StreamEntry[] = [];
  const list = Array.isArray(streams) ? streams.map((s): [string, unknown] => ['', s]) : isPlainObject(streams) ? Object.entries(streams) : [];
  for (const [objKey, s] of list) {
    if (!isPlainObject(s)) continue;
    const key =
      (typeof s.key == 'string' && s.key) || objKey || (s.statsType !== undefined && s.ssrc !== undefined ? `${String(s.statsType)}:${String(s.ssrc)}` : '');
    // (The monitor's own entries carry their key: no copy.)
    if (key) out.push(s.key === key ? (s as StreamEntry) : { ...s, key });
  }
  return out;
}

export class DeltaEncoder {
  /** `${fabricID}\0${key}` -> the last full fields sent; `${fabricID}\0` -> the last connection. */
  private readonly last = new Map<string, Fields>();
  /** stream key -> fabricID that sent it last. */
  private readonly fabricOfKey = new Map<string, string>();

  /** Encodes one full sample; updates the state as if the result reached the collector. */
  encode(fabricID: string, streams: StreamEntry[], connection: Fields | undefined): { streams: StreamEntry[]; connection?: Fields } {
    const last = this.last;
    const outStreams: StreamEntry[] = [];
    const seen = new Set<string>();
    for (const s of streams) {
      const key = s.key;
      if (seen.has(key)) continue; // a key once per item
      seen.add(key);
      const cur = cleanFields(s);
      const id = fabricID + SEP + key;
      const prev = last.get(id);
      const otherFabric = this.fabricOfKey.get(key);
      const other = otherFabric !== undefined && otherFabric !== fabricID ? last.get(otherFabric + SEP + key) : undefined;
      const out: StreamEntry = { key };
      if (other || !prev) {
        // whole, with null for what either fabric's state knows
        nullsFor(out, other, cur);
        nullsFor(out, prev, cur);
        Object.assign(out, cur);
      } else {
        for (const f in cur) if (prev[f] !== cur[f]) out[f] = cur[f];
        nullsFor(out, prev, cur);
      }
      last.set(id, cur);
      this.fabricOfKey.set(key, fabricID);
      outStreams.push(out);
    }
    if (!connection) return { streams: outStreams };
    const cur = cleanFields(connection);
    const out: Fields = {};
    nullsFor(out, last.get(fabricID + SEP), cur);
    last.set(fabricID + SEP, cur);
    return { streams: outStreams, connection: Object.assign(out, cur) };
  }
}

/**
 * Carry-forward reconstruction as the collector does it: applies an encoded entry to the previous
 * full fields. `null` removes a field. (Used by tests and tools.)
 */
export function applyDelta(prev: Fields | undefined, delta: Fields): Fields {
  const out: Fields = { ...prev };
  for (const f in delta) {
    if (f == 'key') continue;
    if (delta[f] === null) delete out[f];
    else out[f] = delta[f];
  }
  return out;
}
