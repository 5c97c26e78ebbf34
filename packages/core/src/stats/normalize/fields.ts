/** Typed reads of stats fields (entries are `unknown`-valued records). */
import type { StatsEntry } from '../../types';

/** A finite number, or undefined. */
export const finite = (v: unknown): number | undefined => (typeof v == 'number' && isFinite(v) ? v : undefined);

/**
 * The largest plausible stats values. Beyond them (or below 0) a value is garbage from a broken
 * stack or a hostile report, not a measurement: it reads as absent, so the app never gets a
 * negative, infinite or absurd value, and rates computed from counters stay finite (docs/stats.md).
 */
export const LIMITS = {
  /** Counters (bytes, packets, frames, jitter buffer seconds) and timestamps (ms): exact in a double. */
  counter: Number.MAX_SAFE_INTEGER,
  /** RTT, jitter, jitter buffer delay per frame. */
  ms: 3_600_000,
  /** Frame width and height: codecs code them in at most 16 bits. */
  pixels: 65_536,
  framesPerSecond: 1000,
  /** 100 Gbit/s. */
  kbps: 100_000_000,
  /** 100 Gbit/s of 1250-byte packets. */
  packetsPerSecond: 10_000_000,
} as const;

/** A number from 0 to `max`, or undefined (NaN and ±Infinity too). */
export const inRange = (v: unknown, max: number): number | undefined => (typeof v == 'number' && v >= 0 && v <= max ? v : undefined);

/** A signed counter (packetsLost), or undefined. */
export const signedCounter = (v: unknown): number | undefined => (typeof v == 'number' && Math.abs(v) <= LIMITS.counter ? v : undefined);

/** A non-empty string, or undefined. */
export const nonEmpty = (v: unknown): string | undefined => (typeof v == 'string' && v ? v : undefined);

/**
 * `finite` / `nonEmpty` of a field. Hot paths read fixed fields directly (`finite(entry.jitter)`):
 * a named property read is much cheaper than one by a variable name.
 */
export const num = (entry: StatsEntry | undefined, field: string): number | undefined => finite(entry?.[field]);
export const str = (entry: StatsEntry | undefined, field: string): string | undefined => nonEmpty(entry?.[field]);

/**
 * An SSRC as a decimal string: stats give numbers (older stacks strings), the SDP and apps strings.
 * Undefined for anything that is not an unsigned integer.
 */
export function ssrcString(v: unknown): string | undefined {
  if (typeof v == 'number') return Number.isInteger(v) && v >= 0 ? String(v) : undefined;
  const s = typeof v == 'string' ? v.trim() : '';
  return /^\d+$/.test(s) ? String(Number(s)) : undefined;
}

export const ssrcOf = (entry: StatsEntry): string | undefined => ssrcString(entry.ssrc);

/** The entry of `type` that `rtp` points to by an id field (e.g. `mediaSourceId`), else by the other. */
export function linked(rtp: StatsEntry, byId: ReadonlyMap<string, StatsEntry>, type: string, idField: string, otherIdField = ''): StatsEntry | undefined {
  const entry = byId.get(str(rtp, idField) ?? str(rtp, otherIdField) ?? '');
  return entry?.type == type ? entry : undefined;
}

/** One read of the field (reads are what costs on the entries Chromium builds). */
const value = (entry: StatsEntry | undefined, field: string): number | string | undefined => {
  const v = entry?.[field];
  return finite(v) ?? nonEmpty(v);
};

/**
 * Values from `from` (an entry the RTP entry links to) for the RTP fields the entry lacks:
 * `fields` maps each RTP field name to its name on `from`.
 */
export function fillMissing(rtp: StatsEntry, from: StatsEntry | undefined, fields: Record<string, string>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  if (from)
    for (const field in fields) {
      const v = value(from, fields[field]!);
      if (v !== undefined && value(rtp, field) === undefined) out[field] = v;
    }
  return out;
}
