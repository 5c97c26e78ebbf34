/**
 * The WebSocket to the collector (`GET /v1/ws?token=`, docs/protocol.md "Ingest"). Only I/O lives
 * here; the retry policy is in transport.ts.
 */
import { errorMessage, isPlainObject, type Json } from '../util/values';
import type { Timers } from './util';

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
  const ctor = impl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof ctor == 'function' ? (ctor as WebSocketCtor) : undefined;
}

export interface WsConnection {
  /** False if the socket is not open or send threw. */
  send(data: string): boolean;
  /** Closes without calling any handler. */
  close(code?: number, reason?: string): void;
}

/**
 * One WebSocket connection attempt, given up after `timeoutMs` if it does not open. `onMessage` gets
 * a server message: `{type: 'ack' | 'error' | 'pong', ...}` (parsed JSON, not yet checked).
 * `onClosed` is called once per connection, unless close() was called first.
 */
export function openSocket(
  Ctor: WebSocketCtor,
  url: string,
  timers: Timers,
  timeoutMs: number,
  onOpen: () => void,
  onMessage: (m: Json) => void,
  onClosed: (code: number, reason: string, wasOpen: boolean) => void,
): WsConnection {
  let ws: WebSocketLike | undefined;
  let opened = false;
  let done = false;
  let timer: unknown;
  const stop = (code: number, reason = ''): boolean => {
    if (done) return false;
    done = true;
    timers.clearTimeout(timer);
    if (ws) {
      // No-op handlers rather than null: the `ws` package throws on an 'error' without listener.
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = () => {};
      try {
        if (ws.readyState < 2) ws.close(code, reason);
      } catch {}
    }
    return true;
  };
  const finish = (code: number, reason: string, closeCode = 1000): void => {
    if (stop(closeCode)) onClosed(code, reason, opened);
  };
  try {
    const socket = (ws = new Ctor(url));
    timer = timers.setTimeout(() => finish(1006, `not open within ${timeoutMs} ms`, 4000), timeoutMs);
    socket.onopen = () => {
      timers.clearTimeout(timer);
      opened = true;
      onOpen();
    };
    socket.onmessage = (ev) => {
      // The collector sends text frames (a `ws` Buffer stringifies to its text too).
      let m: unknown;
      try {
        m = JSON.parse(String(ev?.data));
      } catch {}
      if (isPlainObject(m)) onMessage(m);
    };
    // Followed by a close event (browsers and `ws`); some implementations only fire error.
    socket.onerror = () => socket.readyState == 3 && finish(1006, 'error');
    socket.onclose = (ev) => finish(typeof ev?.code == 'number' ? ev.code : 1006, String(ev?.reason ?? ''));
  } catch (e) {
    // Reported asynchronously, like a failed connection.
    timer = timers.setTimeout(() => finish(1006, `WebSocket constructor threw: ${errorMessage(e)}`), 0);
  }
  return {
    send(data) {
      try {
        return !done && ws?.readyState == 1 && (ws.send(data), true);
      } catch {
        return false;
      }
    },
    close: (code = 1000, reason) => void stop(code, reason),
  };
}
