import { describe, expect, it } from 'vitest';
import { createMemoryLogger, createSqliteStorage } from '../src/index';
import { ConferenceViewError } from '../src/storage/conferenceViewError';
import { FAILED_SUMMARY_RETRY_MS, Summarizer } from '../src/summary';
import type { ConferenceViews } from '../src/types';
import { inThreadViews } from '../src/views';
import { APP_A, T0, errorItem, eventItem, eventually, fabricItem, feedbackItem, getToken, ingestHttp, query, rid, statsItem, useCollector } from './helpers';

// The collector's clock is ours: the idle delay passes only when the test moves it.
let now = Date.now();
const c = useCollector({ clock: () => now, summaryDelayMs: 30_000, summaryCheckIntervalMs: 10 });

async function summarized(conf: string): Promise<any | undefined> {
  const list = await query(c(), APP_A);
  const entry = list.conferences.find((x: { conferenceID: string }) => x.conferenceID === conf);
  if (!entry?.summarized) return undefined;
  return (await query(c(), APP_A, conf)).summary;
}

describe('conference summary', () => {
  it('is computed once all fabrics are terminated (or failed)', async () => {
    const conf = `sum-term-${rid()}`;
    const alice = await getToken(c(), APP_A, 'alice');
    const bob = await getToken(c(), APP_A, 'bob');
    const aSid = rid();
    const bSid = rid();
    await ingestHttp(c(), alice, {
      sid: aSid,
      items: [
        fabricItem(1, conf, 'f1', 'alice', 'bob'),
        eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 200 }),
        statsItem(3, conf, 'f1', [{ key: 'outbound-rtp:1', mediaType: 'audio', bitrate: 40, rtt: 100, quality: 'good' }]),
        statsItem(4, conf, 'f1', [{ key: 'outbound-rtp:1', bitrate: 20, rtt: 300, quality: 'good' }]),
        errorItem(5, conf, 'f1', 'addIceCandidate', 'bad candidate'),
        eventItem(6, conf, 'f1', 'connectionDisruptionStart'),
        eventItem(7, conf, 'f1', 'connectionDisruptionEnd'),
        feedbackItem(8, conf, 'alice', 3),
        eventItem(9, conf, 'f1', 'fabricTerminated'),
      ],
    });
    await ingestHttp(c(), bob, {
      sid: bSid,
      items: [
        fabricItem(1, conf, 'f2', 'bob', 'alice'),
        eventItem(2, conf, 'f2', 'fabricSetup', { setupDelay: 400 }),
        statsItem(3, conf, 'f2', [{ key: 'inbound-rtp:7', mediaType: 'video', bitrate: 800, fractionLoss: 0.1, quality: 'fair' }]),
      ],
    });
    // One fabric still established: no summary, however often the summarizer runs.
    await c().summarizeNow();
    await c().summarizeNow();
    expect((await query(c(), APP_A, conf)).summary).toBeNull();

    await ingestHttp(c(), bob, { sid: bSid, items: [eventItem(4, conf, 'f2', 'fabricTerminated')] });
    const s = await eventually(() => summarized(conf), 'summary after termination');
    expect(s).toMatchObject({
      reason: 'terminated',
      participantCount: 2,
      fabricCount: 2,
      fabricStates: { terminated: 2 },
      setupDelay: { avg: 300, max: 400 },
      disruptions: 1,
      errorCount: 1,
      errorsByCategory: { negotiationFailure: 1 },
      feedback: { count: 1, overallAvg: 3 },
      streamCount: 2,
      audio: { streams: 1, bitrate: { avg: 30, worst: 20 }, rtt: { avg: 200, worst: 300 } },
      video: { streams: 1, bitrate: { avg: 800, worst: 800 }, fractionLoss: { avg: 0.1, worst: 0.1 } },
      quality: 'fair',
      worstStream: { fabricID: 'f2', key: 'inbound-rtp:7', quality: 'fair' },
    });
    expect(s.computedAt).toBe(now);
  });

  it('is computed after the idle delay, and recomputed when data arrives later', async () => {
    const conf = `sum-idle-${rid()}`;
    const alice = await getToken(c(), APP_A, 'alice');
    const sid = rid();
    await ingestHttp(c(), alice, {
      sid,
      items: [fabricItem(1, conf, 'f1', 'alice', 'bob'), eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 90 })],
    });
    await c().summarizeNow();
    expect((await query(c(), APP_A, conf)).summary).toBeNull();
    now += 29_999;
    await c().summarizeNow();
    expect((await query(c(), APP_A, conf)).summary).toBeNull();

    now += 2;
    const s = await eventually(() => summarized(conf), 'summary after the idle delay');
    expect(s).toMatchObject({ reason: 'idle', fabricCount: 1, fabricStates: { established: 1 }, setupDelay: { avg: 90, max: 90 } });

    // Late data: the summary is stale (null) until it is recomputed after another idle delay.
    await ingestHttp(c(), alice, { sid, items: [errorItem(3, conf, 'f1', 'createOffer', 'late')] });
    const detail = await query(c(), APP_A, conf);
    expect(detail.summary).toBeNull();
    expect((await query(c(), APP_A)).conferences.find((x: { conferenceID: string }) => x.conferenceID === conf).summarized).toBe(false);
    now += 30_001;
    const again = await eventually(() => summarized(conf), 'recomputed summary');
    expect(again.errorCount).toBe(1);
  });
});

