/**
 * createTransport: authentication, sequence numbers, delta coding, the offline buffer, batching,
 * the WebSocket channel with HTTP fallback, retries and the final flush (docs/protocol.md).
 *
 * Delivery: every item gets n = 1, 2, 3... for this client session (`sid`, random per transport)
 * and stays buffered until the collector acknowledges it. One batch is in flight at a time, in n
 * order; after a reconnect everything unacknowledged is resent (the collector stores (sid, n) once).
 *
 * Channel policy: WebSocket first. After WS_FAILURES_BEFORE_HTTP consecutive WebSocket failures
 * (not opened, or closed with a batch unacknowledged), retries alternate with an HTTP POST of the
 * pending batch; if HTTP works while the WebSocket does not, the transport switches to HTTP
 * (status wsChannelFailure) and probes the WebSocket again every wsProbeMs. No WebSocket
 * constructor or options.httpOnly: HTTP only. Retries use exponential backoff with full jitter.
 */
import type { CsErrorCode, Logger, TokenGenerator, TransportOptions, TransportStatus } from '../types';
import { createEmitter } from '../util/emitter';
import { defined, errorMessage, isPlainObject, randomHex, utf8Length, type Json } from '../util/values';
import { authFailure, getToken, type AuthOptions, type AuthResult, type TokenInfo } from './auth';
import { sendFinal } from './beacon';
import { OutboxBuffer, serialized, type BufferedItem, type WireItem } from './buffer';
import { openSocket, resolveWebSocket, type WsConnection } from './channel';
import { DeltaEncoder, streamEntries } from './deltas';
import { createSanitizer, isItemKind } from './sanitize';
import { backoffDelay, defaultTimers, endpoint, post, type Timers } from './util';

export type OutgoingKind = 'fabric' | 'event' | 'error' | 'stats' | 'feedback' | 'custom' | 'customStats';

/**
 * An item as the monitor hands it over: protocol fields without `n` (`t` defaults to now).
 * For `stats`: `fabricID`, `streams` (array of `{key?, ...fields}` -- key defaults to
 * `statsType:ssrc` -- or an object keyed by stream key) and `connection?`, always FULL samples: the
 * transport does the delta coding. Undefined fields are left out.
 */
export interface OutgoingItem {
  kind: OutgoingKind;
  conferenceID: string;
  t?: number;
  [field: string]: unknown;
}

export type StartResult = { ok: true } | { ok: false; error: CsErrorCode; message: string };

export interface Transport {
  /** The client session id sent with every batch. */
  readonly sid: string;
  /** Authenticates (once; later calls return the same promise). ok once a token was obtained. */
  start(): Promise<StartResult>;
  /** Queues an item; assigns n and t. Never throws. Ignored after close(). */
  send(item: OutgoingItem): void;
  status(): TransportStatus;
  /** Listener errors are caught and logged. Returns the unsubscribe function. */
  onStatus(listener: (s: TransportStatus) => void): () => void;
  /** Resolves when everything queued so far is acknowledged, or the attempt failed. */
  flush(): Promise<void>;
  /** flush(), then releases sockets, timers and listeners. */
  close(): Promise<void>;
}

export interface CreateTransportOptions {
  collectorURL: string;
  appID: string;
  userID: string;
  appSecret?: string;
  tokenGenerator?: TokenGenerator;
  collectIP: boolean;
  options?: TransportOptions;
  logger: Logger;
  /** A WebSocket constructor (e.g. the `ws` package's); default globalThis.WebSocket. */
  WebSocketImpl?: unknown;
  fetchImpl?: typeof fetch;
  now?: () => number;
  /** Internal knobs, for tests. */
  internal?: {
    timers?: Timers;
    random?: () => number;
    /** WebSocket open / batch acknowledgement / HTTP request / token request timeout. Default 15 s. */
    requestTimeoutMs?: number;
    /** How often an HTTP-fallback transport tries the WebSocket again. Default 60 s. */
    wsProbeMs?: number;
  };
}

/** Protocol limits of a batch. */
export const MAX_BATCH_ITEMS = 500;
export const MAX_BATCH_BYTES = 1024 * 1024;
/** Room for the envelope (`{"type":"batch","id":..,"sid":..,"items":[]}`). */
const MAX_ITEMS_BYTES = MAX_BATCH_BYTES - 256;
const WS_FAILURES_BEFORE_HTTP = 3;
const HTTP_MODE = 'Sending over HTTP POST /v1/ingest.';

