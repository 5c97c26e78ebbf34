// Shared test helpers: start a collector on 127.0.0.1 with a random port, get tokens, send batches.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { WebSocket } from 'ws';
import { createTransport, type CreateTransportOptions } from '../../core/src/transport/index';
import { createMemoryLogger, hmacHex, signJwt, startCollector, tokenRequestSigningString } from '../src/index';
import type { Collector, CollectorOptions, LogRecord, SqliteStorage } from '../src/index';

export const APP_A = { appID: 'app-a', secret: 'secret-a-0123456789' };
export const APP_B = { appID: 'app-b', secret: 'secret-b-9876543210' };

export interface TestCollector extends Collector {
  logs: LogRecord[];
  base: string;
}

export async function start(options: Partial<CollectorOptions> = {}): Promise<TestCollector> {
  const logger = createMemoryLogger();
  const c = await startCollector({ apps: [APP_A, APP_B], port: 0, host: '127.0.0.1', db: ':memory:', logger, ...options });
  return Object.assign(c, { logs: logger.records, base: c.url.replace(/\/$/, '') });
}

/**
 * vitest: one collector for the file's tests, `start(options)` in beforeAll, closed in afterAll.
 * Returns a getter (the collector exists once beforeAll ran).
 */
export function useCollector(options: Partial<CollectorOptions> = {}): () => TestCollector {
  let c: TestCollector | undefined;
  beforeAll(async () => {
    c = await start(options);
  });
  afterAll(async () => {
    await c?.close();
  });
  return () => {
    if (!c) throw new Error('useCollector(): the collector is not started yet (use it inside tests and hooks)');
    return c;
  };
}

/** Rows of `table` in the collector's SQLite database that match the SQL condition `where`. */
export function countRows(c: Collector, table: string, where = '1'): number {
  const db = (c.storage as SqliteStorage).db;
  return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
}

export const rid = (): string => randomBytes(12).toString('hex');

export function signedRequest(
  app: { appID: string; secret: string },
  userID: string,
  opts: { ts?: number; nonce?: string; secret?: string } = {},
): Record<string, unknown> {
  const ts = opts.ts ?? Date.now();
  const nonce = opts.nonce ?? rid();
  const signature = hmacHex(opts.secret ?? app.secret, tokenRequestSigningString(app.appID, userID, ts, nonce));
  return { appID: app.appID, userID, ts, nonce, signature };
}

export function thirdPartyToken(
  app: { appID: string; secret: string },
  userID: string,
  opts: { exp?: number; jti?: string; secret?: string; appID?: string } = {},
): string {
  return signJwt(
    {
      appID: opts.appID ?? app.appID,
      userID,
      exp: opts.exp ?? Math.floor(Date.now() / 1000) + 600,
      jti: opts.jti ?? rid(),
    },
    opts.secret ?? app.secret,
  );
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function getToken(c: { base: string }, app: { appID: string; secret: string }, userID: string): Promise<string> {
  const r = await postJson(`${c.base}/v1/token`, signedRequest(app, userID));
  if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.token as string;
}

export function basic(app: { appID: string; secret: string }): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${app.appID}:${app.secret}`).toString('base64')}` };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { headers });
  return { status: res.status, json: await res.json() };
}

export async function query(c: { base: string }, app: { appID: string; secret: string }, conferenceID?: string): Promise<any> {
  const path = conferenceID === undefined ? '' : `/${encodeURIComponent(conferenceID)}`;
  const r = await getJson(`${c.base}/v1/apps/${app.appID}/conferences${path}`, basic(app));
  if (r.status !== 200) throw new Error(`query: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

export async function ingestHttp(c: { base: string }, token: string, batch: unknown): Promise<{ status: number; json: any }> {
  return postJson(`${c.base}/v1/ingest`, batch, { Authorization: `Bearer ${token}` });
}

/** A WebSocket client that queues what it receives. */
export class WsClient {
  readonly ws: WebSocket;
  private readonly inbox: any[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  isClosed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.isClosed = true;
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      this.inbox.push(JSON.parse(data.toString()));
      this.wake();
    });
  }

  static async connect(base: string, token: string | null): Promise<WsClient> {
    const url = `${base.replace(/^http/, 'ws')}/v1/ws${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
    const c = new WsClient(url);
    await c.opened;
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next message (or null once closed and drained). */
  async next(): Promise<any | null> {
    for (;;) {
      if (this.inbox.length) return this.inbox.shift();
      if (this.isClosed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Sends a batch and returns its ack or error (or null if the connection closed). */
  async batch(id: number, sid: string, items: unknown[]): Promise<any | null> {
    this.send({ type: 'batch', id, sid, items });
    for (;;) {
      const m = await this.next();
      if (m === null) return null;
      if (m.id === id || m.type === 'error') return m;
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    if (!this.isClosed) this.ws.close();
    return this.closed;
  }
}

/** Polls `f` until it returns a value other than undefined (bounded attempts, no timed assertion). */
export async function eventually<T>(f: () => Promise<T | undefined>, what: string, attempts = 400, everyMs = 25): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`never happened: ${what}`);
}

// ------------------------------------------------------------------ item builders

export const T0 = 1_700_000_000_000;

/** What every item starts with: its number n, its time (n seconds after T0), its kind and conference. */
const itemHead = (n: number, kind: string, conferenceID: string) => ({ n, t: T0 + n * 1000, kind, conferenceID });

export function fabricItem(n: number, conferenceID: string, fabricID: string, local: string, remote: string, extra: Record<string, unknown> = {}) {
  return {
    ...itemHead(n, 'fabric', conferenceID),
    fabricID,
    localUserID: local,
    remoteUserID: remote,
    fabricUsage: 'multiplex',
    remoteEndpointType: 'peer',
    direction: 'sendrecv',
    ...extra,
  };
}

export function eventItem(n: number, conferenceID: string, fabricID: string | undefined, event: string, data?: Record<string, unknown>) {
  return {
    ...itemHead(n, 'event', conferenceID),
    ...(fabricID === undefined ? {} : { fabricID }),
    event,
    ...(data === undefined ? {} : { data }),
  };
}

export function statsItem(n: number, conferenceID: string, fabricID: string, streams: Record<string, unknown>[], connection?: Record<string, unknown>) {
  return {
    ...itemHead(n, 'stats', conferenceID),
    fabricID,
    streams,
    ...(connection === undefined ? {} : { connection }),
  };
}

export function errorItem(n: number, conferenceID: string, fabricID: string | undefined, fn: string, message: string) {
  return {
    ...itemHead(n, 'error', conferenceID),
    ...(fabricID === undefined ? {} : { fabricID }),
    fn,
    category: 'negotiationFailure',
    name: 'OperationError',
    message,
  };
}

export function feedbackItem(n: number, conferenceID: string, userID: string, overall: number, comment?: string) {
  return {
    ...itemHead(n, 'feedback', conferenceID),
    userID,
    rating: { overall, audio: overall },
    ...(comment === undefined ? {} : { comment }),
  };
}

const quiet = (): void => {};
/**
 * The SDK's own transport (core source) as alice of APP_A against `c`, over the `ws` package's
 * WebSocket, logging nothing: for tests of how the real client copes with the collector's answers.
 */
export function sdkTransport(c: { base: string }, options: CreateTransportOptions['options'], internal?: CreateTransportOptions['internal']) {
  return createTransport({
    collectorURL: c.base,
    appID: APP_A.appID,
    userID: 'alice',
    appSecret: APP_A.secret,
    collectIP: false,
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    WebSocketImpl: WebSocket,
    options,
    ...(internal ? { internal } : {}),
  });
}
