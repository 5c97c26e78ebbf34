// The retry policy with fake timers, a scripted WebSocket and a scripted fetch (no network).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTransport, type Transport } from '../../src/transport/index';
import { backoffDelay } from '../../src/transport/util';
import type { TransportStatus } from '../../src/types';
import { memoryLogger, ScriptedWebSocket as ScriptedWS } from './helpers';

function scriptedFetch(ingest: () => number) {
  const calls: string[] = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push(String(url));
    if (String(url).endsWith('/v1/token')) return new Response(JSON.stringify({ token: 'h.p.s', expiresAt: Date.now() + 3_600_000 }), { status: 200 });
    const status = ingest();
    if (status !== 200) return new Response('{"error":"down","message":"down"}', { status });
    const body = JSON.parse(String(init?.body)) as { items: Array<{ n: number }> };
    return new Response(JSON.stringify({ acked: body.items.map((i) => i.n) }), { status: 200 });
  }) as typeof fetch;
  return { impl, calls };
}

let transport: Transport | undefined;
beforeEach(() => {
  vi.useFakeTimers();
  ScriptedWS.all = [];
  ScriptedWS.onCreate = (ws) => queueMicrotask(() => ws.fail());
});
afterEach(async () => {
  const t = transport;
  transport = undefined;
  if (t) {
    const p = t.close();
    await vi.runAllTimersAsync();
    await p;
  }
  vi.useRealTimers();
});

function make(ingest: () => number, random: () => number, extra: { bufferSize?: number } = {}) {
  const f = scriptedFetch(ingest);
  const statuses: TransportStatus[] = [];
  transport = createTransport({
    collectorURL: 'http://collector.test',
    appID: 'app1',
    userID: 'u',
    tokenGenerator: (_force, cb) => cb(null, 'third.party.token'),
    collectIP: false,
    logger: memoryLogger(),
    WebSocketImpl: ScriptedWS,
    fetchImpl: f.impl,
    options: { minBackoffMs: 100, maxBackoffMs: 1000, batchIntervalMs: 10, ...extra },
    internal: { random, requestTimeoutMs: 5000, wsProbeMs: 60_000 },
  });
  transport.onStatus((s) => statuses.push(s));
  return { t: transport, statuses, calls: f.calls };
}

describe('backoff', () => {
  it('is exponential with full jitter between min and the capped exponential', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([0, 3, 10].map((a) => backoffDelay(a, 100, 1000, () => 0))).toEqual([100, 100, 100]);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(450);
  });

  it('reconnects the WebSocket after each failure with growing delays', async () => {
    const { t } = make(() => 200, () => 1);
    const started = Date.now();
    await t.start();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1000 + 1000);
    const gaps = ScriptedWS.all.map((w, i, a) => (i === 0 ? w.createdAt - started : w.createdAt - (a[i - 1] as ScriptedWS).createdAt));
    // nothing buffered: no HTTP attempt in between, only WebSocket retries
    expect(gaps).toEqual([0, 100, 200, 400, 800, 1000, 1000]);
    expect(t.status().state).toBe('disconnected');
    expect(ScriptedWS.all[0]?.url).toBe('ws://collector.test/v1/ws?token=h.p.s');
  });

  it('after 3 WebSocket failures tries HTTP; if HTTP works it switches to it and reports wsChannelFailure', async () => {
    const { t, statuses, calls } = make(() => 200, () => 0);
    await t.start();
    t.send({ kind: 'event', conferenceID: 'c', event: 'audioMute' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ScriptedWS.all).toHaveLength(3);
    expect(calls.filter((c) => c.endsWith('/v1/ingest'))).toHaveLength(1);
    const errors = statuses.map((s) => s.error).filter(Boolean);
    expect(errors).toContain('wsChannelFailure');
    expect(t.status()).toMatchObject({ state: 'connected', message: expect.stringContaining('HTTP') });
  });

  it('when HTTP fails too (collector down), alternates and keeps the WebSocket mode', async () => {
    const { t, statuses, calls } = make(() => 503, () => 0);
    await t.start();
    t.send({ kind: 'event', conferenceID: 'c', event: 'audioMute' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ScriptedWS.all.length).toBeGreaterThan(4);
    const http = calls.filter((c) => c.endsWith('/v1/ingest')).length;
    expect(http).toBeGreaterThan(1);
    expect(Math.abs(ScriptedWS.all.length - 3 - http)).toBeLessThanOrEqual(1);
    expect(statuses.some((s) => s.error === 'wsChannelFailure')).toBe(false);
  });

  it('an unacknowledged batch is resent with the same n on the next connection', async () => {
    ScriptedWS.onCreate = (ws) => queueMicrotask(() => ws.open());
    const { t } = make(() => 200, () => 0);
    await t.start();
    await vi.advanceTimersByTimeAsync(0);
    t.send({ kind: 'event', conferenceID: 'c', event: 'audioMute' });
    t.send({ kind: 'event', conferenceID: 'c', event: 'audioUnmute' });
    await vi.advanceTimersByTimeAsync(10);
    const first = ScriptedWS.all[0] as ScriptedWS;
    expect(first.sent).toHaveLength(1);
    // no ack within requestTimeoutMs: the socket is dropped and a new one resends
    await vi.advanceTimersByTimeAsync(5000 + 100);
    const second = ScriptedWS.all[1] as ScriptedWS;
    expect(second).toBeDefined();
    const ns = (m: string): number[] => (JSON.parse(m) as { items: Array<{ n: number }> }).items.map((i) => i.n);
    expect(ns(second.sent[0] as string)).toEqual(ns(first.sent[0] as string));
    expect(ns(second.sent[0] as string)).toEqual([1, 2]);
    const flushed = t.flush();
    second.ack();
    await flushed;
    expect(t.status().state).toBe('connected');
  });

  it('flush() resolves at once while waiting to retry; close() leaves no timer', async () => {
    const { t } = make(() => 503, () => 0);
    await t.start();
    t.send({ kind: 'event', conferenceID: 'c', event: 'audioMute' });
    await vi.advanceTimersByTimeAsync(50);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await t.flush();
    await t.close();
    expect(vi.getTimerCount()).toBe(0);
    transport = undefined;
  });
});
