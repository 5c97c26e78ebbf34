/**
 * Session tokens (docs/protocol.md, "Authentication"): POST /v1/token either with an HMAC-signed
 * request (crypto.subtle; the app secret never leaves the page) or with a third-party token from the
 * app's tokenGenerator. Never throws: every failure is a csError code with an actionable message.
 */
import type { CsErrorCode, TokenGenerator } from '../types';
import { errorMessage, hmacHex, randomHex, type Json } from '../util/values';
import { endpoint, guarded, post, type HttpContext } from './util';

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
type AuthFailure = Extract<AuthResult, { ok: false }>;

export interface AuthOptions extends HttpContext {
  collectorURL: string;
  appID: string;
  userID: string;
  appSecret?: string;
  tokenGenerator?: TokenGenerator;
  now: () => number;
}

export const authFailure = (error: CsErrorCode, message: string, retryable = true): AuthFailure => ({ ok: false, error, message, retryable });

/** forceNew: the current token was refused (or is about to expire): ask the tokenGenerator for a fresh one. */
export async function getToken(o: AuthOptions, forceNew: boolean): Promise<AuthResult> {
  try {
    const { appID, userID, tokenGenerator: gen, appSecret } = o;
    let body: Json;
    if (gen) {
      const token = await callGenerator(o, gen, forceNew);
      if (typeof token != 'string') return token;
      body = { appID, userID, thirdPartyToken: token };
    } else if (appSecret !== undefined) {
      const ts = Math.round(o.now());
      const nonce = randomHex(16);
      try {
        body = { appID, userID, ts, nonce, signature: await hmacHex(appSecret, `${appID}\n${userID}\n${ts}\n${nonce}`) };
      } catch (e) {
        return authFailure('tokenGenerationError', `Could not sign (${errorMessage(e)}): crypto.subtle needs https or localhost, else use a tokenGenerator.`, false);
      }
    } else return authFailure('authError', 'Needs an appSecret or a tokenGenerator.', false);
    const url = endpoint(o.collectorURL, '/v1/token');
    const requestedAt = o.now();
    const { status, json, message } = await post(o, url, JSON.stringify(body));
    if (!status) return authFailure('httpError', `Could not reach ${url} (${message}): check collectorURL and CORS.`);
    const { token, expiresAt, error: code } = json;
    if (status == 200) {
      if (typeof token != 'string' || !token || typeof expiresAt != 'number') return authFailure('csProtoError', `${url} gave no token: is it a Callmetry collector?`);
      // Refresh 80% into the lifetime, at most 5 min before expiry, at least 1 s from now. A clock
      // far off the collector's can make the token look expired: refresh in a minute then.
      const lifetime = expiresAt > requestedAt ? expiresAt - requestedAt : 60_000;
      return { ok: true, token: { token, refreshAt: requestedAt + Math.max(1000, lifetime - Math.min(300_000, lifetime * 0.2)), obtainedAt: o.now() } };
    }
    if (status == 401) {
      // (`code` is any JSON: compared strictly, `==` throws on {"toString": 1}.)
      // The tokenGenerator's cached token expired or was used already: ask once for a fresh one.
      if (gen && !forceNew && (code === 'replayed' || code === 'expired')) return getToken(o, true);
      // The collector's message says what to fix.
      return authFailure(
        'authError',
        `${code === 'bad_signature' && !gen ? `appSecret does not match the collector's for` : 'The collector refused'} appID "${appID}" (${message})`,
        false,
      );
    }
    return status == 400
      ? authFailure('csProtoError', `Token request refused (${message}): SDK/collector version mismatch?`, false)
      : authFailure('httpError', `${url} failed (${message})`);
  } catch (e) {
    return authFailure('httpError', `Authentication failed: ${errorMessage(e)}`);
  }
}

/** The tokenGenerator's token, or a failure saying what it did wrong. Cancelled by the aborts. */
const callGenerator = (o: AuthOptions, gen: TokenGenerator, forceNew: boolean): Promise<string | AuthFailure> =>
  guarded(
    o,
    'did not call back',
    () =>
      new Promise<string>((resolve, reject) => {
        try {
          gen(forceNew, (error, token) =>
            error != null
              ? reject(Error(`reported an error: ${errorMessage(error)}`))
              : typeof token == 'string' && token
                ? resolve(token)
                : reject(Error('gave no token: call callback(null, token).')),
          );
        } catch (e) {
          reject(Error(`threw: ${errorMessage(e)}`));
        }
      }),
  ).catch((e) => authFailure('tokenGenerationError', `tokenGenerator ${errorMessage(e)}`));
