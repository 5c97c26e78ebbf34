/**
 * Units: `fractionLost` is 0..1 in the stats spec (Chromium, Firefox, Safari). Some stacks pass
 * through RTCP's 8-bit fixed-point value (0..255, loss x 256): values above 1 are scaled back.
 */
import type { Ratio, StatsEntry } from '../../../types';
import { finite } from '../fields';

export function fractionLostUnits(entry: StatsEntry | undefined): Ratio | undefined {
  const v = finite(entry?.fractionLost);
  return v === undefined || v < 0 ? undefined : v > 1 ? Math.min(1, v / 256) : v;
}
