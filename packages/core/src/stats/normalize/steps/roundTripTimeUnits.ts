/**
 * Units: the stats spec gives round-trip times and jitter in seconds; the SDK reports
 * milliseconds. Browser difference: old Firefox (isRemote era) gave the RTT as `mozRtt`, already
 * in milliseconds.
 */
import type { Milliseconds, StatsEntry } from '../../../types';
import { num } from '../fields';

/** roundTripTime / currentRoundTripTime (seconds) -> ms; `mozRtt` is taken as ms. */
export function roundTripTimeUnits(
  entry: StatsEntry | undefined,
  field: 'roundTripTime' | 'currentRoundTripTime' = 'roundTripTime',
): Milliseconds | undefined {
  const seconds = num(entry, field);
  if (seconds !== undefined) return seconds * 1000;
  return num(entry, 'mozRtt');
}

/** jitter (seconds) -> ms. */
export function jitterUnits(entry: StatsEntry | undefined): Milliseconds | undefined {
  const seconds = num(entry, 'jitter');
  return seconds === undefined ? undefined : seconds * 1000;
}
