/**
 * The stats processor of one fabric: getStats report in, per-stream interval values and the
 * connection's values out. It keeps one small state record per stream (previous counters and two
 * running means); streams unseen for `forgetAfterPolls` polls are forgotten, so memory is
 * bounded by the number of live streams. A poll reads the report once and copies nothing.
 */
import type { ConnectionStats, EpochMilliseconds, QualityLimitationReason, StatsReportLike, StreamStats } from '../types';
import type { StreamMappings } from './mapping';
import { addSample, bitrateKbps, counterDelta, estimateMos, fractionLossFromDeltas, perSecond, streamQuality, type RunningMean } from './metrics';
import { normalizeReport, type NormalizedRemote, type NormalizedReport, type NormalizedRtpStream } from './normalize';
import { normalizeCarefully } from './normalize/careful';
import { inRange, LIMITS } from './normalize/fields';
import { midOfOnlySection, parseSdp, type SdpInfo } from './sdp';

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
  /**
   * What a poll lost: a report that cannot be read (not a report, its forEach throws), one read
   * only in part, unreadable entries (skipped), a processing failure. Each problem is told when
   * it starts, not again while it lasts. Its throws are ignored. Default: none.
   */
  warn?: (message: string, error: unknown) => void;
}

export interface StatsProcessor {
  /**
   * One poll. `now` (epoch ms) is used only for entries without a usable timestamp. Never throws:
   * malformed entries are skipped, and what cannot be read goes to `warn`.
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
  /** The entry's timestamp (or `now` when it has none) and counters at the previous poll. */
  timestamp: number;
  counters: NormalizedRtpStream;
  /** The remote receiver's latest report, and the outbound loss computed from its counters. */
  remote?: NormalizedRemote;
  remoteFraction?: number;
  interval: IntervalValues;
  jitter: RunningMean;
  rtt: RunningMean;
}

const QUALITY_LIMITATION_REASONS = ['none', 'cpu', 'bandwidth', 'other'];

const wentDown = (prev: number | undefined, cur: number | undefined): boolean => cur! < prev!;
/** A running mean with this poll's sample added; a repeated report (`fresh` false) adds nothing. */
const meanWith = (m: RunningMean, x: number | undefined, fresh: boolean): number | undefined => (fresh ? addSample(m, x) : m.count ? m.mean : undefined);
const kbps = (bps: number | undefined): number | undefined => (bps === undefined ? undefined : bps / 1000);

/** Interval jitter buffer delay per emitted sample/frame, ms (jitterBufferDelay is in seconds). */
function jitterBufferMs(prev: NormalizedRtpStream, s: NormalizedRtpStream): number | undefined {
  const delay = counterDelta(prev.jitterBufferDelay, s.jitterBufferDelay);
  const emitted = counterDelta(prev.jitterBufferEmittedCount, s.jitterBufferEmittedCount);
  return delay !== undefined && emitted! > 0 ? inRange((delay / emitted!) * 1000, LIMITS.ms) : undefined;
}

