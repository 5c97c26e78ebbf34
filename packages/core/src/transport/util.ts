/** Helpers shared by the transport modules. */
import { defined, errorMessage, isPlainObject, printable, type Json } from '../util/values';

/** setTimeout/clearTimeout, injectable so tests can account for every timer. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Uses the globals at call time (so vi.useFakeTimers applies). Delays are clamped to 0..2^31-1 ms. */
export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), 0x7fffffff)),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Exponential backoff with full jitter: a uniformly random delay in
 * [min, min(max, min * 2^attempt)] (attempt 0 = first retry).
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(minMs + random() * Math.max(0, cap - minMs));
}

/**
 * `collectorURL` + `path` (keeps a base path: `https://x/cm` + `/v1/ws` -> `https://x/cm/v1/ws`),
 * with `?token=` when given, and ws/wss for a WebSocket URL.
 */
export function endpoint(collectorURL: string, path: string, token?: string, ws?: boolean): string {
  const url = new URL(collectorURL);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = url.hash = '';
  if (token !== undefined) url.searchParams.set('token', token);
  if (ws) url.protocol = url.protocol == 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** What HTTP requests need: fetch, timers, a timeout, and the set of aborts that close() runs. */
export interface HttpContext {
  fetchImpl: typeof fetch;
  timers: Timers;
  timeoutMs: number;
  aborts: Set<() => void>;
}

/** status 0: no answer. `message` says what went wrong, for logs (`HTTP 503 down: ...`). */
export interface HttpAnswer {
  status: number;
  json: Json;
  message: string;
}

/**
 * What `run` resolves to, or a rejection `<what> within <timeoutMs> ms` when the timeout comes
 * first, `cancelled` when close() (the aborts) does: a fetch, body or tokenGenerator that ignores
 * the signal must not hang the transport (nor close()).
 */
export function guarded<T>(c: HttpContext, what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  let abort!: (timedOut?: boolean) => void;
  const gaveUp = new Promise<never>((_, reject) => {
    abort = (timedOut) => {
      // Rejected before the signal aborts what runs: this message wins the race.
      reject(Error(timedOut ? `${what} within ${c.timeoutMs} ms` : 'cancelled'));
      ctrl.abort();
    };
  });
  const timer = c.timers.setTimeout(() => abort(true), c.timeoutMs);
  c.aborts.add(abort);
  return Promise.race([run(ctrl.signal), gaveUp]).finally(() => {
    c.timers.clearTimeout(timer);
    c.aborts.delete(abort);
  });
}

/** POSTs JSON, with an Authorization header when given. Never throws; settles within timeoutMs. */
export async function post(c: HttpContext, url: string, body: string, authorization?: string): Promise<HttpAnswer> {
  try {
    return await guarded(c, 'no answer', async (signal) => {
      const headers = defined({ 'Content-Type': 'application/json', Authorization: authorization }) as Record<string, string>;
      const res = await c.fetchImpl(url, { method: 'POST', headers, body, signal });
      const { status } = res;
      // A fetch stand-in may answer anything: callers compare the status, it must be a number.
      if (typeof status != 'number') throw TypeError('fetch gave no Response');
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {}
      const j = isPlainObject(json) ? json : {};
      const detail = typeof j.message == 'string' ? j.message : text.slice(0, 200);
      // printable: `error` may be any JSON (String() throws on {"toString": 1}).
      return { status, json: j, message: `HTTP ${status}${j.error ? ` ${printable(j.error)}` : ''}${detail ? `: ${detail}` : ''}` };
    });
  } catch (e) {
    return { status: 0, json: {}, message: errorMessage(e) };
  }
}
