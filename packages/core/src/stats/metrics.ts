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
  const d = cur! - prev!;
  return d >= 0 ? d : undefined; // NaN when either is undefined
}

/** A counter delta over `dtMs`, times `scale`; undefined without a delta or a positive interval. */
const rate = (delta: number | undefined, dtMs: Milliseconds, scale: number): number | undefined =>
  delta === undefined || !(dtMs > 0) ? undefined : (delta * scale) / dtMs;

/** kbps from a byte delta over `dtMs` (8 bits per byte; bits per ms = kbit/s). */
export const bitrateKbps = (bytesDelta: number | undefined, dtMs: Milliseconds): Kbps | undefined => rate(bytesDelta, dtMs, 8);

/** Events per second from a counter delta over `dtMs`. */
export const perSecond = (delta: number | undefined, dtMs: Milliseconds): PacketsPerSecond | undefined => rate(delta, dtMs, 1000);

/**
 * lost / (lost + received) over an interval, 0..1. A negative lost delta (duplicates make the
 * receiver's packetsLost go down) counts as 0. Undefined when no packet was expected.
 */
export function fractionLossFromDeltas(lostDelta: number | undefined, receivedDelta: number | undefined): Ratio | undefined {
  const lost = Math.max(0, lostDelta!);
  const expected = lost + receivedDelta!;
  // NaN (an unknown delta) fails both comparisons.
  return receivedDelta! >= 0 && expected > 0 ? lost / expected : undefined;
}

export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** A running mean in O(1) memory. */
export interface RunningMean {
  count: number;
  mean: number;
}

/** Adds a sample (ignored when undefined); returns the new mean (undefined while empty). */
export function addSample(m: RunningMean, x: number | undefined): number | undefined {
  if (x !== undefined && isFinite(x)) m.mean += (x - m.mean) / ++m.count;
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
 * and in-band FEC are at least as robust), which keeps the estimate conservative; so do G.722 and
 * unknown codecs.
 */
const G711_PLC: CodecImpairment = { ie: 0, bpl: 25.1 };
const G729A: CodecImpairment = { ie: 11, bpl: 19 };

/** 'audio/G729' -> G.729A's values, any other codec ('audio/opus') G.711+PLC's. */
export const codecImpairment = (mimeType: string | undefined): CodecImpairment => (/(^|\/)g729$/i.test(mimeType ?? '') ? G729A : G711_PLC);

/** Id: the delay impairment for a one-way (mouth-to-ear) delay d in ms (Cole & Rosenbluth). */
export function delayImpairment(d: Milliseconds): number {
  const dd = Math.max(0, d);
  return 0.024 * dd + 0.11 * Math.max(0, dd - 177.3);
}

/** Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl), random loss (BurstR = 1). */
export function effectiveEquipmentImpairment(lossPercentage: Percentage, { ie, bpl }: CodecImpairment): number {
  const ppl = clamp(lossPercentage, 0, 100);
  return ie + ((95 - ie) * ppl) / (ppl + bpl);
}

/** MOS from R: 1 + 0.035 R + 7e-6 R (R - 60)(100 - R), clamped to 1..4.5. */
export const mosFromR = (r: number): MeanOpinionScore =>
  !(r > 0) ? 1 : r >= 100 ? 4.5 : clamp(1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r), 1, 4.5);

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
export const oneWayDelayMs = (input: Omit<MosInput, 'lossPercentage' | 'codecMimeType'>): Milliseconds =>
  (input.rttMs ?? 0) / 2 + (input.jitterBufferMs ?? 2 * (input.jitterMs ?? 0)) + PACKETIZATION_DELAY_MS;

/** R = 93.2 - Id(d) - Ie,eff(loss, codec), clamped to 0..100. */
export const rFactor = (input: MosInput): number =>
  clamp(R0 - delayImpairment(oneWayDelayMs(input)) - effectiveEquipmentImpairment(input.lossPercentage, codecImpairment(input.codecMimeType)), 0, 100);

export function estimateMos(input: MosInput): { r: number; mos: MeanOpinionScore } {
  const r = rFactor(input);
  return { r, mos: mosFromR(r) };
}

// ---------------------------------------------------------------------------------------------
// Quality rating

/**
 * Audio: the R factor's G.107 user-satisfaction bands, the lowest R of excellent (very
 * satisfied), good, fair (some dissatisfied) and poor (many dissatisfied); below them, bad.
 */
export const AUDIO_R_THRESHOLDS = [90, 80, 70, 60];
/** Video: the highest interval loss (0..1) of excellent, good, fair and poor. */
export const VIDEO_LOSS_THRESHOLDS = [0.01, 0.02, 0.05, 0.1];
/** Video: the highest RTT (ms) of excellent, good, fair and poor. */
export const VIDEO_RTT_THRESHOLDS = [150, 300, 450, 700];

const RATINGS: readonly QualityRating[] = ['excellent', 'good', 'fair', 'poor', 'bad'];

/**
 * The index in RATINGS of the first limit the value reaches (4, bad, if none); -1 for an unknown
 * value. `higherIsBetter`: the value must be >= the limit (R), else <= (loss, RTT).
 */
function rank(value: number | undefined, limits: number[], higherIsBetter?: boolean): number {
  if (value === undefined) return -1;
  let i = 0;
  while (i < 4 && !(higherIsBetter ? value >= limits[i]! : value <= limits[i]!)) i++;
  return i;
}

export const audioQuality = (r: number): QualityRating => RATINGS[rank(r, AUDIO_R_THRESHOLDS, true)]!;

/** Video: the worse of the loss rating and the RTT rating; undefined when neither is known. */
export const videoQuality = (fractionLoss: Ratio | undefined, rttMs: Milliseconds | undefined): QualityRating | undefined =>
  RATINGS[Math.max(rank(fractionLoss, VIDEO_LOSS_THRESHOLDS), rank(rttMs, VIDEO_RTT_THRESHOLDS))];

/** Quality of a stream: audio from R (needs loss), video from loss and RTT. */
export function streamQuality(
  kind: MediaKind,
  values: { r?: number; fractionLoss?: Ratio; rttMs?: Milliseconds },
): QualityRating | undefined {
  if (kind == 'video') return videoQuality(values.fractionLoss, values.rttMs);
  return values.r === undefined ? undefined : audioQuality(values.r);
}
