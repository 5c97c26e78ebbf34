/**
 * Browser difference: Firefox has no `transport` stats; its candidate pairs carry a non-standard
 * `selected: true`. Without it, a `nominated` pair in state `succeeded` is taken; after an ICE
 * restart several pairs can be nominated, so the one that received (or sent) last wins.
 */
import type { StatsEntry } from '../../../types';
import { num } from '../fields';

export function selectedCandidatePairFromFlags(pairs: readonly StatsEntry[]): StatsEntry | undefined {
  for (const p of pairs) if (p.selected === true) return p;
  let best: StatsEntry | undefined;
  let bestLast = -Infinity;
  for (const p of pairs) {
    if (p.nominated !== true || p.state !== 'succeeded') continue;
    const last = num(p, 'lastPacketReceivedTimestamp') ?? num(p, 'lastPacketSentTimestamp') ?? -1;
    if (!best || last >= bestLast) {
      best = p;
      bestLast = last;
    }
  }
  return best;
}
