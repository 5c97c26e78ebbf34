/**
 * Browser difference: the candidate's address is `address` in the spec (Chromium, Firefox 66+,
 * Safari), `ip` in older Chromium and `ipAddress` in Firefox before 66 / legacy Edge; the port is
 * `port` or `portNumber`.
 */
import type { StatsEntry } from '../../../types';
import { num, str } from '../fields';

export interface CandidateFields {
  type?: string;
  protocol?: string;
  address?: string;
  port?: number;
}

export function candidateFields(candidate: StatsEntry | undefined): CandidateFields {
  if (!candidate) return {};
  return {
    type: str(candidate, 'candidateType'),
    protocol: str(candidate, 'protocol') ?? str(candidate, 'transport'),
    address: str(candidate, 'address') ?? str(candidate, 'ip') ?? str(candidate, 'ipAddress'),
    port: num(candidate, 'port') ?? num(candidate, 'portNumber'),
  };
}
