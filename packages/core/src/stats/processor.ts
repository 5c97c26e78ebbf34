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
import { asMediaKind } from './normalize/steps/kindFromMediaType';
import { inRange, MAX_FRAME_RATE, MAX_KBPS, MAX_MS, MAX_PACKET_RATE } from './normalize/fields';
import { quietly } from './poller';
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
  /** The entry's timestamp (or `now` when it has none; NaN before the first) and counters at the previous poll. */
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
  return delay !== undefined && emitted! > 0 ? inRange((delay / emitted!) * 1000, MAX_MS) : undefined;
}

/** parseSdp that remembers its last SDP: comparing is cheaper than even parseSdp's cache lookup. */
function lastSdpParser(): (sdp: string | undefined) => SdpInfo {
  let last: string | undefined;
  let info = parseSdp(last);
  return (sdp) => (sdp === last ? info : (info = parseSdp((last = sdp))));
}

export function createStatsProcessor(options: StatsProcessorOptions = {}): StatsProcessor {
  const forgetAfterPolls = Math.max(1, Math.floor(options.forgetAfterPolls ?? 5));
  // Per-stream state by direction, then SSRC (a stream is `statsType:ssrc`; no key is built per poll).
  const states = { inbound: new Map<string, StreamState>(), outbound: new Map<string, StreamState>() };
  let poll = 0;
  const localSdp = lastSdpParser();
  const remoteSdp = lastSdpParser();
  // The problems (kinds) of this poll and of the previous one: `warn` is told when one starts.
  let problems = new Set<string>();
  let previousProblems = new Set<string>();
  const problem = (kind: string, message: string, error: unknown): void => {
    problems.add(kind);
    if (!previousProblems.has(kind)) quietly(() => options.warn?.(message, error));
  };

  function process(report: StatsReportLike, context: StatsContext, now: EpochMilliseconds): ProcessedStats {
    poll++;
    const local = localSdp(context.localSDP);
    const remote = remoteSdp(context.remoteSDP);
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
    const pairRttMs = conn.currentRoundTripTimeMs;

    const streamStats = (s: NormalizedRtpStream): StreamStats => {
      const inbound = s.direction == 'inbound';
      const statsType = inbound ? 'inbound-rtp' : 'outbound-rtp';
      // `own`: the SDP that declares this stream's SSRC (remote SDP for inbound, local for outbound).
      const own = inbound ? remote : local;
      const sdpSsrc = own.ssrcs.get(s.ssrc) ?? (inbound ? local : remote).ssrcs.get(s.ssrc);
      const kind = s.kind ?? asMediaKind(sdpSsrc?.mediaType) ?? (s.frames !== undefined || s.frameWidth !== undefined ? 'video' : 'audio');
      const ts = s.timestamp > 0 ? s.timestamp : now;

      // ---- interval values from counter deltas ----------------------------------------------
      const bySsrc = states[s.direction];
      let state = bySsrc.get(s.ssrc);
      // A new stream: no previous timestamp (NaN), so no interval values yet.
      if (!state) bySsrc.set(s.ssrc, (state = { lastPoll: poll, timestamp: NaN, counters: s, interval: {}, jitter: { count: 0, mean: 0 }, rtt: { count: 0, mean: 0 } }));
      const prev = state.counters;
      const dt = ts - state.timestamp;
      // false when this poll repeats the previous report (same timestamp)
      const fresh = dt != 0;
      if (fresh) {
        const packetsDelta = counterDelta(prev.packets, s.packets);
        // No previous poll, clock went back or the stream's counters restarted: no rate for this interval.
        state.interval =
          !(dt > 0) || wentDown(prev.bytes, s.bytes) || wentDown(prev.packets, s.packets)
            ? {}
            : {
                packetsDelta,
                // Over a tiny interval even sane counters give absurd rates (or Infinity): absent.
                bitrate: inRange(bitrateKbps(counterDelta(prev.bytes, s.bytes), dt), MAX_KBPS),
                packetRate: inRange(perSecond(packetsDelta, dt), MAX_PACKET_RATE),
                // (outbound streams have no packetsLost: their loss is the remote receiver's)
                fractionLoss: fractionLossFromDeltas(s.packetsLost! - prev.packetsLost!, packetsDelta),
                frameRate: inRange(perSecond(counterDelta(prev.frames, s.frames), dt), MAX_FRAME_RATE),
                jitterBufferMs: jitterBufferMs(prev, s),
              };
        state.timestamp = ts;
        state.counters = s;
      }
      state.lastPoll = poll;
      const interval = state.interval;

      // ---- loss -------------------------------------------------------------------------------
      let fractionLoss = interval.fractionLoss;
      const remoteReport = s.remote;
      if (!inbound) {
        fractionLoss = remoteReport?.fractionLost;
        const last = state.remote;
        if (remoteReport && fractionLoss === undefined) {
          // No fractionLost: deltas of the remote receiver's counters between its reports (packets
          // received there, else packets we sent in this poll interval). Kept until the next report.
          if (last && remoteReport.timestamp > last.timestamp) {
            const received = wentDown(last.packetsReceived, remoteReport.packetsReceived)
              ? undefined // the remote receiver restarted its counters
              : (counterDelta(last.packetsReceived, remoteReport.packetsReceived) ?? interval.packetsDelta);
            state.remoteFraction = fractionLossFromDeltas(remoteReport.packetsLost! - last.packetsLost!, received);
          }
          fractionLoss = state.remoteFraction;
        }
        if (remoteReport && remoteReport.timestamp !== last?.timestamp) {
          if (last && remoteReport.timestamp < last.timestamp) state.remoteFraction = undefined;
          state.remote = remoteReport;
        }
      }

      // ---- jitter, RTT and their running means ------------------------------------------------
      const jitter = inbound ? s.jitterMs : remoteReport?.jitterMs;
      const rtt = remoteReport?.roundTripTimeMs ?? pairRttMs;

      // ---- identity and mapping ---------------------------------------------------------------
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

      // ---- MOS and quality ----------------------------------------------------------------------
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
        packetsLost: inbound ? s.packetsLost : remoteReport?.packetsLost,
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
    };

    const streams = [...normalized.outbound, ...normalized.inbound].map(streamStats);
    for (const bySsrc of [states.inbound, states.outbound])
      for (const [ssrc, state] of bySsrc) if (poll - state.lastPoll >= forgetAfterPolls) bySsrc.delete(ssrc);
    const ip = (address: string | undefined): string | undefined => (context.collectIP ? address : undefined);
    // Fields are present (maybe undefined) in every record: one object shape, cheap to build.
    const connection: ConnectionStats = {
      rtt: pairRttMs,
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
  };
}
