/**
 * Pure metric functions: interval rates from counters, loss, running means, the E-model MOS and
 * the quality rating. Formulas and thresholds are documented in docs/stats.md.
 */
import type { Kbps, MeanOpinionScore, MediaKind, Milliseconds, PacketsPerSecond, Percentage, Ratio } from '../types';

export type QualityRating = 'excellent' | 'good' | 'fair' | 'poor' | 'bad';

// ---------------------------------------------------------------------------------------------
// Counters and rates

/**
 * cur - prev for a cumulative counter; undefined when either is unknown or the counter went down
 * (a reset: ICE restart, replaced track, SSRC reuse...). Never negative.
 */
export function counterDelta(prev: number | undefined, cur: number | undefined): number | undefined {
  if (prev === undefined || cur === undefined) return undefined;
  const d = cur - prev;
  return d >= 0 ? d : undefined;
}

/** kbps from a byte delta over `dtMs` (8 bits per byte; bits per ms = kbit/s). */
export function bitrateKbps(bytesDelta: number | undefined, dtMs: Milliseconds): Kbps | undefined {
  if (bytesDelta === undefined || !(dtMs > 0)) return undefined;
  return (bytesDelta * 8) / dtMs;
}

/** Events per second from a counter delta over `dtMs`. */
export function perSecond(delta: number | undefined, dtMs: Milliseconds): PacketsPerSecond | undefined {
  if (delta === undefined || !(dtMs > 0)) return undefined;
  return (delta * 1000) / dtMs;
}

/**
 * lost / (lost + received) over an interval, 0..1. A negative lost delta (duplicates make the
 * receiver's packetsLost go down) counts as 0. Undefined when no packet was expected.
 */
export function fractionLossFromDeltas(lostDelta: number | undefined, receivedDelta: number | undefined): Ratio | undefined {
  if (lostDelta === undefined || receivedDelta === undefined || receivedDelta < 0) return undefined;
  const lost = Math.max(0, lostDelta);
  const expected = lost + receivedDelta;
  if (expected <= 0) return undefined;
  return clamp(lost / expected, 0, 1);
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** A running mean in O(1) memory. */
export interface RunningMean {
  count: number;
  mean: number;
}

/** Adds a sample (ignored when undefined); returns the new mean (undefined while empty). */
export function addSample(m: RunningMean, x: number | undefined): number | undefined {
  if (x !== undefined && Number.isFinite(x)) {
    m.count++;
    m.mean += (x - m.mean) / m.count;
  }
  return m.count ? m.mean : undefined;
}

// ---------------------------------------------------------------------------------------------
// E-model (ITU-T G.107, simplified)

/** Base R of a narrowband connection without impairments (G.107 defaults). */
export const R0 = 93.2;
/** Packetization / framing delay added to the one-way delay (20 ms Opus/G.711 frames). */
export const PACKETIZATION_DELAY_MS = 20;

/** Ie (equipment impairment) and Bpl (packet-loss robustness) per codec. */
export interface CodecImpairment {
  ie: number;
  bpl: number;
}

/**
 * G.113 Appendix I gives G.711 with packet loss concealment Ie = 0, Bpl = 25.1 (random loss) and
 * G.729A Ie = 11, Bpl = 19. Opus has no ITU-T entry; it gets G.711+PLC's values (its concealment
 * and in-band FEC are at least as robust), which keeps the estimate conservative.
 */
export const CODEC_IMPAIRMENTS: Readonly<Record<string, CodecImpairment>> = {
  opus: { ie: 0, bpl: 25.1 },
  pcmu: { ie: 0, bpl: 25.1 },
  pcma: { ie: 0, bpl: 25.1 },
  g722: { ie: 0, bpl: 25.1 },
  g729: { ie: 11, bpl: 19 },
};
const DEFAULT_IMPAIRMENT = CODEC_IMPAIRMENTS.opus as CodecImpairment;

/** 'audio/opus' -> Opus' values; unknown codecs are treated as Opus. */
export function codecImpairment(mimeType: string | undefined): CodecImpairment {
  if (!mimeType) return DEFAULT_IMPAIRMENT;
  const slash = mimeType.indexOf('/');
  const name = (slash < 0 ? mimeType : mimeType.slice(slash + 1)).toLowerCase();
  return CODEC_IMPAIRMENTS[name] ?? DEFAULT_IMPAIRMENT;
}

/** Id: the delay impairment for a one-way (mouth-to-ear) delay d in ms (Cole & Rosenbluth). */
export function delayImpairment(d: Milliseconds): number {
  const dd = Math.max(0, d);
  return 0.024 * dd + (dd > 177.3 ? 0.11 * (dd - 177.3) : 0);
}

/** Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl), random loss (BurstR = 1). */
export function effectiveEquipmentImpairment(lossPercentage: Percentage, codec: CodecImpairment): number {
  const ppl = clamp(lossPercentage, 0, 100);
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl + codec.bpl);
}

