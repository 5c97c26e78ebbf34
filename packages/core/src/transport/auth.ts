/**
 * Session tokens (docs/protocol.md, "Authentication"): POST /v1/token either with an HMAC-signed
 * request (crypto.subtle; the app secret never leaves the page) or with a third-party token from the
 * app's tokenGenerator. Never throws: every failure is a csError code with an actionable message.
 */
import type { CsErrorCode, TokenGenerator } from '../types';
import { endpoint, errorMessage, isPlainObject, randomHex, type Timers } from './util';

export interface TokenInfo {
  token: string;
  /** Collector's expiry, ms since epoch (collector clock). */
  expiresAt: number;
  /** Local time (options.now) at which to get a new token. */
  refreshAt: number;
  obtainedAt: number;
}

export type AuthResult =
  | { ok: true; token: TokenInfo }
  | { ok: false; error: CsErrorCode; message: string; /** false: retrying will not help (bad secret, unknown app...). */ retryable: boolean };

export interface AuthOptions {
  collectorURL: string;
  appID: string;
  userID: string;
  appSecret?: string;
  tokenGenerator?: TokenGenerator;
  fetchImpl: typeof fetch;
  now: () => number;
  timers: Timers;
  /** Per token request and per tokenGenerator call. */
  timeoutMs: number;
}

export interface Authenticator {
  /** forceNew: the current token was refused (or is about to expire): ask the tokenGenerator for a fresh one. */
  getToken(forceNew: boolean): Promise<AuthResult>;
  /** Aborts a request or tokenGenerator wait in progress (it resolves as a failure). */
  cancel(): void;
}

type Exchange = { ok: true; token: TokenInfo } | { ok: false; status?: number; code?: string; serverMessage?: string; result: AuthResult };

