/** Small value helpers shared by every part of core. Browser (ES2020) and Node 20. */

export type Json = Record<string, unknown>;

export const isPlainObject = (v: unknown): v is Json => typeof v == 'object' && v !== null && !Array.isArray(v);

export const hasOwn = (o: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, key);

export const isString = (v: unknown): v is string => typeof v == 'string';

/** A conferenceID as the protocol takes it: a string of 1..256 characters. */
export const isConferenceID = (v: unknown): v is string => isString(v) && !!v && v.length <= 256;

/** A copy without the undefined-valued fields (instead of `...(x ? {x} : {})` spreads). */
export function defined<T extends object>(o: T): T {
  const out = {} as T;
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

export function errorMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: { message?: unknown } }).cause?.message;
  return isString(cause) && !e.message.includes(cause) ? `${e.message} (${cause})` : e.message;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Hex of `bytes` random bytes (crypto.getRandomValues, present in every ES2020 browser and Node 20). */
export const randomHex = (bytes: number): string => hex(crypto.getRandomValues(new Uint8Array(bytes)));

/** hex(HMAC-SHA256(secret, message)) with crypto.subtle (secure contexts only: https or localhost). */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const utf8 = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8.encode(message))));
}

let encoder: TextEncoder | undefined;
/** UTF-8 byte length; most of what we send is ASCII, where it is just the string's length. */
export const utf8Length = (s: string): number =>
  /[^\0-\x7f]/.test(s) ? (encoder ??= new TextEncoder()).encode(s).length : s.length;
