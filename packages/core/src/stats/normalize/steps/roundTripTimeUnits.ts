/**
 * Units: the stats spec gives round-trip times and jitter in seconds; the SDK reports
 * milliseconds. Browser difference: old Firefox (isRemote era) gave the RTT as `mozRtt`, already
 * in milliseconds.
 */
import type { Milliseconds, StatsEntry } from '../../../types';
import { num } from '../fields';

/** A field in seconds, in ms. */
export function secondsAsMs(entry: StatsEntry | undefined, field: string): Milliseconds | undefined {
  const seconds = num(entry, field);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** roundTripTime / currentRoundTripTime (seconds) -> ms; `mozRtt` is taken as ms. */
export const roundTripTimeUnits = (
  entry: StatsEntry | undefined,
  field: 'roundTripTime' | 'currentRoundTripTime' = 'roundTripTime',
): Milliseconds | undefined => secondsAsMs(entry, field) ?? num(entry, 'mozRtt');

/** jitter (seconds) -> ms. */
export const jitterUnits = (entry: StatsEntry | undefined): Milliseconds | undefined => secondsAsMs(entry, 'jitter');
