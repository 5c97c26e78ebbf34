// The transport against the real collector (packages/collector): tokens, ingest over WebSocket and
// HTTP, the final beacon, restart on a file database with exactly-once storage.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CONNECTION_KEY, signJwt, silentLogger, startCollector, type Collector } from '../../../collector/src/index';
import { closeAfterEach, ev, eventually, expected, makeSamples, makeTransport, statsItem, type FullSample } from './helpers';

const APP = { appID: 'app1', secret: 'app1-secret-0123456789' };
const dir = mkdtempSync(join(tmpdir(), 'callmetry-transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let collector: Collector | undefined;
const track = closeAfterEach(async () => {
  await collector?.close();
  collector = undefined;
  vi.unstubAllGlobals();
});
const rid = (): string => randomBytes(8).toString('hex');

async function startAt(db: string, port = 0): Promise<Collector> {
  return startCollector({ apps: [APP], port, host: '127.0.0.1', db, logger: silentLogger, summaryDelayMs: 3_600_000 });
}
const base = (c: Collector): string => c.url.replace(/\/$/, '');

function withConference(samples: FullSample[], conferenceID: string): FullSample[] {
  return samples.map((s) => ({ ...s, conferenceID }));
}

/** Every reconstructed sample the collector holds for the session equals the full sample with its t. */
async function expectSamples(c: Collector, conferenceID: string, sid: string, samples: FullSample[]): Promise<number> {
  const data = await c.storage.getConference(APP.appID, conferenceID);
  const byT = new Map(samples.map((s) => [s.t, s]));
  const seen = new Set<string>();
  for (const rec of data?.samples.filter((r) => r.sid === sid) ?? []) {
    const s = byT.get(rec.t);
    expect(s, `sample t=${rec.t}`).toBeDefined();
    const want = expected(s!);
    expect(rec.fields).toEqual(rec.key === CONNECTION_KEY ? want.connection : want.streams[rec.key]);
    const id = `${rec.fabricID}/${rec.key}/${rec.t}`;
    expect(seen.has(id)).toBe(false);
    seen.add(id);
  }
  return new Set([...seen].map((k) => k.split('/')[2])).size;
}

describe('transport + real collector', () => {
  it('signed token, WebSocket ingest, exact stats reconstruction', async () => {
    collector = await startAt(':memory:');
    const conf = `c-${rid()}`;
    const h = track(makeTransport(base(collector)));
    expect(await h.transport.start()).toEqual({ ok: true });
    h.transport.send({ kind: 'fabric', conferenceID: conf, fabricID: 'fA', localUserID: 'alice', remoteUserID: 'bob', fabricUsage: 'multiplex', remoteEndpointType: 'peer', direction: 'sendrecv' });
    h.transport.send({ kind: 'event', conferenceID: conf, fabricID: 'fA', event: 'fabricSetup', data: { setupDelay: 12, gatheringDelay: 3, connectivityDelay: 4 } });
    const samples = withConference(makeSamples(300, 21), conf);
    for (const s of samples) h.transport.send(statsItem(s));
    await h.transport.flush();
    expect(h.transport.status()).toMatchObject({ state: 'connected' });
    expect(await expectSamples(collector, conf, h.transport.sid, samples)).toBe(300);
    const data = await collector.storage.getConference(APP.appID, conf);
    expect(data?.fabrics[0]).toMatchObject({ fabricID: 'fA', state: 'established', setupDelay: 12 });
    expect(h.logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('tokenGenerator token, wrong secret and unknown app', async () => {
    collector = await startAt(':memory:');
    const gen = (_force: boolean, cb: (e: unknown, t?: string) => void): void =>
      cb(null, signJwt({ appID: APP.appID, userID: 'alice', exp: Math.floor(Date.now() / 1000) + 600, jti: rid() + rid() }, APP.secret));
    const ok = track(makeTransport(base(collector), { appSecret: undefined, tokenGenerator: gen }));
    expect(await ok.transport.start()).toEqual({ ok: true });
    const bad = track(makeTransport(base(collector), { appSecret: 'wrong-secret' }));
    expect(await bad.transport.start()).toMatchObject({ ok: false, error: 'authError' });
    const unknown = track(makeTransport(base(collector), { appID: 'nope' }));
    expect(await unknown.transport.start()).toMatchObject({ ok: false, error: 'authError' });
  });

  it("an address over the collector's failed-auth limit (429): start() reports a retryable httpError, the SDK retries with backoff and delivers once the limit lifts", async () => {
    let now = Date.now();
    collector = await startCollector({ apps: [APP], port: 0, host: '127.0.0.1', db: ':memory:', logger: silentLogger, clock: () => now, authFailuresPerMinute: 2 });
    const bad = track(makeTransport(base(collector), { appSecret: 'wrong-secret' }));
    expect(await bad.transport.start()).toMatchObject({ ok: false, error: 'authError' });
    const worse = track(makeTransport(base(collector), { appSecret: 'wrong-secret' }));
    expect(await worse.transport.start()).toMatchObject({ ok: false, error: 'authError' });
    // This address is now blocked for a minute, right secret included.
    const conf = `c-${rid()}`;
    const h = track(makeTransport(base(collector)));
    const started = await h.transport.start();
    expect(started).toMatchObject({ ok: false, error: 'httpError', message: expect.stringMatching(/too many failed authentications/) });
    h.transport.send({ kind: 'fabric', conferenceID: conf, fabricID: 'fA', localUserID: 'alice', remoteUserID: 'bob', fabricUsage: 'multiplex', remoteEndpointType: 'peer', direction: 'sendrecv' });
    // Retries keep meeting 429 (not a fatal error) until the collector's clock passes the minute.
    await eventually(() => h.logger.lines.filter((l) => /too many failed/.test(l.message)).length >= 3, 'three 429 retries');
    expect(h.transport.status()).toMatchObject({ state: 'disconnected', error: 'httpError' });
    now += 60_000;
    await eventually(() => h.transport.status().state == 'connected', 'connected after the limit lifted');
    await h.transport.flush();
    const data = await collector.storage.getConference(APP.appID, conf);
    expect(data?.fabrics.map((f) => f.fabricID)).toEqual(['fA']);
  });

  it('restart on a file database mid-stream: every item stored exactly once, overflow drops reported', async () => {
    const db = join(dir, `restart-${rid()}.sqlite`);
    collector = await startAt(db);
    const port = collector.port;
    const conf = `c-${rid()}`;
    const h = track(makeTransport(base(collector), { options: { bufferSize: 120, minBackoffMs: 20, maxBackoffMs: 100 } }));
    expect(await h.transport.start()).toEqual({ ok: true });
    const samples = withConference(makeSamples(400, 33), conf);
    let events = 0;
    const send = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        h.transport.send(statsItem(samples[i]!));
        if (i % 10 === 0) {
          h.transport.send(ev(conf, i));
          events++;
        }
      }
    };
    send(0, 100);
    await h.transport.flush();
    await collector.close(); // down
    send(100, 300); // 200 stats + 20 events while down: over the buffer size
    await eventually(() => h.transport.status().state === 'disconnected', 'disconnected');
    collector = await startAt(db, port);
    send(300, 400);
    await eventually(() => h.transport.status().state === 'connected', 'reconnected');
    await h.transport.flush();

    const data = await collector.storage.getConference(APP.appID, conf);
    const evs = data!.events.filter((e) => e.sid === h.transport.sid);
    expect(evs).toHaveLength(events);
    expect(new Set(evs.map((e) => e.item.n)).size).toBe(events);
    const dropped = h.transport.status().droppedSamples;
    expect(dropped).toBeGreaterThan(0);
    expect(data!.dropped.reduce((a, d) => a + d.item.count, 0)).toBe(dropped);
    const survivors = await expectSamples(collector, conf, h.transport.sid, samples);
    expect(survivors).toBe(400 - dropped);
  });

  it('HTTP only, and the pagehide beacon (text/plain, ?token=), are accepted and stored once', async () => {
    collector = await startAt(':memory:');
    const conf = `c-${rid()}`;
    const httpOnly = track(makeTransport(base(collector), { options: { httpOnly: true } }));
    await httpOnly.transport.start();
    const samples = withConference(makeSamples(50, 4), conf);
    for (const s of samples) httpOnly.transport.send(statsItem(s));
    await httpOnly.transport.flush();
    expect(await expectSamples(collector, conf, httpOnly.transport.sid, samples)).toBe(50);

    const target = new EventTarget();
    const posts: Array<Promise<Response>> = [];
    vi.stubGlobal('window', target);
    vi.stubGlobal('navigator', {
      sendBeacon: (url: string, body: string) => {
        posts.push(fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }));
        return true;
      },
    });
    const paged = track(makeTransport(base(collector), { options: { batchIntervalMs: 60_000 } }));
    await paged.transport.start();
    for (let i = 0; i < 5; i++) paged.transport.send(ev(conf, i));
    target.dispatchEvent(new Event('pagehide'));
    expect(posts).toHaveLength(1);
    expect((await posts[0]!).status).toBe(200);
    await paged.transport.flush(); // the same items again over the WebSocket: acknowledged, not stored twice
    const data = await collector.storage.getConference(APP.appID, conf);
    expect(data!.events.filter((e) => e.sid === paged.transport.sid)).toHaveLength(5);
  });
});
