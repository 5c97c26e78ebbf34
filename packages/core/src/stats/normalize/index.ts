/**
 * The normalization chain: an RTCStatsReport (any browser) -> NormalizedReport. Each browser
 * difference is one named step in ./steps (pure functions, each with its own unit test):
 *
 *   indexById                          one pass; typeFromLegacyName + remoteTypeFromIsRemote
 *   kindFromMediaType                  `kind` vs Firefox/old Safari `mediaType`
 *   kindFromCodecMimeType              neither: the codec's mimeType
 *   trackFieldsFromLegacyTrackStats    Safari / old Chromium `track` stats (frame size, level...)
 *   mediaSourceFields                  sender capture stats on `media-source`
 *   remoteInboundFromLocalId           remote-* linking by localId, then remoteId, then SSRC
 *   roundTripTimeUnits / jitterUnits   seconds -> ms (old Firefox mozRtt already ms)
 *   fractionLostUnits                  0..1 (RTCP's 0..255 fixed point scaled back)
 *   dropRtxAndFecStreams               RTX/FEC SSRCs grouped with the primary stream
 *   selectedCandidatePairFromTransport spec / Chromium / Safari
 *   selectedCandidatePairFromFlags     Firefox `selected`, else nominated + succeeded
 *   candidateFields                    address/ip/ipAddress, port/portNumber
 *
 * The report is read, never copied or mutated: the output holds small records built from it.
 */
import type { StatsEntry, StatsReportLike } from '../../types';
import { num, ssrcOf, str } from './fields';
import { candidateFields } from './steps/candidateFields';
import { associatedSsrcsFromEntry, dropRtxAndFecStreams } from './steps/dropRtxAndFecStreams';
import { fractionLostUnits } from './steps/fractionLostUnits';
import { indexById, type StatsIndex } from './steps/indexById';
import { kindFromCodecMimeType } from './steps/kindFromCodecMimeType';
import { kindFromMediaType } from './steps/kindFromMediaType';
import { mediaSourceFields, mediaSourceOf } from './steps/mediaSourceFields';
import { remoteFromRemoteId, remoteFromSsrc, remoteInboundFromLocalId } from './steps/remoteInboundFromLocalId';
import { jitterUnits, roundTripTimeUnits } from './steps/roundTripTimeUnits';
import { selectedCandidatePairFromFlags } from './steps/selectedCandidatePairFromFlags';
import { selectedCandidatePairFromTransport } from './steps/selectedCandidatePairFromTransport';
import { legacyTrackOf, trackFieldsFromLegacyTrackStats } from './steps/trackFieldsFromLegacyTrackStats';
import type { NormalizedConnection, NormalizedRemote, NormalizedReport, NormalizedRtpStream } from './types';

export type { NormalizedConnection, NormalizedRemote, NormalizedReport, NormalizedRtpStream } from './types';

export interface NormalizeOptions {
  /** RTX/FEC SSRC -> primary SSRC (from the SDPs' ssrc-groups). */
  primaryOf?: (ssrc: string) => string | undefined;
}

const noPrimary = (): undefined => undefined;

export function normalizeReport(report: StatsReportLike, options: NormalizeOptions = {}): NormalizedReport {
  const index = indexById(report);
  const remoteByLocalId = remoteInboundFromLocalId(
    index.remoteOutbound.length ? [...index.remoteInbound, ...index.remoteOutbound] : index.remoteInbound,
  );
  const primaryOf = options.primaryOf ?? noPrimary;
  const inbound = dropRtxAndFecStreams(rtpStreams(index, index.inbound, 'inbound', remoteByLocalId), primaryOf);
  const outbound = dropRtxAndFecStreams(rtpStreams(index, index.outbound, 'outbound', remoteByLocalId), primaryOf);
  const rtpTransportId = str(index.outbound[0] ?? index.inbound[0], 'transportId');
  return {
    timestamp: index.latestTimestamp,
    inbound,
    outbound,
    connection: connectionOf(index, rtpTransportId),
  };
}

function rtpStreams(
  index: StatsIndex,
  entries: readonly StatsEntry[],
  direction: 'inbound' | 'outbound',
  remoteByLocalId: ReadonlyMap<string, StatsEntry>,
): NormalizedRtpStream[] {
  const out: NormalizedRtpStream[] = [];
  for (const entry of entries) {
    const stream = rtpStream(index, entry, direction, remoteByLocalId);
    if (stream) out.push(stream);
  }
  return out;
}

