// The stats engine (internal to core: the monitor wires it into each Fabric).
export { clampInterval, createPoller, MAX_STATS_INTERVAL_MS, MIN_STATS_INTERVAL_MS, PollTimeoutError } from './poller';
export type { Poller, PollerOptions, PollerState } from './poller';
export { createStatsProcessor } from './processor';
export type { ProcessedStats, StatsContext, StatsProcessor, StatsProcessorOptions } from './processor';
export { StreamMappings } from './mapping';
export type { StreamIds } from './mapping';
export { parseSdp, midOfOnlySection } from './sdp';
export type { SdpInfo, SdpMediaSection, SdpSsrcInfo } from './sdp';
export { toFabricStats } from './callbackShape';
export type { FabricStatsInput } from './callbackShape';
export { normalizeReport } from './normalize';
export type { NormalizedReport, NormalizedRtpStream, NormalizedConnection, NormalizedRemote } from './normalize';
