/**
 * The stats processor of one fabric: getStats report in, per-stream interval values and the
 * connection's values out. It keeps one small state record per stream (previous counters and two
 * running means); streams unseen for `forgetAfterPolls` polls are forgotten, so memory is
 * bounded by the number of live streams. A poll reads the report once and copies nothing.
 */
import type {
  ConnectionStats,
  EpochMilliseconds,
  MediaKind,
  QualityLimitationReason,
  StatsReportLike,
  StreamStats,
} from '../types';
import type { StreamMappings } from './mapping';
import {
  addSample,
  bitrateKbps,
  clamp,
  counterDelta,
  estimateMos,
  fractionLossFromDeltas,
  perSecond,
  streamQuality,
  type RunningMean,
} from './metrics';
import { normalizeReport, type NormalizedConnection, type NormalizedRtpStream } from './normalize';
import { midOfOnlySection, parseSdp, type SdpInfo, type SdpSsrcInfo } from './sdp';

export interface StatsContext {
  localUserID: string;
  /** The fabric's remote user: the default owner of inbound streams. */
  remoteUserID: string;
  localSDP?: string;
  remoteSDP?: string;
  mappings: StreamMappings;
  /** Include candidate addresses in ConnectionStats. */
  collectIP: boolean;
}

export interface ProcessedStats {
  streams: StreamStats[];
  connection: ConnectionStats;
}

export interface StatsProcessorOptions {
  /** A stream missing from this many consecutive polls is forgotten. Default 5. */
  forgetAfterPolls?: number;
}

export interface StatsProcessor {
  /**
   * One poll. `now` (epoch ms) is used only for entries without a usable timestamp. Never
   * throws for malformed entries (they are skipped).
   */
  process(report: StatsReportLike, context: StatsContext, now: EpochMilliseconds): ProcessedStats;
  /** Number of per-stream state records held (debug; bounded by live streams). */
  stateSize(): number;
  /** Forgets every stream (e.g. after the fabric is re-established). */
  reset(): void;
}

/** Interval values computed from counter deltas (kept to answer a same-timestamp poll). */
interface IntervalValues {
  packetsDelta?: number;
  bitrate?: number;
  packetRate?: number;
  fractionLoss?: number;
  frameRate?: number;
  jitterBufferMs?: number;
}

interface StreamState {
  lastPoll: number;
  timestamp: number;
  bytes?: number;
  packets?: number;
  packetsLost?: number;
  frames?: number;
  jbDelay?: number;
  jbEmitted?: number;
  remoteTimestamp?: number;
  remotePacketsLost?: number;
  remotePacketsReceived?: number;
  /** Outbound loss computed from the remote receiver's counters at its latest report. */
  remoteFraction?: number;
  interval: IntervalValues;
  jitter: RunningMean;
  rtt: RunningMean;
}

const QUALITY_LIMITATION_REASONS: ReadonlySet<string> = new Set(['none', 'cpu', 'bandwidth', 'other']);

