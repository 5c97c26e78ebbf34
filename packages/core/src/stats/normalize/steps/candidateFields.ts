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

export function candidateFields(c: StatsEntry | undefined): CandidateFields {
  return c
    ? {
        type: str(c, 'candidateType'),
        protocol: str(c, 'protocol') ?? str(c, 'transport'),
        address: str(c, 'address') ?? str(c, 'ip') ?? str(c, 'ipAddress'),
        port: num(c, 'port') ?? num(c, 'portNumber'),
      }
    : {};
}
