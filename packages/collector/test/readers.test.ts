// Conference reads in worker threads (src/storage/readerPool.ts) on a file database: a huge
// conference is read and computed off the main thread, so health checks, tokens and ingest are
// answered while it is read; the answers are exactly the in-thread ones; a worker ended mid-read
// fails only that read; the queue and the timeout are bounded; close() ends the workers.
// Every assertion is on order or content, never on time: the big conference is big enough that
// reading it takes clearly longer (about a second) than a health check, a token or a small batch.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger, createSqliteStorage, type SqliteReaderPool, type SqliteStorage } from '../src/index';
import { buildConferenceDetail, MAX_SERIES_POINTS } from '../src/query';
import { Worker } from 'node:worker_threads';
import { ReaderPool, type ReaderPoolHooks } from '../src/storage/readerPool';
import { computeSummary } from '../src/summary';
import {
  APP_A,
  T0,
  WsClient,
  basic,
  errorItem,
  eventItem,
  eventually,
  fabricItem,
  feedbackItem,
  getToken,
  ingestHttp,
  postJson,
  rid,
  signedRequest,
  start,
  statsItem,
  type TestCollector,
} from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'callmetry-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BIG = 'big-conference';
const FABRICS = 40;
const STREAMS = 6;
const SECONDS = 600;
const bigDb = join(dir, 'big.sqlite');

/**
 * A conference of FABRICS x STREAMS streams sampled every second for SECONDS (plus the connection
 * samples): fabrics and events through ingest, the samples straight into the table in one
 * transaction (ingest would take minutes).
 */
