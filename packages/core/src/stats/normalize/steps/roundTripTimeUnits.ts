/**
 * Units: the stats spec gives round-trip times and jitter in seconds; the SDK reports
 * milliseconds. Browser difference: old Firefox (isRemote era) gave the RTT as `mozRtt`, already
 * in milliseconds.
 */
import type { Milliseconds, StatsEntry } from '../../../types';
import { finite } from '../fields';

/** A value in seconds (if finite), in ms. */
const secondsAsMs = (seconds: unknown): Milliseconds | undefined => {
  const s = finite(seconds);
  return s === undefined ? undefined : s * 1000;
};

/** roundTripTime / currentRoundTripTime (seconds) -> ms; `mozRtt` is taken as ms. */
export const roundTripTimeUnits = (
  entry: StatsEntry | undefined,
  field: 'roundTripTime' | 'currentRoundTripTime' = 'roundTripTime',
): Milliseconds | undefined => secondsAsMs(entry?.[field]) ?? finite(entry?.mozRtt);

/** jitter (seconds) -> ms. */
export const jitterUnits = (entry: StatsEntry | undefined): Milliseconds | undefined => secondsAsMs(entry?.jitter);
