// The transport against a hostile or broken collector: fake timers, a scripted WebSocket and a
// scripted fetch (no network). Counts, never durations: "no storm" is a number of timers or
// requests per simulated minute or hour.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { prng } from '../../../../test/harness/prng';
import { createTransport, type CreateTransportOptions, type Transport } from '../../src/transport/index';
import { defaultTimers, type Timers } from '../../src/transport/util';
import { memoryLogger, ScriptedWebSocket, type SentBatch as Batch } from './helpers';

const opens = (ws: ScriptedWebSocket): void => queueMicrotask(() => ws.open());
const fails = (ws: ScriptedWebSocket): void => queueMicrotask(() => ws.drop(1006));

/** The product's timers (clamping included), counted: creation times in (fake) ms. */
function countingTimers(): Timers & { created: number[] } {
  const created: number[] = [];
  return {
    created,
    setTimeout: (fn, ms) => (created.push(Date.now()), defaultTimers.setTimeout(fn, ms)),
    clearTimeout: defaultTimers.clearTimeout,
  };
}

const tokenAnswer = (expiresAt: unknown = Date.now() + 3_600_000): Response =>
  new Response(JSON.stringify({ token: 'h.p.s', expiresAt }), { status: 200 });
const ev = (i: number, conferenceID = 'c'): { kind: 'event'; conferenceID: string; event: string; data: { i: number } } => ({
  kind: 'event', conferenceID, event: 'audioMute', data: { i },
});
const isToken = (url: unknown): boolean => String(url).endsWith('/v1/token');

