/** Small value helpers shared by every part of core. Browser (ES2020) and Node 20. */

export type Json = Record<string, unknown>;

const objectPrototype = Object.prototype;

export const isPlainObject = (v: unknown): v is Json => typeof v == 'object' && v !== null && !Array.isArray(v);

export const hasOwn = (o: object, key: PropertyKey): boolean => objectPrototype.hasOwnProperty.call(o, key);

export const isString = (v: unknown): v is string => typeof v == 'string';

/** A conferenceID as the protocol takes it: a string of 1..256 characters. */
export const isConferenceID = (v: unknown): v is string => isString(v) && !!v && v.length <= 256;

/** A copy without the undefined-valued fields (instead of `...(x ? {x} : {})` spreads). */
export function defined<T extends object>(o: T): T {
  const out = {} as T;
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * `String(v)` for messages, never throwing: values String() cannot convert (a null-prototype
 * object, a Proxy whose traps throw, a throwing toString) become their type tag or a placeholder.
 */
export function printable(v: unknown): string {
  try {
    return String(v);
  } catch {
    try {
      return objectPrototype.toString.call(v);
    } catch {
      return '[unprintable value]';
    }
  }
}

/** An error's message (with its cause's), or printable(e) for anything else. Never throws. */
export function errorMessage(e: unknown): string {
  try {
    if (e instanceof Error) {
      const cause = (e as { cause?: { message?: unknown } }).cause?.message;
      return isString(cause) && !e.message.includes(cause) ? `${e.message} (${cause})` : printable(e.message);
    }
  } catch {}
  return printable(e);
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Hex of `bytes` random bytes (crypto.getRandomValues, present in every ES2020 browser and Node 20). */
export const randomHex = (bytes: number): string => hex(crypto.getRandomValues(new Uint8Array(bytes)));

let encoder: TextEncoder | undefined;
/** The UTF-8 bytes of a string. */
export const utf8 = (s: string): Uint8Array<ArrayBuffer> => (encoder ??= new TextEncoder()).encode(s);

/** hex(HMAC-SHA256(secret, message)) with crypto.subtle (secure contexts only: https or localhost). */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(message))));
}

/** UTF-8 byte length; most of what we send is ASCII, where it is just the string's length. */
export const utf8Length = (s: string): number => (/[^\0-\x7f]/.test(s) ? utf8(s).length : s.length);

/** What app data may be as JSON on the wire (the transport's item limit is 1 MiB). */
const MAX_APP_DATA_BYTES = 512 * 1024;

/**
 * A failure message unless `value` (app data sent as is: attributes, event data) can be sent:
 * JSON-serializable (no cycle, no BigInt) and at most 512 KB. Checked when the call is made, so
 * that the app hears of it instead of a success whose item the transport would drop later.
 */
export function checkSendable(what: string, value: unknown): string | undefined {
  let problem: string | undefined;
  try {
    // undefined (nothing to send) stringifies to undefined.
    const json = JSON.stringify(value);
    if (json && utf8Length(json) > MAX_APP_DATA_BYTES) problem = 'over 512 KB as JSON';
  } catch (error) {
    problem = `not JSON-serializable (${errorMessage(error)})`;
  }
  return problem && `${what} cannot be sent: ${problem}`;
}
