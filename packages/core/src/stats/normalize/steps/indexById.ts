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
  /** The report has legacy `track` stats (Safari < 16.4, Chromium < ~M112). */
  legacyTracks: boolean;
  /** The latest entry timestamp (ms), 0 for an empty report. */
  latestTimestamp: number;
}

/**
 * The spec type of an entry, whatever the browser called it. (`isRemote` is read only where it can
 * matter: a field read on the objects Chromium builds costs far more than on plain objects.)
 */
export function statsTypeOf(entry: StatsEntry): string {
  const type = typeFromLegacyName(String(entry.type));
  return type == 'inbound-rtp' || type == 'outbound-rtp' ? remoteTypeFromIsRemote(type, entry.isRemote) : type;
}

/** The index lists by spec type (a Map: a report's types may be any string, 'constructor' too). */
const LISTS = new Map<string, keyof StatsIndex>([
  ['inbound-rtp', 'inbound'],
  ['outbound-rtp', 'outbound'],
  ['remote-inbound-rtp', 'remoteInbound'],
  ['remote-outbound-rtp', 'remoteOutbound'],
  ['candidate-pair', 'candidatePairs'],
  ['transport', 'transports'],
]);

export function indexById(report: StatsReportLike): StatsIndex {
  const index: StatsIndex = {
    byId: new Map(),
    inbound: [],
    outbound: [],
    remoteInbound: [],
    remoteOutbound: [],
    candidatePairs: [],
    transports: [],
    legacyTracks: false,
    latestTimestamp: 0,
  };
  report.forEach((entry, key) => {
    if (!entry || typeof entry != 'object') return;
    // A report's key is its entry's id (browsers and StatsReportLike): no read of entry.id.
    index.byId.set(typeof key == 'string' ? key : String(entry.id), entry);
    const timestamp = entry.timestamp;
    if (timestamp > index.latestTimestamp) index.latestTimestamp = timestamp;
    const type = statsTypeOf(entry);
    const list = LISTS.get(type);
    if (list) (index[list] as StatsEntry[]).push(entry);
    else if (type == 'track') index.legacyTracks = true;
  });
  return index;
}