export function createStatsProcessor(options: StatsProcessorOptions = {}): StatsProcessor {
  const forgetAfterPolls = Math.max(1, Math.floor(options.forgetAfterPolls ?? 5));
  const states = new Map<string, StreamState>();
  let poll = 0;
  // The SDPs of the last poll, parsed (parseSdp caches too; this skips even the lookup).
  let lastLocal: { sdp: string | undefined; info: SdpInfo } = { sdp: undefined, info: parseSdp(undefined) };
  let lastRemote: { sdp: string | undefined; info: SdpInfo } = lastLocal;
  let primaryOf = (_ssrc: string): string | undefined => undefined;

  function sdps(context: StatsContext): { local: SdpInfo; remote: SdpInfo } {
    let changed = false;
    if (context.localSDP !== lastLocal.sdp) {
      lastLocal = { sdp: context.localSDP, info: parseSdp(context.localSDP) };
      changed = true;
    }
    if (context.remoteSDP !== lastRemote.sdp) {
      lastRemote = { sdp: context.remoteSDP, info: parseSdp(context.remoteSDP) };
      changed = true;
    }
    if (changed) {
      const l = lastLocal.info.secondaryToPrimary;
      const r = lastRemote.info.secondaryToPrimary;
      primaryOf = l.size || r.size ? (ssrc) => r.get(ssrc) ?? l.get(ssrc) : () => undefined;
    }
    return { local: lastLocal.info, remote: lastRemote.info };
  }

  function process(report: StatsReportLike, context: StatsContext, now: EpochMilliseconds): ProcessedStats {
    poll++;
    const sdp = sdps(context);
    const normalized = normalizeReport(report, { primaryOf });
    const conn = normalized.connection;
    const streams: StreamStats[] = [];
    for (const s of normalized.outbound) {
      const out = streamStats(s, context, sdp.local, sdp.remote, conn, now);
      if (out) streams.push(out);
    }
    for (const s of normalized.inbound) {
      const out = streamStats(s, context, sdp.remote, sdp.local, conn, now);
      if (out) streams.push(out);
    }
    for (const [key, st] of states) if (poll - st.lastPoll >= forgetAfterPolls) states.delete(key);
    return { streams, connection: connectionStats(conn, context.collectIP) };
  }

  /** `own`: the SDP that declares this stream's SSRC (remote SDP for inbound, local for outbound). */
  function streamStats(
    s: NormalizedRtpStream,
    context: StatsContext,
    own: SdpInfo,
    other: SdpInfo,
    conn: NormalizedConnection,
    now: EpochMilliseconds,
  ): StreamStats | undefined {
    const inbound = s.direction === 'inbound';
    const statsType = inbound ? 'inbound-rtp' : 'outbound-rtp';
    const sdpSsrc: SdpSsrcInfo | undefined = own.ssrcs.get(s.ssrc) ?? other.ssrcs.get(s.ssrc);
    const kind = mediaKindOf(s, sdpSsrc);
    const key = `${statsType}:${s.ssrc}`;
    const ts = s.timestamp > 0 ? s.timestamp : now;

    // ---- interval values from counter deltas ------------------------------------------------
    let state = states.get(key);
    let interval: IntervalValues;
    let fresh = true; // false when this poll repeats the previous report (same timestamp)
    if (!state) {
      state = { lastPoll: poll, timestamp: ts, interval: {}, jitter: { count: 0, mean: 0 }, rtt: { count: 0, mean: 0 } };
      baseline(state, s, ts);
      states.set(key, state);
      interval = state.interval;
    } else {
      state.lastPoll = poll;
      const dt = ts - state.timestamp;
      if (dt === 0) {
        fresh = false;
        interval = state.interval;
      } else if (dt < 0 || wentDown(state.bytes, s.bytes) || wentDown(state.packets, s.packets)) {
        // Clock went back or the stream's counters restarted: no rate for this interval.
        interval = {};
        baseline(state, s, ts);
      } else {
        const packetsDelta = counterDelta(state.packets, s.packets);
        interval = {
          packetsDelta,
          bitrate: bitrateKbps(counterDelta(state.bytes, s.bytes), dt),
          packetRate: perSecond(packetsDelta, dt),
          fractionLoss:
            inbound && s.packetsLost !== undefined && state.packetsLost !== undefined
              ? fractionLossFromDeltas(s.packetsLost - state.packetsLost, packetsDelta)
              : undefined,
          frameRate: perSecond(counterDelta(state.frames, s.frames), dt),
          jitterBufferMs: jitterBufferMs(state, s),
        };
        baseline(state, s, ts);
      }
      state.interval = interval;
    }

    // ---- loss ---------------------------------------------------------------------------------
    let fractionLoss = interval.fractionLoss;
    const remote = s.remote;
    if (!inbound) {
      fractionLoss = remote?.fractionLost;
      if (remote && fractionLoss === undefined) {
        // No fractionLost: deltas of the remote receiver's counters between its reports (packets
        // received there, else packets we sent in this poll interval). Kept until the next report.
        if (state.remoteTimestamp !== undefined && remote.timestamp > state.remoteTimestamp) {
          const lost =
            remote.packetsLost !== undefined && state.remotePacketsLost !== undefined
              ? remote.packetsLost - state.remotePacketsLost
              : undefined;
          const received = wentDown(state.remotePacketsReceived, remote.packetsReceived)
            ? undefined // the remote receiver restarted its counters
            : (counterDelta(state.remotePacketsReceived, remote.packetsReceived) ?? interval.packetsDelta);
          state.remoteFraction = fractionLossFromDeltas(lost, received);
        }
        fractionLoss = state.remoteFraction;
      }
      if (remote && remote.timestamp !== state.remoteTimestamp) {
        if (state.remoteTimestamp !== undefined && remote.timestamp < state.remoteTimestamp) state.remoteFraction = undefined;
        state.remoteTimestamp = remote.timestamp;
        state.remotePacketsLost = remote.packetsLost;
        state.remotePacketsReceived = remote.packetsReceived;
      }
    }
    if (fractionLoss !== undefined) fractionLoss = clamp(fractionLoss, 0, 1);

    // ---- jitter, RTT and their running means --------------------------------------------------
    const jitter = inbound ? s.jitterMs : remote?.jitterMs;
    const rtt = remote?.roundTripTimeMs ?? conn.currentRoundTripTimeMs;
    const averageJitter = fresh ? addSample(state.jitter, jitter) : state.jitter.count ? state.jitter.mean : undefined;
    const averageRTT = fresh ? addSample(state.rtt, rtt) : state.rtt.count ? state.rtt.mean : undefined;

    // ---- identity and mapping -----------------------------------------------------------------
    const mid = s.mid ?? sdpSsrc?.mid ?? midOfOnlySection(own, kind);
    const section = mid !== undefined ? own.sectionsByMid.get(mid) : undefined;
    const sdpTrackId = sdpSsrc?.trackId ?? section?.trackId;
    const trackIdentifier = s.trackIdentifier;
    const mappings = context.mappings;
    const mapping =
      mappings.resolve({ ssrc: s.ssrc, mid, trackId: trackIdentifier }) ??
      (sdpTrackId !== undefined && sdpTrackId !== trackIdentifier
        ? mappings.resolve({ ssrc: s.ssrc, trackId: sdpTrackId })
        : undefined);

    const out: StreamStats = {
      ssrc: s.ssrc,
      statsType,
      mediaType: kind,
      userID: mapping?.userID ?? (inbound ? context.remoteUserID : context.localUserID),
      remoteUserID: context.remoteUserID,
    };
    const cname = sdpSsrc?.cname;
    if (cname !== undefined) out.cname = cname;
    const msid = sdpSsrc?.msid ?? section?.msid;
    if (msid !== undefined) out.msid = msid;
    if (mid !== undefined) out.mid = mid;
    if (trackIdentifier !== undefined) out.trackIdentifier = trackIdentifier;
    if (mapping?.usageLabel !== undefined) out.usageLabel = mapping.usageLabel;
    if (mapping?.associatedVideoTag !== undefined) out.associatedVideoTag = mapping.associatedVideoTag;
    const associated = mergeSsrcs(s.associatedSsrcs, sdpSsrc?.associatedSsrcs);
    if (associated) out.associatedSsrcs = associated;

    // ---- values -------------------------------------------------------------------------------
    if (interval.bitrate !== undefined) out.bitrate = interval.bitrate;
    if (interval.packetRate !== undefined) out.packetRate = interval.packetRate;
    if (fractionLoss !== undefined) {
      out.fractionLoss = fractionLoss;
      out.packetLossPercentage = fractionLoss * 100;
    }
    const packetsLost = inbound ? s.packetsLost : remote?.packetsLost;
    if (packetsLost !== undefined) out.packetsLost = packetsLost;
    if (jitter !== undefined) out.jitter = jitter;
    if (averageJitter !== undefined) out.averageJitter = averageJitter;
    if (rtt !== undefined) out.rtt = rtt;
    if (averageRTT !== undefined) out.averageRTT = averageRTT;
    if (kind === 'audio' && s.audioLevel !== undefined) {
      if (inbound) out.audioOutputLevel = s.audioLevel;
      else out.audioInputLevel = s.audioLevel;
    }
    if (kind === 'video') {
      const frameRate = s.framesPerSecond ?? interval.frameRate;
      if (frameRate !== undefined) out.frameRate = frameRate;
      if (s.frameWidth !== undefined) out.frameWidth = s.frameWidth;
      if (s.frameHeight !== undefined) out.frameHeight = s.frameHeight;
      const reason = s.qualityLimitationReason;
      if (reason !== undefined && QUALITY_LIMITATION_REASONS.has(reason)) {
        out.qualityLimitationReason = reason as QualityLimitationReason;
      }
    }
    let r: number | undefined;
    if (kind === 'audio' && fractionLoss !== undefined) {
      const e = estimateMos({
        lossPercentage: fractionLoss * 100,
        rttMs: rtt,
        jitterBufferMs: interval.jitterBufferMs,
        jitterMs: jitter,
        codecMimeType: s.codecMimeType,
      });
      r = e.r;
      out.mos = e.mos;
    }
    const quality = streamQuality(kind, { r, fractionLoss, rttMs: rtt });
    if (quality !== undefined) out.quality = quality;
    return out;
  }

  return {
    process(report, context, now) {
      try {
        return process(report, context, now);
      } catch {
        // A report we cannot read at all (not StatsReportLike): nothing to say this poll.
        return { streams: [], connection: {} };
      }
    },
    stateSize: () => states.size,
    reset: () => states.clear(),
  };
}