let transport: Transport | undefined;
beforeEach(() => {
  vi.useFakeTimers();
  ScriptedWebSocket.all = [];
  ScriptedWebSocket.onCreate = opens;
});
afterEach(async () => {
  const t = transport;
  transport = undefined;
  if (t) {
    const closing = t.close();
    await vi.advanceTimersByTimeAsync(60_000);
    await closing;
  }
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

type FetchScript = (url: string, init?: RequestInit) => unknown;

function make(fetchScript: FetchScript, over: Pick<CreateTransportOptions, 'options' | 'internal'> = {}) {
  const logger = memoryLogger();
  const timers = countingTimers();
  const t = createTransport({
    collectorURL: 'http://collector.test',
    appID: 'app1',
    userID: 'u',
    tokenGenerator: (_force, cb) => cb(null, 'third.party.token'),
    collectIP: false,
    logger,
    WebSocketImpl: ScriptedWebSocket,
    fetchImpl: ((url: string, init?: RequestInit) => fetchScript(String(url), init)) as unknown as typeof fetch,
    options: { minBackoffMs: 500, maxBackoffMs: 30_000, batchIntervalMs: 10, ...over.options },
    internal: { timers, random: prng(7), requestTimeoutMs: 5000, wsProbeMs: 60_000, ...over.internal },
  });
  transport = t;
  return { t, logger, timers };
}

/** Timers created per simulated minute from `from` to now: the mean and the busiest minute. */
function timersPerMinute(created: number[], from: number): { mean: number; peak: number } {
  const counts = new Array<number>(Math.ceil((Date.now() - from) / 60_000)).fill(0);
  for (const at of created) if (at >= from) counts[Math.floor((at - from) / 60_000)]! += 1;
  return { mean: counts.reduce((a, c) => a + c, 0) / counts.length, peak: Math.max(...counts) };
}

describe('WebSocket messages', () => {
  it('no frame throws into the socket, whatever its content; acks of other ids or shapes acknowledge nothing', async () => {
    const { t } = make(() => tokenAnswer());
    await t.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) t.send(ev(i));
    await vi.advanceTimersByTimeAsync(10);
    const ws = ScriptedWebSocket.all[0]!;
    const { id } = ws.batch();
    const frames: unknown[] = [
      // `==` / String() on these threw a TypeError out of onmessage
      '{"type":{"toString":1}}',
      '{"type":"error","error":{"toString":1},"message":{"toString":1}}',
      '{"type":"error","error":["internal"],"message":null}',
      '{"type":"ack","id":{"toString":1},"acked":[1]}',
      `{"type":"ack","id":${id + 1},"acked":[1,2,3]}`,
      `{"type":"ack","id":-1,"acked":[1,2,3]}`,
      `{"type":"ack","id":"${id}","acked":[1,2,3]}`,
      '{"type":"ack"}',
      'not json', '', 'null', '[]', '{"type":"pong"}', 'x'.repeat(1 << 20),
      new Uint8Array([0xff, 0, 0x7b]), new ArrayBuffer(8), null, undefined, 42,
    ];
    for (const f of frames) expect(() => ws.deliver(f)).not.toThrow();
    // Nothing was acknowledged: after the ack timeout the next connection resends n 1..3.
    for (let s = 0; s < 400 && ScriptedWebSocket.all.length < 2; s++) await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(0);
    const next = ScriptedWebSocket.all[1]!;
    expect(next.batch(0).items.map((x) => x.n)).toEqual([1, 2, 3]);
    const flushed = t.flush();
    next.ack(0);
    next.ack(0); // a duplicate ack changes nothing
    await flushed;
    t.send(ev(3));
    await vi.advanceTimersByTimeAsync(10);
    expect(next.batch().items.map((x) => x.n)).toEqual([4]);
  });

  it("'internal' (storage failed, resend later) is retried with backoff; nothing is discarded", async () => {
    const { t, logger } = make(() => tokenAnswer());
    await t.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = ScriptedWebSocket.all[0]!;
    for (let i = 0; i < 8; i++) t.send(ev(i));
    // Storage down for 10 simulated minutes: every batch is answered `internal`.
    let answered = 0;
    for (let s = 0; s < 600; s++) {
      while (answered < ws.sent.length)
        ws.deliver(JSON.stringify({ type: 'error', id: ws.batch(answered++).id, error: 'internal', message: 'the collector could not store this batch; resend it later' }));
      await vi.advanceTimersByTimeAsync(1000);
    }
    // Whole batches again and again, at backoff pace (it was halved down to single items, each discarded)
    expect(ws.sent.length).toBeGreaterThan(5);
    expect(ws.sent.length).toBeLessThan(60);
    for (let i = 0; i < ws.sent.length; i++) expect(ws.batch(i).items.map((x) => x.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(ScriptedWebSocket.all).toHaveLength(1); // the socket stays
    // Storage is back: the next resend is acknowledged and sending carries on.
    for (let s = 0; s < 300 && ws.sent.length === answered; s++) await vi.advanceTimersByTimeAsync(100);
    expect(ws.batch().items.map((x) => x.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    ws.ack();
    t.send(ev(8));
    await vi.advanceTimersByTimeAsync(10);
    expect(ws.batch().items.map((x) => x.n)).toEqual([9]);
    expect(t.status().state).toBe('connected');
  });

  it('a WebSocket ack never acknowledges a batch sent over HTTP', async () => {
    const held: Array<(r: Response) => void> = [];
    let wsUp = false;
    ScriptedWebSocket.onCreate = (ws) => (wsUp ? opens(ws) : fails(ws));
    const { t } = make((url) => (isToken(url) ? tokenAnswer() : new Promise<Response>((r) => held.push(r))), {
      internal: { wsProbeMs: 1000, requestTimeoutMs: 60_000 },
    });
    await t.start();
    t.send(ev(1));
    // The WebSocket fails 3 times, then an HTTP trial works: HTTP mode.
    for (let s = 0; s < 100 && !held.length; s++) await vi.advanceTimersByTimeAsync(500);
    held.shift()!(new Response('{"acked":[1]}', { status: 200 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.status().message).toMatch(/HTTP/);
    t.send(ev(2));
    await vi.advanceTimersByTimeAsync(10);
    expect(held).toHaveLength(1); // n=2 in flight over HTTP
    // The probe's WebSocket opens and acknowledges every batch id it can think of.
    wsUp = true;
    await vi.advanceTimersByTimeAsync(1000);
    const ws = ScriptedWebSocket.all.at(-1)!;
    expect(ws.readyState).toBe(1);
    for (let id = 0; id <= 20; id++) ws.deliver(JSON.stringify({ type: 'ack', id, acked: [2] }));
    // The HTTP POST fails after all: n=2 must still be sent (it was lost).
    held.shift()!(new Response('{"error":"internal","message":"down"}', { status: 500 }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ws.sent.map((m) => JSON.parse(m) as Batch).flatMap((b) => b.items.map((x) => x.n))).toContain(2);
  });
});

describe('HTTP answers', () => {
  it('a fetch or a body that never settles (ignoring the abort signal) cannot hang start(), the transport or close()', async () => {
    const first = make(() => new Promise(() => {}), { options: { httpOnly: true } });
    let started: unknown;
    void first.t.start().then((r) => (started = r));
    await vi.advanceTimersByTimeAsync(5000);
    expect(started).toMatchObject({ ok: false, error: 'httpError', message: expect.stringContaining('no answer within 5000 ms') });
    const closing = first.t.close();
    await vi.advanceTimersByTimeAsync(0);
    await closing;

    // Token fine; the ingest answer's body never ends.
    let bodies = 0;
    const second = make((url) => (isToken(url) ? tokenAnswer() : { status: 200, text: () => (bodies++, new Promise(() => {})) }), {
      options: { httpOnly: true },
    });
    await second.t.start();
    second.t.send(ev(1));
    let closed = false;
    void second.t.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(5000 + 10);
    expect(bodies).toBe(1);
    expect(closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    transport = undefined;
  });

  it('token answers of the wrong shape get a clear error and a retry with backoff, never a throw or a stall', async () => {
    const big = `{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`;
    const cases: Array<[answer: () => unknown, expected: Record<string, unknown>]> = [
      // `==` on an object error threw: "Could not reach ... check CORS" instead of the refusal
      [() => new Response('{"error":{"toString":1},"message":"no such app"}', { status: 401 }), { error: 'authError', message: expect.stringContaining('no such app') }],
      [() => new Response('<html>proxy</html>', { status: 200 }), { error: 'csProtoError', message: expect.stringContaining('gave no token') }],
      [() => new Response('{"token":5,"expiresAt":1}', { status: 200 }), { error: 'csProtoError' }],
      [() => new Response('{"token":"a.b.c","expiresAt":"tomorrow"}', { status: 200 }), { error: 'csProtoError' }],
      [() => new Response(big, { status: 503 }), { error: 'httpError' }],
      [() => new Response('{"error":"too_many_failures","message":"wait"}', { status: 429 }), { error: 'httpError', message: expect.stringContaining('429') }],
      [() => new Response('', { status: 302, headers: { Location: '/elsewhere' } }), { error: 'httpError' }],
      [() => new Response('{"error":"x"}', { status: 500 }), { error: 'httpError' }],
      [() => 42, { error: 'httpError' }],
      [() => ({ status: { toString: 1 }, text: async () => '{}' }), { error: 'httpError', message: expect.stringContaining('no Response') }],
      [() => ({ status: 200, text: () => Promise.reject(new Error('body broke')) }), { error: 'httpError', message: expect.stringContaining('body broke') }],
      [() => { throw new TypeError('sync throw'); }, { error: 'httpError', message: expect.stringContaining('sync throw') }],
    ];
    for (const [answer, expected] of cases) {
      let requests = 0;
      const h = make(() => (requests++, answer()), { options: { httpOnly: true } });
      const r = await h.t.start();
      expect(r).toMatchObject({ ok: false, ...expected });
      expect(((r as { message: string }).message ?? '').length).toBeLessThan(400);
      await vi.advanceTimersByTimeAsync(600_000);
      // retried with backoff (30 s cap, full jitter: ~45 in 10 min), or not at all when refused
      expect(requests).toBeLessThan(80);
      if (expected.error === 'authError') expect(requests).toBe(1);
      await h.t.close();
    }
    transport = undefined;
  });

  it('an expiresAt in the past, huge or Infinity gives a token refreshed at a sane pace (no storm, no 1 ms timer)', async () => {
    for (const [expiresAt, most] of [[1, 80], [1e308, 1], ['1e309', 1], [-1e308, 80]] as const) {
      let requests = 0;
      // 1e309 parses to Infinity
      const h = make(() => (requests++, new Response(`{"token":"h.p.s","expiresAt":${expiresAt}}`, { status: 200 })), { options: { httpOnly: true } });
      expect(await h.t.start()).toEqual({ ok: true });
      await vi.advanceTimersByTimeAsync(3_600_000);
      // in the past (a clock far off): refreshed every 48 s; far future: not within the hour
      expect(requests).toBeLessThanOrEqual(most);
      await h.t.close();
    }
    transport = undefined;
  });

  it('an ingest answer that is not a Response is a failed attempt, retried until it works', async () => {
    let hostile = 3;
    const delivered: number[] = [];
    make(
      (url, init) => {
        if (isToken(url)) return tokenAnswer();
        // a status that prints but throws on `==`: the answer handler threw into an unawaited
        // promise (an unhandled rejection) and the batch stayed in flight for good
        const status = { valueOf: () => { throw new TypeError('not a number'); }, toString: () => '200' };
        if (hostile-- > 0) return { status, text: async () => '{"acked":[]}' };
        const { items } = JSON.parse(String(init?.body)) as Batch;
        delivered.push(...items.map((x) => x.n));
        return new Response(JSON.stringify({ acked: items.map((x) => x.n) }), { status: 200 });
      },
      { options: { httpOnly: true } },
    );
    const t = transport!;
    await t.start();
    for (let i = 0; i < 5; i++) t.send(ev(i));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(t.status().state).toBe('connected');
  });
});

describe('long outages', () => {
  it('a failing token refresh backs off like any retry: no request storm while the collector is down', async () => {
    let up = true;
    let tokenRequests = 0;
    const { t, timers } = make((url) => {
      if (isToken(url)) tokenRequests++;
      if (!up) throw new TypeError('Failed to fetch');
      return tokenAnswer();
    });
    await t.start();
    await vi.advanceTimersByTimeAsync(0);
    up = false;
    ScriptedWebSocket.onCreate = fails;
    ScriptedWebSocket.all[0]!.drop(1006);
    // The token (1 h) is refreshed from 55 min on; the second hour is all refresh failures.
    await vi.advanceTimersByTimeAsync(3_600_000);
    const [requests, from] = [tokenRequests, Date.now()];
    await vi.advanceTimersByTimeAsync(3_600_000);
    // backoff to 30 s with full jitter: ~240 an hour (it was a fixed 0.5..4 s: ~1600, and ~80 timers a minute)
    expect(tokenRequests - requests).toBeLessThan(400);
    const perMinute = timersPerMinute(timers.created, from);
    expect(perMinute.mean).toBeLessThan(35);
    expect(perMinute.peak).toBeLessThan(60);
  });

  it('10 hours down: the buffer stays bounded, every event is kept, and delivery resumes once per item', async () => {
    let up = true;
    ScriptedWebSocket.onCreate = opens;
    const { t, timers } = make((url) => {
      if (!up) throw new TypeError('Failed to fetch');
      return isToken(url) ? tokenAnswer() : new Response('{}', { status: 503 });
    }, { options: { bufferSize: 50 } });
    await t.start();
    await vi.advanceTimersByTimeAsync(0);
    up = false;
    ScriptedWebSocket.onCreate = fails;
    ScriptedWebSocket.all[0]!.drop(1006);
    const from = Date.now();
    let stats = 0;
    const events: number[] = [];
    for (let s = 0; s < 10 * 3600; s++) {
      t.send({ kind: 'stats', conferenceID: 'c', fabricID: 'f', streams: [{ key: 'k', bitrate: s % 7 }] });
      stats++;
      if (s % 60 === 0) events.push(s);
      if (s % 60 === 0) t.send(ev(s));
      await vi.advanceTimersByTimeAsync(1000);
    }
    const perMinute = timersPerMinute(timers.created, from);
    expect(perMinute.mean).toBeLessThan(35);
    expect(perMinute.peak).toBeLessThan(60);
    // The collector is back: it acknowledges every batch.
    up = true;
    ScriptedWebSocket.onCreate = (ws) => {
      opens(ws);
      const send = ws.send.bind(ws);
      ws.send = (d) => {
        send(d);
        queueMicrotask(() => ws.ack());
      };
    };
    const connections = ScriptedWebSocket.all.length;
    await vi.advanceTimersByTimeAsync(120_000);
    await t.flush();
    const items = ScriptedWebSocket.all.slice(connections).flatMap((w) => w.sent.map((m) => JSON.parse(m) as Batch)).flatMap((b) => b.items);
    // Bounded: 50 items, the events and a `dropped` item or two (one more per failed attempt before)
    expect(items.length).toBeLessThan(50 + events.length + 5);
    const ns = items.map((x) => x.n);
    expect(new Set(ns).size).toBe(ns.length); // each item once
    expect(items.filter((x) => x.kind === 'event')).toHaveLength(events.length);
    const dropped = items.filter((x) => x.kind === 'dropped').reduce((a, x) => a + (x.count ?? 0), 0);
    expect(dropped).toBe(t.status().droppedSamples);
    expect(items.filter((x) => x.kind === 'stats').length + dropped).toBe(stats);
  });
});

describe('reconnect storms and close codes', () => {
  it('a WebSocket that opens and closes at once, with any close code, is retried with backoff', async () => {
    for (const code of [1000, 1001, 1006, 1009, 1011, 4000, 4400, 4401, 4403, 4429, 3000, 0, -1, 99999]) {
      ScriptedWebSocket.all = [];
      ScriptedWebSocket.onCreate = (ws) => queueMicrotask(() => (ws.open(), ws.drop(code, 'bye')));
      let tokens = 0;
      const h = make((url) => (isToken(url) && tokens++, isToken(url) ? tokenAnswer() : new Response('{}', { status: 503 })));
      await h.t.start();
      h.t.send(ev(1));
      await vi.advanceTimersByTimeAsync(3_600_000);
      // 30 s cap with jitter: ~240 WebSockets (and as many HTTP trials) an hour at most
      expect(ScriptedWebSocket.all.length).toBeLessThan(400);
      expect(tokens).toBeLessThan(400);
      expect(h.t.status().state).toBe(code === 4403 ? 'failed' : 'disconnected');
      await h.t.close();
    }
    transport = undefined;
  });
});

describe('pagehide and close with a hostile browser', () => {
  it('a throwing sendBeacon and a throwing or odd fetch never throw out of pagehide; the items stay for later', async () => {
    const target = new EventTarget();
    vi.stubGlobal('window', target);
    let beacon: () => unknown = () => {
      throw new Error('beacon broke');
    };
    vi.stubGlobal('navigator', { sendBeacon: () => beacon() });
    let keepalive: () => unknown = () => {
      throw new Error('fetch broke');
    };
    ScriptedWebSocket.onCreate = fails;
    const { t } = make((url, init) => (init?.keepalive ? keepalive() : isToken(url) ? tokenAnswer() : new Response('{}', { status: 503 })));
    await t.start();
    for (let i = 0; i < 5; i++) t.send(ev(i));
    await vi.advanceTimersByTimeAsync(10);
    for (const [b, k] of [
      [beacon, keepalive],
      [() => 'yes', () => 42],
      [() => false, () => Promise.reject(new Error('quota'))],
    ] as const) {
      beacon = b;
      keepalive = k;
      expect(() => target.dispatchEvent(new Event('pagehide'))).not.toThrow();
    }
    // the page lives on (bfcache): the collector comes back and gets every item
    ScriptedWebSocket.onCreate = (ws) => {
      opens(ws);
      const send = ws.send.bind(ws);
      ws.send = (d) => (send(d), queueMicrotask(() => ws.ack()));
    };
    await vi.advanceTimersByTimeAsync(120_000);
    const ns = ScriptedWebSocket.all.flatMap((w) => w.sent.map((m) => JSON.parse(m) as Batch)).flatMap((b) => b.items.map((x) => x.n));
    expect([...new Set(ns)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('close() during authentication', () => {
  it('a tokenGenerator still pending at close(): start() answers that it was cancelled, not that the generator timed out', async () => {
    const t = createTransport({
      collectorURL: 'http://collector.test',
      appID: 'app1',
      userID: 'u',
      tokenGenerator: () => undefined, // never calls back
      collectIP: false,
      logger: memoryLogger(),
      WebSocketImpl: ScriptedWebSocket,
      fetchImpl: (() => new Promise(() => {})) as unknown as typeof fetch,
      internal: { requestTimeoutMs: 5000 },
    });
    const started = t.start();
    await vi.advanceTimersByTimeAsync(10);
    await t.close();
    const r = await started;
    expect(r).toMatchObject({ ok: false, error: 'tokenGenerationError', message: expect.stringContaining('cancelled') });
    // Closed 10 ms in: no "did not call back within 5000 ms".
    expect(r.ok ? '' : r.message).not.toMatch(/within/);
  });
});
