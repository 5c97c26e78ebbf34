/**
 * The spec way (Chromium, Safari): `transport.selectedCandidatePairId`. With several transports
 * (no BUNDLE) the one the RTP streams use is preferred.
 */
import type { StatsEntry } from '../../../types';
import { str } from '../fields';
import type { StatsIndex } from './indexById';

export function selectedCandidatePairFromTransport(
  index: Pick<StatsIndex, 'byId' | 'transports'>,
  preferredTransportId?: string,
): StatsEntry | undefined {
  let transport: StatsEntry | undefined;
  for (const t of index.transports) {
    if (!str(t, 'selectedCandidatePairId')) continue;
    if (!transport || t.id === preferredTransportId) transport = t;
  }
  const pairId = str(transport, 'selectedCandidatePairId');
  const pair = pairId ? index.byId.get(pairId) : undefined;
  return pair && (pair.type === 'candidate-pair' || pair.type === 'candidatepair') ? pair : undefined;
}
