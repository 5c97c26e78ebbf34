/**
 * A small collector that follows docs/protocol.md, for the transport tests: POST /v1/token (signed
 * request and third-party token), GET /v1/ws (acks after "commit"), POST /v1/ingest, on 127.0.0.1
 * with a random port. Stores items idempotently on (appID, sid, n); records every request and
 * message so tests can look at what went over the wire. Can stop and restart on the same port
 * (the store survives), refuse WebSockets, and misbehave on demand.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface StoredItem {
  appID: string;
  sid: string;
  n: number;
  kind: string;
  conferenceID: string;
  t: number;
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
}

export interface BatchInfo {
  via: 'ws' | 'http';
  sid: string;
  items: StoredItem[];
  bytes: number;
  contentType?: string;
}

export interface FakeCollectorOptions {
  apps?: Record<string, string>;
  tokenTtlMs?: number;
  /** Shared across restarts. */
  state?: FakeState;
}

/** Everything that survives a restart. */
export interface FakeState {
  store: Map<string, StoredItem>;
  nonces: Set<string>;
  jtis: Set<string>;
  /** Item deliveries, duplicates included. */
  received: number;
  duplicates: number;
  batches: BatchInfo[];
  requests: RecordedRequest[];
  wsMessages: string[];
  wsConnections: number;
  tokensIssued: number;
  revokedBefore: number;
}

export function newState(): FakeState {
  return {
    store: new Map(), nonces: new Set(), jtis: new Set(), received: 0, duplicates: 0, batches: [],
    requests: [], wsMessages: [], wsConnections: 0, tokensIssued: 0, revokedBefore: 0,
  };
}

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function verifyJwt(token: string, secrets: Record<string, string>): { ok: true; claims: Record<string, unknown> } | { ok: false; code: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, code: 'bad_token' };
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, code: 'bad_token' };
  }
  const secret = secrets[String(claims.appID)];
  if (secret === undefined) return { ok: false, code: 'unknown_app' };
  const expect = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest('base64url');
  if (expect !== parts[2]) return { ok: false, code: 'bad_signature' };
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return { ok: false, code: 'expired' };
  return { ok: true, claims };
}

const KINDS = new Set(['fabric', 'event', 'error', 'stats', 'feedback', 'custom', 'customStats', 'dropped']);

export class FakeCollector {
  readonly state: FakeState;
  readonly apps: Record<string, string>;
  port = 0;
  url = '';
  /** 'accept' | 'refuse' (upgrade answered 503) */
  wsMode: 'accept' | 'refuse' = 'accept';
  /** Refuse the whole batch (400 / ws error) when this returns a string. */
  rejectItem: ((item: StoredItem) => string | undefined) | undefined;
  /** Called after a batch is committed, before the ack; return 'kill' to drop the connection instead of acking. */
  afterCommit: ((b: BatchInfo) => 'ack' | 'kill') | undefined;
  /** Observers: resolved on events. */
  private waiters: Array<{ pred: () => boolean; resolve: () => void }> = [];
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private sockets = new Set<Duplex>();
  private readonly tokenTtlMs: number;

  constructor(opts: FakeCollectorOptions = {}) {
    this.apps = opts.apps ?? { app1: 'app1-secret-0123456789' };
    this.tokenTtlMs = opts.tokenTtlMs ?? 3_600_000;
    this.state = opts.state ?? newState();
  }

