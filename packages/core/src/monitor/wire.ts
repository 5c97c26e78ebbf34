import type { FabricStats } from '../types';
import type { OutgoingItem } from '../transport/index';
import { CONNECTION_RULES, STREAM_RULES } from '../transport/sanitize';

/**
 * The defined fields of `o` that the protocol defines (docs/protocol.md); everything else stays in
 * the page. Runs per stream per poll: one object, no intermediate copies.
 */
function pick(o: object, fields: object, out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const k in fields) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A stats item for the transport, which validates the fields, strips addresses and delta-codes it. */
export function toWireStats(stats: FabricStats): OutgoingItem {
  return {
    kind: 'stats',
    conferenceID: stats.conferenceID,
    t: stats.timestamp,
    fabricID: stats.fabricID,
    streams: stats.mediaStreamTracks.map((s) =>
      pick(s, STREAM_RULES, {
        key: `${s.statsType}:${s.ssrc}`,
        audioLevel: s.statsType == 'outbound-rtp' ? s.audioInputLevel : s.audioOutputLevel,
      }),
    ),
    connection: pick(stats.connection, CONNECTION_RULES),
  };
}
