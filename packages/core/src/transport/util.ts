/** Small helpers shared by the transport modules. Browser (ES2020) and Node 20 compatible. */

/** Hex of `bytes` random bytes from crypto.getRandomValues (Math.random only if crypto is missing). */
export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(buf);
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  let s = '';
  for (let i = 0; i < buf.length; i++) s += (buf[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** UTF-8 byte length of a string without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * `collectorURL` + `path` (keeps a base path: `https://x/cm` + `/v1/ws` -> `https://x/cm/v1/ws`),
 * optionally with `?token=`, and with ws/wss for WebSocket URLs.
 */
export function endpoint(collectorURL: string, path: string, opts: { ws?: boolean; token?: string } = {}): string {
  const url = new URL(collectorURL);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = '';
  url.hash = '';
  if (opts.token !== undefined) url.searchParams.set('token', opts.token);
  if (opts.ws) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const causeMsg = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
    return causeMsg && !e.message.includes(causeMsg) ? `${e.message} (${causeMsg})` : e.message;
  }
  return String(e);
}

/** setTimeout/clearTimeout, injectable so tests can account for every timer. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Uses the globals at call time (so vi.useFakeTimers applies). Delays are clamped to 2^31-1 ms. */
export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, Math.min(Math.max(0, ms), 0x7fffffff)),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Exponential backoff with full jitter: a uniformly random delay in
 * [min, min(max, min * 2^attempt)] (attempt 0 = first retry).
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, minMs * Math.pow(2, Math.min(attempt, 30)));
  return Math.round(minMs + random() * Math.max(0, cap - minMs));
}