  async start(port = 0): Promise<this> {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 + 1024 });
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    this.port = addr.port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** Stops abruptly (connections destroyed, like a crash); the state is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    const wss = this.wss;
    this.server = undefined;
    this.wss = undefined;
    if (wss) for (const c of wss.clients) c.terminate();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start(this.port);
  }

  /** Resolves once pred() holds (checked after every request/message). */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  private notify(): void {
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) (w.pred() ? w.resolve() : keep.push(w));
    this.waiters = keep;
  }

  /** Every stored item of a session, in n order. */
  items(sid?: string): StoredItem[] {
    return [...this.state.store.values()].filter((i) => sid === undefined || i.sid === sid).sort((a, b) => a.n - b.n);
  }

  /** Revokes every token issued so far (the next use gets 401 / close 4401). */
  revokeTokens(): void {
    this.state.revokedBefore = this.state.tokensIssued;
  }

  // ---- HTTP ---------------------------------------------------------------------------------
  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    req.setEncoding('utf8');
    for await (const c of req) body += c as string;
    this.state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body });
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, json: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
      this.notify();
    };
    if (req.method === 'POST' && url.pathname === '/v1/token') return send(...this.token(body));
    if (req.method === 'POST' && url.pathname === '/v1/ingest') {
      const auth = req.headers.authorization;
      const tok = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token') ?? '';
      const who = this.checkToken(tok);
      if (!who) return send(401, { error: 'bad_token', message: 'token missing, bad or expired' });
      if (Buffer.byteLength(body) > 1024 * 1024) return send(413, { error: 'too_big', message: 'batch over 1 MiB' });
      let parsed: unknown;
      try { parsed = JSON.parse(body); } catch { return send(400, { error: 'bad_json', message: 'not JSON' }); }
      const r = this.ingest(who, parsed, 'http', Buffer.byteLength(body), String(req.headers['content-type'] ?? ''));
      if (!r.ok) return send(400, { error: 'bad_batch', message: r.message });
      return send(200, { acked: r.acked });
    }
    send(404, { error: 'not_found', message: url.pathname });
  }

  private token(body: string): [number, unknown] {
    let b: Record<string, unknown>;
    try { b = JSON.parse(body) as Record<string, unknown>; } catch { return [400, { error: 'bad_request', message: 'not JSON' }]; }
    const appID = String(b.appID);
    const secret = this.apps[appID];
    if (typeof b.userID !== 'string') return [400, { error: 'bad_request', message: 'userID' }];
    if (secret === undefined) return [401, { error: 'unknown_app', message: `unknown app ${appID}` }];
    if ('thirdPartyToken' in b) {
      const v = verifyJwt(String(b.thirdPartyToken), this.apps);
      if (!v.ok) return [401, { error: v.code, message: 'third-party token refused' }];
      if (v.claims.appID !== appID || v.claims.userID !== b.userID) return [401, { error: 'mismatch', message: 'appID/userID mismatch' }];
      const jti = String(v.claims.jti);
      if (this.state.jtis.has(jti)) return [401, { error: 'replayed', message: 'jti already used' }];
      this.state.jtis.add(jti);
    } else {
      const { ts, nonce, signature } = b;
      if (typeof ts !== 'number' || typeof nonce !== 'string' || nonce.length < 16 || typeof signature !== 'string') {
        return [400, { error: 'bad_request', message: 'ts/nonce/signature' }];
      }
      if (Math.abs(Date.now() - ts) > 300_000) return [401, { error: 'expired', message: 'ts too far' }];
      const expect = createHmac('sha256', secret).update(`${appID}\n${b.userID}\n${ts}\n${nonce}`).digest('hex');
      if (expect !== signature) return [401, { error: 'bad_signature', message: 'signature mismatch' }];
      if (this.state.nonces.has(nonce)) return [401, { error: 'replayed', message: 'nonce reused' }];
      this.state.nonces.add(nonce);
    }
    this.state.tokensIssued++;
    const exp = Math.floor((Date.now() + this.tokenTtlMs) / 1000);
    const token = signJwt({ appID, userID: b.userID, exp, jti: randomBytes(12).toString('hex'), iat: Math.floor(Date.now() / 1000), seq: this.state.tokensIssued }, secret);
    return [200, { token, expiresAt: exp * 1000 }];
  }

  private checkToken(tok: string): { appID: string } | undefined {
    const v = verifyJwt(tok, this.apps);
    if (!v.ok) return undefined;
    if (typeof v.claims.seq === 'number' && v.claims.seq <= this.state.revokedBefore) return undefined;
    return { appID: String(v.claims.appID) };
  }

  // ---- ingest --------------------------------------------------------------------------------
  private ingest(who: { appID: string }, raw: unknown, via: 'ws' | 'http', bytes: number, contentType?: string):
    { ok: true; acked: number[]; info: BatchInfo } | { ok: false; message: string } {
    const b = raw as { sid?: unknown; items?: unknown };
    if (typeof b?.sid !== 'string' || !Array.isArray(b.items) || b.items.length > 500) return { ok: false, message: 'not a batch' };
    const items: StoredItem[] = [];
    for (const x of b.items as Array<Record<string, unknown>>) {
      if (typeof x !== 'object' || x === null) return { ok: false, message: 'item not an object' };
      const n = x.n;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) return { ok: false, message: 'bad n' };
      if (typeof x.t !== 'number' || typeof x.kind !== 'string' || !KINDS.has(x.kind)) return { ok: false, message: `bad item ${n}` };
      if (typeof x.conferenceID !== 'string' || x.conferenceID.length < 1 || x.conferenceID.length > 256) return { ok: false, message: `bad conferenceID ${n}` };
      const item = { ...x, appID: who.appID, sid: b.sid } as StoredItem;
      const refusal = this.rejectItem?.(item);
      if (refusal) return { ok: false, message: refusal };
      items.push(item);
    }
    const acked: number[] = [];
    for (const item of items) {
      this.state.received++;
      const key = `${who.appID}\0${item.sid}\0${item.n}`;
      if (this.state.store.has(key)) this.state.duplicates++;
      else this.state.store.set(key, item);
      acked.push(item.n);
    }
    const info: BatchInfo = { via, sid: b.sid, items, bytes, ...(contentType ? { contentType } : {}) };
    this.state.batches.push(info);
    return { ok: true, acked, info };
  }

  // ---- WebSocket -----------------------------------------------------------------------------
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.state.requests.push({ method: 'UPGRADE', url: req.url ?? '', headers: { ...req.headers }, body: '' });
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.wsMode === 'refuse' || url.pathname !== '/v1/ws' || !this.wss) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      this.notify();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onWs(ws, url.searchParams.get('token') ?? ''));
  }

  private onWs(ws: WebSocket, token: string): void {
    this.state.wsConnections++;
    if (!this.checkToken(token)) {
      ws.close(4401, 'bad_token');
      this.notify();
      return;
    }
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      this.state.wsMessages.push(text);
      // Tokens are checked at every message (they may have been revoked or have expired).
      const who = this.checkToken(token);
      if (!who) {
        ws.close(4401, 'expired');
        this.notify();
        return;
      }
      let m: Record<string, unknown>;
      try { m = JSON.parse(text) as Record<string, unknown>; } catch { ws.send(JSON.stringify({ type: 'error', error: 'bad_json', message: 'not JSON' })); return; }
      if (m.type === 'ping') { ws.send(JSON.stringify({ type: 'pong' })); return; }
      const r = this.ingest(who, m, 'ws', Buffer.byteLength(text));
      if (!r.ok) {
        ws.send(JSON.stringify({ type: 'error', id: m.id, error: 'bad_batch', message: r.message }));
        this.notify();
        return;
      }
      if (this.afterCommit?.(r.info) === 'kill') {
        ws.terminate();
        this.notify();
        return;
      }
      ws.send(JSON.stringify({ type: 'ack', id: m.id, acked: r.acked }));
      this.notify();
    });
    this.notify();
  }
}

