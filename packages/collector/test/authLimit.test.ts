// Failed-authentication limit per client address (--auth-failures): guesses at a secret count,
// past the limit every authenticated endpoint answers 429 with Retry-After until the minute ends.
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createAuthLimiter } from '../src/authLimiter';
import { signJwt } from '../src/index';
import { APP_A, WsClient, basic, fabricItem, getJson, getToken, ingestHttp, postJson, rid, signedRequest, start, type TestCollector } from './helpers';

const LIMIT = 3;

/** A collector whose clock the test moves, with a small limit; closed after `body`. */
async function withCollector(options: { authFailuresPerMinute?: number; trustProxy?: boolean }, body: (c: TestCollector, clock: { now: number }) => Promise<void>): Promise<void> {
  const clock = { now: Date.now() };
  const c = await start({ clock: () => clock.now, authFailuresPerMinute: LIMIT, ...options });
  try {
    await body(c, clock);
  } finally {
    await c.close();
  }
}

const tokenRequest = (c: TestCollector, now: number, secret = APP_A.secret, headers: Record<string, string> = {}) =>
  postJson(`${c.base}/v1/token`, signedRequest(APP_A, 'alice', { ts: now, secret }), headers);
const conferences = (c: TestCollector, secret = APP_A.secret, headers: Record<string, string> = {}) =>
  getJson(`${c.base}/v1/apps/${APP_A.appID}/conferences`, { ...basic({ ...APP_A, secret }), ...headers });

