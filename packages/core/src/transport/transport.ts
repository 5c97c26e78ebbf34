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
import { createAuthenticator, type AuthResult, type TokenInfo } from './auth';
import { sendFinal } from './beacon';
import { OutboxBuffer, serialized, type BufferedItem, type WireItem } from './buffer';
import { postBatch, resolveWebSocket, WsConnection, type ServerMessage, type WebSocketCtor } from './channel';
import { DeltaEncoder, streamEntries } from './deltas';
import { stripAddresses } from './privacy';
import { Sanitizer } from './sanitize';
import { backoffDelay, defaultTimers, endpoint, errorMessage, isPlainObject, randomHex, utf8Length, type Timers } from './util';

export type OutgoingKind = 'fabric' | 'event' | 'error' | 'stats' | 'feedback' | 'custom' | 'customStats';

/**
 * An item as the monitor hands it over: protocol fields without `n` (`t` defaults to now).
 * For `stats`: `fabricID`, `streams` (array of `{key?, ...fields}` -- key defaults to
 * `statsType:ssrc` -- or an object keyed by stream key) and `connection?`, always FULL samples: the
 * transport does the delta coding.
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
const ENVELOPE_BYTES = 256;
const WS_FAILURES_BEFORE_HTTP = 3;
const KINDS: ReadonlySet<string> = new Set(['fabric', 'event', 'error', 'stats', 'feedback', 'custom', 'customStats']);

interface InFlight {
  id: number;
  items: BufferedItem[];
  via: 'ws' | 'http';
  /** An HTTP attempt while the WebSocket keeps failing: success switches to HTTP. */
  trial?: boolean;
  timer?: unknown;
}

