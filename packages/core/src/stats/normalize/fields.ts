/** Typed reads of stats fields (entries are `unknown`-valued records). */
import type { StatsEntry } from '../../types';

/** A finite number, or undefined. */
export function num(entry: StatsEntry | undefined, field: string): number | undefined {
  const v = entry?.[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A non-empty string, or undefined. */
export function str(entry: StatsEntry | undefined, field: string): string | undefined {
  const v = entry?.[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** SSRCs: Chromium and Firefox give numbers, older stacks strings; always a decimal string here. */
export function ssrcOf(entry: StatsEntry): string | undefined {
  const v = entry.ssrc;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? String(v) : undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) return String(Number(v));
  return undefined;
}