/** The HTTP status a WebSocket upgrade is answered with (101 when it opens). */
function upgradeStatus(c: TestCollector, token: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${c.base.replace(/^http/, 'ws')}/v1/ws?token=${encodeURIComponent(token)}`);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    ws.once('error', (e) => reject(e));
  });
}

describe('failed-authentication limit per client address', () => {
  it('after LIMIT wrong secrets, the token, ingest, query and WebSocket endpoints answer 429 until the minute ends', async () => {
    await withCollector({}, async (c, clock) => {
      const session = await getToken(c, APP_A, 'alice'); // taken before the address is blocked
      for (let i = 0; i < LIMIT; i++) {
        const r = await tokenRequest(c, clock.now, 'not-the-secret');
        expect(r.status).toBe(401);
        expect(r.json.error).toBe('bad_signature');
      }
      // The right secret is refused too: a guess cannot be confirmed while blocked.
      const blocked = await fetch(`${c.base}/v1/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(signedRequest(APP_A, 'alice', { ts: clock.now })),
      });
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBe('60');
      expect(await blocked.json()).toMatchObject({ error: 'too_many_failures', message: expect.stringMatching(/try again in 60 s/) });

      const batch = { sid: rid(), items: [fabricItem(1, 'conf-limit', 'f1', 'alice', 'bob')] };
      expect((await ingestHttp(c, session, batch)).status).toBe(429);
      expect((await conferences(c)).status).toBe(429);
      const ws = await upgradeStatus(c, session);
      expect(ws).toMatchObject({ status: 429, retryAfter: '60' });
      expect(JSON.parse(ws.body)).toMatchObject({ error: 'too_many_failures' });
      expect(c.logs.filter((l) => l.fields?.code === 'too_many_failures').length).toBe(4);

      // Nothing of the refused batch was stored; the health check is not an authenticated endpoint.
      expect((await getJson(`${c.base}/healthz`)).status).toBe(200);
      clock.now += 30_000;
      const half = await fetch(`${c.base}/v1/apps/${APP_A.appID}/conferences`, { headers: basic(APP_A) });
      expect(half.status).toBe(429);
      expect(half.headers.get('retry-after')).toBe('30');

      clock.now += 30_000; // the window ends
      expect((await tokenRequest(c, clock.now)).status).toBe(200);
      expect((await ingestHttp(c, session, batch)).status).toBe(200);
      expect((await conferences(c)).json.conferences.map((x: { conferenceID: string }) => x.conferenceID)).toEqual(['conf-limit']);
      expect((await upgradeStatus(c, session)).status).toBe(101);
    });
  });

  it('counts unknown apps, forged session tokens and wrong Basic credentials; not expired, replayed, malformed or missing ones', async () => {
    await withCollector({}, async (c, clock) => {
      // None of these guess at a secret: many of them leave the address unblocked.
      for (let i = 0; i < 2 * LIMIT; i++) {
        expect((await tokenRequest(c, clock.now - 10 * 60_000)).json.error).toBe('expired');
        expect((await postJson(`${c.base}/v1/token`, { appID: APP_A.appID })).status).toBe(400);
        expect((await getJson(`${c.base}/v1/apps/${APP_A.appID}/conferences`)).status).toBe(401); // no credentials
        expect((await ingestHttp(c, 'not-a-jwt', { sid: rid(), items: [] })).json.error).toBe('bad_token');
      }
      const nonce = rid();
      expect((await postJson(`${c.base}/v1/token`, signedRequest(APP_A, 'alice', { ts: clock.now, nonce }))).status).toBe(200);
      for (let i = 0; i < 2 * LIMIT; i++) {
        expect((await postJson(`${c.base}/v1/token`, signedRequest(APP_A, 'alice', { ts: clock.now, nonce }))).json.error).toBe('replayed');
      }
      expect((await tokenRequest(c, clock.now)).status).toBe(200);

      // One of each guess: unknown app, wrong Basic secret, a session token forged with a wrong secret (WebSocket).
      expect((await postJson(`${c.base}/v1/token`, signedRequest({ appID: 'nope', secret: 'x' }, 'alice', { ts: clock.now }))).json.error).toBe('unknown_app');
      expect((await conferences(c, 'wrong')).status).toBe(401);
      const forged = signJwt({ appID: APP_A.appID, userID: 'alice', exp: Math.floor(clock.now / 1000) + 600, jti: rid(), iss: 'callmetry' }, 'wrong');
      const closed = await new WsClient(`${c.base.replace(/^http/, 'ws')}/v1/ws?token=${forged}`).closed;
      expect(closed).toMatchObject({ code: 4401, reason: 'bad_signature' });
      expect((await conferences(c)).status).toBe(429);
    });
  });

  it('0 turns the limit off', async () => {
    await withCollector({ authFailuresPerMinute: 0 }, async (c, clock) => {
      for (let i = 0; i < 3 * LIMIT; i++) expect((await tokenRequest(c, clock.now, 'wrong')).status).toBe(401);
      expect((await tokenRequest(c, clock.now)).status).toBe(200);
    });
  });

  it('X-Forwarded-For names the client only with trustProxy (else a client cannot dodge the limit with it)', async () => {
    await withCollector({ trustProxy: true }, async (c) => {
      const from = (ip: string) => ({ 'X-Forwarded-For': `203.0.113.9, ${ip}` }); // the last entry is the proxy's
      for (let i = 0; i < LIMIT; i++) expect((await conferences(c, 'wrong', from('198.51.100.1'))).status).toBe(401);
      expect((await conferences(c, APP_A.secret, from('198.51.100.1'))).status).toBe(429);
      expect((await conferences(c, APP_A.secret, from('198.51.100.2'))).status).toBe(200);
      expect(c.logs.some((l) => l.fields?.code === 'too_many_failures' && l.fields.remote === '198.51.100.1')).toBe(true);
    });
    await withCollector({}, async (c) => {
      for (let i = 0; i < LIMIT; i++) expect((await conferences(c, 'wrong', { 'X-Forwarded-For': `198.51.100.${i}` })).status).toBe(401);
      expect((await conferences(c, APP_A.secret, { 'X-Forwarded-For': '198.51.100.99' })).status).toBe(429);
    });
  });
});

describe('createAuthLimiter', () => {
  it('blocks at maxFailures for the rest of the window, then forgets', () => {
    const clock = { now: 0 };
    const limiter = createAuthLimiter({ maxFailures: 2, windowMs: 1000, clock: () => clock.now });
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(0);
    clock.now = 400;
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(600);
    expect(limiter.blockedFor('b')).toBe(0);
    clock.now = 1000;
    expect(limiter.blockedFor('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(0); // a new window
  });

  it('keeps at most maxAddresses: the oldest are forgotten first', () => {
    const limiter = createAuthLimiter({ maxFailures: 1, windowMs: 60_000, clock: () => 0, maxAddresses: 3 });
    for (const a of ['a', 'b', 'c']) limiter.fail(a);
    expect(['a', 'b', 'c'].map((a) => limiter.blockedFor(a) > 0)).toEqual([true, true, true]);
    limiter.fail('d');
    expect(['a', 'b', 'c', 'd'].map((a) => limiter.blockedFor(a) > 0)).toEqual([false, true, true, true]);
  });
});
