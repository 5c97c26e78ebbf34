import type { ConnectionStats, FabricStats, StreamStats } from '../types';
import type { OutgoingItem } from '../transport/index';

/** Stream fields sent to the collector (docs/protocol.md); everything else stays in the page. */
const WIRE_STREAM_FIELDS = [
  'ssrc',
  'statsType',
  'mediaType',
  'userID',
  'usageLabel',
  'bitrate',
  'packetRate',
  'fractionLoss',
  'packetLossPercentage',
  'jitter',
  'rtt',
  'frameRate',
  'frameWidth',
  'frameHeight',
  'mos',
  'quality',
  'qualityLimitationReason',
] as const satisfies ReadonlyArray<keyof StreamStats>;

const WIRE_CONNECTION_FIELDS = [
  'rtt',
  'availableOutgoingBitrate',
  'localCandidateType',
  'remoteCandidateType',
  'protocol',
  'localAddress',
  'remoteAddress',
] as const satisfies ReadonlyArray<keyof ConnectionStats>;

/** A stats item for the transport, which delta-codes it. Only defined fields are copied. */
export function toWireStats(stats: FabricStats, collectIP: boolean): OutgoingItem {
  const streams: Array<Record<string, unknown>> = [];
  for (const stream of stats.mediaStreamTracks) {
    const wire: Record<string, unknown> = { key: `${stream.statsType}:${stream.ssrc}` };
    for (const field of WIRE_STREAM_FIELDS) {
      const value = stream[field];
      if (value !== undefined) wire[field] = value;
    }
    const level = stream.statsType === 'outbound-rtp' ? stream.audioInputLevel : stream.audioOutputLevel;
    if (level !== undefined) wire.audioLevel = level;
    streams.push(wire);
  }
  const connection: Record<string, unknown> = {};
  for (const key of WIRE_CONNECTION_FIELDS) {
    const value = stats.connection[key];
    if (value === undefined) continue;
    if (!collectIP && (key === 'localAddress' || key === 'remoteAddress')) continue;
    connection[key] = value;
  }
  return {
    kind: 'stats',
    conferenceID: stats.conferenceID,
    t: stats.timestamp,
    fabricID: stats.fabricID,
    streams,
    connection,
  };
}
