import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { prng } from '../../../../test/harness/prng';
import type { Logger, TransportStatus } from '../../src/types';
import { createTransport, type CreateTransportOptions, type Transport } from '../../src/transport/index';
import type { Timers } from '../../src/transport/util';

export interface MemoryLogger extends Logger {
  lines: Array<{ level: string; message: string }>;
}

export function memoryLogger(): MemoryLogger {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string): void => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Real timers that know which are pending. */
export function trackedTimers(): Timers & { pending(): number } {
  const active = new Set<ReturnType<typeof setTimeout>>();
  return {
    setTimeout(fn, ms) {
      const h = setTimeout(() => {
        active.delete(h);
        fn();
      }, Math.min(ms, 0x7fffffff));
      active.add(h);
      return h;
    },
    clearTimeout(h) {
      clearTimeout(h as ReturnType<typeof setTimeout>);
      active.delete(h as ReturnType<typeof setTimeout>);
    },
    pending: () => active.size,
  };
}

export interface Harness {
  transport: Transport;
  logger: MemoryLogger;
  statuses: TransportStatus[];
  timers: ReturnType<typeof trackedTimers>;
}

export const APP = { appID: 'app1', secret: 'app1-secret-0123456789' };

export function makeTransport(url: string, over: Partial<CreateTransportOptions> = {}): Harness {
  const logger = memoryLogger();
  const timers = trackedTimers();
  const statuses: TransportStatus[] = [];
  const transport = createTransport({
    collectorURL: url,
    appID: APP.appID,
    userID: 'alice',
    appSecret: APP.secret,
    collectIP: false,
    logger,
    WebSocketImpl: WebSocket,
    ...over,
    options: { batchIntervalMs: 20, minBackoffMs: 20, maxBackoffMs: 200, ...over.options },
    internal: { timers, requestTimeoutMs: 5_000, ...over.internal },
  });
  transport.onStatus((s) => statuses.push(s));
  return { transport, logger, statuses, timers };
}

/**
 * vitest: after each test, closes every harness passed to the returned `track()` (in order), then
 * runs `after` (stop the test's collector, unstub globals...).
 */
export function closeAfterEach(after: () => void | Promise<void>): (h: Harness) => Harness {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.transport.close();
    await after();
  });
  return (h) => {
    harnesses.push(h);
    return h;
  };
}

/** Resolves when pred() holds, polling on a short interval (no assertion on how long it takes). */
export async function eventually(pred: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function ev(conferenceID: string, i: number): { kind: 'event'; conferenceID: string; event: string; fabricID: string; data: { i: number } } {
  return { kind: 'event', conferenceID, event: 'audioMute', fabricID: 'f1', data: { i } };
}

export interface FullSample {
  t: number;
  conferenceID: string;
  fabricID: string;
  streams: Array<Record<string, unknown> & { key: string }>;
  connection: Record<string, unknown>;
}

const NUMBER_FIELDS = ['bitrate', 'packetRate', 'fractionLoss', 'jitter', 'rtt', 'frameRate', 'mos'] as const;

/**
 * Full stats samples for `fabrics` fabrics: fields come and go, values repeat often (so deltas are
 * partial), streams appear and disappear. Protocol-valid values only.
 */
export function makeSamples(count: number, seed: number, fabrics = ['fA', 'fB'], opts: { sharedSsrcs?: boolean } = {}): FullSample[] {
  const t0 = 1_700_000_000_000;
  const r = prng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: FullSample[] = [];
  for (let i = 0; i < count; i++) {
    const fabricID = pick(fabrics);
    const streams: FullSample['streams'] = [];
    // SSRCs differ per fabric, unless sharedSsrcs (a collision the encoder must handle)
    const prefix = opts.sharedSsrcs ? '' : String(fabrics.indexOf(fabricID) + 1);
    for (const base of ['111', '222', '333']) {
      if (r() < 0.15) continue; // stream missing from this sample
      const ssrc = prefix + base;
      const statsType = base === '333' ? 'outbound-rtp' : 'inbound-rtp';
      const s: Record<string, unknown> & { key: string } = { key: `${statsType}:${ssrc}`, ssrc, statsType, mediaType: base === '222' ? 'video' : 'audio' };
      for (const f of NUMBER_FIELDS) {
        if (r() < 0.2) continue; // unknown this time
        s[f] = f === 'fractionLoss' ? pick([0, 0.01, 0.5]) : f === 'mos' ? pick([3.5, 4.1]) : pick([10, 20, 30]);
      }
      if (r() < 0.5) s.quality = pick(['excellent', 'good', 'bad']);
      streams.push(s);
    }
    const connection: Record<string, unknown> = {};
    if (r() < 0.8) connection.rtt = pick([10, 20]);
    if (r() < 0.8) connection.protocol = pick(['udp', 'tcp']);
    if (r() < 0.5) connection.localCandidateType = 'host';
    out.push({ t: t0 + i, conferenceID: 'conf1', fabricID, streams, connection });
  }
  return out;
}

export function statsItem(s: FullSample): { kind: 'stats'; conferenceID: string; t: number; fabricID: string; streams: FullSample['streams']; connection: Record<string, unknown> } {
  return { kind: 'stats', conferenceID: s.conferenceID, t: s.t, fabricID: s.fabricID, streams: s.streams.map((x) => ({ ...x })), connection: { ...s.connection } };
}

/** A sample as the collector should reconstruct it: stream key -> fields without `key`. */
export function expected(s: FullSample): { streams: Record<string, Record<string, unknown>>; connection: Record<string, unknown> } {
  const streams: Record<string, Record<string, unknown>> = {};
  for (const x of s.streams) {
    const { key, ...rest } = x;
    streams[key] = rest;
  }
  return { streams, connection: { ...s.connection } };
}

/** A batch as the transport sends it. */
export interface SentBatch {
  id: number;
  items: Array<{ n: number; kind: string; conferenceID: string; count?: number }>;
}

/**
 * A scripted browser WebSocket for the transport (`WebSocketImpl`): no network. `onCreate` says
 * what a new socket does (e.g. `opens`); the test then drives it: deliver(), ack(), drop(), fail().
 * `all` and `onCreate` are reset by each test file's beforeEach.
 */
export class ScriptedWebSocket {
  static all: ScriptedWebSocket[] = [];
  static onCreate: (ws: ScriptedWebSocket) => void = () => {};
  readyState = 0;
  sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly createdAt = Date.now();
  constructor(readonly url: string) {
    ScriptedWebSocket.all.push(this);
    ScriptedWebSocket.onCreate(this);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** The server closes (or the network drops) the connection. */
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** A connection that fails as a browser's does: error, then close 1006. */
  fail(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '' });
  }
  deliver(data: unknown): void {
    this.onmessage?.({ data });
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  batch(i = this.sent.length - 1): SentBatch {
    return JSON.parse(this.sent[i] as string) as SentBatch;
  }
  ack(i = this.sent.length - 1): void {
    const b = this.batch(i);
    this.deliver(JSON.stringify({ type: 'ack', id: b.id, acked: b.items.map((x) => x.n) }));
  }
}
