/** Helpers shared by the transport modules. */
import { errorMessage, isPlainObject, printable, type Json } from '../util/values';

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
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
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

/** POSTs JSON, with an Authorization header when given. Never throws; settles within timeoutMs. */
export async function post(c: HttpContext, url: string, body: string, authorization?: string): Promise<HttpAnswer> {
  const ctrl = new AbortController();
  // A fetch or body that ignores the signal must not hang the transport (nor close()): the
  // timeout and close() also reject this, which every await below races against.
  let giveUp!: (e: Error) => void;
  const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
  const abort = (): void => {
    ctrl.abort();
    giveUp(Error('aborted'));
  };
  const timer = c.timers.setTimeout(abort, c.timeoutMs);
  c.aborts.add(abort);
  try {
    const res = await Promise.race([
      c.fetchImpl(url, {
        method: 'POST',
        headers: authorization ? { 'Content-Type': 'application/json', Authorization: authorization } : { 'Content-Type': 'application/json' },
        body,
        signal: ctrl.signal,
      }),
      gaveUp,
    ]);
    const { status } = res;
    // A fetch stand-in may answer anything: callers compare the status, it must be a number.
    if (typeof status != 'number') throw TypeError('fetch gave no Response');
    const text = await Promise.race([res.text(), gaveUp]);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {}
    const j = isPlainObject(json) ? json : {};
    const detail = typeof j.message == 'string' ? j.message : text.slice(0, 200);
    // printable: `error` may be any JSON (String() throws on {"toString": 1}).
    return { status, json: j, message: `HTTP ${status}${j.error ? ` ${printable(j.error)}` : ''}${detail ? `: ${detail}` : ''}` };
  } catch (e) {
    return { status: 0, json: {}, message: ctrl.signal.aborted ? `no answer within ${c.timeoutMs} ms` : errorMessage(e) };
  } finally {
    c.timers.clearTimeout(timer);
    c.aborts.delete(abort);
  }
}
