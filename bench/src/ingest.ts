// 5. Collector ingest on loopback: N WebSocket clients, each a client session (token from
// POST /v1/token, signed request) sending batches of real stats items (our delta-coded items of
// the recorded 1:1 session, re-numbered) for 10 fabrics each, one batch in flight per client as
// the SDK does; bounded by time and count. Samples = stats items acknowledged.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BENCH_DIR, REPO_ROOT, dist, log, round, type Dist } from './util';

export interface IngestResult {
  clients: number;
  fabricsPerClient: number;
  itemsPerBatch: number;
  seconds: number;
  samples: number;
  samplesPerSecond: number;
  batches: number;
  ackMs: Dist & { p99: number; max: number };
  errors: number;
  bytesSent: number;
}

const APP = 'bench';
const SECRET = 'bench-secret-for-the-ingest-benchmark';

async function startCollectorProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(BENCH_DIR, '.out', 'collector-proc.mjs')], {
    env: {
      ...process.env,
      CALLMETRY_COLLECTOR_DIST: join(REPO_ROOT, 'packages', 'collector', 'dist', 'index.mjs'),
      CALLMETRY_BENCH_APP: APP,
      CALLMETRY_BENCH_SECRET: SECRET,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the collector did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`the collector exited (${code})`)));
    rl.once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return { child, port };
}

async function token(port: number, userID: string): Promise<string> {
  const ts = Date.now();
  const nonce = randomBytes(16).toString('hex');
  const signature = createHmac('sha256', SECRET).update(`${APP}\n${userID}\n${ts}\n${nonce}`).digest('hex');
  const r = await fetch(`http://127.0.0.1:${port}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appID: APP, userID, ts, nonce, signature }),
  });
  if (!r.ok) throw new Error(`POST /v1/token: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

export async function measureIngest(recordedItems: string[], opts = { clients: 50, fabricsPerClient: 10, seconds: 15, maxBatchesPerClient: 20_000 }): Promise<IngestResult> {
  if (!recordedItems.length) throw new Error('no recorded stats items to send');
  const deltas = recordedItems.map((s) => JSON.parse(s) as Record<string, unknown>);
  const { child, port } = await startCollectorProcess();
  const latencies: number[] = [];
  let samples = 0;
  let batches = 0;
  let errors = 0;
  let bytesSent = 0;
  try {
    const sockets: WebSocket[] = [];
    const tokens = await Promise.all(Array.from({ length: opts.clients }, (_, i) => token(port, `bench-user-${i}`)));
    await Promise.all(
      tokens.map(
        (t) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?token=${encodeURIComponent(t)}`);
            ws.once('open', () => resolve());
            ws.once('error', reject);
            sockets.push(ws);
          }),
      ),
    );
    log(`ingest: ${sockets.length} clients connected to the collector on 127.0.0.1:${port}`);
    const started = Date.now();
    const deadline = started + opts.seconds * 1000;
    const t0 = Date.now() - 3_600_000;
    await Promise.all(
      sockets.map(async (ws, c) => {
        const sid = randomBytes(16).toString('hex');
        const fabricIDs = Array.from({ length: opts.fabricsPerClient }, (_, f) => `bench-c${c}-f${f}`);
        let n = 0;
        let id = 0;
        let pending: { id: number; resolve: (ok: boolean) => void } | undefined;
        ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as { type: string; id?: number; acked?: number[]; error?: string; message?: string };
          if (m.type === 'error') {
            errors++;
            if (errors < 4) log(`ingest: collector error ${m.error}: ${m.message}`);
          }
          if (pending && m.id === pending.id) pending.resolve(m.type === 'ack');
        });
        const send = (items: unknown[]): Promise<boolean> =>
          new Promise((resolve) => {
            const msg = JSON.stringify({ type: 'batch', id: ++id, sid, items });
            bytesSent += Buffer.byteLength(msg);
            pending = { id, resolve };
            ws.send(msg);
          });
        // The fabrics first (as the SDK does on addFabric).
        await send(
          fabricIDs.map((fabricID) => ({
            n: ++n, t: t0, kind: 'fabric', conferenceID: `bench-conf-${c}`, fabricID, localUserID: `bench-user-${c}`,
            remoteUserID: 'peer', fabricUsage: 'multiplex', remoteEndpointType: 'peer', direction: 'sendrecv',
          })),
        );
        for (let b = 0; b < opts.maxBatchesPerClient && Date.now() < deadline; b++) {
          // Poll b of every fabric: the recorded session's item b (replayed in a loop).
          const d = deltas[b % deltas.length] as Record<string, unknown>;
          const items = fabricIDs.map((fabricID) => ({ ...d, n: ++n, t: t0 + b * 1000, conferenceID: `bench-conf-${c}`, fabricID }));
          const sentAt = performance.now();
          const ok = await send(items);
          latencies.push(performance.now() - sentAt);
          batches++;
          if (ok) samples += items.length;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    for (const ws of sockets) ws.close(1000);
    const d = dist(latencies);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN;
    const res: IngestResult = {
      clients: opts.clients,
      fabricsPerClient: opts.fabricsPerClient,
      itemsPerBatch: opts.fabricsPerClient,
      seconds: round(seconds, 2),
      samples,
      samplesPerSecond: Math.round(samples / seconds),
      batches,
      ackMs: { ...d, p99, max: sorted[sorted.length - 1] ?? NaN },
      errors,
      bytesSent,
    };
    log(`ingest: ${res.samplesPerSecond} samples/s, ack p99 ${round(p99, 1)} ms (${batches} batches, ${errors} errors)`);
    return res;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
