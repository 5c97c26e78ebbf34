/**
 * Session tokens (docs/protocol.md, "Authentication"): POST /v1/token either with an HMAC-signed
 * request (crypto.subtle; the app secret never leaves the page) or with a third-party token from the
 * app's tokenGenerator. Never throws: every failure is a csError code with an actionable message.
 */
import type { CsErrorCode, TokenGenerator } from '../types';
import { errorMessage, hmacHex, randomHex, type Json } from '../util/values';
import { endpoint, post, type HttpContext } from './util';

export interface TokenInfo {
  token: string;
  /** Local time (options.now) at which to get a new token. */
  refreshAt: number;
  obtainedAt: number;
}

export type AuthResult =
  | { ok: true; token: TokenInfo }
  /** retryable false: retrying will not help (bad secret, unknown app...). */
  | { ok: false; error: CsErrorCode; message: string; retryable: boolean };

export interface AuthOptions extends HttpContext {
  collectorURL: string;
  appID: string;
  userID: string;
  appSecret?: string;
  tokenGenerator?: TokenGenerator;
  now: () => number;
}

export const authFailure = (error: CsErrorCode, message: string, retryable = true): AuthResult => ({ ok: false, error, message, retryable });

/** forceNew: the current token was refused (or is about to expire): ask the tokenGenerator for a fresh one. */
export async function getToken(o: AuthOptions, forceNew: boolean): Promise<AuthResult> {
  try {
    const { appID, userID, tokenGenerator: gen } = o;
    let body: Json;
    if (gen) {
      const token = await callGenerator(o, gen, forceNew);
      if (token instanceof Error) return authFailure('tokenGenerationError', token.message);
      body = { appID, userID, thirdPartyToken: token };
    } else if (o.appSecret !== undefined) {
      const ts = Math.round(o.now());
      const nonce = randomHex(16);
      try {
        body = { appID, userID, ts, nonce, signature: await hmacHex(o.appSecret, `${appID}\n${userID}\n${ts}\n${nonce}`) };
      } catch (e) {
        return authFailure(
          'tokenGenerationError',
          `Could not sign (${errorMessage(e)}): crypto.subtle needs https or localhost, else use a tokenGenerator.`,
          false,
        );
      }
    } else {
      return authFailure('authError', 'Needs an appSecret or a tokenGenerator.', false);
    }
    const url = endpoint(o.collectorURL, '/v1/token');
    const requestedAt = o.now();
    const { status, json, message } = await post(o, url, JSON.stringify(body));
    if (!status)
      return authFailure('httpError', `Could not reach ${url} (${message}): check collectorURL and CORS.`);
    if (status == 200) {
      const { token, expiresAt } = json;
      return typeof token == 'string' && token && typeof expiresAt == 'number'
        ? { ok: true, token: tokenInfo(token, expiresAt, requestedAt, o.now()) }
        : authFailure('csProtoError', `${url} gave no token: is it a Callmetry collector?`);
    }
    // Any JSON: compared strictly (`==` throws on {"toString": 1}).
    const code = json.error;
    // The tokenGenerator's cached token expired or was used already: ask once for a fresh one.
    if (status == 401 && gen && !forceNew && (code === 'replayed' || code === 'expired')) return getToken(o, true);
    // The collector's message says what to fix.
    if (status == 401)
      return authFailure(
        'authError',
        code === 'bad_signature' && !gen ? `appSecret does not match the collector's for appID "${appID}" (${message})` : `The collector refused appID "${appID}" (${message})`,
        false,
      );
    if (status == 400) return authFailure('csProtoError', `Token request refused (${message}): SDK/collector version mismatch?`, false);
    return authFailure('httpError', `${url} failed (${message})`);
  } catch (e) {
    return authFailure('httpError', `Authentication failed unexpectedly: ${errorMessage(e)}`);
  }
}

/** The tokenGenerator's token, or an Error saying what it did wrong. Cancelled by the aborts. */
function callGenerator(o: AuthOptions, gen: TokenGenerator, forceNew: boolean): Promise<string | Error> {
  return new Promise((resolve) => {
    const finish = (r: string | Error): void => {
      if (!o.aborts.delete(cancel)) return;
      o.timers.clearTimeout(timer);
      resolve(r);
    };
    const cancel = (): void => finish(Error('cancelled'));
    o.aborts.add(cancel);
    const timer = o.timers.setTimeout(() => finish(Error(`tokenGenerator did not call back within ${o.timeoutMs} ms.`)), o.timeoutMs);
    try {
      gen(forceNew, (error, token) =>
        finish(
          error != null
            ? Error(`tokenGenerator reported an error: ${errorMessage(error)}`)
            : typeof token == 'string' && token
              ? token
              : Error('tokenGenerator gave no token: call callback(null, token).'),
        ),
      );
    } catch (e) {
      finish(Error(`tokenGenerator threw: ${errorMessage(e)}`));
    }
  });
}

/** When to refresh: 80% into the lifetime, at most 5 min before expiry, at least 1 s from now. */
function tokenInfo(token: string, expiresAt: number, requestedAt: number, now: number): TokenInfo {
  // A clock far off the collector's can make it look expired: refresh in a minute then.
  const lifetime = expiresAt > requestedAt ? expiresAt - requestedAt : 60_000;
  return { token, refreshAt: requestedAt + Math.max(1000, lifetime - Math.min(300_000, lifetime * 0.2)), obtainedAt: now };
}
