// App credentials, HS256 JWTs, signed token requests and Basic auth.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AppCredentials, TokenClaims } from './types';

export const COLLECTOR_ISSUER = 'callmetry';

export class AppRegistry {
  private readonly apps = new Map<string, string>();

  constructor(apps: readonly AppCredentials[]) {
    for (const a of apps) {
      if (!a.appID || !a.secret) throw new Error('collector: every app needs a non-empty appID and secret');
      if (a.appID.includes(':') || a.appID.length > 256) throw new Error(`collector: appID ${JSON.stringify(a.appID)} must be 1..256 chars without ':'`);
      if (this.apps.has(a.appID)) throw new Error(`collector: app ${a.appID} is configured twice`);
      this.apps.set(a.appID, a.secret);
    }
  }

  secretOf(appID: string): string | undefined {
    return this.apps.get(appID);
  }

  get size(): number {
    return this.apps.size;
  }
}

/** Constant-time comparison of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(new Uint8Array(ha), new Uint8Array(hb)) && a.length === b.length;
}

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

export function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** The string a signed token request signs: appID, userID, ts, nonce joined by "\n". */
export function tokenRequestSigningString(appID: string, userID: string, ts: number, nonce: string): string {
  return `${appID}\n${userID}\n${ts}\n${nonce}`;
}

export function signJwt(claims: TokenClaims | Record<string, unknown>, secret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

export interface DecodedJwt {
  claims: Record<string, unknown>;
  signingInput: string;
  signature: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function parseJsonObject(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Splits and decodes a compact HS256 JWT; null when it is not one (no signature check here). */
export function decodeJwt(token: string): DecodedJwt | null {
  if (token.length > 8192) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) return null;
  const header = parseJsonObject(h);
  const claims = parseJsonObject(p);
  if (!header || !claims || header.alg !== 'HS256') return null;
  return { claims, signingInput: `${h}.${p}`, signature: s };
}

export function verifyJwtSignature(jwt: DecodedJwt, secret: string): boolean {
  const expected = createHmac('sha256', secret).update(jwt.signingInput).digest('base64url');
  return safeEqual(expected, jwt.signature);
}

/** Checks the claim types of a decoded token; a message when one is missing or wrong. */
export function claimsProblem(c: Record<string, unknown>, requireJti: boolean): string | null {
  if (typeof c.appID !== 'string' || c.appID === '') return 'the token has no appID claim';
  if (typeof c.userID !== 'string' || c.userID === '') return 'the token has no userID claim';
  if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) return 'the token has no numeric exp claim (seconds)';
  if (requireJti && (typeof c.jti !== 'string' || c.jti.length < 16 || c.jti.length > 256)) {
    return 'the token needs a jti claim of 16 to 256 characters';
  }
  return null;
}

export function randomId(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** `wrong`: well-formed credentials that do not match (a guess); `missing`: anything else. */
export type BasicAuthResult = { ok: true; appID: string } | { ok: false; code: 'missing' | 'wrong'; message: string };

/** Authorization: Basic base64(appID:secret), checked against the registry. */
export function checkBasicAuth(header: string | undefined, apps: AppRegistry): BasicAuthResult {
  if (!header) return { ok: false, code: 'missing', message: 'send Authorization: Basic base64(appID:appSecret)' };
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return { ok: false, code: 'missing', message: 'the Authorization header is not Basic credentials' };
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { ok: false, code: 'missing', message: 'Basic credentials must be appID:appSecret' };
  const appID = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const expected = apps.secretOf(appID);
  // Compare even for an unknown app so the answer time does not reveal which app IDs exist.
  const good = safeEqual(secret, expected ?? `\u0000unknown:${appID}`) && expected !== undefined;
  return good ? { ok: true, appID } : { ok: false, code: 'wrong', message: 'unknown app or wrong secret' };
}
