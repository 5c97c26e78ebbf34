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
 * the processor's objects (not copied). The fabric's fields come first, in the order given.
 */
export function toFabricStats({ streams: list, connection, ...fabric }: FabricStatsInput): FabricStats {
  const streams: Record<string, StreamStats> = {};
  // (SSRCs are decimal numbers: no key of Object.prototype.)
  for (const s of list) streams[s.ssrc in streams ? `${s.statsType}:${s.ssrc}` : s.ssrc] = s;
  return { ...fabric, streams, mediaStreamTracks: [...list], connection };
}
