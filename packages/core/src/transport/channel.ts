/**
 * The two ways batches reach the collector (docs/protocol.md, "Ingest"): a WebSocket
 * (`GET /v1/ws?token=`, acknowledgements by n) and HTTP POST /v1/ingest. Only I/O lives here; the
 * retry policy is in transport.ts.
 */
import { errorMessage, isPlainObject, type Timers } from './util';

/** What the transport needs of a WebSocket: the browser API, which the `ws` package also offers. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

/** The injected constructor, else globalThis.WebSocket, else undefined (HTTP only). */
export function resolveWebSocket(impl: unknown): WebSocketCtor | undefined {
  if (typeof impl === 'function') return impl as WebSocketCtor;
  const g = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof g === 'function' ? (g as WebSocketCtor) : undefined;
}

export type ServerMessage =
  | { type: 'ack'; id: number; acked: number[] }
  | { type: 'error'; id?: number; error: string; message: string }
  | { type: 'pong' };

export function parseServerMessage(data: unknown): ServerMessage | undefined {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) text = new TextDecoder().decode(data as ArrayBuffer);
  else return undefined;
  let m: unknown;
  try { m = JSON.parse(text); } catch { return undefined; }
  if (!isPlainObject(m)) return undefined;
  if (m.type === 'ack' && typeof m.id === 'number' && Array.isArray(m.acked)) {
    return { type: 'ack', id: m.id, acked: m.acked.filter((n): n is number => typeof n === 'number') };
  }
  if (m.type === 'error') {
    return {
      type: 'error',
      ...(typeof m.id === 'number' ? { id: m.id } : {}),
      error: typeof m.error === 'string' ? m.error : 'unknown',
      message: typeof m.message === 'string' ? m.message : '',
    };
  }
  if (m.type === 'pong') return { type: 'pong' };
  return undefined;
}

export interface WsHandlers {
  open(): void;
  message(m: ServerMessage): void;
  /** Once per connection, unless close() was called first. */
  closed(code: number, reason: string, wasOpen: boolean): void;
}

/** One WebSocket connection attempt. After close() no handler is called any more. */
export class WsConnection {
  private ws: WebSocketLike | undefined;
  private connectTimer: unknown;
  private done = false;
  opened = false;

  constructor(Ctor: WebSocketCtor, url: string, private readonly h: WsHandlers, private readonly timers: Timers, connectTimeoutMs: number) {
    try {
      this.ws = new Ctor(url);
    } catch (e) {
      // Report asynchronously, like a failed connection.
      this.connectTimer = timers.setTimeout(() => this.finish(1006, `WebSocket constructor threw: ${errorMessage(e)}`), 0);
      return;
    }
    const ws = this.ws;
    this.connectTimer = timers.setTimeout(() => {
      this.connectTimer = undefined;
      this.abandon(4000);
      this.finish(1006, `not open within ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
    ws.onopen = () => {
      if (this.done) return;
      this.clearConnectTimer();
      this.opened = true;
      this.h.open();
    };
    ws.onmessage = (ev) => {
      if (this.done) return;
      const m = parseServerMessage(ev?.data);
      if (m) this.h.message(m);
    };
    ws.onerror = () => {
      // Followed by a close event (browsers and `ws`); some implementations only fire error.
      if (!this.done && ws.readyState === 3) this.finish(1006, 'error');
    };
    ws.onclose = (ev) => {
      this.finish(typeof ev?.code === 'number' ? ev.code : 1006, typeof ev?.reason === 'string' ? ev.reason : String(ev?.reason ?? ''));
    };
  }

  /** Returns false if the socket is not open or send threw. */
  send(data: string): boolean {
    if (this.done || !this.ws || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes without calling any handler. */
  close(code = 1000, reason = ''): void {
    if (this.done) return;
    this.done = true;
    this.clearConnectTimer();
    this.abandon(code, reason);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) this.timers.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  private abandon(code: number, reason = ''): void {
    const ws = this.ws;
    if (!ws) return;
    // No-op handlers rather than null: the `ws` package throws on an 'error' without listener.
    const noop = (): void => {};
    ws.onopen = noop;
    ws.onmessage = noop;
    ws.onclose = noop;
    ws.onerror = noop;
    try {
      if (ws.readyState === 0 || ws.readyState === 1) ws.close(code, reason);
    } catch {
      // ignore
    }
  }

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.clearConnectTimer();
    this.abandon(1000);
    this.h.closed(code, reason, this.opened);
  }
}

export type HttpOutcome =
  | { ok: true; acked: number[] }
  | { ok: false; status?: number; code?: string; message: string };

/** POSTs a serialized batch to /v1/ingest. Never throws. */
export async function postBatch(
  fetchImpl: typeof fetch,
  url: string,
  token: string,
  body: string,
  timeoutMs: number,
  timers: Timers,
  registerAbort: (abort: () => void) => () => void,
): Promise<HttpOutcome> {
  const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
  const timer = timers.setTimeout(() => ctrl?.abort(), timeoutMs);
  const unregister = registerAbort(() => ctrl?.abort());
  try {
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body,
      ...(ctrl ? { signal: ctrl.signal } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    if (res.status === 200 && isPlainObject(json) && Array.isArray(json.acked)) {
      return { ok: true, acked: json.acked.filter((n): n is number => typeof n === 'number') };
    }
    const code = isPlainObject(json) && typeof json.error === 'string' ? json.error : undefined;
    const message = isPlainObject(json) && typeof json.message === 'string' ? json.message : text.slice(0, 200);
    return { ok: false, status: res.status, ...(code ? { code } : {}), message: `HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}` };
  } catch (e) {
    return { ok: false, message: ctrl?.signal.aborted ? `no answer within ${timeoutMs} ms (or aborted)` : errorMessage(e) };
  } finally {
    timers.clearTimeout(timer);
    unregister();
  }
}
