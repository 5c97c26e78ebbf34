import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TokenGenerator } from '../../src/types';
import { signJwt, startFake, type FakeCollector } from './fakeCollector';
import { APP, closeAfterEach, ev, eventually, makeTransport } from './helpers';

let fake: FakeCollector | undefined;
const track = closeAfterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function generator(opts: { cacheUnlessForced?: boolean } = {}): TokenGenerator & { calls: boolean[] } {
  let cached: string | undefined;
  const calls: boolean[] = [];
  const gen = ((forceNew: boolean, cb: (err: unknown, token?: string) => void) => {
    calls.push(forceNew);
    if (!cached || forceNew || !opts.cacheUnlessForced) {
      cached = signJwt({ appID: APP.appID, userID: 'alice', exp: Math.floor(Date.now() / 1000) + 600, jti: randomBytes(12).toString('hex') }, APP.secret);
    }
    const token = cached;
    setTimeout(() => cb(null, token), 1);
  }) as TokenGenerator & { calls: boolean[] };
  gen.calls = calls;
  return gen;
}

describe('authentication', () => {
  it('gets a token with an HMAC-signed request; the secret never goes over the wire', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url));
    expect(await h.transport.start()).toEqual({ ok: true });
    h.transport.send(ev('c1', 1));
    await h.transport.flush();
    expect(fake.items()).toHaveLength(1);

    const tokenReq = fake.state.requests.find((r) => r.url === '/v1/token');
    const body = JSON.parse(tokenReq!.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['appID', 'nonce', 'signature', 'ts', 'userID']);
    expect(String(body.nonce).length).toBeGreaterThanOrEqual(16);
    const want = createHmac('sha256', APP.secret).update(`app1\nalice\n${String(body.ts)}\n${String(body.nonce)}`).digest('hex');
    expect(body.signature).toBe(want);

    const wire = JSON.stringify(fake.state.requests) + fake.state.wsMessages.join('');
    expect(fake.state.requests.some((r) => r.method === 'UPGRADE')).toBe(true);
    expect(wire).not.toContain(APP.secret);
    expect(wire).not.toContain(Buffer.from(APP.secret).toString('base64'));
  });

  it("exchanges the app's tokenGenerator token (forceNew false first) and never sends a secret", async () => {
    fake = await startFake();
    const gen = generator();
    const h = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: gen }));
    expect(await h.transport.start()).toEqual({ ok: true });
    expect(gen.calls).toEqual([false]);
    const body = JSON.parse(fake.state.requests.find((r) => r.url === '/v1/token')!.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['appID', 'thirdPartyToken', 'userID']);
    h.transport.send(ev('c1', 1));
    await h.transport.flush();
    expect(fake.items()).toHaveLength(1);
    expect(JSON.stringify(fake.state.requests)).not.toContain(APP.secret);
  });

  it('asks the tokenGenerator again with forceNew when its cached token was already used', async () => {
    fake = await startFake();
    const gen = generator({ cacheUnlessForced: true });
    const first = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: gen }));
    expect(await first.transport.start()).toEqual({ ok: true });
    const second = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: gen }));
    expect(await second.transport.start()).toEqual({ ok: true });
    expect(gen.calls).toEqual([false, false, true]);
  });

  it('refreshes the token before it expires, and reconnects with forceNew when the collector refuses it (4401)', async () => {
    fake = await startFake({ tokenTtlMs: 2_000 });
    const gen = generator();
    const h = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: gen }));
    expect(await h.transport.start()).toEqual({ ok: true });
    // refresh before expiry (lifetime 2 s -> refresh at 1.6 s)
    await fake.until(() => fake!.state.tokensIssued >= 2);
    expect(gen.calls.slice(1)).toEqual([true]);

    // the collector revokes every token: the open WebSocket gets 4401 at the next batch
    fake.revokeTokens();
    const issued = fake.state.tokensIssued;
    h.transport.send(ev('c1', 1));
    await fake.until(() => fake!.items().length === 1);
    expect(fake.state.tokensIssued).toBeGreaterThan(issued);
    expect(gen.calls.at(-1)).toBe(true);
    await h.transport.flush();
    expect(fake.items()).toHaveLength(1);
  });

  it('a wrong secret is an authError with an actionable message; the transport stops', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { appSecret: 'not-the-secret' }));
    const r = await h.transport.start();
    expect(r).toMatchObject({ ok: false, error: 'authError' });
    expect(r.ok ? '' : r.message).toMatch(/appSecret does not match/);
    expect(h.transport.status()).toMatchObject({ state: 'failed', error: 'authError' });
    h.transport.send(ev('c1', 1));
    await h.transport.flush(); // resolves: nothing will be sent
    expect(fake.state.requests.filter((r) => r.url === '/v1/token')).toHaveLength(1);
  });

  it('an unknown appID is an authError naming the app', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { appID: 'nope' }));
    const r = await h.transport.start();
    expect(r).toMatchObject({ ok: false, error: 'authError' });
    expect(r.ok ? '' : r.message).toContain('"nope"');
  });

  it('a failing tokenGenerator is a tokenGenerationError', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: (_f, cb) => cb(new Error('app server down')) }));
    const r = await h.transport.start();
    expect(r).toMatchObject({ ok: false, error: 'tokenGenerationError' });
    expect(r.ok ? '' : r.message).toContain('app server down');
    expect(h.transport.status()).toMatchObject({ state: 'disconnected', error: 'tokenGenerationError' });
  });

  it('a throwing or silent tokenGenerator is a tokenGenerationError too', async () => {
    fake = await startFake();
    const thrower = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: () => { throw new Error('boom'); } }));
    expect(await thrower.transport.start()).toMatchObject({ ok: false, error: 'tokenGenerationError' });
    const silent = track(makeTransport(fake.url, { appSecret: undefined, tokenGenerator: () => undefined, internal: { requestTimeoutMs: 50 } }));
    const r = await silent.transport.start();
    expect(r).toMatchObject({ ok: false, error: 'tokenGenerationError' });
    expect(r.ok ? '' : r.message).toMatch(/did not call back/);
  });

  it('an unreachable collector is an httpError; it keeps retrying and succeeds once the collector is up', async () => {
    // a free port with nothing listening
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const h = track(makeTransport(`http://127.0.0.1:${port}`));
    const r = await h.transport.start();
    expect(r).toMatchObject({ ok: false, error: 'httpError' });
    expect(r.ok ? '' : r.message).toContain(`127.0.0.1:${port}/v1/token`);
    expect(h.transport.status()).toMatchObject({ state: 'disconnected', error: 'httpError' });
    h.transport.send(ev('c1', 1));
    fake = await new (await import('./fakeCollector')).FakeCollector().start(port);
    await fake.until(() => fake!.items().length === 1);
    await eventually(() => h.transport.status().state === 'connected', 'connected');
  });
});
