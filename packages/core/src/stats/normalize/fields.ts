/** Typed reads of stats fields (entries are `unknown`-valued records). */
import type { StatsEntry } from '../../types';
import { statsTypeOf } from './steps/indexById';

/** A finite number, or undefined. */
export const finite = (v: unknown): number | undefined => (typeof v == 'number' && isFinite(v) ? v : undefined);

/*
 * The largest plausible stats values. Beyond them (or below 0) a value is garbage from a broken
 * stack or a hostile report, not a measurement: it reads as absent, so the app never gets a
 * negative, infinite or absurd value, and rates computed from counters stay finite (docs/stats.md).
 * (Constants of their own: the bundler inlines them.)
 */
/** Counters (bytes, packets, frames, jitter buffer seconds) and timestamps (ms): exact in a double. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;
/** RTT, jitter, jitter buffer delay per frame. */
export const MAX_MS = 3_600_000;
/** Frame width and height: codecs code them in at most 16 bits. */
export const MAX_PIXELS = 65_536;
export const MAX_FRAME_RATE = 1000;
/** 100 Gbit/s. */
export const MAX_KBPS = 100_000_000;
/** 100 Gbit/s of 1250-byte packets. */
export const MAX_PACKET_RATE = 10_000_000;

/** The limits above by kind of value. */
export const LIMITS = {
  counter: MAX_COUNTER,
  ms: MAX_MS,
  pixels: MAX_PIXELS,
  framesPerSecond: MAX_FRAME_RATE,
  kbps: MAX_KBPS,
  packetsPerSecond: MAX_PACKET_RATE,
} as const;

/** A number from 0 to `max`, or undefined (NaN and ±Infinity too). */
export const inRange = (v: unknown, max: number): number | undefined => (typeof v == 'number' && v >= 0 && v <= max ? v : undefined);

/** A signed counter (packetsLost), or undefined. */
export const signedCounter = (v: unknown): number | undefined => (typeof v == 'number' && Math.abs(v) <= MAX_COUNTER ? v : undefined);

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

/**
 * The entry of (spec) `type` that `from` points to by an id field (e.g. `mediaSourceId`), else by
 * the other.
 */
export function linked(
  from: StatsEntry | undefined,
  byId: ReadonlyMap<string, StatsEntry>,
  type: string,
  idField: string,
  otherIdField = '',
): StatsEntry | undefined {
  const id = str(from, idField) ?? str(from, otherIdField);
  // No id: no link (a hostile report may have an entry keyed '').
  const entry = id && byId.get(id);
  return entry && statsTypeOf(entry) == type ? entry : undefined;
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
