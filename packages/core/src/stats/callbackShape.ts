/**
 * callstats.js's stats callback shape, per fabric: `{connectionState, fabricState, conferenceURL,
 * streams: {[ssrc]: record}, mediaStreamTracks: record[]}` plus Callmetry's fabric/conference ids,
 * timestamp and connection values (FabricStats in types.ts).
 */
import type { FabricStats, StreamStats } from '../types';

/** FabricStats with its streams as one list (toFabricStats keys them and lists them again). */
export interface FabricStatsInput extends Omit<FabricStats, 'streams' | 'mediaStreamTracks'> {
  streams: readonly StreamStats[];
}

/**
 * `streams` is keyed by SSRC, as in callstats.js. Should an inbound and an outbound stream share
 * an SSRC (an echo server reflecting our SSRCs), the second one is keyed `<statsType>:<ssrc>` so
 * neither is lost. `mediaStreamTracks` lists every stream, outbound first. The stream records are
 * the processor's objects (not copied).
 */
export function toFabricStats(input: FabricStatsInput): FabricStats {
  const streams: Record<string, StreamStats> = {};
  for (const s of input.streams) {
    const key = Object.prototype.hasOwnProperty.call(streams, s.ssrc) ? `${s.statsType}:${s.ssrc}` : s.ssrc;
    streams[key] = s;
  }
  return {
    fabricID: input.fabricID,
    conferenceID: input.conferenceID,
    connectionState: input.connectionState,
    fabricState: input.fabricState,
    conferenceURL: input.conferenceURL,
    timestamp: input.timestamp,
    streams,
    mediaStreamTracks: [...input.streams],
    connection: input.connection,
  };
}
