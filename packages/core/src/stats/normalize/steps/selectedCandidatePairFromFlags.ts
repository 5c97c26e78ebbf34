/**
 * Browser difference: Firefox has no `transport` stats; its candidate pairs carry a non-standard
 * `selected: true`. Without it, a `nominated` pair in state `succeeded` is taken; after an ICE
 * restart several pairs can be nominated, so the one that received (or sent) last wins.
 */
import type { StatsEntry } from '../../../types';
import { num } from '../fields';

export function selectedCandidatePairFromFlags(pairs: readonly StatsEntry[]): StatsEntry | undefined {
  const lastPacket = (p: StatsEntry): number => num(p, 'lastPacketReceivedTimestamp') ?? num(p, 'lastPacketSentTimestamp') ?? -1;
  let best: StatsEntry | undefined;
  for (const p of pairs) if (p.nominated === true && p.state == 'succeeded' && (!best || lastPacket(p) >= lastPacket(best))) best = p;
  return pairs.find((p) => p.selected === true) ?? best;
}