/** MOS from R: 1 + 0.035 R + 7e-6 R (R - 60)(100 - R), clamped to 1..4.5. */
export function mosFromR(r: number): MeanOpinionScore {
  if (!(r > 0)) return 1;
  if (r >= 100) return 4.5;
  return clamp(1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r), 1, 4.5);
}

export interface MosInput {
  /** Loss in the interval (required). */
  lossPercentage: Percentage;
  /** Round-trip time; half of it is the network's one-way delay. Unknown counts as 0. */
  rttMs?: Milliseconds;
  /** Measured jitter buffer delay of the receiver, if known. */
  jitterBufferMs?: Milliseconds;
  /** Interarrival jitter: the jitter buffer is estimated as 2 x jitter when not measured. */
  jitterMs?: Milliseconds;
  codecMimeType?: string;
}

/** The one-way delay the E-model uses: rtt/2 + jitter buffer + packetization. */
export function oneWayDelayMs(input: Omit<MosInput, 'lossPercentage' | 'codecMimeType'>): Milliseconds {
  const network = (input.rttMs ?? 0) / 2;
  const buffer = input.jitterBufferMs ?? 2 * (input.jitterMs ?? 0);
  return network + buffer + PACKETIZATION_DELAY_MS;
}

/** R = 93.2 - Id(d) - Ie,eff(loss, codec), clamped to 0..100. */
export function rFactor(input: MosInput): number {
  const id = delayImpairment(oneWayDelayMs(input));
  const ie = effectiveEquipmentImpairment(input.lossPercentage, codecImpairment(input.codecMimeType));
  return clamp(R0 - id - ie, 0, 100);
}

export function estimateMos(input: MosInput): { r: number; mos: MeanOpinionScore } {
  const r = rFactor(input);
  return { r, mos: mosFromR(r) };
}

// ---------------------------------------------------------------------------------------------
// Quality rating

/**
 * Audio: the R factor's G.107 user-satisfaction bands: >= 90 excellent (very satisfied),
 * >= 80 good, >= 70 fair (some dissatisfied), >= 60 poor (many dissatisfied), else bad.
 */
export const AUDIO_R_THRESHOLDS = { excellent: 90, good: 80, fair: 70, poor: 60 } as const;
/** Video: interval loss (0..1) upper bounds per rating. */
export const VIDEO_LOSS_THRESHOLDS = { excellent: 0.01, good: 0.02, fair: 0.05, poor: 0.1 } as const;
/** Video: RTT (ms) upper bounds per rating. */
export const VIDEO_RTT_THRESHOLDS = { excellent: 150, good: 300, fair: 450, poor: 700 } as const;

const ORDER: readonly QualityRating[] = ['excellent', 'good', 'fair', 'poor', 'bad'];

export function audioQuality(r: number): QualityRating {
  const t = AUDIO_R_THRESHOLDS;
  return r >= t.excellent ? 'excellent' : r >= t.good ? 'good' : r >= t.fair ? 'fair' : r >= t.poor ? 'poor' : 'bad';
}

function ratingAtMost(value: number, t: { excellent: number; good: number; fair: number; poor: number }): QualityRating {
  return value <= t.excellent ? 'excellent' : value <= t.good ? 'good' : value <= t.fair ? 'fair' : value <= t.poor ? 'poor' : 'bad';
}

/** Video: the worse of the loss rating and the RTT rating; undefined when neither is known. */
export function videoQuality(fractionLoss: Ratio | undefined, rttMs: Milliseconds | undefined): QualityRating | undefined {
  const a = fractionLoss === undefined ? undefined : ratingAtMost(fractionLoss, VIDEO_LOSS_THRESHOLDS);
  const b = rttMs === undefined ? undefined : ratingAtMost(rttMs, VIDEO_RTT_THRESHOLDS);
  if (a === undefined) return b;
  if (b === undefined) return a;
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/** Quality of a stream: audio from R (needs loss), video from loss and RTT. */
export function streamQuality(
  kind: MediaKind,
  values: { r?: number; fractionLoss?: Ratio; rttMs?: Milliseconds },
): QualityRating | undefined {
  if (kind === 'audio') return values.r === undefined ? undefined : audioQuality(values.r);
  return videoQuality(values.fractionLoss, values.rttMs);
}
