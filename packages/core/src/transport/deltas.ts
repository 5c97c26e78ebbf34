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
function cleanFields(entry: Fields): Fields {
  const out: Fields = {};
  for (const [f, v] of Object.entries(entry)) if (f != 'key' && v !== undefined && (typeof v != 'number' || isFinite(v))) out[f] = v;
  return out;
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

/** `new DeltaEncoder()`: one per transport. */
export interface DeltaEncoder {
  /**
   * Encodes one full sample; updates the state as if the result reached the collector. `sanitized`:
   * the entries are the sanitizer's fresh copies (only valid values, `key` last), kept as the state
   * as they are instead of cleaned copies.
   */
  encode(fabricID: string, streams: StreamEntry[], connection: Fields | undefined, sanitized?: boolean): { streams: StreamEntry[]; connection: Fields | undefined };
}

function createDeltaEncoder(): DeltaEncoder {
  /** `${fabricID}\0${key}` -> the last full fields sent; `${fabricID}\0` -> the last connection. */
  const last = new Map<string, Fields>();
  /** stream key -> the `last` id of the fabric that sent it last. */
  const lastIdOfKey = new Map<string, string>();
  /**
   * fabricID -> stream key -> its `last` id, made once: hashing a new concatenation per stream per
   * sample was a third of encode().
   */
  const idsOfFabric = new Map<string, Map<string, string>>();
  /**
   * Into `out`: the fields of `cur` that differ from `prev` (all if `whole`: truthy), then `null`
   * for the fields of `prev` and `other` (another fabric's last) that `cur` lacks.
   */
  const encodeInto = <T extends Fields>(out: T, cur: Fields, whole: unknown, prev: Fields | undefined, other?: Fields): T => {
    for (const f in cur) if (whole || prev![f] !== cur[f]) (out as Fields)[f] = cur[f];
    for (const known of [prev, other]) for (const f in known) if (!(f in cur)) (out as Fields)[f] = null;
    return out;
  };
  return {
    encode(fabricID, streams, connection, sanitized) {
      const clean = (entry: Fields): Fields => (sanitized ? entry : cleanFields(entry));
      const outStreams: StreamEntry[] = [];
      const seen = new Set<string>();
      const ids = idsOfFabric.get(fabricID) ?? new Map<string, string>();
      idsOfFabric.set(fabricID, ids);
      for (const s of streams) {
        const key = s.key;
        if (seen.has(key)) continue; // a key once per item
        seen.add(key);
        const cur = clean(s);
        let id = ids.get(key);
        if (id === undefined) ids.set(key, (id = fabricID + SEP + key));
        const prev = last.get(id);
        const otherId = lastIdOfKey.get(key);
        const other = otherId != id ? last.get(otherId!) : undefined;
        // Whole (with null for what either fabric's state knows) after a collision or the first time.
        outStreams.push(encodeInto({ key }, cur, other || !prev, prev, other));
        last.set(id, cur);
        lastIdOfKey.set(key, id);
      }
      const id = fabricID + SEP;
      const cur = connection && clean(connection);
      const out = cur && encodeInto({}, cur, true, last.get(id));
      if (cur) last.set(id, cur);
      return { streams: outStreams, connection: out };
    },
  };
}

/** A constructor, as tests and tools use it: `new DeltaEncoder()`. */
export const DeltaEncoder = createDeltaEncoder as unknown as new () => DeltaEncoder;

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
