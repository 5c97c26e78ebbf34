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
import { finite, inRange, MAX_COUNTER, MAX_FRAME_RATE, MAX_KBPS, MAX_PIXELS, nonEmpty, signedCounter, ssrcOf, str } from './fields';
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
import type { NormalizedConnection, NormalizedReport, NormalizedRtpStream } from './types';

export type { NormalizedConnection, NormalizedRemote, NormalizedReport, NormalizedRtpStream } from './types';

export interface NormalizeOptions {
  /** RTX/FEC SSRC -> primary SSRC (from the SDPs' ssrc-groups). */
  primaryOf?: (ssrc: string) => string | undefined;
}

export function normalizeReport(report: StatsReportLike, options: NormalizeOptions = {}): NormalizedReport {
  const index = indexById(report);
  const remoteByLocalId = remoteInboundFromLocalId([...index.remoteInbound, ...index.remoteOutbound]);
  const streams = (direction: 'inbound' | 'outbound'): NormalizedRtpStream[] =>
    dropRtxAndFecStreams(
      index[direction].map((entry) => rtpStream(index, entry, direction, remoteByLocalId)).filter((stream): stream is NormalizedRtpStream => !!stream),
      options.primaryOf ?? (() => undefined),
    );
  return {
    timestamp: index.latestTimestamp,
    inbound: streams('inbound'),
    outbound: streams('outbound'),
    connection: connectionOf(index, str(index.outbound[0] ?? index.inbound[0], 'transportId')),
  };
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
  const inbound = direction == 'inbound';
  const codec = byId.get(nonEmpty(entry.codecId) ?? '');
  const legacy = trackFieldsFromLegacyTrackStats(entry, index.legacyTracks ? legacyTrackOf(entry, byId) : undefined);
  const source = inbound ? {} : mediaSourceFields(entry, mediaSourceOf(entry, byId));
  const remote =
    remoteByLocalId.get(entry.id) ??
    remoteFromRemoteId(entry, byId, inbound ? 'remote-outbound-rtp' : 'remote-inbound-rtp') ??
    remoteFromSsrc(entry, inbound ? index.remoteOutbound : index.remoteInbound);
  // Fixed fields are read by name (this runs per stream per poll): the entry's own value, else the
  // legacy track's, else (outbound) the media source's. Some fields are inbound only. Values out
  // of their range (LIMITS) are absent.
  const counter = MAX_COUNTER;
  return {
    id: entry.id,
    direction,
    ssrc,
    kind: kindFromMediaType(entry) ?? kindFromCodecMimeType(codec),
    timestamp: inRange(entry.timestamp, counter) ?? 0,
    mid: nonEmpty(entry.mid),
    trackIdentifier: nonEmpty(entry.trackIdentifier) ?? legacy.trackIdentifier ?? source.trackIdentifier,
    codecMimeType: nonEmpty(codec?.mimeType),
    bytes: inRange(inbound ? entry.bytesReceived : entry.bytesSent, counter),
    packets: inRange(inbound ? entry.packetsReceived : entry.packetsSent, counter),
    // Signed: duplicates make it go below 0.
    packetsLost: inbound ? signedCounter(entry.packetsLost) : undefined,
    jitterMs: inbound ? jitterUnits(entry) : undefined,
    frames: inRange(finite(inbound ? entry.framesDecoded : entry.framesEncoded) ?? legacy.frames, counter),
    framesPerSecond: inRange(finite(entry.framesPerSecond) ?? legacy.framesPerSecond ?? source.framesPerSecond, MAX_FRAME_RATE),
    frameWidth: inRange(finite(entry.frameWidth) ?? legacy.frameWidth ?? source.frameWidth, MAX_PIXELS),
    frameHeight: inRange(finite(entry.frameHeight) ?? legacy.frameHeight ?? source.frameHeight, MAX_PIXELS),
    // Inbound: the playout level; outbound: the capture level (media-source), not the RTP entry's.
    audioLevel: inRange((inbound ? finite(entry.audioLevel) : source.audioLevel) ?? legacy.audioLevel, 1),
    qualityLimitationReason: inbound ? undefined : nonEmpty(entry.qualityLimitationReason),
    jitterBufferDelay: inbound ? inRange(finite(entry.jitterBufferDelay) ?? legacy.jitterBufferDelay, counter) : undefined,
    jitterBufferEmittedCount: inbound ? inRange(finite(entry.jitterBufferEmittedCount) ?? legacy.jitterBufferEmittedCount, counter) : undefined,
    associatedSsrcs: associatedSsrcsFromEntry(entry.rtxSsrc, entry.fecSsrc),
    remote: remote && {
      timestamp: inRange(remote.timestamp, counter) ?? 0,
      packetsLost: signedCounter(remote.packetsLost),
      packetsReceived: inRange(remote.packetsReceived, counter),
      fractionLost: fractionLostUnits(remote),
      jitterMs: jitterUnits(remote),
      roundTripTimeMs: roundTripTimeUnits(remote),
    },
  };
}

function connectionOf(index: StatsIndex, rtpTransportId: string | undefined): NormalizedConnection {
  const pair = selectedCandidatePairFromTransport(index, rtpTransportId) ?? selectedCandidatePairFromFlags(index.candidatePairs);
  if (!pair) return {};
  const local = candidateFields(index.byId.get(str(pair, 'localCandidateId') ?? ''));
  const remote = candidateFields(index.byId.get(str(pair, 'remoteCandidateId') ?? ''));
  return {
    currentRoundTripTimeMs: roundTripTimeUnits(pair, 'currentRoundTripTime'),
    availableOutgoingBitrate: inRange(pair.availableOutgoingBitrate, MAX_KBPS * 1000),
    availableIncomingBitrate: inRange(pair.availableIncomingBitrate, MAX_KBPS * 1000),
    localCandidateType: local.type,
    remoteCandidateType: remote.type,
    protocol: local.protocol ?? remote.protocol,
    localAddress: local.address,
    remoteAddress: remote.address,
  };
}