export async function startFake(opts: FakeCollectorOptions = {}): Promise<FakeCollector> {
  return new FakeCollector(opts).start();
}

/** Carry-forward reconstruction of a session's stats, per (fabricID, key), in n order. */
export function reconstruct(items: StoredItem[]): Map<number, { fabricID: string; streams: Map<string, Record<string, unknown>>; connection?: Record<string, unknown> }> {
  const state = new Map<string, Record<string, unknown>>();
  const out = new Map<number, { fabricID: string; streams: Map<string, Record<string, unknown>>; connection?: Record<string, unknown> }>();
  const apply = (id: string, delta: Record<string, unknown>): Record<string, unknown> => {
    const next: Record<string, unknown> = { ...(state.get(id) ?? {}) };
    for (const [k, v] of Object.entries(delta)) {
      if (k === 'key') continue;
      if (v === null) delete next[k];
      else next[k] = v;
    }
    state.set(id, next);
    return next;
  };
  for (const it of [...items].sort((a, b) => a.n - b.n)) {
    if (it.kind !== 'stats') continue;
    const fabricID = String(it.fabricID);
    const streams = new Map<string, Record<string, unknown>>();
    for (const s of it.streams as Array<Record<string, unknown>>) streams.set(String(s.key), apply(`${fabricID}\0${String(s.key)}`, s));
    const rec: { fabricID: string; streams: Map<string, Record<string, unknown>>; connection?: Record<string, unknown> } = { fabricID, streams };
    if (it.connection) rec.connection = apply(`${fabricID}\0#connection`, it.connection as Record<string, unknown>);
    out.set(it.n, rec);
  }
  return out;
}
