import { describe, expect, it } from 'vitest';
import { signJwt } from '../src/index';
import { APP_A, APP_B, WsClient, fabricItem, ingestHttp, postJson, rid, signedRequest, thirdPartyToken, useCollector } from './helpers';

let now = Date.now();
const c = useCollector({ clock: () => now });

const token = (body: unknown, headers: Record<string, string> = {}) => postJson(`${c().base}/v1/token`, body, headers);

function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('POST /v1/token, signed request', () => {
  it('issues a token signed with the app secret, valid for 1 h', async () => {
    const r = await token(signedRequest(APP_A, 'alice', { ts: now }));
    expect(r.status).toBe(200);
    expect(typeof r.json.token).toBe('string');
    const claims = decodeClaims(r.json.token);
    expect(claims).toMatchObject({ appID: 'app-a', userID: 'alice', iss: 'callmetry' });
    expect(typeof claims.jti).toBe('string');
    expect(r.json.expiresAt).toBe((claims.exp as number) * 1000);
    expect(r.json.expiresAt).toBeGreaterThan(now + 59 * 60 * 1000);
    expect(r.json.expiresAt).toBeLessThanOrEqual(now + 60 * 60 * 1000);
  });

  it('refuses a wrong secret (bad_signature)', async () => {
    const r = await token(signedRequest(APP_A, 'alice', { ts: now, secret: 'not-the-secret' }));
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('bad_signature');
    expect(r.json.message).toMatch(/HMAC/);
  });

  it('refuses a signature made for another user (bad_signature)', async () => {
    const body = signedRequest(APP_A, 'alice', { ts: now });
    const r = await token({ ...body, userID: 'mallory' });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('bad_signature');
  });

  it('refuses a ts more than 5 min away (expired), in the past or the future', async () => {
    const old = await token(signedRequest(APP_A, 'alice', { ts: now - 5 * 60 * 1000 - 1 }));
    expect(old.status).toBe(401);
    expect(old.json.error).toBe('expired');
    const future = await token(signedRequest(APP_A, 'alice', { ts: now + 5 * 60 * 1000 + 1 }));
    expect(future.status).toBe(401);
    expect(future.json.error).toBe('expired');
    const edge = await token(signedRequest(APP_A, 'alice', { ts: now - 5 * 60 * 1000 }));
    expect(edge.status).toBe(200);
  });

  it('refuses a replayed nonce (replayed), also for another user', async () => {
    const nonce = rid();
    expect((await token(signedRequest(APP_A, 'alice', { ts: now, nonce }))).status).toBe(200);
    const again = await token(signedRequest(APP_A, 'alice', { ts: now, nonce }));
    expect(again.status).toBe(401);
    expect(again.json.error).toBe('replayed');
    const other = await token(signedRequest(APP_A, 'bob', { ts: now, nonce }));
    expect(other.json.error).toBe('replayed');
  });

  it('refuses an unknown app (unknown_app)', async () => {
    const r = await token(signedRequest({ appID: 'nope', secret: 'x' }, 'alice', { ts: now }));
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('unknown_app');
  });

  it('answers 400 to malformed bodies and logs each', async () => {
    const before = c().logs.length;
    const bad: unknown[] = [
      '{not json',
      '[]',
      'null',
      { appID: 'app-a' },
      { ...signedRequest(APP_A, 'alice'), ts: 'yesterday' },
      { ...signedRequest(APP_A, 'alice'), nonce: 'short' },
      { ...signedRequest(APP_A, 'alice'), signature: 'zz' },
      { ...signedRequest(APP_A, 'alice'), extra: 1 },
      { ...signedRequest(APP_A, 'alice'), thirdPartyToken: 'x.y.z' },
      { ...signedRequest(APP_A, 'alice'), userID: 42 },
    ];
    for (const b of bad) {
      const r = await token(b);
      expect(r.status, JSON.stringify(b)).toBe(400);
      expect(typeof r.json.error).toBe('string');
      expect(r.json.message.length).toBeGreaterThan(5);
    }
    const refusals = c().logs.slice(before).filter((l) => l.level === 'warn' && l.fields.path === '/v1/token');
    expect(refusals).toHaveLength(bad.length);
  });

  it('answers CORS preflight and sets CORS headers on answers', async () => {
    const pre = await fetch(`${c().base}/v1/token`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const r = await token(signedRequest(APP_A, 'alice', { ts: now }), { Origin: 'https://app.example' });
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const refused = await token(signedRequest(APP_A, 'alice', { ts: now, secret: 'bad' }), { Origin: 'https://app.example' });
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const ingestPre = await fetch(`${c().base}/v1/ingest`, { method: 'OPTIONS', headers: { Origin: 'https://app.example' } });
    expect(ingestPre.status).toBe(204);
    expect(ingestPre.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});

describe('POST /v1/token, third-party token', () => {
  it('exchanges a token minted with the app secret', async () => {
    const r = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: thirdPartyToken(APP_A, 'carol') });
    expect(r.status).toBe(200);
    expect(decodeClaims(r.json.token)).toMatchObject({ appID: 'app-a', userID: 'carol', iss: 'callmetry' });
  });

  it('refuses a token signed with a wrong secret (bad_signature)', async () => {
    const r = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: thirdPartyToken(APP_A, 'carol', { secret: APP_B.secret }) });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('bad_signature');
  });

  it('refuses an expired token (expired)', async () => {
    const exp = Math.floor(now / 1000) - 1;
    const r = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: thirdPartyToken(APP_A, 'carol', { exp }) });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('expired');
  });

  it('refuses a replayed jti (replayed)', async () => {
    const t = thirdPartyToken(APP_A, 'carol');
    expect((await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: t })).status).toBe(200);
    const again = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: t });
    expect(again.status).toBe(401);
    expect(again.json.error).toBe('replayed');
  });

  it('refuses a token for another user or app (mismatch)', async () => {
    const r = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: thirdPartyToken(APP_A, 'dave') });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('mismatch');
    const app = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: thirdPartyToken(APP_A, 'carol', { appID: 'app-b' }) });
    expect(app.json.error).toBe('mismatch');
  });

  it('refuses an unknown app, a token that is not a JWT, a token without jti, alg none', async () => {
    expect((await token({ appID: 'zzz', userID: 'carol', thirdPartyToken: thirdPartyToken(APP_A, 'carol') })).json.error).toBe('unknown_app');
    expect((await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: 'garbage' })).json.error).toBe('bad_token');
    const noJti = signJwt({ appID: 'app-a', userID: 'carol', exp: Math.floor(now / 1000) + 60 }, APP_A.secret);
    const r = await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: noJti });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('bad_token');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ appID: 'app-a', userID: 'carol', exp: 9e9, jti: rid() }),
    ).toString('base64url')}.`;
    expect((await token({ appID: 'app-a', userID: 'carol', thirdPartyToken: none })).status).toBe(401);
  });
});

describe('session tokens at the ingest endpoints', () => {
  it('refuses a third-party token used directly, a token of an unknown app, and an expired session token', async () => {
    const batch = { sid: rid(), items: [fabricItem(1, 'conf-tok', 'f1', 'alice', 'bob')] };
    const direct = await ingestHttp(c(), thirdPartyToken(APP_A, 'alice'), batch);
    expect(direct.status).toBe(401);
    expect(direct.json.error).toBe('bad_token');
    const unknown = await ingestHttp(c(), signJwt({ appID: 'zzz', userID: 'a', exp: 9e9, jti: rid(), iss: 'callmetry' }, 'k'), batch);
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toBe('unknown_app');
    const missing = await postJson(`${c().base}/v1/ingest`, batch);
    expect(missing.status).toBe(401);
    expect(missing.json.error).toBe('missing_token');

    const r = await token(signedRequest(APP_A, 'alice', { ts: now }));
    const session = r.json.token as string;
    const ws = await WsClient.connect(c().base, session);
    now += 61 * 60 * 1000; // the collector's clock moves past the token's expiry
    try {
      const expired = await ingestHttp(c(), session, batch);
      expect(expired.status).toBe(401);
      expect(expired.json.error).toBe('expired');
      // An open WebSocket is closed with 4401 at its next message.
      ws.send({ type: 'ping' });
      expect(await ws.next()).toMatchObject({ type: 'error', error: 'expired' });
      expect((await ws.closed).code).toBe(4401);
      const late = new WsClient(`${c().base.replace('http', 'ws')}/v1/ws?token=${session}`);
      expect((await late.closed).code).toBe(4401);
    } finally {
      now -= 61 * 60 * 1000;
    }
    const noToken = new WsClient(`${c().base.replace('http', 'ws')}/v1/ws`);
    expect((await noToken.closed).code).toBe(4401);
  });
});