export function createAuthenticator(o: AuthOptions): Authenticator {
  const url = endpoint(o.collectorURL, '/v1/token');
  let keyPromise: Promise<CryptoKey> | undefined;
  const cancels = new Set<() => void>();

  function hmacKey(): Promise<CryptoKey> {
    if (!keyPromise) {
      const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
      if (!subtle) return Promise.reject(new Error('crypto.subtle is unavailable'));
      keyPromise = subtle.importKey('raw', new TextEncoder().encode(o.appSecret ?? ''), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      keyPromise.catch(() => { keyPromise = undefined; });
    }
    return keyPromise;
  }

  async function sign(message: string): Promise<string> {
    const key = await hmacKey();
    const sig = new Uint8Array(await (globalThis.crypto as Crypto).subtle.sign('HMAC', key, new TextEncoder().encode(message)));
    let hex = '';
    for (let i = 0; i < sig.length; i++) hex += (sig[i] as number).toString(16).padStart(2, '0');
    return hex;
  }

  async function exchange(body: Record<string, unknown>, thirdParty: boolean): Promise<Exchange> {
    const startedAt = o.now();
    const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timer = o.timers.setTimeout(() => ctrl?.abort(), o.timeoutMs);
    const cancel = (): void => ctrl?.abort();
    cancels.add(cancel);
    let res: Response;
    let text: string;
    try {
      res = await o.fetchImpl(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        ...(ctrl ? { signal: ctrl.signal } : {}),
      });
      text = await res.text();
    } catch (e) {
      const why = ctrl?.signal.aborted ? `no answer within ${o.timeoutMs} ms` : errorMessage(e);
      return {
        ok: false,
        result: {
          ok: false, error: 'httpError', retryable: true,
          message: `Could not reach the collector at ${url}: ${why}. Check collectorURL and that the collector is running and reachable from this page (CORS).`,
        },
      };
    } finally {
      o.timers.clearTimeout(timer);
      cancels.delete(cancel);
    }
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    if (res.status === 200) {
      if (isPlainObject(json) && typeof json.token === 'string' && json.token && typeof json.expiresAt === 'number') {
        return { ok: true, token: tokenInfo(json.token, json.expiresAt, startedAt, o.now()) };
      }
      return { ok: false, status: 200, result: { ok: false, error: 'csProtoError', retryable: true, message: `${url} answered 200 without {token, expiresAt}: is collectorURL a Callmetry collector?` } };
    }
    const code = isPlainObject(json) && typeof json.error === 'string' ? json.error : undefined;
    const serverMessage = isPlainObject(json) && typeof json.message === 'string' ? json.message : text.slice(0, 200);
    const tail = serverMessage ? ` Collector: "${serverMessage}"` : '';
    if (res.status === 401) {
      return { ok: false, status: 401, code, serverMessage, result: { ok: false, error: 'authError', retryable: false, message: authMessage(code, thirdParty) + tail } };
    }
    if (res.status === 400) {
      return { ok: false, status: 400, code, serverMessage, result: { ok: false, error: 'csProtoError', retryable: false, message: `The collector refused the token request as malformed (400 ${code ?? ''}); SDK and collector protocol versions may differ.${tail}` } };
    }
    return {
      ok: false, status: res.status, code, serverMessage,
      result: { ok: false, error: 'httpError', retryable: true, message: `Token request to ${url} failed with HTTP ${res.status}${code ? ` ${code}` : ''}; will retry.${tail}` },
    };
  }

  function authMessage(code: string | undefined, thirdParty: boolean): string {
    switch (code) {
      case 'unknown_app':
        return `The collector does not know appID "${o.appID}": register the app on the collector, or fix appID.`;
      case 'bad_signature':
        return thirdParty
          ? `The tokenGenerator's token is not signed with the secret the collector has for appID "${o.appID}": the app server must sign it (HS256) with that app's secret.`
          : `Signature refused: appSecret does not match the secret the collector has for appID "${o.appID}".`;
      case 'expired':
        return thirdParty
          ? 'The tokenGenerator returned an expired token: mint tokens with a future exp (seconds since epoch) and check the server clock.'
          : "The signed token request was refused as expired: this device's clock differs from the collector's by more than 5 minutes.";
      case 'replayed':
        return thirdParty
          ? 'The tokenGenerator returned a token that was already exchanged: it must mint a new token (new jti) when called with forceNew = true.'
          : 'The signed token request was refused as a replay (nonce reused).';
      case 'mismatch':
        return `The tokenGenerator's token is for another appID/userID: it must carry appID "${o.appID}" and userID "${o.userID}".`;
      default:
        return `The collector refused authentication (401${code ? ` ${code}` : ''}) for appID "${o.appID}".`;
    }
  }

  function callGenerator(gen: TokenGenerator, forceNew: boolean): Promise<{ ok: true; token: string } | { ok: false; message: string }> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: { ok: true; token: string } | { ok: false; message: string }): void => {
        if (done) return;
        done = true;
        o.timers.clearTimeout(timer);
        cancels.delete(cancel);
        resolve(r);
      };
      const cancel = (): void => finish({ ok: false, message: 'cancelled' });
      cancels.add(cancel);
      const timer = o.timers.setTimeout(
        () => finish({ ok: false, message: `tokenGenerator did not call back within ${o.timeoutMs} ms.` }),
        o.timeoutMs,
      );
      try {
        gen(forceNew, (error, token) => {
          if (error !== null && error !== undefined) finish({ ok: false, message: `tokenGenerator reported an error: ${errorMessage(error)}` });
          else if (typeof token !== 'string' || !token) finish({ ok: false, message: 'tokenGenerator called back without a token (expected callback(null, tokenString)).' });
          else finish({ ok: true, token });
        });
      } catch (e) {
        finish({ ok: false, message: `tokenGenerator threw: ${errorMessage(e)}` });
      }
    });
  }

  async function viaGenerator(gen: TokenGenerator, forceNew: boolean): Promise<AuthResult> {
    const g = await callGenerator(gen, forceNew);
    if (!g.ok) return { ok: false, error: 'tokenGenerationError', retryable: true, message: g.message };
    const r = await exchange({ appID: o.appID, userID: o.userID, thirdPartyToken: g.token }, true);
    if (r.ok) return r;
    // A cached token may have expired or been used already: ask once for a fresh one.
    if (!forceNew && r.status === 401 && (r.code === 'expired' || r.code === 'replayed')) return viaGenerator(gen, true);
    return r.result;
  }

  async function viaSignature(retry: boolean): Promise<AuthResult> {
    const ts = Math.round(o.now());
    const nonce = randomHex(16);
    let signature: string;
    try {
      signature = await sign(`${o.appID}\n${o.userID}\n${ts}\n${nonce}`);
    } catch (e) {
      return {
        ok: false, error: 'tokenGenerationError', retryable: false,
        message: `Could not sign the token request (${errorMessage(e)}). crypto.subtle needs a secure context (https or localhost); otherwise use a tokenGenerator.`,
      };
    }
    const r = await exchange({ appID: o.appID, userID: o.userID, ts, nonce, signature }, false);
    if (r.ok) return r;
    if (retry && r.status === 401 && r.code === 'replayed') return viaSignature(false);
    return r.result;
  }

  return {
    async getToken(forceNew: boolean): Promise<AuthResult> {
      try {
        if (o.tokenGenerator) return await viaGenerator(o.tokenGenerator, forceNew);
        if (o.appSecret !== undefined) return await viaSignature(true);
        return { ok: false, error: 'authError', retryable: false, message: 'Neither appSecret nor tokenGenerator was given: one is needed to authenticate with the collector.' };
      } catch (e) {
        return { ok: false, error: 'httpError', retryable: true, message: `Authentication failed unexpectedly: ${errorMessage(e)}` };
      }
    },
    cancel(): void {
      for (const c of [...cancels]) c();
    },
  };
}

/** When to refresh: 80% into the lifetime, at most 5 min before expiry, at least 1 s from now. */
function tokenInfo(token: string, expiresAt: number, requestedAt: number, now: number): TokenInfo {
  const iat = jwtPayload(token)?.iat;
  // Lifetime from the token itself when possible, so a skewed local clock does not matter.
  let lifetime = typeof iat === 'number' ? expiresAt - iat * 1000 : expiresAt - requestedAt;
  if (!Number.isFinite(lifetime) || lifetime <= 0) lifetime = 60_000;
  const refreshIn = Math.max(1000, lifetime - Math.min(300_000, lifetime * 0.2));
  return { token, expiresAt, refreshAt: requestedAt + refreshIn, obtainedAt: now };
}

function jwtPayload(token: string): Record<string, unknown> | undefined {
  try {
    const part = token.split('.')[1];
    if (!part) return undefined;
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json: unknown = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return isPlainObject(json) ? json : undefined;
  } catch {
    return undefined;
  }
}