function rtpStream(
  index: StatsIndex,
  entry: StatsEntry,
  direction: 'inbound' | 'outbound',
  remoteByLocalId: ReadonlyMap<string, StatsEntry>,
): NormalizedRtpStream | undefined {
  const ssrc = ssrcOf(entry);
  if (ssrc === undefined) return undefined;
  const { byId } = index;
  const codecId = str(entry, 'codecId');
  const codec = codecId ? byId.get(codecId) : undefined;
  const legacy = trackFieldsFromLegacyTrackStats(entry, legacyTrackOf(entry, byId));
  const source = direction === 'outbound' ? mediaSourceFields(entry, mediaSourceOf(entry, byId)) : {};
  const inbound = direction === 'inbound';
  const remoteType = inbound ? 'remote-outbound-rtp' : 'remote-inbound-rtp';
  const remoteEntry =
    remoteByLocalId.get(entry.id) ??
    remoteFromRemoteId(entry, byId, remoteType) ??
    remoteFromSsrc(entry, inbound ? index.remoteOutbound : index.remoteInbound);

  const mime = str(codec, 'mimeType');
  return {
    id: entry.id,
    direction,
    ssrc,
    kind: kindFromMediaType(entry) ?? kindFromCodecMimeType(codec),
    timestamp: num(entry, 'timestamp') ?? 0,
    mid: str(entry, 'mid'),
    rid: str(entry, 'rid'),
    trackIdentifier: str(entry, 'trackIdentifier') ?? legacy.trackIdentifier ?? source.trackIdentifier,
    codecMimeType: mime,
    bytes: num(entry, inbound ? 'bytesReceived' : 'bytesSent'),
    packets: num(entry, inbound ? 'packetsReceived' : 'packetsSent'),
    packetsLost: inbound ? num(entry, 'packetsLost') : undefined,
    jitterMs: inbound ? jitterUnits(entry) : undefined,
    frames: num(entry, inbound ? 'framesDecoded' : 'framesEncoded') ?? legacy.frames,
    framesPerSecond: num(entry, 'framesPerSecond') ?? legacy.framesPerSecond ?? source.framesPerSecond,
    frameWidth: num(entry, 'frameWidth') ?? legacy.frameWidth ?? source.frameWidth,
    frameHeight: num(entry, 'frameHeight') ?? legacy.frameHeight ?? source.frameHeight,
    audioLevel: inbound ? (num(entry, 'audioLevel') ?? legacy.audioLevel) : (source.audioLevel ?? legacy.audioLevel),
    qualityLimitationReason: inbound ? undefined : str(entry, 'qualityLimitationReason'),
    jitterBufferDelay: inbound ? (num(entry, 'jitterBufferDelay') ?? legacy.jitterBufferDelay) : undefined,
    jitterBufferEmittedCount: inbound
      ? (num(entry, 'jitterBufferEmittedCount') ?? legacy.jitterBufferEmittedCount)
      : undefined,
    associatedSsrcs: associatedSsrcsFromEntry(entry.rtxSsrc, entry.fecSsrc),
    remote: remoteEntry ? remoteOf(remoteEntry) : undefined,
  };
}

function remoteOf(r: StatsEntry): NormalizedRemote {
  return {
    id: r.id,
    timestamp: num(r, 'timestamp') ?? 0,
    packetsLost: num(r, 'packetsLost'),
    packetsReceived: num(r, 'packetsReceived'),
    fractionLost: fractionLostUnits(r),
    jitterMs: jitterUnits(r),
    roundTripTimeMs: roundTripTimeUnits(r),
  };
}

function connectionOf(index: StatsIndex, rtpTransportId: string | undefined): NormalizedConnection {
  const pair =
    selectedCandidatePairFromTransport(index, rtpTransportId) ?? selectedCandidatePairFromFlags(index.candidatePairs);
  if (!pair) return {};
  const localId = str(pair, 'localCandidateId');
  const remoteId = str(pair, 'remoteCandidateId');
  const local = candidateFields(localId ? index.byId.get(localId) : undefined);
  const remote = candidateFields(remoteId ? index.byId.get(remoteId) : undefined);
  return {
    candidatePairId: pair.id,
    currentRoundTripTimeMs: roundTripTimeUnits(pair, 'currentRoundTripTime'),
    availableOutgoingBitrate: num(pair, 'availableOutgoingBitrate'),
    availableIncomingBitrate: num(pair, 'availableIncomingBitrate'),
    localCandidateType: local.type,
    remoteCandidateType: remote.type,
    protocol: local.protocol ?? remote.protocol,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
  };
}
