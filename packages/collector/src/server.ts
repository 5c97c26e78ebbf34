// The collector: HTTP + WebSocket server wiring auth, ingest, query API, summaries and static files.
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  AppRegistry,
  COLLECTOR_ISSUER,
  checkBasicAuth,
  claimsProblem,
  decodeJwt,
  hmacHex,
  randomId,
  safeEqual,
  signJwt,
  tokenRequestSigningString,
  verifyJwtSignature,
} from './auth';
import {
  HttpError,
  clientAddress,
  corsHeaders,
  parseJsonBody,
  preflightHeaders,
  readBody,
  sendError,
  sendJson,
  sendJsonText,
} from './http';
import { GUESS_CODES, createAuthLimiter } from './authLimiter';
import { createConnectionLimiter } from './connectionLimiter';
import { createConsoleLogger } from './logger';
import { chartJsUmdPath, dashboardDir, defaultRepoRoot } from './paths';
import { isFinalState, stateAfterEvent } from './protocol';
import { MAX_SERIES_POINTS } from './query';
import { serveFile, serveStatic, type StaticRoot } from './static';
import { SqliteStorage } from './storage/sqlite';
import { ConferenceViewError } from './storage/conferenceViewError';
import { DEFAULT_READER_HEAP_MB } from './storage/readerPool';
import { Summarizer } from './summary';
import { inThreadViews } from './views';
import { clip } from './text';
import type { AppCredentials, Batch, Collector, CollectorOptions, ConferenceViews, Storage, TokenClaims } from './types';
import { LIMITS, isPlainObject, validateBatch, validateTokenRequest, validateWsBatch } from './validate';

const TOKEN_BODY_LIMIT = 64 * 1024;
/**
 * Retry-After of a WebSocket upgrade refused for too many connections: when a slot frees is
 * unknown; this matches the SDK's longest backoff.
 */
const CONNECTIONS_RETRY_AFTER_S = 30;

const WS_BAD_MESSAGES_BEFORE_CLOSE = 3;
/**
 * Invalid batches in a row (no acknowledged batch in between) before a WebSocket is closed with
 * 4400. The SDK splits a refused batch in halves until the bad item is alone: one bad item costs it
 * at most 10 refusals in a row (500 -> 250 -> ... -> 1), so 50 leaves room for several adjacent bad
 * items. A closed SDK reconnects with backoff and resends what is unacknowledged: nothing is lost.
 */
export const WS_INVALID_BATCHES_BEFORE_CLOSE = 50;

interface IngestAuth {
  appID: string;
  userID: string;
  exp: number;
}

type Check<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

function appsList(apps: CollectorOptions['apps']): AppCredentials[] {
  if (Array.isArray(apps)) return [...(apps as readonly AppCredentials[])];
  return Object.entries(apps as Readonly<Record<string, string>>).map(([appID, secret]) => ({ appID, secret }));
}

/** The query string of a request target (never throws, unlike new URL on targets like `//[`). */
function queryOf(target: string): URLSearchParams {
  const q = target.indexOf('?');
  if (q < 0) return new URLSearchParams();
  const hash = target.indexOf('#', q);
  return new URLSearchParams(target.slice(q + 1, hash < 0 ? undefined : hash));
}

/** ws delivers a Buffer (default binaryType); the other shapes are handled for completeness. */
function rawDataText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket once the answer is out.
 * Closed, not just ended: the server's sockets allow half-open connections, and a refused client
 * that never closes its side would otherwise keep the socket, the very thing a cap protects.
 */
