/**
 * Step 1: one pass over the report. Indexes entries by id and sorts the ones the engine uses by
 * (normalized) type. Holds references only: no entry is copied or changed.
 */
import type { StatsEntry, StatsReportLike } from '../../../types';
import { remoteTypeFromIsRemote } from './remoteTypeFromIsRemote';
import { typeFromLegacyName } from './typeFromLegacyName';

export interface StatsIndex {
  byId: Map<string, StatsEntry>;
  inbound: StatsEntry[];
  outbound: StatsEntry[];
  remoteInbound: StatsEntry[];
  remoteOutbound: StatsEntry[];
  candidatePairs: StatsEntry[];
  transports: StatsEntry[];
  /** The latest entry timestamp (ms), 0 for an empty report. */
  latestTimestamp: number;
}

/** The spec type of an entry, whatever the browser called it. */
export const statsTypeOf = (entry: StatsEntry): string => remoteTypeFromIsRemote(typeFromLegacyName(String(entry.type)), entry.isRemote);

/** The index lists by spec type. */
const LISTS: Record<string, keyof StatsIndex> = {
  'inbound-rtp': 'inbound',
  'outbound-rtp': 'outbound',
  'remote-inbound-rtp': 'remoteInbound',
  'remote-outbound-rtp': 'remoteOutbound',
  'candidate-pair': 'candidatePairs',
  transport: 'transports',
};

export function indexById(report: StatsReportLike): StatsIndex {
  const index: StatsIndex = {
    byId: new Map(),
    inbound: [],
    outbound: [],
    remoteInbound: [],
    remoteOutbound: [],
    candidatePairs: [],
    transports: [],
    latestTimestamp: 0,
  };
  report.forEach((entry, key) => {
    if (!entry || typeof entry != 'object') return;
    index.byId.set(typeof entry.id == 'string' ? entry.id : key, entry);
    if (entry.timestamp > index.latestTimestamp) index.latestTimestamp = entry.timestamp;
    const list = LISTS[statsTypeOf(entry)];
    if (list) (index[list] as StatsEntry[]).push(entry);
  });
  return index;
}
