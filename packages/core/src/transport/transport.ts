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
import { defined, errorMessage, isConferenceID, isPlainObject, isString, printable, randomHex, utf8Length } from '../util/values';
import { authFailure, getToken, type AuthOptions, type AuthResult, type TokenInfo } from './auth';
import { sendFinal } from './beacon';
import { batchJson, OutboxBuffer, type BufferedItem, type WireItem } from './buffer';
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
  /** 'http' while in WebSocket mode: a trial of HTTP while the WebSocket keeps failing. */
  via: 'ws' | 'http';
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
  const backoff = (attempt: number): number => backoffDelay(attempt, minBackoffMs, maxBackoffMs, random);
  const fetchImpl = o.fetchImpl ?? (typeof fetch == 'function' ? fetch.bind(globalThis) : undefined);
  const WS = opts.httpOnly ? undefined : resolveWebSocket(o.WebSocketImpl);
  const ingestURL = endpoint(collectorURL, '/v1/ingest');
  const aborts = new Set<() => void>();
  const http = fetchImpl && ({ ...o, fetchImpl, now, timers, timeoutMs, aborts } as AuthOptions);
  const warn = (message: string): void => log.warn(message);

  const sid = randomHex(16);
  let nextN = 1;
  const encoder = new DeltaEncoder();
  const sanitizer = createSanitizer(warn, o.collectIP);
  const buffer = new OutboxBuffer(Math.floor(positive(opts.bufferSize, 5000)) || 1, () => nextN++, now, warn);

  // ---- state ----------------------------------------------------------------------------------
  let status: TransportStatus = { state: 'connecting', droppedSamples: 0 };
  const listeners = createEmitter<{ status: (s: TransportStatus) => void }>(log);
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
  let refreshFailures = 0;
  let wsFailures = 0;
  let lastRetryWasHttp = false;
  let flushWaiters: Array<[upTo: number, resolve: () => void]> = [];

  // ---- timers, by name ----------------------------------------------------------------------
  type TimerName = 'retry' | 'batch' | 'refresh' | 'probe' | 'ack';
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
  /** Sends what is buffered now rather than after batchIntervalMs. */
  const sendNow = (): void => {
    due = true;
    pump();
  };

  // ---- status ---------------------------------------------------------------------------------
  /** Emits the status if it changed (droppedSamples included). Cheap when it did not: send() calls it per item. */
  function setStatus(state: TransportStatus['state'], error?: CsErrorCode, message?: string): void {
    const droppedSamples = buffer.dropped;
    if (state == status.state && error == status.error && message == status.message && droppedSamples == status.droppedSamples) return;
    status = defined({ state, error, message, droppedSamples });
    listeners.emit('status', { ...status });
  }

  /** Stops for good: the collector refused the app or the session. */
  function fatal(error: CsErrorCode, message: string): void {
    terminal = true;
    log.error(`${error}: ${message}`);
    setStatus('failed', error, message);
    stopActivity();
  }

  /** Counts a failure and schedules a retry with backoff. */
  function retryAfter(what: string, error?: CsErrorCode, report = true, level: 'info' | 'warn' = 'info'): void {
    resolveFlushWaiters(true);
    const delay = backoff(failures++);
    later('retry', delay, onRetry);
    const message = `${what}; retrying in ${delay} ms.`;
    log[level](message);
    if (report) setStatus('disconnected', error, message);
  }

  function onRetry(): void {
    if (!token) return void authenticate(needFreshToken);
    // While the WebSocket keeps failing, every other retry is an HTTP POST of the pending batch.
    lastRetryWasHttp = !lastRetryWasHttp && mode == 'ws' && wsFailures >= WS_FAILURES_BEFORE_HTTP && buffer.size > 0 && !inFlight && !!http;
    if (lastRetryWasHttp) return sendBatch('http');
    sendNow();
  }

  // ---- authentication -------------------------------------------------------------------------
  function authenticate(forceNew: boolean): Promise<AuthResult> {
    return (authPending ??= (http ? getToken(http, forceNew) : Promise.resolve(authFailure('httpError', 'No fetch: pass fetchImpl.', false))).then(
      (r) => {
        authPending = undefined;
        if (stopped()) return r;
        if (r.ok) {
          token = r.token;
          needFreshToken = false;
          refreshFailures = 0;
          refresh(token.refreshAt - now());
          if (status.state != 'connected' && !waitingToRetry()) setStatus('connecting');
          pump();
        } else if (r.retryable && token) {
          // A refresh failed; the current token still works for a while. Try again, backing off
          // (a fixed delay was a token request every few seconds for as long as the collector is down).
          warn(`Token refresh failed (${r.error}): ${r.message}`);
          refresh(backoff(3 + refreshFailures++));
        } else if (r.retryable) retryAfter(`${r.error}: ${r.message}`, r.error, true, 'warn');
        else fatal(r.error, r.message);
        return r;
      },
    ));
  }

  function refresh(ms: number): void {
    later('refresh', ms, () => void authenticate(true));
  }

  /** The collector refused the token (WS close 4401, HTTP 401): get a fresh one, then carry on. */
  function onTokenRefused(why: string): void {
    const fresh = token && now() - token.obtainedAt < 10_000;
    token = undefined;
    needFreshToken = true;
    warn(`Session token refused (${why}); getting a new one.`);
    if (fresh) retryAfter(`Fresh session token refused (${why})`, 'authError');
    else {
      resolveFlushWaiters(true);
      void authenticate(true);
    }
  }

  // ---- WebSocket ------------------------------------------------------------------------------
  function connectWs(): void {
    ackedOnThisWs = false;
    wsToken = token!.token;
    const conn = (ws = openSocket(
      WS!,
      endpoint(collectorURL, '/v1/ws', wsToken, true),
      timers,
      timeoutMs,
      () => {
        wsOpen = true;
        wsOpenedAt = now();
        mode = 'ws';
        setStatus('connected');
        sendNow(); // resend what is unacknowledged at once
      },
      (m) => {
        // Any JSON may come: strict comparisons and printable() (`==` and String() throw on
        // {"toString": 1}, and that would throw into the WebSocket's event dispatch).
        // Only the channel that carries the batch acknowledges it (a WebSocket ack must not remove an
        // HTTP batch that may yet fail).
        const forInFlight = inFlight?.via == 'ws' && m.id === inFlight.id;
        if (m.type === 'ack') {
          if (forInFlight) onAck();
        } else if (m.type === 'error') {
          const why = `${printable(m.error)}: ${printable(m.message)}`;
          if (!forInFlight) warn(`Collector error: ${why}`);
          // Storage failed ("resend later"): not a refusal, so nothing is discarded.
          else if (m.error === 'internal') {
            releaseInFlight();
            retryAfter(`Collector could not store a batch (${why})`, undefined, false, 'warn');
          } else onBatchRefused(why);
        }
      },
      (code, reason, wasOpen) => ws == conn && onWsClosed(code, reason, wasOpen),
    ));
  }

  function closeWs(): void {
    ws?.close(1000);
    ws = undefined;
    wsOpen = false;
  }

  function onWsClosed(code: number, reason: string, wasOpen: boolean): void {
    const unacknowledged = inFlight?.via == 'ws';
    if (unacknowledged) releaseInFlight();
    closeWs();
    // In HTTP mode this was a probe: the probe timer tries again.
    if (stopped() || mode == 'http') return;
    const what = `WebSocket ${wasOpen ? 'closed' : 'failed'} (${code}${reason ? ` ${reason}` : ''})`;
    if (code == 4403) return fatal('authError', `This session belongs to another app (${what}).`);
    if (code == 4401) {
      // Opened with a token that has been refreshed since: reconnect with the new one.
      if (token && token.token != wsToken) {
        setStatus('connecting');
        pump();
      } else onTokenRefused(what);
      return;
    }
    if (!wasOpen || (unacknowledged && !ackedOnThisWs)) wsFailures++;
    // A connection that lived a while resets the backoff.
    if (wasOpen && now() - wsOpenedAt > maxBackoffMs) failures = 0;
    retryAfter(what);
  }

  /** HTTP mode: tries the WebSocket again every wsProbeMs; its open() switches back. */
  function probeLater(): void {
    later('probe', wsProbeMs, () => {
      if (mode == 'ws') return;
      if (token && !ws) connectWs();
      probeLater();
    });
  }

  // ---- batches --------------------------------------------------------------------------------
  /** Does what is due next: connect, send a batch, or wait for the batch interval. */
  function pump(): void {
    if (stopped() || !token || inFlight || waitingToRetry()) return;
    if (mode == 'ws' && !wsOpen) return void (ws || connectWs());
    if (!buffer.size) {
      due = false;
      return clear('batch');
    }
    if (due || buffer.size >= MAX_BATCH_ITEMS) sendBatch(mode);
    else if (!('batch' in pending)) later('batch', batchIntervalMs, sendNow);
  }

  function sendBatch(via: 'ws' | 'http'): void {
    const items = buffer.takeBatch(batchLimit, MAX_ITEMS_BYTES);
    const id = ++batchId;
    const flight: InFlight = (inFlight = { id, items, via });
    if (via == 'ws') {
      if (!ws!.send(batchJson(sid, items, `"type":"batch","id":${id},`))) {
        ws!.close(4000);
        return onWsClosed(1006, 'send failed', true);
      }
      later('ack', timeoutMs, () => {
        ws!.close(4000, 'ack timeout');
        onWsClosed(4000, `no acknowledgement within ${timeoutMs} ms`, true);
      });
    } else {
      void post(http!, ingestURL, batchJson(sid, items), `Bearer ${token!.token}`).then(({ status, json, message }) => {
        if (inFlight != flight) return;
        if (status == 200 && Array.isArray(json.acked)) return onAck();
        if (status == 400 || status == 413) return onBatchRefused(message);
        releaseInFlight();
        if (status == 401) onTokenRefused(message);
        else retryAfter(`HTTP POST ${ingestURL} failed (${message})`, 'httpError', mode == 'http');
      });
    }
  }

  function releaseInFlight(): void {
    clear('ack');
    inFlight = undefined;
  }

  /** The collector committed the batch in flight (it validates a batch whole: every item of it). */
  function onAck(): void {
    const { items, via } = inFlight!;
    releaseInFlight();
    buffer.ack(items.map((b) => b.n));
    failures = 0;
    batchLimit = MAX_BATCH_ITEMS;
    if (via == 'ws') {
      ackedOnThisWs = true;
      wsFailures = 0;
    } else if (mode == 'ws' && !wsOpen) {
      // An HTTP trial worked while the WebSocket does not: switch to HTTP.
      mode = 'http';
      wsFailures = 0;
      closeWs();
      const message = `WebSocket fails, HTTP works: ${HTTP_MODE} WebSocket retried every ${wsProbeMs / 1000} s.`;
      warn(`wsChannelFailure: ${message}`);
      setStatus('disconnected', 'wsChannelFailure', message);
      probeLater();
    }
    setStatus('connected', undefined, mode == 'http' ? HTTP_MODE : undefined);
    resolveFlushWaiters();
    pump();
  }

  /** The collector refused the batch as a whole (bad item or too big): halve it until the culprit is alone. */
  function onBatchRefused(why: string): void {
    const { items } = inFlight!;
    releaseInFlight();
    batchLimit = Math.ceil(items.length / 2);
    if (items.length > 1) warn(`Batch refused (${why}); retrying in halves.`);
    else {
      const { n, item } = items[0]!;
      buffer.ack([n]);
      batchLimit = MAX_BATCH_ITEMS;
      log.error(`Collector refused item n=${n} (${item.kind}): ${why}. Discarded.`, item);
      resolveFlushWaiters();
    }
    sendNow();
  }

  // ---- flush ----------------------------------------------------------------------------------
  /** Resolves the flushes whose items are all acknowledged (all of them: the attempt failed). */
  function resolveFlushWaiters(all?: boolean): void {
    const first = buffer.all()[0]?.n ?? Infinity;
    flushWaiters = flushWaiters.filter(([upTo, resolve]) => {
      const done = all || first > upTo;
      if (done) resolve();
      return !done;
    });
  }

  function flush(): Promise<void> {
    if (stopped() || !buffer.size || waitingToRetry() || (!token && !authPending)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      flushWaiters.push([nextN - 1, resolve]);
      sendNow();
    });
  }

  // ---- pagehide -------------------------------------------------------------------------------
  const win = (globalThis as { window?: Partial<EventTarget> }).window;
  const onPageHide = (): void => {
    try {
      if (closed || !token) return;
      for (const b of sendFinal(buffer.all(), sid, endpoint(collectorURL, '/v1/ingest', token.token), fetchImpl, MAX_BATCH_ITEMS)) buffer.markTransmitted(b);
    } catch (e) {
      log.error('pagehide flush failed', e);
    }
  };
  win?.addEventListener?.('pagehide', onPageHide);

  function stopActivity(): void {
    resolveFlushWaiters(true);
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
      if (!isItemKind(kind) || !isConferenceID(input.conferenceID) || (kind == 'stats' && !(isString(input.fabricID) && input.fabricID)))
        return log.warn('transport.send: unknown kind, bad conferenceID or stats without fabricID; ignored', input);
      const item = sanitizer.item(kind, input);
      // (An encoded sample without connection sets it undefined: what the app passed is not sent.)
      if (kind == 'stats')
        Object.assign(
          item,
          encoder.encode(
            input.fabricID as string,
            streamEntries(input.streams).map(sanitizer.stream),
            isPlainObject(input.connection) ? sanitizer.connection(input.connection) : undefined,
            true,
          ),
        );
      item.n = nextN;
      item.t = Number.isFinite(input.t) ? input.t : now();
      // Serialized once here; the buffer keeps the JSON for batching until the item changes.
      const json = JSON.stringify(item);
      const bytes = utf8Length(json);
      if (bytes >= MAX_ITEMS_BYTES) return log.error(`transport.send: a ${kind} item over 1 MiB; ignored`);
      nextN++;
      buffer.push(item as WireItem, json, bytes);
      setStatus(status.state, status.error, status.message); // droppedSamples
      pump();
    } catch (e) {
      log.error('transport.send failed', e);
    }
  }

  return {
    sid,
    start: () =>
      (startPromise ??= (closed ? Promise.resolve(authFailure('appConnectivityError', 'The transport is closed.')) : authenticate(false)).then(
        (r): StartResult => (r.ok ? { ok: true } : r),
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
        win?.removeEventListener?.('pagehide', onPageHide);
        if (!terminal) setStatus('disconnected', undefined, 'Closed.');
        listeners.clear();
      })),
  };
}
