/**
 * Units: the stats spec gives round-trip times and jitter in seconds; the SDK reports
 * milliseconds. Browser difference: old Firefox (isRemote era) gave the RTT as `mozRtt`, already
 * in milliseconds.
 */
import type { Milliseconds, StatsEntry } from '../../../types';
import { inRange, MAX_MS } from '../fields';

/** A value in seconds, in ms; undefined unless in 0..MAX_MS once converted (1e308 s is no Infinity ms). */
const secondsAsMs = (seconds: unknown): Milliseconds | undefined => (typeof seconds == 'number' ? inRange(seconds * 1000, MAX_MS) : undefined);

/** roundTripTime / currentRoundTripTime (seconds) -> ms; `mozRtt` is taken as ms. */
export const roundTripTimeUnits = (
  entry: StatsEntry | undefined,
  field: 'roundTripTime' | 'currentRoundTripTime' = 'roundTripTime',
): Milliseconds | undefined => secondsAsMs(entry?.[field]) ?? inRange(entry?.mozRtt, MAX_MS);

/** jitter (seconds) -> ms. */
export const jitterUnits = (entry: StatsEntry | undefined): Milliseconds | undefined => secondsAsMs(entry?.jitter);
