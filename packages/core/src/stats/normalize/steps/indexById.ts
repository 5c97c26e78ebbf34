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
export function statsTypeOf(entry: StatsEntry): string {
  return remoteTypeFromIsRemote(typeFromLegacyName(String(entry.type)), entry.isRemote);
}

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
    if (!entry || typeof entry !== 'object') return;
    const id = typeof entry.id === 'string' ? entry.id : key;
    index.byId.set(id, entry);
    if (typeof entry.timestamp === 'number' && entry.timestamp > index.latestTimestamp) {
      index.latestTimestamp = entry.timestamp;
    }
    switch (statsTypeOf(entry)) {
      case 'inbound-rtp':
        index.inbound.push(entry);
        break;
      case 'outbound-rtp':
        index.outbound.push(entry);
        break;
      case 'remote-inbound-rtp':
        index.remoteInbound.push(entry);
        break;
      case 'remote-outbound-rtp':
        index.remoteOutbound.push(entry);
        break;
      case 'candidate-pair':
        index.candidatePairs.push(entry);
        break;
      case 'transport':
        index.transports.push(entry);
        break;
    }
  });
  return index;
}