export function createStatsProcessor(options: StatsProcessorOptions = {}): StatsProcessor {
  const forgetAfterPolls = Math.max(1, Math.floor(options.forgetAfterPolls ?? 5));
  // Per-stream state by direction, then SSRC (a stream is `statsType:ssrc`).
  const states = { inbound: new Map<string, StreamState>(), outbound: new Map<string, StreamState>() };
  let poll = 0;
  // The SDPs of the last poll, parsed: comparing is cheaper than even parseSdp's cache lookup.
  const none = parseSdp(undefined);
  const sdps: Array<[string | undefined, SdpInfo]> = [
    [undefined, none],
    [undefined, none],
  ];
  const parsed = (i: number, sdp: string | undefined): SdpInfo => {
    if (sdps[i]![0] !== sdp) sdps[i] = [sdp, parseSdp(sdp)];
    return sdps[i]![1];
  };
  // The problems (kinds) of this poll and of the previous one: `warn` is told when one starts.
  let problems = new Set<string>();
  let previousProblems = new Set<string>();
  const problem = (kind: string, message: string, error: unknown): void => {
    problems.add(kind);
    if (previousProblems.has(kind)) return;
    try {
      options.warn?.(message, error);
    } catch {
      // The app's logger must never break a poll.
    }
  };

  function process(report: StatsReportLike, context: StatsContext, now: EpochMilliseconds): ProcessedStats {
    poll++;
    const local = parsed(0, context.localSDP);
    const remote = parsed(1, context.remoteSDP);
    const normalizeOptions = {
      primaryOf: (ssrc: string) => remote.secondaryToPrimary.get(ssrc) ?? local.secondaryToPrimary.get(ssrc),
    };
    let normalized: NormalizedReport;
    try {
      normalized = normalizeReport(report, normalizeOptions);
    } catch {
      // Reading the report threw (a getter, a trap, forEach, not a report): again, carefully.
      normalized = normalizeCarefully(report, normalizeOptions, problem);
    }
    const conn = normalized.connection;
    const streams: StreamStats[] = [];
    for (const s of normalized.outbound) streams.push(streamStats(s, context, local, remote, conn.currentRoundTripTimeMs, now));
    for (const s of normalized.inbound) streams.push(streamStats(s, context, remote, local, conn.currentRoundTripTimeMs, now));
    for (const bySsrc of [states.outbound, states.inbound])
      for (const [ssrc, st] of bySsrc) if (poll - st.lastPoll >= forgetAfterPolls) bySsrc.delete(ssrc);
    const ip = (address: string | undefined): string | undefined => (context.collectIP ? address : undefined);
    // Fields are present (maybe undefined) in every record: one object shape, cheap to build.
    const connection: ConnectionStats = {
      rtt: conn.currentRoundTripTimeMs,
      availableOutgoingBitrate: kbps(conn.availableOutgoingBitrate),
      availableIncomingBitrate: kbps(conn.availableIncomingBitrate),
      localCandidateType: conn.localCandidateType,
      remoteCandidateType: conn.remoteCandidateType,
      protocol: conn.protocol,
      localAddress: ip(conn.localAddress),
      remoteAddress: ip(conn.remoteAddress),
    };
    return { streams, connection };
  }

  /** `own`: the SDP that declares this stream's SSRC (remote SDP for inbound, local for outbound). */
  function streamStats(
    s: NormalizedRtpStream,
    context: StatsContext,
    own: SdpInfo,
    other: SdpInfo,
    pairRttMs: number | undefined,
    now: EpochMilliseconds,
  ): StreamStats {
    const inbound = s.direction == 'inbound';
    const statsType = inbound ? 'inbound-rtp' : 'outbound-rtp';
    const sdpSsrc = own.ssrcs.get(s.ssrc) ?? other.ssrcs.get(s.ssrc);
    const sdpKind = sdpSsrc?.mediaType;
    const kind = s.kind ?? (sdpKind == 'audio' || sdpKind == 'video' ? sdpKind : s.frames !== undefined || s.frameWidth !== undefined ? 'video' : 'audio');
    const ts = s.timestamp > 0 ? s.timestamp : now;

    // ---- interval values from counter deltas ------------------------------------------------
    const bySsrc = states[s.direction];
    let state = bySsrc.get(s.ssrc);
    // false when this poll repeats the previous report (same timestamp)
    let fresh = true;
    if (!state) {
      bySsrc.set(s.ssrc, (state = { lastPoll: poll, timestamp: ts, counters: s, interval: {}, jitter: { count: 0, mean: 0 }, rtt: { count: 0, mean: 0 } }));
    } else {
      const prev = state.counters;
      const dt = ts - state.timestamp;
      fresh = dt != 0;
      if (fresh) {
        const packetsDelta = counterDelta(prev.packets, s.packets);
        // Clock went back or the stream's counters restarted: no rate for this interval.
        state.interval =
          dt < 0 || wentDown(prev.bytes, s.bytes) || wentDown(prev.packets, s.packets)
            ? {}
            : {
                packetsDelta,
                // Over a tiny interval even sane counters give absurd rates (or Infinity): absent.
                bitrate: inRange(bitrateKbps(counterDelta(prev.bytes, s.bytes), dt), LIMITS.kbps),
                packetRate: inRange(perSecond(packetsDelta, dt), LIMITS.packetsPerSecond),
                fractionLoss: inbound ? fractionLossFromDeltas(s.packetsLost! - prev.packetsLost!, packetsDelta) : undefined,
                frameRate: inRange(perSecond(counterDelta(prev.frames, s.frames), dt), LIMITS.framesPerSecond),
                jitterBufferMs: jitterBufferMs(prev, s),
              };
        state.timestamp = ts;
        state.counters = s;
      }
      state.lastPoll = poll;
    }
    const interval = state.interval;

    // ---- loss ---------------------------------------------------------------------------------
    let fractionLoss = interval.fractionLoss;
    const remote = s.remote;
    if (!inbound) {
      fractionLoss = remote?.fractionLost;
      const last = state.remote;
      if (remote && fractionLoss === undefined) {
        // No fractionLost: deltas of the remote receiver's counters between its reports (packets
        // received there, else packets we sent in this poll interval). Kept until the next report.
        if (last && remote.timestamp > last.timestamp) {
          const received = wentDown(last.packetsReceived, remote.packetsReceived)
            ? undefined // the remote receiver restarted its counters
            : (counterDelta(last.packetsReceived, remote.packetsReceived) ?? interval.packetsDelta);
          state.remoteFraction = fractionLossFromDeltas(remote.packetsLost! - last.packetsLost!, received);
        }
        fractionLoss = state.remoteFraction;
      }
      if (remote && remote.timestamp !== last?.timestamp) {
        if (last && remote.timestamp < last.timestamp) state.remoteFraction = undefined;
        state.remote = remote;
      }
    }

    // ---- jitter, RTT and their running means --------------------------------------------------
    const jitter = inbound ? s.jitterMs : remote?.jitterMs;
    const rtt = remote?.roundTripTimeMs ?? pairRttMs;

    // ---- identity and mapping -----------------------------------------------------------------
    const mid = s.mid ?? sdpSsrc?.mid ?? midOfOnlySection(own, kind);
    const section = mid === undefined ? undefined : own.sectionsByMid.get(mid);
    const sdpTrackId = sdpSsrc?.trackId ?? section?.trackId;
    const trackIdentifier = s.trackIdentifier;
    const mappings = context.mappings;
    const mapping =
      mappings.resolve({ ssrc: s.ssrc, mid, trackId: trackIdentifier }) ??
      (sdpTrackId !== undefined && sdpTrackId !== trackIdentifier ? mappings.resolve({ ssrc: s.ssrc, trackId: sdpTrackId }) : undefined);
    const fromSdp = sdpSsrc?.associatedSsrcs;
    const associatedSsrcs = fromSdp?.length ? [...new Set([...(s.associatedSsrcs ?? []), ...fromSdp])] : s.associatedSsrcs;

    // ---- MOS and quality ------------------------------------------------------------------------
    const e =
      kind == 'audio' && fractionLoss !== undefined
        ? estimateMos({ lossPercentage: fractionLoss * 100, rttMs: rtt, jitterBufferMs: interval.jitterBufferMs, jitterMs: jitter, codecMimeType: s.codecMimeType })
        : undefined;
    const video = kind == 'video';
    const audioLevel = kind == 'audio' ? s.audioLevel : undefined;

    return {
      ssrc: s.ssrc,
      statsType,
      mediaType: kind,
      userID: mapping?.userID ?? (inbound ? context.remoteUserID : context.localUserID),
      remoteUserID: context.remoteUserID,
      cname: sdpSsrc?.cname,
      msid: sdpSsrc?.msid ?? section?.msid,
      mid,
      trackIdentifier,
      usageLabel: mapping?.usageLabel,
      associatedVideoTag: mapping?.associatedVideoTag,
      associatedSsrcs,
      bitrate: interval.bitrate,
      packetRate: interval.packetRate,
      fractionLoss,
      packetLossPercentage: fractionLoss === undefined ? undefined : fractionLoss * 100,
      packetsLost: inbound ? s.packetsLost : remote?.packetsLost,
      jitter,
      averageJitter: meanWith(state.jitter, jitter, fresh),
      rtt,
      averageRTT: meanWith(state.rtt, rtt, fresh),
      audioInputLevel: inbound ? undefined : audioLevel,
      audioOutputLevel: inbound ? audioLevel : undefined,
      frameRate: video ? (s.framesPerSecond ?? interval.frameRate) : undefined,
      frameWidth: video ? s.frameWidth : undefined,
      frameHeight: video ? s.frameHeight : undefined,
      qualityLimitationReason:
        video && QUALITY_LIMITATION_REASONS.includes(s.qualityLimitationReason!) ? (s.qualityLimitationReason as QualityLimitationReason) : undefined,
      mos: e?.mos,
      quality: streamQuality(kind, { r: e?.r, fractionLoss, rttMs: rtt }),
    };
  }

  return {
    process(report, context, now) {
      const previous = previousProblems;
      previousProblems = problems;
      problems = previous;
      problems.clear();
      try {
        return process(report, context, now);
      } catch (error) {
        // Not the report (read carefully above): a bug. Still told, and still no throw into the poll.
        problem('failed', 'processing the getStats() report failed: no stats this poll', error);
        return { streams: [], connection: {} };
      }
    },
    stateSize: () => states.inbound.size + states.outbound.size,
    reset: () => {
      states.inbound.clear();
      states.outbound.clear();
    },
  };
}