function baseline(state: StreamState, s: NormalizedRtpStream, ts: number): void {
  state.timestamp = ts;
  state.bytes = s.bytes;
  state.packets = s.packets;
  state.packetsLost = s.packetsLost;
  state.frames = s.frames;
  state.jbDelay = s.jitterBufferDelay;
  state.jbEmitted = s.jitterBufferEmittedCount;
}

function wentDown(prev: number | undefined, cur: number | undefined): boolean {
  return prev !== undefined && cur !== undefined && cur < prev;
}

/** Interval jitter buffer delay per emitted sample/frame, ms (jitterBufferDelay is in seconds). */
function jitterBufferMs(state: StreamState, s: NormalizedRtpStream): number | undefined {
  const delay = counterDelta(state.jbDelay, s.jitterBufferDelay);
  const emitted = counterDelta(state.jbEmitted, s.jitterBufferEmittedCount);
  if (delay === undefined || emitted === undefined || emitted <= 0) return undefined;
  return (delay / emitted) * 1000;
}

function mediaKindOf(s: NormalizedRtpStream, sdp: SdpSsrcInfo | undefined): MediaKind {
  if (s.kind) return s.kind;
  if (sdp?.mediaType === 'audio' || sdp?.mediaType === 'video') return sdp.mediaType;
  return s.frames !== undefined || s.frameWidth !== undefined ? 'video' : 'audio';
}

function mergeSsrcs(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (!b?.length) return a?.length ? [...a] : undefined;
  if (!a?.length) return [...b];
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}

function connectionStats(conn: NormalizedConnection, collectIP: boolean): ConnectionStats {
  const out: ConnectionStats = {};
  if (conn.currentRoundTripTimeMs !== undefined) out.rtt = conn.currentRoundTripTimeMs;
  if (conn.availableOutgoingBitrate !== undefined) out.availableOutgoingBitrate = conn.availableOutgoingBitrate / 1000;
  if (conn.availableIncomingBitrate !== undefined) out.availableIncomingBitrate = conn.availableIncomingBitrate / 1000;
  if (conn.localCandidateType !== undefined) out.localCandidateType = conn.localCandidateType;
  if (conn.remoteCandidateType !== undefined) out.remoteCandidateType = conn.remoteCandidateType;
  if (conn.protocol !== undefined) out.protocol = conn.protocol;
  if (collectIP) {
    if (conn.localAddress !== undefined) out.localAddress = conn.localAddress;
    if (conn.remoteAddress !== undefined) out.remoteAddress = conn.remoteAddress;
  }
  return out;
}
