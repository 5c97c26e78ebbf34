/**
 * normalizeReport for a report it threw on: a getter or Proxy trap of an entry threw, the report's
 * forEach threw, or it is no report at all (null, a number). Only then, so the per-poll path keeps
 * no per-entry guard. What can be read is kept: entries read before forEach threw, and every
 * entry but the unreadable ones, which are skipped. `problem` is told what was lost.
 */
import type { StatsEntry, StatsReportLike } from '../../types';
import { normalizeReport, type NormalizeOptions } from './index';
import type { NormalizedReport } from './types';

export type ReportProblem = 'unreadable' | 'partial' | 'entries';

const entriesText = (n: number): string => `${n} ${n == 1 ? 'entry' : 'entries'}`;

export function normalizeCarefully(
  report: StatsReportLike,
  options: NormalizeOptions,
  problem: (kind: ReportProblem, message: string, error: unknown) => void,
): NormalizedReport {
  const entries: Array<[string, StatsEntry]> = [];
  try {
    report.forEach((entry, key) => void entries.push([key, entry]));
  } catch (error) {
    if (entries.length) problem('partial', `the getStats() report could be read only in part (its first ${entriesText(entries.length)})`, error);
    else problem('unreadable', 'the getStats() report cannot be read: no stats this poll', error);
  }

  const unreadable = new Set<unknown>();
  let firstError: unknown;
  /**
   * The entry behind a Proxy whose reads never throw: a throwing read marks the entry unreadable
   * and reads as undefined. Objects and symbols read as undefined too (no stats field the engine
   * uses is one), as comparing or converting them can throw. The Proxy's target is an empty
   * object, not the entry: the engine checks a get trap's answer against its target, and that
   * check would run (and throw) outside the trap for an entry that is itself a hostile Proxy.
   */
  const guarded = (entry: StatsEntry): StatsEntry => {
    if (typeof entry != 'object' || !entry) return entry;
    return new Proxy({} as StatsEntry, {
      get(_target, field) {
        try {
          const v: unknown = Reflect.get(entry, field);
          return typeof v == 'object' || typeof v == 'function' || typeof v == 'symbol' ? undefined : v;
        } catch (error) {
          if (!unreadable.size) firstError = error;
          unreadable.add(entry);
          return undefined;
        }
      },
    });
  };
  const pass = (): NormalizedReport =>
    normalizeReport({ forEach: (callback) => entries.forEach(([key, entry]) => unreadable.has(entry) || callback(guarded(entry), key)) }, options);

  // Pass 1 finds the unreadable entries; pass 2 runs without them. (An entry pass 2 reads for the
  // first time, e.g. through a link pass 1 did not follow, reads as undefined where it throws.)
  const normalized = pass();
  if (!unreadable.size) return normalized;
  const skipped = unreadable.size;
  const result = pass();
  problem('entries', `${entriesText(skipped)} of the getStats() report cannot be read: skipped`, firstError);
  return result;
}
