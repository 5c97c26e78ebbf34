/**
 * The spec way (Chromium, Safari): `transport.selectedCandidatePairId`. With several transports
 * (no BUNDLE) the one the RTP streams use is preferred.
 */
import type { StatsEntry } from '../../../types';
import { linked, str } from '../fields';
import type { StatsIndex } from './indexById';

export function selectedCandidatePairFromTransport(
  index: Pick<StatsIndex, 'byId' | 'transports'>,
  preferredTransportId?: string,
): StatsEntry | undefined {
  const withPair = index.transports.filter((t) => str(t, 'selectedCandidatePairId'));
  const transport = withPair.find((t) => t.id === preferredTransportId) ?? withPair[0];
  return linked(transport, index.byId, 'candidate-pair', 'selectedCandidatePairId');
}