interface InFlight {
  id: number;
  items: BufferedItem[];
  via: 'ws' | 'http';
  /** An HTTP attempt while the WebSocket keeps failing: success switches to HTTP. */
  trial?: boolean;
  timer?: unknown;
}

const positive = (v: number | undefined, fallback: number): number => (typeof v == 'number' && v > 0 && v < Infinity ? v : fallback);

export function createTransport(o: CreateTransportOptions): Transport {
  const { logger: log, collectorURL } = o;
  const now = o.now ?? (() => Date.now());
  const { timers = defaultTimers, random = Math.random, requestTimeoutMs: timeoutMs = 15_000, wsProbeMs = 60_000 } = o.internal ?? {};
  const opts = o.options ?? {};
  const batchIntervalMs = Math.max(0, opts.batchIntervalMs ?? 1000);
  const minBackoffMs = positive(opts.minBackoffMs, 500);
  const maxBackoffMs = Math.max(minBackoffMs, positive(opts.maxBackoffMs, 30_000));
  const fetchImpl = o.fetchImpl ?? (typeof fetch == 'function' ? fetch.bind(globalThis) : undefined);
  const WS = opts.httpOnly ? undefined : resolveWebSocket(o.WebSocketImpl);
  const ingestURL = endpoint(collectorURL, '/v1/ingest');
  const aborts = new Set<() => void>();
  const http = fetchImpl && ({ ...o, fetchImpl, now, timers, timeoutMs, aborts } as AuthOptions);

  const sid = randomHex(16);
  let nextN = 1;
  const encoder = new DeltaEncoder();
  const sanitizer = createSanitizer((m) => log.warn(m), o.collectIP);
  const buffer = new OutboxBuffer(Math.floor(positive(opts.bufferSize, 5000)) || 1, () => nextN++, now, (m) => log.warn(m));

  // ---- state ----------------------------------------------------------------------------------
  let status: TransportStatus = { state: 'connecting', droppedSamples: 0 };
  const listeners = createEmitter<{ status: (s: TransportStatus) => void }>(log);
  const emit = (): void => listeners.emit('status', { ...status });
  let startPromise: Promise<StartResult> | undefined;
  let closePromise: Promise<void> | undefined;
  let token: TokenInfo | undefined;
  let authPending: Promise<AuthResult> | undefined;
  let needFreshToken = false;
  /** Stopped for good: a refusal retrying cannot fix. */
  let terminal = false;
  let closed = false;

  let mode: 'ws' | 'http' = WS ? 'ws' : 'http';
  let ws: WsConnection | undefined;
  let wsOpen = false;
  let wsOpenedAt = 0;
  let ackedOnThisWs = false;
  /** The token the current WebSocket was opened with. */
  let wsToken: string | undefined;
  let inFlight: InFlight | undefined;
  let batchId = 0;
  let batchLimit = MAX_BATCH_ITEMS;
  /** Send what is buffered now rather than after batchIntervalMs. */
  let due = false;
  let failures = 0;
  let wsFailures = 0;
  let lastRetryWasHttp = false;
  let flushWaiters: Array<[upTo: number, resolve: () => void]> = [];

  // ---- timers, by name ----------------------------------------------------------------------
  type TimerName = 'retry' | 'batch' | 'refresh' | 'probe';
  const pending: { [K in TimerName]?: unknown } = {};
  const clear = (name: TimerName): void => {
    timers.clearTimeout(pending[name]);
    delete pending[name];
  };
  const later = (name: TimerName, ms: number, fn: () => void): void => {
    clear(name);
    pending[name] = timers.setTimeout(() => {
      delete pending[name];
      fn();
    }, ms);
  };
  const waitingToRetry = (): boolean => 'retry' in pending;
  const stopped = (): boolean => closed || terminal;

  // ---- status ---------------------------------------------------------------------------------
  function setStatus(state: TransportStatus['state'], error?: CsErrorCode, message?: string): void {
    const next = defined({ state, error, message, droppedSamples: buffer.dropped });
    if (JSON.stringify(next) == JSON.stringify(status)) return;
    status = next;
    emit();
  }

  /** Stops for good: the collector refused the app or the session. */
  function fatal(error: CsErrorCode, message: string): void {
    terminal = true;
    log.error(`${error}: ${message}`);
    setStatus('failed', error, message);
    resolveFlushWaiters(true);
    stopActivity();
  }

  /** Counts a failure and schedules a retry with backoff. */
  function retryAfter(what: string, error?: CsErrorCode, report = true, level: 'info' | 'warn' = 'info'): void {
    failures++;
    resolveFlushWaiters(true);
    const delay = backoffDelay(Math.max(0, failures - 1), minBackoffMs, maxBackoffMs, random);
    later('retry', delay, onRetry);
    const message = `${what}; retrying in ${delay} ms.`;
    log[level](message);
    if (report) setStatus('disconnected', error, message);
  }

  // ---- authentication -------------------------------------------------------------------------
  function authenticate(forceNew: boolean): Promise<AuthResult> {
    return (authPending ??= (http ? getToken(http, forceNew) : Promise.resolve(authFailure('httpError', 'No fetch: pass fetchImpl.', false))).then(
      (r) => {
        authPending = undefined;
        onAuthResult(r);
        return r;
      },
    ));
  }

  function onAuthResult(r: AuthResult): void {
    if (closed) return;
    if (r.ok) {
      token = r.token;
      needFreshToken = false;
      refreshIn(token.refreshAt - now());
      if (status.state != 'connected' && !waitingToRetry()) setStatus('connecting');
      if (terminal || waitingToRetry()) return;
      if (mode == 'ws' && !ws) connectWs();
      else pump();
    } else if (r.retryable && token) {
      // A refresh failed; the current token still works for a while. Try again soon.
      log.warn(`Token refresh failed (${r.error}): ${r.message}`);
      refreshIn(backoffDelay(3, minBackoffMs, maxBackoffMs, random));
    } else if (r.retryable) {
      retryAfter(`${r.error}: ${r.message}`, r.error, true, 'warn');
    } else {
      fatal(r.error, r.message);
    }
  }

  function refreshIn(ms: number): void {
    later('refresh', Math.max(0, ms), () => void (stopped() || authenticate(true)));
  }

  /** The collector refused the token (WS close 4401, HTTP 401): get a fresh one, then carry on. */
  function onTokenRefused(why: string): void {
    const fresh = token && now() - token.obtainedAt < 10_000;
    token = undefined;
    needFreshToken = true;
    resolveFlushWaiters(true);
    log.warn(`Session token refused (${why}); getting a new one.`);
    if (fresh) retryAfter(`Fresh session token refused (${why})`, 'authError');
    else void authenticate(true);
  }

  // ---- WebSocket ------------------------------------------------------------------------------
  function connectWs(): void {
    if (!WS || !token || stopped()) return;
    ackedOnThisWs = false;
    wsToken = token.token;
    const conn = openSocket(
      WS,
      endpoint(collectorURL, '/v1/ws', wsToken, true),
      {
        open() {
          if (ws != conn) return;
          wsOpen = true;
          wsOpenedAt = now();
          mode = 'ws';
          setStatus('connected');
          due = buffer.size > 0; // resend what is unacknowledged at once
          pump();
        },
        message(m) {
          if (ws != conn) return;
          if (m.type == 'ack') onAck(m.id as number, 'ws');
          else if (m.type == 'error') {
            const why = `${String(m.error)}: ${String(m.message)}`;
            if (inFlight?.via == 'ws' && m.id === inFlight.id) onBatchRefused(why);
            else log.warn(`Collector error: ${why}`);
          }
        },
        closed: (code, reason, wasOpen) => ws == conn && onWsClosed(code, reason, wasOpen),
      },
      timers,
      timeoutMs,
    );
    ws = conn;
  }

  function closeWs(): void {
    ws?.close(1000);
    ws = undefined;
    wsOpen = false;
  }

  function onWsClosed(code: number, reason: string, wasOpen: boolean): void {
    const batchSize = inFlight?.via == 'ws' ? inFlight.items.length : 0;
    ws = undefined;
    wsOpen = false;
    if (batchSize) releaseInFlight();
    if (stopped()) return;
    // A probe that did not open.
    if (mode == 'http') return scheduleProbe();
    const what = `WebSocket ${wasOpen ? 'closed' : 'failed'} (${code}${reason ? ` ${reason}` : ''})`;
    if (code == 4401) {
      // Opened with a token that has been refreshed since: reconnect with the new one.
      if (token && token.token != wsToken) {
        setStatus('connecting');
        connectWs();
      } else onTokenRefused(what);
      return;
    }
    if (code == 4403) return fatal('authError', `This session belongs to another app (${what}).`);
    if (!wasOpen || (batchSize && !ackedOnThisWs)) wsFailures++;
    // A connection that lived a while resets the backoff.
    if (wasOpen && now() - wsOpenedAt > maxBackoffMs) failures = 0;
    retryAfter(what);
  }

  function onRetry(): void {
    if (stopped()) return;
    if (!token) return void authenticate(needFreshToken);
    if (mode == 'http') {
      due = true;
      return pump();
    }
    lastRetryWasHttp = !lastRetryWasHttp && wsFailures >= WS_FAILURES_BEFORE_HTTP && buffer.size > 0 && !inFlight && !!http;
    if (lastRetryWasHttp) sendBatch('http', true);
    else connectWs();
  }

  function switchToHttp(): void {
    mode = 'http';
    const message = `The WebSocket fails but HTTP works: ${HTTP_MODE} Retrying the WebSocket every ${wsProbeMs / 1000} s.`;
    wsFailures = 0;
    closeWs();
    log.warn(`wsChannelFailure: ${message}`);
    setStatus('disconnected', 'wsChannelFailure', message);
    scheduleProbe();
  }

  function scheduleProbe(): void {
    if (WS && !stopped() && !('probe' in pending))
      later('probe', wsProbeMs, () => {
        if (stopped() || mode != 'http') return;
        if (!token || ws) scheduleProbe();
        else connectWs();
      });
  }

  // ---- batches --------------------------------------------------------------------------------
  function pump(): void {
    if (stopped() || !token || inFlight || waitingToRetry()) return;
    if (!buffer.size) {
      due = false;
      return clear('batch');
    }
    if (mode == 'ws' && !wsOpen) return void (ws || connectWs());
    if (due || buffer.size >= MAX_BATCH_ITEMS) sendBatch(mode);
    else if (!('batch' in pending))
      later('batch', batchIntervalMs, () => {
        due = true;
        pump();
      });
  }

  function sendBatch(via: 'ws' | 'http', trial?: boolean): void {
    if (!token || inFlight) return;
    const items = buffer.takeBatch(batchLimit, MAX_ITEMS_BYTES);
    if (!items.length) return;
    const id = ++batchId;
    const batch = `"sid":${JSON.stringify(sid)},"items":[${items.map((b) => serialized(b).json).join()}]}`;
    const flight: InFlight = (inFlight = { id, items, via, trial });
    if (via == 'ws') {
      if (!ws?.send(`{"type":"batch","id":${id},${batch}`)) {
        ws?.close(4000);
        return onWsClosed(1006, 'send failed', wsOpen);
      }
      flight.timer = timers.setTimeout(() => {
        if (inFlight != flight || !ws) return;
        ws.close(4000, 'ack timeout');
        onWsClosed(4000, `no acknowledgement within ${timeoutMs} ms`, true);
      }, timeoutMs);
    } else if (http) {
      void post(http, ingestURL, `{${batch}`, `Bearer ${token.token}`).then(({ status, json, message }) => {
        if (closed || inFlight != flight) return;
        if (status == 200 && Array.isArray(json.acked)) return onAck(id, trial ? 'trial' : 'http');
        if (status == 400 || status == 413) return onBatchRefused(message);
        releaseInFlight();
        if (status == 401) onTokenRefused(message);
        else retryAfter(`HTTP POST ${ingestURL} failed (${message})`, 'httpError', mode == 'http');
      });
    }
  }

  function releaseInFlight(): void {
    timers.clearTimeout(inFlight?.timer);
    inFlight = undefined;
  }

  /** The collector committed the batch (it validates a batch whole: every item of it). */
  function onAck(id: number, via: 'ws' | 'http' | 'trial'): void {
    const flight = inFlight;
    if (flight?.id !== id) return;
    releaseInFlight();
    buffer.ack(flight.items.map((b) => b.n));
    failures = 0;
    batchLimit = MAX_BATCH_ITEMS;
    if (via == 'ws') {
      ackedOnThisWs = true;
      wsFailures = 0;
    } else if (via == 'trial' && mode == 'ws' && !wsOpen) switchToHttp();
    setStatus('connected', undefined, mode == 'http' ? HTTP_MODE : undefined);
    resolveFlushWaiters();
    pump();
  }

  /** The collector refused the batch as a whole (bad item or too big): halve it until the culprit is alone. */
  function onBatchRefused(why: string): void {
    const flight = inFlight;
    if (!flight) return;
    releaseInFlight();
    const { items } = flight;
    batchLimit = Math.ceil(items.length / 2);
    if (items.length > 1) log.warn(`The collector refused a batch (${why}); retrying in halves.`);
    else {
      const { n, item } = items[0]!;
      buffer.discard(n);
      batchLimit = MAX_BATCH_ITEMS;
      log.error(`The collector refused item n=${n} (${item.kind}): ${why}. Discarded.`, item);
      resolveFlushWaiters();
    }
    due = true;
    pump();
  }

  // ---- flush ----------------------------------------------------------------------------------
  /** Resolves the flushes whose items are all acknowledged (all of them: the attempt failed). */
  function resolveFlushWaiters(all?: boolean): void {
    const first = buffer.firstN;
    flushWaiters = flushWaiters.filter(([upTo, resolve]) => {
      const done = all || first === undefined || first > upTo;
      if (done) resolve();
      return !done;
    });
  }

  function flush(): Promise<void> {
    if (stopped() || !buffer.size || waitingToRetry() || (!token && !authPending)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      flushWaiters.push([buffer.lastN, resolve]);
      due = true;
      pump();
    });
  }

  // ---- pagehide -------------------------------------------------------------------------------
  const win = (globalThis as { window?: Partial<EventTarget> }).window;
  const onPageHide = (): void => {
    try {
      if (closed || !token || !buffer.size) return;
      for (const b of sendFinal(buffer.all(), sid, endpoint(collectorURL, '/v1/ingest', token.token), fetchImpl, MAX_BATCH_ITEMS)) buffer.markTransmitted(b);
    } catch (e) {
      log.error('The pagehide flush failed', e);
    }
  };
  win?.addEventListener?.('pagehide', onPageHide);

  function stopActivity(): void {
    for (const name in pending) clear(name as TimerName);
    releaseInFlight();
    for (const abort of [...aborts]) abort();
    closeWs();
  }

  // ---- public ---------------------------------------------------------------------------------
  function send(input: OutgoingItem): void {
    try {
      if (closed) return log.debug('transport closed: item ignored', input);
      const kind = input?.kind;
      const conferenceID = input?.conferenceID;
      if (!isItemKind(kind) || typeof conferenceID != 'string' || !conferenceID || conferenceID.length > 256)
        return log.warn('transport.send: unknown kind or bad conferenceID; ignored', input);
      const t = typeof input.t == 'number' && isFinite(input.t) ? input.t : now();
      const rest = sanitizer.topLevel(kind, input);
      if (kind == 'stats') {
        if (typeof input.fabricID != 'string' || !input.fabricID) return log.warn('transport.send: stats without fabricID; ignored', input);
        const connection = isPlainObject(input.connection) ? sanitizer.connection(input.connection) : undefined;
        const enc = encoder.encode(input.fabricID, streamEntries(input.streams).map(sanitizer.stream), connection);
        rest.streams = enc.streams;
        delete rest.connection;
        if (enc.connection) rest.connection = enc.connection;
      }
      const item: Json = { ...rest, n: nextN, t };
      // Serialized once here; the buffer keeps the JSON for batching until the item changes.
      const json = JSON.stringify(item);
      const bytes = utf8Length(json);
      if (bytes >= MAX_ITEMS_BYTES) return log.error(`transport.send: a ${kind} item over 1 MiB; ignored`);
      nextN++;
      const dropped = buffer.dropped;
      buffer.push(item as WireItem, json, bytes);
      if (buffer.dropped != dropped) {
        status.droppedSamples = buffer.dropped;
        emit();
      }
      pump();
    } catch (e) {
      log.error('transport.send failed', e);
    }
  }

  return {
    sid,
    start: () =>
      (startPromise ??= closed
        ? Promise.resolve<StartResult>({ ok: false, error: 'appConnectivityError', message: 'The transport is closed.' })
        : authenticate(false).then(
            (r): StartResult => (r.ok ? { ok: true } : { ok: false, error: r.error, message: r.message }),
            (e: unknown): StartResult => ({ ok: false, error: 'httpError', message: errorMessage(e) }),
          )),
    send,
    status: () => ({ ...status }),
    onStatus: (listener) => listeners.on('status', listener),
    flush,
    close: () =>
      (closePromise ??= flush().then(() => {
        closed = true;
        stopActivity();
        resolveFlushWaiters(true);
        win?.removeEventListener?.('pagehide', onPageHide);
        if (!terminal) setStatus('disconnected', undefined, 'Closed.');
        listeners.clear();
      })),
  };
}