export function createTransport(options: CreateTransportOptions): Transport {
  const log = options.logger;
  const now = options.now ?? (() => Date.now());
  const timers = options.internal?.timers ?? defaultTimers;
  const random = options.internal?.random ?? Math.random;
  const requestTimeoutMs = options.internal?.requestTimeoutMs ?? 15_000;
  const wsProbeMs = options.internal?.wsProbeMs ?? 60_000;
  const topts = options.options ?? {};
  const bufferSize = Math.max(1, Math.floor(positive(topts.bufferSize, 5000)));
  const batchIntervalMs = Math.max(0, topts.batchIntervalMs ?? 1000);
  const minBackoffMs = positive(topts.minBackoffMs, 500);
  const maxBackoffMs = Math.max(minBackoffMs, positive(topts.maxBackoffMs, 30_000));
  const fetchImpl: typeof fetch | undefined = options.fetchImpl ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
  const WS: WebSocketCtor | undefined = topts.httpOnly ? undefined : resolveWebSocket(options.WebSocketImpl);
  const ingestURL = endpoint(options.collectorURL, '/v1/ingest');

  const sid = randomHex(16);
  let nextN = 1;
  const encoder = new DeltaEncoder();
  const sanitizer = new Sanitizer((m) => log.warn(m));
  const buffer = new OutboxBuffer(bufferSize, () => nextN++, now, (m) => log.warn(`${m}`));

  const auth = fetchImpl
    ? createAuthenticator({
        collectorURL: options.collectorURL,
        appID: options.appID,
        userID: options.userID,
        ...(options.appSecret !== undefined ? { appSecret: options.appSecret } : {}),
        ...(options.tokenGenerator ? { tokenGenerator: options.tokenGenerator } : {}),
        fetchImpl,
        now,
        timers,
        timeoutMs: requestTimeoutMs,
      })
    : undefined;

  // ---- state ----------------------------------------------------------------------------------
  let status: TransportStatus = { state: 'connecting', droppedSamples: 0 };
  const listeners = new Set<(s: TransportStatus) => void>();
  let startPromise: Promise<StartResult> | undefined;
  let token: TokenInfo | undefined;
  let authPending: Promise<AuthResult> | undefined;
  let needFreshToken = false;
  let terminal = false;
  let closed = false;
  let closePromise: Promise<void> | undefined;

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
  let due = false;
  let failures = 0;
  let wsFailures = 0;
  let lastRetryWasHttp = false;

  let retryTimer: unknown;
  let batchTimer: unknown;
  let refreshTimer: unknown;
  let probeTimer: unknown;
  const aborts = new Set<() => void>();
  let flushWaiters: Array<{ upTo: number; resolve: () => void }> = [];

  if (!WS && !topts.httpOnly) log.info('No WebSocket implementation available: sending over HTTP POST /v1/ingest.');

  // ---- status ---------------------------------------------------------------------------------
  function setStatus(next: Partial<TransportStatus> & { state: TransportStatus['state'] }): void {
    const s: TransportStatus = { state: next.state, droppedSamples: buffer.dropped };
    if (next.error !== undefined) s.error = next.error;
    if (next.message !== undefined) s.message = next.message;
    if (s.state === status.state && s.error === status.error && s.message === status.message && s.droppedSamples === status.droppedSamples) return;
    status = s;
    emit();
  }

  function emit(): void {
    const snapshot = { ...status };
    for (const l of [...listeners]) {
      try {
        l(snapshot);
      } catch (e) {
        log.error('transport status listener threw', e);
      }
    }
  }

  // ---- authentication -------------------------------------------------------------------------
  function authenticate(forceNew: boolean): Promise<AuthResult> {
    if (authPending) return authPending;
    if (!auth) {
      const r: AuthResult = { ok: false, error: 'httpError', retryable: false, message: 'No fetch implementation available: pass fetchImpl.' };
      onAuthResult(r);
      return Promise.resolve(r);
    }
    const p = auth.getToken(forceNew).then((r) => {
      authPending = undefined;
      onAuthResult(r);
      return r;
    });
    authPending = p;
    return p;
  }

  function onAuthResult(r: AuthResult): void {
    if (closed) return;
    if (r.ok) {
      token = r.token;
      needFreshToken = false;
      scheduleRefresh();
      if (status.state !== 'connected' && retryTimer === undefined) setStatus({ state: 'connecting' });
      ensureChannel();
      return;
    }
    if (r.retryable && token) {
      // A refresh failed; the current token still works for a while. Try again soon.
      log.warn(`token refresh failed (${r.error}): ${r.message}`);
      setRefreshTimer(backoffDelay(3, minBackoffMs, maxBackoffMs, random));
      return;
    }
    failFlushWaiters();
    if (!r.retryable) {
      terminal = true;
      log.error(`${r.error}: ${r.message}`);
      setStatus({ state: 'failed', error: r.error, message: r.message });
      stopActivity();
      return;
    }
    failures++;
    const delay = scheduleRetry();
    log.warn(`${r.error}: ${r.message} Retrying in ${delay} ms.`);
    setStatus({ state: 'disconnected', error: r.error, message: r.message });
  }

  function scheduleRefresh(): void {
    if (token) setRefreshTimer(token.refreshAt - now());
  }

  function setRefreshTimer(delay: number): void {
    if (refreshTimer !== undefined) timers.clearTimeout(refreshTimer);
    refreshTimer = timers.setTimeout(() => {
      refreshTimer = undefined;
      if (!closed && !terminal) void authenticate(true);
    }, Math.min(Math.max(0, delay), 0x7fffffff));
  }

  /** The collector refused the token (WS close 4401, HTTP 401): get a fresh one, then carry on. */
  function onTokenRefused(why: string): void {
    const fresh = token !== undefined && now() - token.obtainedAt < 10_000;
    token = undefined;
    needFreshToken = true;
    failFlushWaiters();
    log.warn(`the collector refused the session token (${why}); getting a new one.`);
    if (fresh) {
      failures++;
      scheduleRetry();
      setStatus({ state: 'disconnected', error: 'authError', message: `The collector refused a fresh session token (${why}).` });
    } else {
      void authenticate(true);
    }
  }

  // ---- channel --------------------------------------------------------------------------------
  function ensureChannel(): void {
    if (closed || terminal || !token || retryTimer !== undefined) return;
    if (mode === 'ws' && !ws) connectWs();
    else pump();
  }

  function connectWs(): void {
    if (!WS || !token || closed || terminal) return;
    const url = endpoint(options.collectorURL, '/v1/ws', { ws: true, token: token.token });
    ackedOnThisWs = false;
    wsToken = token.token;
    const conn = new WsConnection(WS, url, {
      open: () => {
        if (ws !== conn) return;
        wsOpen = true;
        wsOpenedAt = now();
        if (mode === 'http') {
          mode = 'ws';
          log.info('WebSocket works again: leaving the HTTP fallback.');
        }
        setStatus({ state: 'connected' });
        if (buffer.size) due = true; // resend what is unacknowledged at once
        pump();
      },
      message: (m) => {
        if (ws === conn) onWsMessage(m);
      },
      closed: (code, reason, wasOpen) => {
        if (ws === conn) onWsClosed(code, reason, wasOpen);
      },
    }, timers, requestTimeoutMs);
    ws = conn;
  }

  function onWsMessage(m: ServerMessage): void {
    if (m.type === 'ack') onAck(m.id, m.acked, 'ws');
    else if (m.type === 'error') {
      if (inFlight && inFlight.via === 'ws' && m.id === inFlight.id) onBatchRefused(`${m.error}: ${m.message}`);
      else log.warn(`collector error: ${m.error}: ${m.message}`);
    }
  }

  function onWsClosed(code: number, reason: string, wasOpen: boolean): void {
    const hadBatch = inFlight?.via === 'ws' ? inFlight.items.length : 0;
    ws = undefined;
    wsOpen = false;
    if (inFlight?.via === 'ws') releaseInFlight();
    if (closed || terminal) return;
    if (mode === 'http') {
      // A probe that did not open.
      scheduleProbe();
      return;
    }
    const what = `WebSocket ${wasOpen ? 'closed' : 'failed'} (${code}${reason ? ` ${reason}` : ''})`;
    if (code === 4401) {
      if (token && token.token !== wsToken) {
        // Opened with a token that has been refreshed since: reconnect with the new one.
        setStatus({ state: 'connecting' });
        connectWs();
      } else {
        onTokenRefused(what);
      }
      return;
    }
    if (code === 4403) {
      terminal = true;
      const message = `The collector closed the WebSocket: this session belongs to another app (${what}).`;
      log.error(`${message}`);
      setStatus({ state: 'failed', error: 'authError', message });
      failFlushWaiters();
      stopActivity();
      return;
    }
    if (code === 1009 && hadBatch) batchLimit = Math.max(1, Math.ceil(hadBatch / 2));
    if (!wasOpen || (hadBatch && !ackedOnThisWs)) wsFailures++;
    // A connection that lived a while resets the backoff.
    if (wasOpen && now() - wsOpenedAt > maxBackoffMs) failures = 0;
    failures++;
    failFlushWaiters();
    const delay = scheduleRetry();
    setStatus({ state: 'disconnected', message: `${what}; retrying in ${delay} ms.` });
    log.info(`${what}; retrying in ${delay} ms.`);
  }

  function scheduleRetry(): number {
    if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
    const delay = backoffDelay(Math.max(0, failures - 1), minBackoffMs, maxBackoffMs, random);
    retryTimer = timers.setTimeout(onRetry, delay);
    return delay;
  }

  function onRetry(): void {
    retryTimer = undefined;
    if (closed || terminal) return;
    if (!token) {
      void authenticate(needFreshToken);
      return;
    }
    if (mode === 'http') {
      due = true;
      pump();
      return;
    }
    const tryHttp = !lastRetryWasHttp && wsFailures >= WS_FAILURES_BEFORE_HTTP && buffer.size > 0 && !inFlight && fetchImpl !== undefined;
    lastRetryWasHttp = tryHttp;
    if (tryHttp) sendBatch('http', true);
    else connectWs();
  }

  function switchToHttp(): void {
    mode = 'http';
    const n = wsFailures;
    wsFailures = 0;
    if (ws) {
      ws.close(1000);
      ws = undefined;
      wsOpen = false;
    }
    const message = `WebSocket to ${endpoint(options.collectorURL, '/v1/ws', { ws: true })} failed ${n} times while HTTP works: sending over HTTP POST /v1/ingest; the WebSocket is tried again every ${Math.round(wsProbeMs / 1000)} s.`;
    log.warn(`wsChannelFailure: ${message}`);
    setStatus({ state: 'disconnected', error: 'wsChannelFailure', message });
    scheduleProbe();
  }

  function scheduleProbe(): void {
    if (!WS || closed || terminal || probeTimer !== undefined) return;
    probeTimer = timers.setTimeout(() => {
      probeTimer = undefined;
      if (closed || terminal || mode !== 'http') return;
      if (!token || ws) scheduleProbe();
      else connectWs();
    }, wsProbeMs);
  }

  // ---- batches --------------------------------------------------------------------------------
  function pump(): void {
    if (closed || terminal || !token || inFlight || retryTimer !== undefined) return;
    if (buffer.size === 0) {
      due = false;
      clearBatchTimer();
      return;
    }
    if (mode === 'ws' && !wsOpen) {
      if (!ws) connectWs();
      return;
    }
    if (!due && buffer.size < MAX_BATCH_ITEMS) {
      if (batchTimer === undefined) {
        batchTimer = timers.setTimeout(() => {
          batchTimer = undefined;
          due = true;
          pump();
        }, batchIntervalMs);
      }
      return;
    }
    sendBatch(mode);
  }

  function clearBatchTimer(): void {
    if (batchTimer !== undefined) timers.clearTimeout(batchTimer);
    batchTimer = undefined;
  }

  function sendBatch(via: 'ws' | 'http', trial = false): void {
    if (!token || inFlight) return;
    const items = buffer.takeBatch(batchLimit, MAX_BATCH_BYTES - ENVELOPE_BYTES);
    if (!items.length) return;
    const id = ++batchId;
    const joined = items.map((b) => serialized(b).json).join(',');
    const flight: InFlight = { id, items, via, ...(trial ? { trial } : {}) };
    inFlight = flight;
    if (via === 'ws') {
      const msg = `{"type":"batch","id":${id},"sid":${JSON.stringify(sid)},"items":[${joined}]}`;
      if (!ws || !ws.send(msg)) {
        const conn = ws;
        if (conn) conn.close(4000);
        onWsClosed(1006, 'send failed', wsOpen);
        return;
      }
      flight.timer = timers.setTimeout(() => {
        flight.timer = undefined;
        if (inFlight !== flight || !ws) return;
        const conn = ws;
        conn.close(4000, 'ack timeout');
        onWsClosed(4000, `no acknowledgement within ${requestTimeoutMs} ms`, true);
      }, requestTimeoutMs);
      return;
    }
    if (!fetchImpl) return;
    const body = `{"sid":${JSON.stringify(sid)},"items":[${joined}]}`;
    void postBatch(fetchImpl, ingestURL, token.token, body, requestTimeoutMs, timers, (abort) => {
      aborts.add(abort);
      return () => aborts.delete(abort);
    }).then((r) => {
      if (closed || inFlight !== flight) return;
      if (r.ok) {
        onAck(id, r.acked, flight.trial ? 'trial' : 'http');
        return;
      }
      if (r.status === 400 || r.status === 413) {
        onBatchRefused(r.message);
        return;
      }
      releaseInFlight();
      if (r.status === 401) {
        onTokenRefused(r.message);
        return;
      }
      failures++;
      failFlushWaiters();
      const delay = scheduleRetry();
      const message = `HTTP POST ${ingestURL} failed (${r.message}); retrying in ${delay} ms.`;
      log.info(`${message}`);
      if (mode === 'http') setStatus({ state: 'disconnected', error: 'httpError', message });
    });
  }

  function releaseInFlight(): void {
    if (inFlight?.timer !== undefined) timers.clearTimeout(inFlight.timer);
    inFlight = undefined;
  }

  function onAck(id: number, acked: number[], via: 'ws' | 'http' | 'trial'): void {
    buffer.ack(acked);
    if (!inFlight || inFlight.id !== id) return;
    const flight = inFlight;
    releaseInFlight();
    const ackedSet = new Set(acked);
    for (const b of flight.items) {
      if (ackedSet.has(b.n) || !buffer.discard(b.n)) continue;
      log.warn(`the collector did not acknowledge item n=${b.n} (${b.item.kind}) of an acknowledged batch; discarded.`);
    }
    failures = 0;
    batchLimit = MAX_BATCH_ITEMS;
    if (via === 'ws') {
      ackedOnThisWs = true;
      wsFailures = 0;
    } else if (via === 'trial' && mode === 'ws' && !wsOpen) {
      switchToHttp();
    }
    setStatus(mode === 'http' ? { state: 'connected', message: 'Sending over HTTP POST /v1/ingest.' } : { state: 'connected' });
    if (buffer.size === 0) due = false;
    checkFlushWaiters();
    pump();
  }

  /** The collector refused the batch as a whole (bad item or too big): halve it until the culprit is alone. */
  function onBatchRefused(why: string): void {
    const flight = inFlight;
    if (!flight) return;
    releaseInFlight();
    if (flight.items.length > 1) {
      batchLimit = Math.max(1, Math.ceil(flight.items.length / 2));
      log.warn(`the collector refused a batch of ${flight.items.length} items (${why}); retrying in smaller batches.`);
    } else {
      const b = flight.items[0] as BufferedItem;
      buffer.discard(b.n);
      batchLimit = MAX_BATCH_ITEMS;
      log.error(`the collector refused item n=${b.n} (${b.item.kind}): ${why}. The item is discarded.`, b.item);
      checkFlushWaiters();
    }
    due = true;
    pump();
  }

  // ---- flush ----------------------------------------------------------------------------------
  function checkFlushWaiters(): void {
    if (!flushWaiters.length) return;
    const first = buffer.firstN;
    const keep: typeof flushWaiters = [];
    for (const w of flushWaiters) {
      if (first === undefined || first > w.upTo) w.resolve();
      else keep.push(w);
    }
    flushWaiters = keep;
  }

  function failFlushWaiters(): void {
    const ws_ = flushWaiters;
    flushWaiters = [];
    for (const w of ws_) w.resolve();
  }

  function flush(): Promise<void> {
    if (closed || terminal || buffer.size === 0 || retryTimer !== undefined || (!token && !authPending)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      flushWaiters.push({ upTo: buffer.lastN, resolve });
      due = true;
      pump();
    });
  }

  // ---- pagehide -------------------------------------------------------------------------------
  const win = (globalThis as { window?: { addEventListener?: unknown; removeEventListener?: unknown } }).window;
  const onPageHide = (): void => {
    try {
      if (closed || !token || buffer.size === 0) return;
      const url = endpoint(options.collectorURL, '/v1/ingest', { token: token.token });
      const sent = sendFinal(buffer.all(), sid, url, fetchImpl, MAX_BATCH_ITEMS);
      for (const b of sent) buffer.markTransmitted(b);
      log.debug(`pagehide: handed ${sent.length} of ${buffer.size} unacknowledged items to sendBeacon/keepalive.`);
    } catch (e) {
      log.error('pagehide flush failed', e);
    }
  };
  const hasPageHide = !!win && typeof win.addEventListener === 'function' && typeof win.removeEventListener === 'function';
  if (hasPageHide) (win as Window).addEventListener('pagehide', onPageHide);

  // ---- teardown -------------------------------------------------------------------------------
  function stopActivity(): void {
    for (const t of [retryTimer, batchTimer, probeTimer]) if (t !== undefined) timers.clearTimeout(t);
    retryTimer = batchTimer = probeTimer = undefined;
    if (refreshTimer !== undefined) timers.clearTimeout(refreshTimer);
    refreshTimer = undefined;
    releaseInFlight();
    for (const a of [...aborts]) a();
    aborts.clear();
    if (ws) ws.close(1000);
    ws = undefined;
    wsOpen = false;
  }

  // ---- public ---------------------------------------------------------------------------------
  function send(input: OutgoingItem): void {
    try {
      if (closed) {
        log.debug('transport closed: item ignored', input);
        return;
      }
      if (!isPlainObject(input) || typeof input.kind !== 'string' || !KINDS.has(input.kind)) {
        log.warn('transport.send: not an item of a known kind; ignored', input);
        return;
      }
      const conferenceID = input.conferenceID;
      if (typeof conferenceID !== 'string' || conferenceID.length < 1 || conferenceID.length > 256) {
        log.warn('transport.send: conferenceID must be a string of 1..256 characters; item ignored', input);
        return;
      }
      const t = typeof input.t === 'number' && Number.isFinite(input.t) ? input.t : now();
      let rest = sanitizer.topLevel(input.kind, input);
      delete rest.n;
      delete rest.t;
      if (input.kind === 'stats') {
        if (typeof input.fabricID !== 'string' || !input.fabricID) {
          log.warn('transport.send: stats item without fabricID; ignored', input);
          return;
        }
        let streams: Array<Record<string, unknown>> = streamEntries(input.streams).map((e) => sanitizer.stream(e));
        let connection = isPlainObject(input.connection) ? sanitizer.connection(input.connection) : undefined;
        if (!options.collectIP) ({ connection, streams } = stripAddresses(connection, streams));
        const enc = encoder.encode(input.fabricID, streams as ReturnType<typeof streamEntries>, connection);
        rest = { ...rest, streams: enc.streams };
        delete rest.connection;
        if (enc.connection) rest.connection = enc.connection;
      }
      const item = { n: nextN, t, ...rest } as WireItem;
      const bytes = utf8Length(JSON.stringify(item));
      if (bytes + 1 > MAX_BATCH_BYTES - ENVELOPE_BYTES) {
        log.error(`transport.send: a ${input.kind} item of ${bytes} bytes exceeds the 1 MiB batch limit; ignored`);
        return;
      }
      nextN++;
      const droppedBefore = buffer.dropped;
      buffer.push(item);
      if (buffer.dropped !== droppedBefore) {
        status = { ...status, droppedSamples: buffer.dropped };
        emit();
      }
      pump();
    } catch (e) {
      log.error('transport.send failed', e);
    }
  }

  function start(): Promise<StartResult> {
    if (!startPromise) {
      startPromise = (async (): Promise<StartResult> => {
        if (closed) return { ok: false, error: 'appConnectivityError', message: 'The transport is closed.' };
        const r = await authenticate(false);
        if (r.ok) return { ok: true };
        return { ok: false, error: r.error, message: r.message };
      })().catch((e: unknown) => ({ ok: false as const, error: 'httpError' as const, message: errorMessage(e) }));
    }
    return startPromise;
  }

  async function close(): Promise<void> {
    if (closePromise) return closePromise;
    closePromise = (async () => {
      try {
        await flush();
      } catch (e) {
        log.error('flush on close failed', e);
      }
      closed = true;
      stopActivity();
      auth?.cancel();
      failFlushWaiters();
      if (hasPageHide) (win as Window).removeEventListener('pagehide', onPageHide);
      if (!terminal) setStatus({ state: 'disconnected', message: 'Closed.' });
      listeners.clear();
      if (buffer.size) log.info(`transport closed with ${buffer.size} unacknowledged items.`);
    })();
    return closePromise;
  }

  return {
    sid,
    start,
    send,
    status: () => ({ ...status }),
    onStatus(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    flush,
    close,
  };
}

function positive(v: number | undefined, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}
