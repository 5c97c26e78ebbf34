// Conference summaries: computed (and stored) when all fabrics of a conference are terminated (or
// failed), or when no data arrived for `summaryDelayMs` (30 s by default). Recomputed if data
// arrives later.
import { QUALITY_ORDER } from './protocol';
import { buildStreams, participantsOf, roundedMean } from './query';
import type { ConferenceData, ConferenceSummary, ConferenceViews, FabricState, Logger, MediaSummary, MetricSummary, Quality, Storage, StreamView } from './types';

function combine(streams: StreamView[], pick: (s: StreamView) => MetricSummary, worse: 'min' | 'max'): MetricSummary {
  const avgs = streams.map((s) => pick(s).avg).filter((v): v is number => v !== null);
  const worsts = streams.map((s) => pick(s).worst).filter((v): v is number => v !== null);
  return {
    avg: roundedMean(avgs),
    worst: worsts.length ? worsts.reduce((a, b) => (worse === 'min' ? Math.min(a, b) : Math.max(a, b))) : null,
  };
}

function media(streams: StreamView[]): MediaSummary | null {
  if (streams.length === 0) return null;
  return {
    streams: streams.length,
    bitrate: combine(streams, (s) => s.summary.bitrate, 'min'),
    fractionLoss: combine(streams, (s) => s.summary.fractionLoss, 'max'),
    rtt: combine(streams, (s) => s.summary.rtt, 'max'),
    jitter: combine(streams, (s) => s.summary.jitter, 'max'),
  };
}

export function computeSummary(data: ConferenceData, reason: 'terminated' | 'idle', now: number): ConferenceSummary {
  const streams = buildStreams(data.samples);
  const fabricStates: Partial<Record<FabricState, number>> = {};
  for (const f of data.fabrics) fabricStates[f.state] = (fabricStates[f.state] ?? 0) + 1;
  const delays = data.fabrics.map((f) => f.setupDelay).filter((v): v is number => v !== null && Number.isFinite(v));
  // Categories are client strings: counted in an object without a prototype, where "constructor",
  // "toString" or "__proto__" are plain keys (JSON.stringify serializes it as usual).
  const errorsByCategory: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const e of data.errors) errorsByCategory[e.item.category] = (errorsByCategory[e.item.category] ?? 0) + 1;
  const ratings = data.feedback.map((f) => f.item.rating.overall);

  let quality: Quality | null = null;
  let worstStream: ConferenceSummary['worstStream'] = null;
  for (const s of streams) {
    const q = s.summary.quality;
    if (q !== null && (quality === null || QUALITY_ORDER.indexOf(q) > QUALITY_ORDER.indexOf(quality))) {
      quality = q;
      worstStream = { sid: s.sid, fabricID: s.fabricID, key: s.key, userID: s.userID, quality: q };
    }
  }

  return {
    computedAt: now,
    reason,
    firstSeen: data.conference.firstSeen,
    lastSeen: data.conference.lastSeen,
    durationMs: Math.max(0, data.conference.lastSeen - data.conference.firstSeen),
    participantCount: participantsOf(data).length,
    fabricCount: data.fabrics.length,
    fabricStates,
    setupDelay: delays.length ? { avg: roundedMean(delays) ?? 0, max: delays.reduce((a, b) => Math.max(a, b)) } : null,
    disruptions: data.events.filter((e) => e.item.event === 'connectionDisruptionStart').length,
    errorCount: data.errors.length,
    errorsByCategory,
    feedback: ratings.length ? { count: ratings.length, overallAvg: roundedMean(ratings) ?? 0 } : null,
    // Capped so the count stays an exact integer, whatever counts were stored.
    droppedSamples: Math.min(Number.MAX_SAFE_INTEGER, data.dropped.reduce((a, d) => a + d.item.count, 0)),
    streamCount: streams.length,
    audio: media(streams.filter((s) => s.mediaType === 'audio')),
    video: media(streams.filter((s) => s.mediaType === 'video')),
    quality,
    worstStream,
  };
}

export interface SummarizerOptions {
  storage: Storage;
  /** Reads and computes the summaries (in this thread, or in the storage's worker threads); storage stores them. */
  views: ConferenceViews;
  logger: Logger;
  clock: () => number;
  delayMs: number;
  intervalMs: number;
}

/**
 * How long a conference whose summary could not be read (reader timeout or crash) is left out of
 * the passes. Tried again at once, a conference too big to read in time would take the reader for
 * the whole timeout in every pass, and (first in the due order) hold up every summary after it.
 */
export const FAILED_SUMMARY_RETRY_MS = 5 * 60_000;

/** Periodically (and on demand after ingest) computes the summaries that are due. */
export class Summarizer {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Conferences (appID, conferenceID as JSON) whose summary read failed -> when to try again (clock ms). */
  private readonly failedUntil = new Map<string, number>();

  constructor(private readonly o: SummarizerOptions) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.o.intervalMs);
    this.timer.unref?.();
    this.kick();
  }

  /** Runs a pass now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((e: unknown) => {
        // Stopping ends the reads in progress: that failure is expected.
        if (!this.stopped) this.o.logger.error('summary pass failed', { error: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(): Promise<void> {
    const now = this.o.clock();
    for (const [key, until] of this.failedUntil) if (until <= now) this.failedUntil.delete(key);
    const due = await this.o.storage.conferencesDueForSummary(now - this.o.delayMs, 100);
    let tried = 0;
    for (const ref of due) {
      if (this.stopped) return;
      const key = JSON.stringify([ref.appID, ref.conferenceID]);
      if (this.failedUntil.has(key)) continue;
      tried++;
      let computed: Awaited<ReturnType<ConferenceViews['conferenceSummary']>>;
      try {
        computed = await this.o.views.conferenceSummary(ref, ref.reason, this.o.clock());
      } catch (e) {
        if (this.stopped) return;
        // This conference only: the others due are still summarized.
        this.failedUntil.set(key, this.o.clock() + FAILED_SUMMARY_RETRY_MS);
        const error = e instanceof Error ? e.message : String(e);
        this.o.logger.warn('conference summary failed', { appID: ref.appID, conferenceID: ref.conferenceID, error, retryInMs: FAILED_SUMMARY_RETRY_MS });
        continue;
      }
      if (!computed || this.stopped) continue;
      // Writes stay in this thread.
      await this.o.storage.saveSummary(ref, computed.summary, computed.dataVersion);
      this.o.logger.info('conference summarized', { appID: ref.appID, conferenceID: ref.conferenceID, reason: ref.reason });
    }
    // A full page may hide more due conferences; not when every one of it is waiting to be retried
    // (the same page would come back at once, in a loop).
    if (due.length === 100 && tried > 0) this.again = true;
  }

  /** Stops the timer and new passes; resolves when the current pass ended (see also `halt`). */
  async stop(): Promise<void> {
    this.halt();
    await this.idle();
  }

  /** Stops the timer and new passes at once, without waiting for the current one. */
  halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