function refuseUpgrade(socket: Duplex, status: number, code: string | null, message = '', headers: Record<string, string> = {}): void {
  const body = code === null ? '' : JSON.stringify({ error: code, message });
  const type: Record<string, string> = code === null ? {} : { 'Content-Type': 'application/json' };
  const fields = { ...headers, ...type, Connection: 'close', 'Content-Length': String(Buffer.byteLength(body)) };
  const head = Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  // The HTTP server stops listening for this socket's errors once it hands over an upgrade: a
  // client that resets the connection (the answer's write fails with ECONNRESET or EPIPE) would
  // otherwise end the collector with an uncaught 'error'. Node destroys the socket either way.
  socket.on('error', () => {});
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${body}`);
}

function formatUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

/** The largest epoch-ms time a query may name (ECMAScript's last date, year 275760). */
const MAX_EPOCH_MS = 8.64e15;

export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const logger = options.logger ?? createConsoleLogger();
  const clock = options.clock ?? Date.now;
  const apps = new AppRegistry(appsList(options.apps));
  if (apps.size === 0) throw new Error('collector: configure at least one app (appID and secret)');
  const host = options.host ?? '127.0.0.1';
  const maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  const maxBatchItems = options.maxBatchItems ?? LIMITS.itemsPerBatch;
  const tokenTtlMs = options.tokenTtlMs ?? 60 * 60 * 1000;
  const maxSkewMs = options.tokenRequestMaxSkewMs ?? 5 * 60 * 1000;
  const summaryDelayMs = options.summaryDelayMs ?? 30_000;
  const intervalMs = options.summaryCheckIntervalMs ?? Math.max(10, Math.min(1000, Math.floor(summaryDelayMs / 4)));
  const addressOf = (req: IncomingMessage): string => clientAddress(req, options.trustProxy === true);
  const authLimiter = createAuthLimiter({ maxFailures: options.authFailuresPerMinute ?? 20, windowMs: 60_000, clock });
  const maxConnections = options.maxConnections ?? 10_000;
  const maxConnectionsPerAddress = options.maxConnectionsPerAddress ?? 1000;
  if (!(Number.isSafeInteger(maxConnections) && maxConnections >= 1)) throw new Error('collector: maxConnections must be an integer >= 1');
  if (!(Number.isSafeInteger(maxConnectionsPerAddress) && maxConnectionsPerAddress >= 1)) {
    throw new Error('collector: maxConnectionsPerAddress must be an integer >= 1');
  }
  const connections = createConnectionLimiter({ maxConnections, maxPerAddress: maxConnectionsPerAddress, clock, logEveryMs: 60_000 });
  const readerWorkers = options.readerWorkers ?? 1;
  const readerQueue = options.readerQueue ?? 8;
  const readerTimeoutMs = options.readerTimeoutMs ?? 60_000;
  const readerHeapMb = options.readerHeapMb ?? DEFAULT_READER_HEAP_MB;
  if (!(Number.isInteger(readerWorkers) && readerWorkers >= 0)) throw new Error('collector: readerWorkers must be an integer >= 0');
  if (!(Number.isInteger(readerQueue) && readerQueue >= 0)) throw new Error('collector: readerQueue must be an integer >= 0');
  if (!(readerTimeoutMs > 0)) throw new Error('collector: readerTimeoutMs must be > 0');
  if (!(Number.isInteger(readerHeapMb) && readerHeapMb >= 1)) throw new Error('collector: readerHeapMb must be an integer >= 1 (MB)');
  const ownStorage = !options.storage;
  const storage: Storage = options.storage ?? new SqliteStorage({ path: options.db ?? ':memory:' });
  // Whole-conference reads in worker threads when the storage can (a SQLite file), else in this
  // thread as before (':memory:', other storages, readerWorkers 0).
  let offThread: ConferenceViews | null = null;
  try {
    offThread = readerWorkers > 0 && storage.openViews ? storage.openViews({ workers: readerWorkers, maxQueue: readerQueue, timeoutMs: readerTimeoutMs, heapMb: readerHeapMb, logger }) : null;
  } catch (e) {
    if (ownStorage) await storage.close();
    throw e;
  }
  const views: ConferenceViews = offThread ?? inThreadViews(storage);

  const summarizer = new Summarizer({ storage, views, logger, clock, delayMs: summaryDelayMs, intervalMs });
  const purgeTimer = setInterval(() => {
    storage.purgeExpired(clock()).catch((e: unknown) => logger.error('purge failed', { error: String(e) }));
  }, 60_000);
  purgeTimer.unref();

  const dashboard: StaticRoot = {
    dir: dashboardDir(),
    headers: {
      'Content-Security-Policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
    },
  };
  const repoRoot = options.repoRoot ?? defaultRepoRoot();
  const examples: StaticRoot = { dir: `${repoRoot}/examples`, listings: true };
  const packages: StaticRoot = { dir: `${repoRoot}/packages`, deny: ['node_modules'], listings: true };
  let chartPath: string | null = null;
  try {
    chartPath = chartJsUmdPath();
  } catch (e) {
    logger.warn('chart.js not found: the dashboard will show no charts', { error: e instanceof Error ? e.message : String(e) });
  }

  // ---------------------------------------------------------------- auth

  function verifyIngestToken(token: string | null | undefined): Check<IngestAuth> {
    if (!token) return { ok: false, code: 'missing_token', message: 'send the token from POST /v1/token (Authorization: Bearer, or ?token=)' };
    const jwt = decodeJwt(token);
    if (!jwt) return { ok: false, code: 'bad_token', message: 'the token is not a compact HS256 JWT' };
    const problem = claimsProblem(jwt.claims, false);
    if (problem) return { ok: false, code: 'bad_token', message: problem };
    const c = jwt.claims as unknown as TokenClaims;
    const secret = apps.secretOf(c.appID);
    if (secret === undefined) return { ok: false, code: 'unknown_app', message: `no app ${JSON.stringify(clip(c.appID))} on this collector` };
    if (!verifyJwtSignature(jwt, secret)) return { ok: false, code: 'bad_signature', message: 'the token signature is wrong' };
    if (c.iss !== COLLECTOR_ISSUER) {
      return { ok: false, code: 'bad_token', message: 'not a collector session token: exchange it at POST /v1/token first' };
    }
    if (c.exp * 1000 <= clock()) return { ok: false, code: 'expired', message: 'the token expired: get a new one from POST /v1/token' };
    return { ok: true, value: { appID: c.appID, userID: c.userID, exp: c.exp } };
  }

  async function issueToken(body: unknown): Promise<Check<{ token: string; expiresAt: number }> & { appID?: string }> {
    const v = validateTokenRequest(body);
    if (!v.ok) return { ok: false, code: 'bad_request', message: v.message };
    const r = v.value;
    const secret = apps.secretOf(r.appID);
    if (secret === undefined) return { ok: false, code: 'unknown_app', message: `no app ${JSON.stringify(clip(r.appID))} on this collector` };
    const now = clock();
    if (r.way === 'signed') {
      const expected = hmacHex(secret, tokenRequestSigningString(r.appID, r.userID, r.ts, r.nonce));
      if (!safeEqual(expected, r.signature)) {
        return { ok: false, code: 'bad_signature', message: 'signature must be hex(HMAC-SHA256(appSecret, appID\\nuserID\\nts\\nnonce))' };
      }
      if (Math.abs(now - r.ts) > maxSkewMs) {
        return { ok: false, code: 'expired', message: `ts is more than ${maxSkewMs / 1000} s away from the collector's clock` };
      }
      if (!(await storage.claimOnce(r.appID, 'nonce', r.nonce, r.ts + 2 * maxSkewMs))) {
        return { ok: false, code: 'replayed', message: 'this nonce was already used: use a fresh random nonce per request' };
      }
    } else {
      const jwt = decodeJwt(r.thirdPartyToken);
      if (!jwt) return { ok: false, code: 'bad_token', message: 'thirdPartyToken is not a compact HS256 JWT' };
      if (!verifyJwtSignature(jwt, secret)) {
        return { ok: false, code: 'bad_signature', message: "thirdPartyToken is not signed with this app's secret" };
      }
      const problem = claimsProblem(jwt.claims, true);
      if (problem) return { ok: false, code: 'bad_token', message: problem };
      const c = jwt.claims as unknown as TokenClaims;
      if (c.exp * 1000 <= now) return { ok: false, code: 'expired', message: 'thirdPartyToken expired' };
      if (c.appID !== r.appID || c.userID !== r.userID) {
        return { ok: false, code: 'mismatch', message: "the token's appID/userID do not match the request's" };
      }
      if (!(await storage.claimOnce(r.appID, 'jti', c.jti, c.exp * 1000))) {
        return { ok: false, code: 'replayed', message: 'this thirdPartyToken (jti) was already exchanged: mint a new one' };
      }
    }
    const exp = Math.floor((now + tokenTtlMs) / 1000);
    const claims: TokenClaims = { appID: r.appID, userID: r.userID, exp, jti: randomId(), iat: Math.floor(now / 1000), iss: COLLECTOR_ISSUER };
    return { ok: true, appID: r.appID, value: { token: signJwt(claims, secret), expiresAt: exp * 1000 } };
  }

  // ---------------------------------------------------------------- ingest

  type IngestOutcome = { ok: true; acked: number[] } | { ok: false; status: number; code: string; message: string };

  async function ingest(auth: IngestAuth, batch: Batch, via: string): Promise<IngestOutcome> {
    const result = await storage.ingest({ appID: auth.appID, userID: auth.userID, sid: batch.sid, receivedAt: clock() }, batch.items);
    if (!result.ok) {
      logger.warn('ingest refused', { via, code: result.error, appID: auth.appID, sid: batch.sid });
      return { ok: false, status: 403, code: result.error, message: result.message };
    }
    logger.debug('batch stored', { via, appID: auth.appID, sid: batch.sid, stored: result.stored, duplicates: result.duplicates });
    const ends = batch.items.some((i) => i.kind === 'event' && isFinalState(stateAfterEvent(i.event) ?? 'new'));
    if (ends && result.stored > 0) summarizer.kick();
    return { ok: true, acked: result.acked };
  }

  function bearer(req: IncomingMessage, query: URLSearchParams): string | null {
    const h = req.headers.authorization;
    if (typeof h === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      if (m?.[1]) return m[1];
    }
    return query.get('token');
  }

  /**
   * An integer query parameter: absent -> the default; present, it must be a decimal integer from
   * min to max (400 otherwise, rather than silently using the default).
   */
  function intParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
    const values = query.getAll(name);
    if (values.length === 0) return fallback;
    const v = values[0]!;
    const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
    if (values.length > 1 || !(n >= min && n <= max)) {
      const got = values.length > 1 ? `${values.length} values` : JSON.stringify(clip(v, 50));
      throw new HttpError(400, 'bad_request', `?${name} must be an integer from ${min} to ${max} (got ${got})`);
    }
    return n;
  }

  // ---------------------------------------------------------------- HTTP routes

  function refuse(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
    // Messages repeat client input (each piece clipped where it is built); this bounds the whole.
    const text = clip(message, 1000);
    logger.warn('request refused', { method: req.method, path: clip((req.url ?? '').split('?')[0] ?? ''), status, code, message: text, remote: addressOf(req) });
    sendError(res, status, code, text, extra);
  }

  /** Seconds until the client's address may authenticate again (0: now). */
  const blockedSeconds = (req: IncomingMessage): number => Math.ceil(authLimiter.blockedFor(addressOf(req)) / 1000);

  /** Answers 429 (body unread) when the client's address is over its failed-auth limit; true if it did. */
  function refuseIfBlocked(req: IncomingMessage, res: ServerResponse, extra: Record<string, string> = {}): boolean {
    const seconds = blockedSeconds(req);
    if (!seconds) return false;
    req.resume();
    const message = `too many failed authentications from this address: try again in ${seconds} s`;
    refuse(req, res, 429, 'too_many_failures', message, { ...extra, 'Retry-After': String(seconds) });
    return true;
  }

  /** Counts a failed token or ingest authentication when it guessed at a secret. */
  const noteFailure = (req: IncomingMessage, code: string): void => {
    if (GUESS_CODES.has(code)) authLimiter.fail(addressOf(req));
  };

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = corsHeaders(req);
    if (refuseIfBlocked(req, res, cors)) return;
    const body = parseJsonBody(await readBody(req, res, TOKEN_BODY_LIMIT));
    const out = await issueToken(body);
    if (!out.ok) {
      noteFailure(req, out.code);
      refuse(req, res, out.code === 'bad_request' ? 400 : 401, out.code, out.message, cors);
      return;
    }
    logger.info('token issued', { appID: out.appID });
    sendJson(res, 200, out.value, cors);
  }

  async function handleIngest(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const cors = corsHeaders(req);
    if (refuseIfBlocked(req, res, cors)) return;
    const auth = verifyIngestToken(bearer(req, query));
    if (!auth.ok) {
      noteFailure(req, auth.code);
      req.resume();
      refuse(req, res, 401, auth.code, auth.message, cors);
      return;
    }
    const body = parseJsonBody(await readBody(req, res, maxBatchBytes));
    const v = validateBatch(body, maxBatchItems);
    if (!v.ok) {
      refuse(req, res, 400, 'invalid_batch', `${v.message} (nothing of the batch was stored)`, cors);
      return;
    }
    const out = await ingest(auth.value, v.value, 'http');
    if (!out.ok) {
      refuse(req, res, out.status, out.code, out.message, cors);
      return;
    }
    sendJson(res, 200, { acked: out.acked }, cors);
  }

  async function handleQuery(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, appID: string, conferenceID: string | null): Promise<void> {
    if (refuseIfBlocked(req, res)) return;
    const auth = checkBasicAuth(req.headers.authorization, apps);
    if (!auth.ok) {
      if (auth.code === 'wrong') authLimiter.fail(addressOf(req));
      refuse(req, res, 401, 'unauthorized', auth.message);
      return;
    }
    if (auth.appID !== appID) {
      refuse(req, res, 403, 'forbidden', "these credentials cannot read another app's data");
      return;
    }
    if (conferenceID === null) {
      const limit = intParam(query, 'limit', 1, 1000, 200);
      sendJson(res, 200, { conferences: await storage.listConferences(appID, limit) });
      return;
    }
    const maxPoints = intParam(query, 'maxPoints', 2, 100_000, MAX_SERIES_POINTS);
    // ?from / ?to (epoch ms): the samples of a window, to read a long conference in pages.
    const end = (name: string): number | undefined => (query.has(name) ? intParam(query, name, 0, MAX_EPOCH_MS, 0) : undefined);
    const window = { from: end('from'), to: end('to') };
    if (window.from !== undefined && window.to !== undefined && window.from >= window.to) {
      throw new HttpError(400, 'bad_request', `?from must be before ?to (got ${window.from} and ${window.to})`);
    }
    // A client that leaves (closed tab, timeout, reload) must not cost a whole-conference read: one
    // still waiting is dropped; one already running finishes, and its answer is not written.
    const clientLeft = new AbortController();
    const onClose = (): void => {
      if (!res.writableEnded) clientLeft.abort();
    };
    if (res.destroyed) onClose();
    else res.once('close', onClose);
    const readFields = { appID, conferenceID: clip(conferenceID), remote: addressOf(req) };
    let body: Uint8Array | null;
    try {
      body = await views.conferenceDetailJson(appID, conferenceID, maxPoints, window, clientLeft.signal);
    } catch (e) {
      if (clientLeft.signal.aborted) {
        const ran = e !== clientLeft.signal.reason;
        logger.info(ran ? 'conference read not sent: the client left' : 'conference read dropped: the client left before it started', readFields);
        return;
      }
      if (!(e instanceof ConferenceViewError)) throw e;
      const retry: Record<string, string> = e.retryAfterSeconds ? { 'Retry-After': String(e.retryAfterSeconds) } : {};
      throw new HttpError(e.status, e.code, e.message, retry);
    }
    if (clientLeft.signal.aborted) {
      logger.info('conference read not sent: the client left', readFields);
      return;
    }
    res.off('close', onClose);
    if (!body) {
      refuse(req, res, 404, 'not_found', `no conference ${JSON.stringify(clip(conferenceID))} for app ${JSON.stringify(clip(appID))}`);
      return;
    }
    sendJsonText(res, 200, body);
  }

  function decodeSegment(s: string): string {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, 'bad_request', 'the path is not valid percent-encoding');
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const rawPath = target.split('?')[0] ?? '/';
    // Node's parser passes targets that are no URL (`//[`, `http://x:99999/`): a clear 400, not a 500.
    // Only origin-form targets (`/path?query`) are routed; anything else ends at a 404 below.
    if (!URL.canParse(target, 'http://collector.invalid')) {
      throw new HttpError(400, 'bad_request', `the request target is not a valid URL: ${JSON.stringify(clip(target, 100))}`);
    }
    const query = queryOf(target);
    const method = req.method ?? 'GET';
    const isRead = method === 'GET' || method === 'HEAD';

    if (rawPath === '/v1/token' || rawPath === '/v1/ingest') {
      if (method === 'OPTIONS') {
        res.writeHead(204, preflightHeaders(req));
        res.end();
        return;
      }
      if (method !== 'POST') {
        refuse(req, res, 405, 'method_not_allowed', `use POST ${rawPath}`, { ...corsHeaders(req), Allow: 'POST, OPTIONS' });
        return;
      }
      if (rawPath === '/v1/token') await handleToken(req, res);
      else await handleIngest(req, res, query);
      return;
    }

    const q = /^\/v1\/apps\/([^/]+)\/conferences(?:\/([^/]+))?\/?$/.exec(rawPath);
    if (q) {
      if (!isRead) {
        refuse(req, res, 405, 'method_not_allowed', 'the query API is read-only (GET)', { Allow: 'GET, HEAD' });
        return;
      }
      await handleQuery(req, res, query, decodeSegment(q[1]!), q[2] === undefined ? null : decodeSegment(q[2]));
      return;
    }
    if (rawPath === '/v1/ws') {
      refuse(req, res, 426, 'upgrade_required', 'GET /v1/ws is a WebSocket endpoint', { Upgrade: 'websocket' });
      return;
    }
    if (rawPath === '/healthz') {
      if (isRead) sendJson(res, 200, { ok: true });
      else refuse(req, res, 405, 'method_not_allowed', 'use GET /healthz', { Allow: 'GET, HEAD' });
      return;
    }
    if (rawPath.startsWith('/v1/')) {
      refuse(req, res, 404, 'not_found', `no API endpoint ${clip(method, 20)} ${clip(rawPath)}`);
      return;
    }

    if (!isRead) {
      refuse(req, res, 405, 'method_not_allowed', 'static files are read-only', { Allow: 'GET, HEAD' });
      return;
    }
    if (rawPath === '/vendor/chart.umd.js') {
      if (chartPath && (await serveFile(req, res, chartPath))) return;
      refuse(req, res, 404, 'not_found', 'chart.js is not installed');
      return;
    }
    let result: Awaited<ReturnType<typeof serveStatic>> | null = null;
    if (options.serveExamples && (rawPath === '/examples' || rawPath.startsWith('/examples/'))) {
      result = await serveStatic(req, res, examples, rawPath.slice('/examples'.length), rawPath);
    } else if (options.serveExamples && (rawPath === '/packages' || rawPath.startsWith('/packages/'))) {
      result = await serveStatic(req, res, packages, rawPath.slice('/packages'.length), rawPath);
    } else {
      const rel = rawPath === '/' ? '/index.html' : rawPath;
      result = await serveStatic(req, res, dashboard, rel, rawPath);
    }
    if (result === 'forbidden') refuse(req, res, 403, 'forbidden', 'this path is not served');
    else if (result === 'bad_request') refuse(req, res, 400, 'bad_request', 'bad path');
    else if (result === 'not_found') refuse(req, res, 404, 'not_found', `no file ${clip(rawPath)}`);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        const cors = req.url?.startsWith('/v1/token') || req.url?.startsWith('/v1/ingest') ? corsHeaders(req) : {};
        refuse(req, res, e.status, e.code, e.message, { ...cors, ...e.headers });
        return;
      }
      logger.error('request failed', { path: clip((req.url ?? '').split('?')[0] ?? ''), error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      if (!res.headersSent) sendError(res, 500, 'internal', 'the collector failed to handle this request; see its log');
      else res.destroy();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;

  // ---------------------------------------------------------------- WebSocket

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBatchBytes + 256 });

  // Sockets pinged by the last heartbeat that have not been heard from since.
  const unanswered = new WeakSet<WebSocket>();
  const remoteOf = new WeakMap<WebSocket, string>();
  const heartbeatMs = options.wsHeartbeatMs ?? 30_000;
  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (unanswered.has(ws)) {
              const message = `no answer to a ping within ${heartbeatMs} ms`;
              logger.warn('websocket closed by the collector', { code: 1006, error: 'no_pong', message, remote: remoteOf.get(ws) });
              ws.terminate();
              continue;
            }
            unanswered.add(ws);
            ws.ping();
          }
        }, heartbeatMs)
      : null;
  heartbeat?.unref();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    const remote = addressOf(req);
    if (path !== '/v1/ws') {
      logger.warn('websocket upgrade refused', { path: clip(path ?? ''), remote });
      refuseUpgrade(socket, 404, null);
      return;
    }
    const seconds = blockedSeconds(req);
    if (seconds) {
      logger.warn('websocket upgrade refused', { path, status: 429, code: 'too_many_failures', remote });
      refuseUpgrade(socket, 429, 'too_many_failures', `too many failed authentications from this address: try again in ${seconds} s`, { 'Retry-After': String(seconds) });
      return;
    }
    // The client left while its upgrade waited: nothing to count, no 'close' may follow.
    if (socket.destroyed) return;
    const admission = connections.admit(remote);
    if (!admission.ok) {
      const message =
        admission.scope === 'address'
          ? `too many WebSocket connections from this address (${admission.limit})`
          : `the collector has too many WebSocket connections (${admission.limit})`;
      if (admission.log) {
        logger.warn('websocket upgrade refused', {
          path,
          status: 503,
          code: 'too_many_connections',
          scope: admission.scope,
          limit: admission.limit,
          open: connections.open(),
          openFromAddress: connections.open(remote),
          unlogged: admission.unlogged,
          remote,
        });
      }
      const hint = `: try again in ${CONNECTIONS_RETRY_AFTER_S} s, or send over HTTP (POST /v1/ingest)`;
      refuseUpgrade(socket, 503, 'too_many_connections', message + hint, { 'Retry-After': String(CONNECTIONS_RETRY_AFTER_S) });
      return;
    }
    // The socket's close ends the connection whichever way it goes (either side closing, the
    // heartbeat, an error, a failed handshake, shutdown): the one place the slot is given back.
    socket.once('close', () => {
      admission.release();
      logger.debug('websocket connection ended', { remote, open: connections.open(), openFromAddress: connections.open(remote) });
    });
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, remote));
  });

  function onConnection(ws: WebSocket, req: IncomingMessage, remote: string): void {
    remoteOf.set(ws, remote);
    const query = queryOf(req.url ?? '/');
    const send = (msg: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    /** An error message, with the batch's id when it is about one. */
    const sendWsError = (error: string, message: string, id?: number): void =>
      send(id === undefined ? { type: 'error', error, message } : { type: 'error', id, error, message });
    const closeWith = (code: number, error: string, message: string, id?: number): void => {
      logger.warn('websocket closed by the collector', { code, error, message, remote });
      sendWsError(error, message, id);
      ws.close(code, error);
    };
    const auth = verifyIngestToken(query.get('token'));
    if (!auth.ok) {
      noteFailure(req, auth.code);
      closeWith(4401, auth.code, auth.message);
      return;
    }
    const who = auth.value;
    const heard = (): boolean => unanswered.delete(ws);
    ws.on('pong', heard);
    let badMessages = 0;
    let invalidInARow = 0;
    let queue: Promise<void> = Promise.resolve();

    const bad = (error: string, message: string): void => {
      badMessages++;
      logger.warn('websocket message refused', { error, message, appID: who.appID, remote, count: badMessages });
      if (badMessages >= WS_BAD_MESSAGES_BEFORE_CLOSE) closeWith(4400, error, `${message}; closing after ${badMessages} bad messages`);
      else sendWsError(error, message);
    };

    /** A refused batch: answered, and past WS_INVALID_BATCHES_BEFORE_CLOSE in a row the connection is closed. */
    const invalidBatch = (message: string, id?: number): void => {
      invalidInARow++;
      const text = `${message} (nothing of the batch was stored)`;
      if (invalidInARow >= WS_INVALID_BATCHES_BEFORE_CLOSE) {
        closeWith(4400, 'invalid_batch', `${text}; closing after ${invalidInARow} invalid batches in a row`, id);
        return;
      }
      logger.warn('websocket batch refused', { error: 'invalid_batch', message, appID: who.appID, remote, count: invalidInARow });
      sendWsError('invalid_batch', text, id);
    };

    const handle = async (data: RawData, isBinary: boolean): Promise<void> => {
      if (ws.readyState !== ws.OPEN) return;
      if (who.exp * 1000 <= clock()) {
        closeWith(4401, 'expired', 'the token expired: get a new one from POST /v1/token and reconnect');
        return;
      }
      if (isBinary) {
        bad('not_a_batch', 'send text messages (JSON)');
        return;
      }
      const text = rawDataText(data);
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        bad('bad_json', 'the message is not valid JSON');
        return;
      }
      if (!isPlainObject(msg) || (msg.type !== 'batch' && msg.type !== 'ping')) {
        bad('not_a_batch', 'expected {"type":"batch",...} or {"type":"ping"}');
        return;
      }
      if (msg.type === 'ping') {
        send({ type: 'pong' });
        return;
      }
      const id = msg.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
        invalidBatch('id: expected a non-negative integer batch number');
        return;
      }
      const v = validateWsBatch(msg, maxBatchItems);
      if (!v.ok) {
        invalidBatch(v.message, id);
        return;
      }
      let out: IngestOutcome;
      try {
        out = await ingest(who, v.value, 'ws');
      } catch (e) {
        logger.error('websocket batch failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e), appID: who.appID });
        sendWsError('internal', 'the collector could not store this batch; resend it later', id);
        return;
      }
      if (!out.ok) {
        closeWith(4403, out.code, out.message, id);
        return;
      }
      invalidInARow = 0;
      send({ type: 'ack', id, acked: out.acked });
    };

    ws.on('message', (data, isBinary) => {
      heard();
      queue = queue.then(() => handle(data, isBinary)).catch((e: unknown) => {
        logger.error('websocket handler failed', { error: e instanceof Error ? e.message : String(e) });
      });
    });
    ws.on('error', (e: Error & { code?: string }) => {
      logger.warn('websocket error', { error: e.message, code: e.code, appID: who.appID, remote });
    });
  }

  // ---------------------------------------------------------------- start / stop

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (e: unknown) => {
    clearInterval(purgeTimer);
    if (heartbeat) clearInterval(heartbeat);
    await views.close();
    if (ownStorage) await storage.close();
    throw e;
  });
  server.on('error', (e) => logger.error('server error', { error: e.message }));
  summarizer.start();

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  const url = formatUrl(host, port);
  logger.info('collector listening', { url, apps: apps.size, readerWorkers: offThread ? readerWorkers : 0, ...(offThread ? { readerHeapMb } : {}), maxConnections, maxConnectionsPerAddress });

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    host,
    storage,
    summarizeNow: async () => {
      await summarizer.idle();
      summarizer.kick();
      await summarizer.idle();
    },
    close: () => {
      closing ??= (async () => {
        clearInterval(purgeTimer);
        if (heartbeat) clearInterval(heartbeat);
        // The reader workers end first: a summary being read is abandoned rather than awaited.
        summarizer.halt();
        await views.close();
        await summarizer.stop();
        for (const ws of wss.clients) ws.close(1001, 'collector shutting down');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const ws of wss.clients) ws.terminate();
        await closed;
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        if (ownStorage) await storage.close();
        logger.info('collector stopped', { url });
      })();
      return closing;
    },
  };
}