async function seedBigConference(storage: SqliteStorage): Promise<void> {
  const sid = rid();
  const items: unknown[] = [];
  let n = 1;
  for (let f = 0; f < FABRICS; f++) {
    items.push(fabricItem(n++, BIG, `f${f}`, 'alice', `user-${f}`));
    items.push(eventItem(n++, BIG, `f${f}`, 'fabricSetup', { setupDelay: 100 + f }));
  }
  items.push(errorItem(n++, BIG, 'f0', 'createOffer', 'an error'));
  const r = await storage.ingest({ appID: APP_A.appID, userID: 'alice', sid, receivedAt: T0 }, items as never);
  expect(r.ok).toBe(true);
  const db = storage.db;
  const insert = db.prepare('INSERT INTO samples (app_id, sid, fabric_id, key, n, conference_id, t, delta, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.exec('BEGIN');
  for (let s = 0; s < SECONDS; s++) {
    const sampleN = 1000 + s;
    const t = T0 + s * 1000;
    for (let f = 0; f < FABRICS; f++) {
      for (let k = 0; k < STREAMS; k++) {
        const key = `inbound-rtp:${f * 100 + k}`;
        const fields = {
          key,
          ssrc: String(f * 100 + k),
          statsType: 'inbound-rtp',
          mediaType: k % 2 ? 'video' : 'audio',
          bitrate: 40 + ((s * 7 + k) % 50),
          jitter: (s + f) % 13,
          fractionLoss: ((s + k) % 10) / 100,
          quality: ['excellent', 'good', 'fair'][(s + f + k) % 3],
        };
        insert.run(APP_A.appID, sid, `f${f}`, key, sampleN, BIG, t, '{}', JSON.stringify(fields));
      }
      insert.run(APP_A.appID, sid, `f${f}`, '#connection', sampleN, BIG, t, '{}', JSON.stringify({ rtt: 20 + (s % 30) }));
    }
  }
  db.exec('COMMIT');
  // Its data is from T0, long "idle": marked summarized, so no summary pass reads it during these tests.
  db.prepare('UPDATE conferences SET needs_summary = 0 WHERE conference_id = ?').run(BIG);
}

beforeAll(async () => {
  const storage = createSqliteStorage(bigDb);
  try {
    await seedBigConference(storage);
  } finally {
    await storage.close();
  }
});

const detailUrl = (c: TestCollector, conf: string, query = ''): string => `${c.base}/v1/apps/${APP_A.appID}/conferences/${encodeURIComponent(conf)}${query}`;

/** The query API's body as the in-thread code computes it (the reference the worker must match). */
async function inThreadDetail(c: TestCollector, conf: string, maxPoints = MAX_SERIES_POINTS, window: { from?: number; to?: number } = {}): Promise<string> {
  const data = await c.storage.getConference(APP_A.appID, conf, window);
  expect(data).not.toBeNull();
  return JSON.stringify(buildConferenceDetail(data!, maxPoints, window));
}

function poolOf(c: TestCollector): SqliteReaderPool {
  const pools = (c.storage as SqliteStorage).readerPools;
  expect(pools).toHaveLength(1);
  return pools[0]!;
}

/** Waits (bounded polling) until the pool is in the given state. */
async function poolReaches(pool: SqliteReaderPool, want: { running?: number; queued?: number }, what: string): Promise<void> {
  await eventually(async () => {
    const s = pool.stats();
    return (want.running === undefined || s.running === want.running) && (want.queued === undefined || s.queued === want.queued) ? true : undefined;
  }, what);
}

/** A GET whose client leaves (its socket destroyed) when `leave()` is called, before any answer. */
function leavingRequest(url: string, headers: Record<string, string>): { leave(): void; answered: Promise<boolean> } {
  const req = request(url, { headers });
  const answered = new Promise<boolean>((resolve) => {
    req.once('response', () => resolve(true));
    req.once('close', () => resolve(false));
  });
  req.on('error', () => {}); // the socket destroyed by leave()
  req.end();
  return { leave: () => req.destroy(), answered };
}

/** Pool hooks whose worker creation throws when `fails(n)` holds for the n-th creation (1-based); counts creations. */
function failingSpawns(fails: (creation: number) => boolean): { hooks: ReaderPoolHooks; readonly creations: number } {
  let creations = 0;
  return {
    hooks: {
      createWorker(entry, options) {
        if (fails(++creations)) throw new Error('no more threads (test)');
        return new Worker(entry, options);
      },
    },
    get creations() {
      return creations;
    },
  };
}

async function fetchText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('conference reads in worker threads (file database)', () => {
  it('health checks, tokens and ingest (HTTP and WebSocket) are answered while a huge conference is read; its answer is the in-thread one', async () => {
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000 });
    try {
      const pool = poolOf(c);
      const token = await getToken(c, APP_A, 'bob');
      const ws = await WsClient.connect(c.base, token);
      const order: string[] = [];
      const done = <T>(name: string, p: Promise<T>): Promise<T> => p.then((v) => (order.push(name), v));

      // The detail counts as answered when its headers arrive (fetch resolves then), not when its
      // 10 MB body has been read: this process is also the client, and the small answers would come
      // in while that body streams even if the read had held up the event loop.
      const detail = done('detail', fetch(detailUrl(c, BIG), { headers: basic(APP_A) }));
      await poolReaches(pool, { running: 1 }, 'the big read runs in the worker');
      const other = `small-${rid()}`;
      const [health, tokenAnswer, ingest, wsAck] = await Promise.all([
        done('healthz', fetchText(`${c.base}/healthz`)),
        done('token', postJson(`${c.base}/v1/token`, signedRequest(APP_A, 'carol'))),
        done('ingest', ingestHttp(c, token, { sid: rid(), items: [fabricItem(1, other, 'f1', 'bob', 'alice')] })),
        done('ws', ws.batch(1, rid(), [fabricItem(1, other, 'f2', 'bob', 'dave')])),
      ]);
      const bigResponse = await detail;
      const big = { status: bigResponse.status, text: await bigResponse.text() };
      await ws.close();

      expect(health).toMatchObject({ status: 200, text: '{"ok":true}' });
      expect(tokenAnswer.status).toBe(200);
      expect(ingest).toMatchObject({ status: 200, json: { acked: [1] } });
      expect(wsAck).toEqual({ type: 'ack', id: 1, acked: [1] });
      // Everything else was answered before the big conference.
      expect(order.slice(0, 4).sort()).toEqual(['healthz', 'ingest', 'token', 'ws']);
      expect(order[4]).toBe('detail');

      expect(big.status).toBe(200);
      const body = JSON.parse(big.text);
      expect(body.streams).toHaveLength(FABRICS * STREAMS);
      expect(body.streams[0].summary.samples).toBe(SECONDS);
      expect(big.text).toBe(await inThreadDetail(c, BIG));

      // A window and maxPoints too; and an unknown conference is a 404 from the worker as before.
      const window = { from: T0 + 100_000, to: T0 + 160_000 };
      const paged = await fetchText(detailUrl(c, BIG, `?maxPoints=20&from=${window.from}&to=${window.to}`), basic(APP_A));
      expect(paged.status).toBe(200);
      expect(paged.text).toBe(await inThreadDetail(c, BIG, 20, window));
      const missing = await fetchText(detailUrl(c, 'no-such-conference'), basic(APP_A));
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.text).error).toBe('not_found');
      expect(pool.stats()).toEqual({ workers: 1, started: 1, running: 0, queued: 0, reads: 3, dropped: 0 });
    } finally {
      await c.close();
    }
  });

  it('the summary pass reads and computes in the worker, and stores the same summary as the in-thread code', async () => {
    const db = join(dir, `summary-${rid()}.sqlite`);
    const now = Date.now(); // fixed: the summary's computedAt is known
    const c = await start({ db, clock: () => now, summaryDelayMs: 3_600_000, summaryCheckIntervalMs: 3_600_000 });
    try {
      const conf = `sum-${rid()}`;
      const alice = await getToken(c, APP_A, 'alice');
      const items: unknown[] = [
        fabricItem(1, conf, 'f1', 'alice', 'bob'),
        eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 120 }),
        { ...errorItem(3, conf, 'f1', 'createOffer', 'x'), category: '__proto__' },
        { ...errorItem(4, conf, 'f1', 'createOffer', 'y'), category: 'constructor' },
        feedbackItem(5, conf, 'alice', 4, 'ok'),
        eventItem(6, conf, 'f1', 'connectionDisruptionStart'),
        eventItem(7, conf, 'f1', 'connectionDisruptionEnd'),
      ];
      for (let i = 0; i < 40; i++) {
        items.push(
          statsItem(10 + i, conf, 'f1', [
            { key: 'outbound-rtp:1', mediaType: 'audio', bitrate: 30 + i, rtt: 80 + (i % 7), quality: i % 5 ? 'good' : 'poor' },
            { key: 'inbound-rtp:2', mediaType: 'video', bitrate: 900 - i, fractionLoss: (i % 4) / 100, jitter: i % 9 },
          ], { rtt: 50 + i }),
        );
      }
      items.push(eventItem(60, conf, 'f1', 'fabricTerminated'));
      expect((await ingestHttp(c, alice, { sid: rid(), items })).status).toBe(200);
      await c.summarizeNow();

      const pool = poolOf(c);
      expect(pool.stats()).toMatchObject({ workers: 1, started: 1 }); // started for this summary: nothing else was read
      const row = (c.storage as SqliteStorage).db.prepare('SELECT summary, needs_summary FROM conferences WHERE app_id = ? AND conference_id = ?').get(APP_A.appID, conf) as {
        summary: string;
        needs_summary: number;
      };
      expect(row.needs_summary).toBe(0);
      const data = await c.storage.getConference(APP_A.appID, conf);
      expect(row.summary).toBe(JSON.stringify(computeSummary(data!, 'terminated', now)));
      expect(JSON.parse(row.summary)).toMatchObject({ reason: 'terminated', computedAt: now, errorCount: 2, streamCount: 2, disruptions: 1 });
      expect(Object.keys(JSON.parse(row.summary).errorsByCategory).sort()).toEqual(['__proto__', 'constructor']);
    } finally {
      await c.close();
    }
  });

  it('a worker ended in the middle of a read: that request gets a clear 500, the worker is replaced and the next request is answered', async () => {
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000 });
    try {
      const pool = poolOf(c);
      const detail = fetchText(detailUrl(c, BIG), basic(APP_A));
      await poolReaches(pool, { running: 1 }, 'the big read runs in the worker');
      expect(pool.terminateRunning()).toBe(1);
      const failed = await detail;
      expect(failed.status).toBe(500);
      expect(JSON.parse(failed.text)).toEqual({ error: 'reader_failed', message: expect.stringMatching(/reader stopped while reading this conference/) });
      expect(c.logs.some((l) => l.level === 'error' && l.message === 'conference reader stopped')).toBe(true);

      // The collector kept serving; a new worker answers the same request in full.
      expect((await fetchText(`${c.base}/healthz`)).status).toBe(200);
      const again = await fetchText(detailUrl(c, BIG), basic(APP_A));
      expect(again.status).toBe(200);
      expect(again.text).toBe(await inThreadDetail(c, BIG));
      expect(pool.stats()).toEqual({ workers: 1, started: 2, running: 0, queued: 0, reads: 2, dropped: 0 });
      // The ended worker left no read lock behind: the writer can checkpoint the whole WAL.
      const [checkpoint] = (c.storage as SqliteStorage).db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      expect(checkpoint?.busy).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('a worker that cannot open the database fails the reads with a clear error (a real crash in the worker) and is retried later', async () => {
    const logger = createMemoryLogger();
    const pool = new ReaderPool(join(dir, 'no-such-folder', 'x.sqlite'), { workers: 1, maxQueue: 4, timeoutMs: 60_000, logger });
    try {
      const reads = [pool.conferenceDetailJson(APP_A.appID, 'x', 10, {}), pool.conferenceSummary({ appID: APP_A.appID, conferenceID: 'x' }, 'idle', 0)];
      for (const r of await Promise.allSettled(reads)) {
        expect(r).toMatchObject({ status: 'rejected', reason: { name: 'ConferenceViewError', code: 'reader_failed', status: 500 } });
        expect((r as PromiseRejectedResult).reason.message).toMatch(/^the conference reader could not start \(\w*Error: .+\)$/);
      }
      expect(logger.records.filter((l) => l.level === 'error' && l.message === 'conference reader stopped')).toHaveLength(1);
      // Right after, no new thread is started for every request: refused at once until the back-off ends.
      await expect(pool.conferenceDetailJson(APP_A.appID, 'x', 10, {})).rejects.toThrow(/could not start .*; retrying in 1 s/);
      expect(pool.stats()).toEqual({ workers: 0, started: 1, running: 0, queued: 0, reads: 1, dropped: 0 });
    } finally {
      await pool.close();
    }
  });

  it("a summary waiting behind a query read that times out is not timed out with it: a summary's time counts from when a worker takes it", async () => {
    const db = join(dir, `waiting-summary-${rid()}.sqlite`);
    await createSqliteStorage(db).close(); // the schema, no conference
    const logger = createMemoryLogger();
    // Only the pool's timers are fake: the time is up when the test says so, whatever the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pool = new ReaderPool(db, { workers: 1, maxQueue: 4, timeoutMs: 1000, logger });
    try {
      const query = pool.conferenceDetailJson(APP_A.appID, 'x', 10, {});
      const summary = pool.conferenceSummary({ appID: APP_A.appID, conferenceID: 'x' }, 'idle', 0);
      expect(pool.stats()).toMatchObject({ running: 1, queued: 1 });
      vi.advanceTimersByTime(1000); // the query's time is up; the summary has waited as long
      await expect(query).rejects.toMatchObject({ code: 'timeout', status: 503 });
      // The query's worker was ended; the next one reads the summary (an unknown conference: null).
      expect(await summary).toBeNull();
      expect(logger.records.filter((l) => l.message === 'conference read timed out').map((l) => l.fields.op)).toEqual(['detail']);
      expect(pool.stats()).toMatchObject({ workers: 1, started: 2, running: 0, queued: 0, reads: 2 });
    } finally {
      vi.useRealTimers();
      await pool.close();
    }
  });

  it('past the queue limit a read gets 503 busy with Retry-After; the admitted ones are answered', async () => {
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000, readerWorkers: 1, readerQueue: 1 });
    try {
      const pool = poolOf(c);
      const first = fetchText(detailUrl(c, BIG), basic(APP_A));
      await poolReaches(pool, { running: 1 }, 'the first read runs');
      const second = fetchText(detailUrl(c, BIG, '?maxPoints=10'), basic(APP_A));
      await poolReaches(pool, { queued: 1 }, 'the second read waits');
      const third = await fetchText(detailUrl(c, BIG, '?maxPoints=11'), basic(APP_A));
      expect(third.status).toBe(503);
      expect(JSON.parse(third.text)).toEqual({ error: 'busy', message: expect.stringMatching(/busy reading other conferences \(1 reading, 1 waiting\): try again in \d+ s/) });
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(c.logs.some((l) => l.message === 'request refused' && l.fields.code === 'busy' && l.fields.status === 503)).toBe(true);

      expect((await first).status).toBe(200);
      const queued = await second;
      expect(queued.status).toBe(200);
      expect(queued.text).toBe(await inThreadDetail(c, BIG, 10));
    } finally {
      await c.close();
    }
  });

  it('a read whose client leaves while it waits is dropped, never run; one whose client leaves while it runs finishes unanswered', async () => {
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000, readerWorkers: 1, readerQueue: 4 });
    try {
      const pool = poolOf(c);
      const first = fetchText(detailUrl(c, BIG), basic(APP_A));
      await poolReaches(pool, { running: 1 }, 'the first read runs');
      const waiting = leavingRequest(detailUrl(c, BIG, '?maxPoints=10'), basic(APP_A));
      await poolReaches(pool, { queued: 1 }, 'the second read waits');
      waiting.leave();
      expect(await waiting.answered).toBe(false);
      await poolReaches(pool, { queued: 0 }, 'the second read is dropped');
      // Out of the queue, and only one read was ever handed to the worker (the first): it never ran.
      expect(pool.stats()).toMatchObject({ reads: 1, dropped: 1 });
      await eventually(async () => (c.logs.some((l) => l.message === 'conference read dropped: the client left before it started') ? true : undefined), 'the drop logged');

      const done = await first;
      expect(done.status).toBe(200);
      expect(done.text).toBe(await inThreadDetail(c, BIG));
      expect(pool.stats()).toMatchObject({ running: 0, queued: 0, reads: 1, dropped: 1 });

      // Left while running: the worker finishes the read (it is not ended), nothing is written.
      const running = leavingRequest(detailUrl(c, BIG, '?maxPoints=20'), basic(APP_A));
      await poolReaches(pool, { running: 1 }, 'the third read runs');
      running.leave();
      expect(await running.answered).toBe(false);
      await eventually(async () => (c.logs.some((l) => l.message === 'conference read not sent: the client left') ? true : undefined), 'the unsent answer logged');
      expect(pool.stats()).toMatchObject({ workers: 1, started: 1, running: 0, queued: 0, reads: 2, dropped: 1 });
      expect(c.logs.filter((l) => l.level === 'error')).toEqual([]);

      // The pool serves on; a read whose signal fired before it was asked for is not queued at all.
      const again = await fetchText(detailUrl(c, BIG, '?maxPoints=5'), basic(APP_A));
      expect(again.text).toBe(await inThreadDetail(c, BIG, 5));
      await expect(pool.conferenceDetailJson(APP_A.appID, BIG, 5, {}, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
      expect(pool.stats()).toMatchObject({ running: 0, queued: 0, reads: 3, dropped: 2 });
    } finally {
      await c.close();
    }
  });

  it('a read over the time limit gets 503 timeout, a read waiting behind it too; the worker is replaced', async () => {
    // 50 ms: far below the big read (about a second), which is what this test relies on.
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000, readerTimeoutMs: 50 });
    try {
      const pool = poolOf(c);
      const [running, waiting] = await Promise.all([fetchText(detailUrl(c, BIG), basic(APP_A)), fetchText(detailUrl(c, BIG, '?maxPoints=5'), basic(APP_A))]);
      for (const r of [running, waiting]) {
        expect(r.status).toBe(503);
        expect(JSON.parse(r.text)).toEqual({ error: 'timeout', message: expect.stringMatching(/took longer than 50 ms: read it in smaller windows/) });
      }
      expect(c.logs.filter((l) => l.message === 'conference read timed out')).toHaveLength(2);
      // The worker running the first read was ended and a new one started; the collector serves on.
      // (How many were ended depends on whether the second read had reached a worker when its time was up.)
      await eventually(async () => {
        const s = pool.stats();
        return s.workers === 1 && s.running === 0 && s.queued === 0 && s.started >= 2 ? true : undefined;
      }, 'a replacement worker, idle');
      expect((await fetchText(`${c.base}/healthz`)).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('close() during a read ends the workers at once and leaves none behind', async () => {
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000, readerWorkers: 2 });
    const pool = poolOf(c);
    const reads = [fetchText(detailUrl(c, BIG), basic(APP_A)), fetchText(detailUrl(c, BIG, '?maxPoints=3'), basic(APP_A))].map((p) =>
      p.then(
        (r) => r.status,
        () => 'connection closed',
      ),
    );
    await poolReaches(pool, { running: 2 }, 'two reads in two workers');
    await c.close();
    expect(pool.stats()).toMatchObject({ workers: 0, running: 0, queued: 0 });
    expect((c.storage as SqliteStorage).readerPools).toEqual([]);
    // Each read was answered 503 (shutting down) or its connection closed with the server.
    for (const r of await Promise.all(reads)) expect([503, 'connection closed']).toContain(r);
  });

  it('a read that needs more heap than --reader-heap-mb gets 500 reader_failed saying so; the worker is replaced and the collector serves on', async () => {
    // 16 MB: enough for a worker to start, far too little to read the big conference.
    const c = await start({ db: bigDb, summaryDelayMs: 3_600_000, readerHeapMb: 16 });
    try {
      const pool = poolOf(c);
      const failed = await fetchText(detailUrl(c, BIG), basic(APP_A));
      expect(failed.status).toBe(500);
      expect(JSON.parse(failed.text)).toEqual({
        error: 'reader_failed',
        message: expect.stringMatching(/^reading this conference needed more memory than a reader may use \(--reader-heap-mb 16 MB\): read it in smaller windows/),
      });
      const stopped = c.logs.filter((l) => l.message === 'conference reader stopped');
      expect(stopped).toHaveLength(1);
      expect(stopped[0]!.fields).toMatchObject({ ending: 'out of memory', heapMb: 16, op: 'detail', conferenceID: BIG });

      // The collector kept serving, and a new worker (with the same limit) answers the next read.
      expect((await fetchText(`${c.base}/healthz`)).status).toBe(200);
      const missing = await fetchText(detailUrl(c, 'no-such-conference'), basic(APP_A));
      expect(missing.status).toBe(404);
      expect(pool.stats()).toEqual({ workers: 1, started: 2, running: 0, queued: 0, reads: 2, dropped: 0 });
    } finally {
      await c.close();
    }
  });

  it('a worker whose creation throws (new Worker() fails at once) is a start failure: the waiting reads fail clearly, starts back off, nothing is left uncaught', async () => {
    const db = join(dir, `spawn-throws-${rid()}.sqlite`);
    await createSqliteStorage(db).close(); // the schema, no conference
    const logger = createMemoryLogger();
    const spawns = failingSpawns((creation) => creation > 1);
    const pool = new ReaderPool(db, { workers: 1, maxQueue: 4, timeoutMs: 60_000, logger }, () => {}, spawns.hooks);
    try {
      // The first worker is created; its read is ended as a crash would end it, so the pool replaces
      // it from the worker's exit handler, where creating the replacement throws.
      const running = pool.conferenceDetailJson(APP_A.appID, 'x', 10, {});
      const waiting = pool.conferenceSummary({ appID: APP_A.appID, conferenceID: 'x' }, 'idle', 0);
      expect(pool.stats()).toMatchObject({ running: 1, queued: 1 });
      expect(pool.terminateRunning()).toBe(1);
      await expect(running).rejects.toMatchObject({ code: 'reader_failed', status: 500, message: expect.stringMatching(/stopped while reading this conference/) });
      await expect(waiting).rejects.toMatchObject({
        code: 'reader_failed',
        status: 500,
        message: 'the conference reader could not start (Error: no more threads (test))',
      });
      expect(spawns.creations).toBe(2);
      expect(logger.records.filter((l) => l.message === 'conference reader could not be started').map((l) => l.fields.error)).toEqual(['Error: no more threads (test)']);
      // Backing off: refused at once, no new attempt for every request.
      await expect(pool.conferenceDetailJson(APP_A.appID, 'x', 10, {})).rejects.toThrow(/could not start \(Error: no more threads \(test\)\); retrying in 1 s/);
      expect(spawns.creations).toBe(2);
      expect(pool.stats()).toEqual({ workers: 0, started: 1, running: 0, queued: 0, reads: 1, dropped: 0 });
    } finally {
      await pool.close();
    }
  });

  it('with one worker alive and another in start back-off, the queue bound applies: one read over it gets busy; the waiting ones are read by the live worker', async () => {
    const db = join(dir, `half-pool-${rid()}.sqlite`);
    await createSqliteStorage(db).close(); // the schema, no conference
    const logger = createMemoryLogger();
    const spawns = failingSpawns((creation) => creation === 2);
    const pool = new ReaderPool(db, { workers: 2, maxQueue: 1, timeoutMs: 60_000, logger }, () => {}, spawns.hooks);
    try {
      const first = pool.conferenceDetailJson(APP_A.appID, 'a', 10, {}); // worker 1 takes it
      const second = pool.conferenceDetailJson(APP_A.appID, 'b', 10, {}); // worker 2 cannot be created: it waits for worker 1
      expect(spawns.creations).toBe(2);
      expect(pool.stats()).toMatchObject({ workers: 1, running: 1, queued: 1 });
      // The queue is full, worker 1 is busy and worker 2 may not be started yet: busy.
      await expect(pool.conferenceDetailJson(APP_A.appID, 'c', 10, {})).rejects.toMatchObject({ code: 'busy', status: 503 });
      expect(spawns.creations).toBe(2);
      // The admitted reads are answered by the live worker (unknown conferences: null).
      expect(await first).toBeNull();
      expect(await second).toBeNull();
      expect(pool.stats()).toMatchObject({ workers: 1, started: 1, running: 0, queued: 0, reads: 2 });
    } finally {
      await pool.close();
    }
  });

  it('the writer limits the WAL file: after writes and a checkpoint with no reader, the -wal file is truncated back to at most 64 MB', async () => {
    const db = join(dir, `wal-${rid()}.sqlite`);
    const storage = createSqliteStorage(db);
    try {
      const limit = 64 * 1024 * 1024;
      storage.db.exec('CREATE TABLE filler (b BLOB)');
      // About 80 MB in one transaction: the WAL grows past the limit while it is written.
      const insert = storage.db.prepare('INSERT INTO filler (b) SELECT randomblob(1000000) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)');
      storage.db.exec('BEGIN');
      for (let i = 0; i < 20; i++) insert.run();
      storage.db.exec('COMMIT');
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(limit);
      const [checkpoint] = storage.db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      expect(checkpoint).toMatchObject({ busy: 0 });
      expect(checkpoint!.checkpointed).toBe(checkpoint!.log);
      // The next commit starts the WAL over and truncates the file to the limit.
      storage.db.exec(`INSERT INTO filler (b) VALUES (x'00')`);
      expect(statSync(`${db}-wal`).size).toBeLessThanOrEqual(limit);
      expect(storage.db.pragma('journal_size_limit', { simple: true })).toBe(limit);
    } finally {
      await storage.close();
    }
  });

  it('an in-memory database and readerWorkers 0 read in the main thread, as before', async () => {
    const memory = await start({ db: ':memory:' });
    const none = await start({ db: join(dir, `none-${rid()}.sqlite`), readerWorkers: 0 });
    try {
      for (const c of [memory, none]) {
        expect((c.storage as SqliteStorage).readerPools).toEqual([]);
        const token = await getToken(c, APP_A, 'alice');
        const conf = `plain-${rid()}`;
        await ingestHttp(c, token, { sid: rid(), items: [fabricItem(1, conf, 'f1', 'alice', 'bob')] });
        const r = await fetchText(detailUrl(c, conf), basic(APP_A));
        expect(r.status).toBe(200);
        expect(r.text).toBe(await inThreadDetail(c, conf));
        expect(c.logs.find((l) => l.message === 'collector listening')?.fields.readerWorkers).toBe(0);
      }
      const storage = createSqliteStorage(':memory:');
      expect(storage.openViews({ workers: 1, maxQueue: 1, timeoutMs: 1000, logger: console })).toBeNull();
      await storage.close();
    } finally {
      await memory.close();
      await none.close();
    }
  });
});