describe('summary pass with a conference that cannot be read', () => {
  it('a conference whose summary read fails (reader timeout) does not hold up the others; it is tried again after FAILED_SUMMARY_RETRY_MS', async () => {
    let clock = T0;
    const storage = createSqliteStorage(':memory:');
    const logger = createMemoryLogger();
    const reads: string[] = [];
    const inThread = inThreadViews(storage);
    let stuckFails = true;
    // The reader pool's answer for a conference too big to read in time, as a fake: no timing.
    const views: ConferenceViews = {
      ...inThread,
      conferenceSummary: async (ref, reason, at) => {
        reads.push(ref.conferenceID);
        if (ref.conferenceID === 'stuck' && stuckFails) throw new ConferenceViewError('timeout', 'reading this conference took longer than 60000 ms', 503);
        return inThread.conferenceSummary(ref, reason, at);
      },
    };
    const summarizer = new Summarizer({ storage, views, logger, clock: () => clock, delayMs: 30_000, intervalMs: 3_600_000 });
    try {
      // 'stuck' received first: first in the due order.
      for (const [conf, receivedAt] of [['stuck', T0 - 2000], ['fine', T0 - 1000]] as const) {
        const items = [fabricItem(1, conf, 'f1', 'alice', 'bob'), eventItem(2, conf, 'f1', 'fabricTerminated')];
        expect((await storage.ingest({ appID: APP_A.appID, userID: 'alice', sid: rid(), receivedAt }, items as never)).ok).toBe(true);
      }
      const summarizedNow = async (): Promise<string[]> => {
        summarizer.kick();
        await summarizer.idle();
        return (await storage.listConferences(APP_A.appID)).filter((x) => x.summarized).map((x) => x.conferenceID).sort();
      };

      expect(await summarizedNow()).toEqual(['fine']);
      expect(reads).toEqual(['stuck', 'fine']);
      expect(logger.records.filter((l) => l.message === 'conference summary failed').map((l) => l.fields)).toEqual([
        { appID: APP_A.appID, conferenceID: 'stuck', error: expect.stringMatching(/took longer/), retryInMs: FAILED_SUMMARY_RETRY_MS },
      ]);
      expect(logger.records.filter((l) => l.message === 'summary pass failed')).toEqual([]);

      // Not read again before its retry time (it would take the reader for the whole timeout each pass).
      stuckFails = false;
      clock += FAILED_SUMMARY_RETRY_MS - 1;
      expect(await summarizedNow()).toEqual(['fine']);
      expect(reads).toEqual(['stuck', 'fine']);
      clock += 1;
      expect(await summarizedNow()).toEqual(['fine', 'stuck']);
      expect(reads).toEqual(['stuck', 'fine', 'stuck']);
    } finally {
      await summarizer.stop();
      await storage.close();
    }
  });
});
