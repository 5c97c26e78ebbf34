// Caps on open WebSocket ingest connections (--max-connections, --max-connections-per-address):
// past a cap the upgrade is answered 503 too_many_connections with Retry-After, a slot is given
// back when its connection ends however it ends, refusals are logged once per address per
// minute, HTTP ingest stays open to a refused client, and the SDK gets its data through.
// Small caps (3 in all, 2 per address) keep every count bounded; waits poll for log records.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createConnectionLimiter } from '../src/connectionLimiter';
import { startCollector } from '../src/index';
import { APP_A, eventually, fabricItem, getToken, postJson, rid, sdkTransport, start, type TestCollector } from './helpers';

const wsUrl = (c: TestCollector, token: string): string => `${c.base.replace(/^http/, 'ws')}/v1/ws?token=${encodeURIComponent(token)}`;

/** An open WebSocket, or the HTTP answer that refused the upgrade. */
type Attempt = { status: 101; ws: WebSocket } | { status: number; retryAfter: string | undefined; body: string };

/** One upgrade from `from` (an X-Forwarded-For address; only a trustProxy collector believes it). */
function attempt(c: TestCollector, token: string, from?: string): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(c, token), { headers: from === undefined ? {} : { 'X-Forwarded-For': from } });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    ws.once('error', reject);
  });
}

async function open(c: TestCollector, token: string, from?: string): Promise<WebSocket> {
  const a = await attempt(c, token, from);
  if (!('ws' in a)) throw new Error(`expected the upgrade to be accepted, got ${a.status} ${a.body}`);
  return a.ws;
}

async function refused(c: TestCollector, token: string, from?: string): Promise<{ retryAfter: string | undefined; body: { error: string; message: string } }> {
  const a = await attempt(c, token, from);
  if ('ws' in a) {
    a.ws.close();
    throw new Error('expected the upgrade to be refused, it was accepted');
  }
  expect(a.status).toBe(503);
  return { retryAfter: a.retryAfter, body: JSON.parse(a.body) };
}

/** Waits until the collector has given back `n` slots in all (it logs each one at debug). */
const slotsGivenBack = (c: TestCollector, n: number): Promise<true> =>
  eventually(async () => (c.logs.filter((l) => l.message === 'websocket connection ended').length >= n ? true : undefined), `${n} connections ended`);

const refusalLogs = (c: TestCollector) => c.logs.filter((l) => l.message === 'websocket upgrade refused' && l.fields.code === 'too_many_connections');

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

const A = '198.51.100.1';
const B = '198.51.100.2';
const C = '198.51.100.3';

describe('WebSocket connection caps', () => {
  it('past the per-address cap, then the total cap, the upgrade gets 503 too_many_connections with Retry-After; closing one frees its slot', async () => {
    const c = await start({ trustProxy: true, maxConnections: 3, maxConnectionsPerAddress: 2 });
    try {
      const token = await getToken(c, APP_A, 'alice');
      const a1 = await open(c, token, A);
      const a2 = await open(c, token, A);
      const fromA = await refused(c, token, A);
      expect(fromA).toEqual({
        retryAfter: '30',
        body: { error: 'too_many_connections', message: expect.stringMatching(/^too many WebSocket connections from this address \(2\): try again in 30 s, or send over HTTP/) },
      });

      // B has slots of its own; its first takes the last one of the collector.
      const b1 = await open(c, token, B);
      for (const from of [B, C]) {
        expect((await refused(c, token, from)).body).toEqual({
          error: 'too_many_connections',
          message: expect.stringMatching(/^the collector has too many WebSocket connections \(3\)/),
        });
      }

      // A client closing: A has a slot again, and the collector too (taken by A at once).
      a1.close();
      await slotsGivenBack(c, 1);
      const a3 = await open(c, token, A);
      expect((await refused(c, token, C)).body.message).toMatch(/collector has too many/);

      // A connection dropped without a close frame frees its slot as well.
      b1.terminate();
      await slotsGivenBack(c, 2);
      const c1 = await open(c, token, C);

      // The admitted connections carry batches as usual.
      const acked = new Promise((resolve) => c1.once('message', (d) => resolve(JSON.parse(d.toString()))));
      c1.send(JSON.stringify({ type: 'batch', id: 1, sid: rid(), items: [fabricItem(1, `conf-${rid()}`, 'f1', 'alice', 'bob')] }));
      expect(await acked).toEqual({ type: 'ack', id: 1, acked: [1] });
      for (const ws of [a2, a3, c1]) ws.close();
      await slotsGivenBack(c, 5);
    } finally {
      await c.close();
    }
  });

  it('a slot is given back however the connection ends: closed by the collector (bad token), or a failed handshake', async () => {
    const c = await start({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    try {
      // Upgraded, then closed by the collector with 4401.
      const forged = await attempt(c, 'not-a-token');
      expect(forged.status).toBe(101);
      if (!('ws' in forged)) return;
      expect(await closed(forged.ws)).toBe(4401);
      await slotsGivenBack(c, 1);

      // Admitted, then refused by the WebSocket handshake itself (no Sec-WebSocket-Key): 400.
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(c.port, '127.0.0.1', () => {
          socket.write('GET /v1/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n');
        });
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      await slotsGivenBack(c, 2);

      const ws = await open(c, await getToken(c, APP_A, 'alice'));
      ws.close();
      await slotsGivenBack(c, 3);
      expect(refusalLogs(c)).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('a refused upgrade is closed by the collector even when the client keeps its side open (it would hold a socket)', async () => {
    const c = await start({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    try {
      const token = await getToken(c, APP_A, 'alice');
      const held = await open(c, token);
      /**
       * A raw upgrade from a client that never ends its side of the connection. Once the answer has
       * ended, it keeps writing: only a socket the collector closed answers that with a reset,
       * which ends the connection here (a half-open one would take the bytes in silence).
       */
      const rawUpgrade = async (path: string): Promise<string> => {
        const socket = connect({ port: c.port, host: '127.0.0.1', allowHalfOpen: true });
        let text = '';
        let ended = false;
        let gone = false;
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => (ended = true));
        socket.on('close', () => (gone = true));
        socket.on('error', () => {}); // the reset
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
        await eventually(async () => (ended ? true : undefined), `the answer to ${path} ended`);
        await eventually(async () => {
          if (!gone) socket.write('still here');
          return gone ? true : undefined;
        }, `the collector closed the socket of ${path}`);
        return text;
      };
      const refusedAnswer = await rawUpgrade(`/v1/ws?token=${encodeURIComponent(token)}`);
      expect(refusedAnswer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(refusedAnswer).toContain('Retry-After: 30\r\n');
      expect(JSON.parse(refusedAnswer.slice(refusedAnswer.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'too_many_connections' });
      // Other paths too (404, no body), which are refused before any count.
      expect(await rawUpgrade('/v1/nope')).toBe('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      held.close();
    } finally {
      await c.close();
    }
  });

  it('a client that resets its refused upgrade at once (404, 503) does not end the collector', async () => {
    const c = await start({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    try {
      const token = await getToken(c, APP_A, 'alice');
      const held = await open(c, token);
      /** Sends an upgrade and resets the connection right away: the collector's answer meets a reset socket. */
      const resetUpgrade = (path: string): Promise<void> =>
        new Promise((resolve) => {
          const socket = connect(c.port, '127.0.0.1', () => {
            socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
            socket.resetAndDestroy();
          });
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        });
      for (let i = 0; i < 10; i++) {
        await resetUpgrade('/v1/nope');
        await resetUpgrade(`/v1/ws?token=${encodeURIComponent(token)}`);
      }
      // Every refusal reached the collector (each is logged: the 404s always, the 503 once a minute).
      await eventually(async () => (c.logs.filter((l) => l.message === 'websocket upgrade refused').length >= 11 ? true : undefined), 'the refusals');
      expect(refusalLogs(c)).toHaveLength(1);
      expect((await fetch(`${c.base}/healthz`)).status).toBe(200);
      expect((await refused(c, token)).body.error).toBe('too_many_connections');
      held.close();
    } finally {
      await c.close();
    }
  });

  it('without trustProxy, X-Forwarded-For does not name the client: every connection counts against the socket address', async () => {
    const c = await start({ maxConnections: 10, maxConnectionsPerAddress: 2 });
    try {
      const token = await getToken(c, APP_A, 'alice');
      const held = [await open(c, token, A), await open(c, token, B)];
      expect((await refused(c, token, C)).body.message).toMatch(/from this address \(2\)/);
      expect(refusalLogs(c).map((l) => l.fields.remote)).toEqual(['127.0.0.1']);
      for (const ws of held) ws.close();
    } finally {
      await c.close();
    }
  });

  it('a refused client can still send over HTTP ingest (it holds no connection)', async () => {
    const c = await start({ trustProxy: true, maxConnections: 3, maxConnectionsPerAddress: 1 });
    try {
      const token = await getToken(c, APP_A, 'alice');
      const held = await open(c, token, A);
      await refused(c, token, A);
      const conf = `http-${rid()}`;
      const headers = { Authorization: `Bearer ${token}`, 'X-Forwarded-For': A };
      for (let n = 1; n <= 3; n++) {
        const r = await postJson(`${c.base}/v1/ingest`, { sid: rid(), items: [fabricItem(n, conf, `f${n}`, 'alice', 'bob')] }, headers);
        expect(r).toMatchObject({ status: 200, json: { acked: [n] } });
      }
      held.close();
    } finally {
      await c.close();
    }
  });

  it('refusals are logged once per address per minute; the next line counts those not logged', async () => {
    const clock = { now: Date.now() };
    const c = await start({ clock: () => clock.now, trustProxy: true, maxConnections: 1, maxConnectionsPerAddress: 1 });
    try {
      const token = await getToken(c, APP_A, 'alice');
      const held = await open(c, token, A);
      for (let i = 0; i < 5; i++) await refused(c, token, A);
      for (let i = 0; i < 2; i++) await refused(c, token, B);
      expect(refusalLogs(c).map((l) => l.fields)).toEqual([
        expect.objectContaining({ status: 503, scope: 'address', limit: 1, open: 1, openFromAddress: 1, unlogged: 0, remote: A }),
        expect.objectContaining({ status: 503, scope: 'total', limit: 1, open: 1, openFromAddress: 0, unlogged: 0, remote: B }),
      ]);
      expect(refusalLogs(c).every((l) => l.level === 'warn')).toBe(true);

      clock.now += 59_999;
      await refused(c, token, A);
      expect(refusalLogs(c)).toHaveLength(2);
      clock.now += 1;
      await refused(c, token, A);
      expect(refusalLogs(c)).toHaveLength(3);
      expect(refusalLogs(c)[2]?.fields).toMatchObject({ remote: A, unlogged: 5 });
      held.close();
    } finally {
      await c.close();
    }
  });

  it("the SDK's transport, refused its WebSocket, backs off, sends over HTTP, and goes back to the WebSocket once a slot frees", async () => {
    const c = await start({ maxConnections: 10, maxConnectionsPerAddress: 1 });
    const token = await getToken(c, APP_A, 'bob');
    const holder = await open(c, token); // takes this address's only slot
    const states: string[] = [];
    const transport = sdkTransport(c, { batchIntervalMs: 20, minBackoffMs: 20, maxBackoffMs: 100 }, { wsProbeMs: 50 });
    transport.onStatus((s) => states.push(s.error ?? s.state));
    const conf = `sdk-${rid()}`;
    const stored = (via: string): number => c.logs.filter((l) => l.message === 'batch stored' && l.fields.via === via).length;
    try {
      c.logs.length = 0;
      expect(await transport.start()).toEqual({ ok: true });
      transport.send({ kind: 'custom', conferenceID: conf, name: 'over-http' });
      await eventually(async () => (stored('http') >= 1 ? true : undefined), 'a batch stored over HTTP');
      expect(states).toContain('wsChannelFailure');
      expect(refusalLogs(c)).toHaveLength(1); // however many times it tried

      holder.close();
      await slotsGivenBack(c, 1);
      // The transport probes the WebSocket every 50 ms; until a probe opens, items still go over HTTP.
      await eventually(async () => {
        transport.send({ kind: 'custom', conferenceID: conf, name: 'after-the-slot-freed' });
        return stored('ws') >= 1 ? true : undefined;
      }, 'a batch stored over the WebSocket');
    } finally {
      await transport.close();
      await c.close();
    }
  });

  it('startCollector refuses caps that are not whole numbers >= 1', async () => {
    for (const bad of [{ maxConnections: 0 }, { maxConnectionsPerAddress: 1.5 }, { maxConnections: Number.NaN }]) {
      await expect(startCollector({ apps: [APP_A], port: 0, ...bad }), JSON.stringify(bad)).rejects.toThrow(/must be an integer >= 1/);
    }
  });
});

describe('createConnectionLimiter', () => {
  it('counts per address and in all; release is idempotent and forgets empty addresses', () => {
    const limiter = createConnectionLimiter({ maxConnections: 3, maxPerAddress: 2, clock: () => 0, logEveryMs: 1000 });
    const a1 = limiter.admit('a');
    const a2 = limiter.admit('a');
    expect(limiter.admit('a')).toMatchObject({ ok: false, scope: 'address', limit: 2, log: true });
    const b1 = limiter.admit('b');
    expect(limiter.admit('c')).toMatchObject({ ok: false, scope: 'total', limit: 3, log: true });
    expect([limiter.open(), limiter.open('a'), limiter.open('b')]).toEqual([3, 2, 1]);
    for (const x of [a1, a1, a2, b1]) if (x.ok) x.release();
    expect([limiter.open(), limiter.open('a'), limiter.open('b')]).toEqual([0, 0, 0]);
    expect(limiter.admit('c').ok).toBe(true);
  });

  it('remembers at most maxLoggedAddresses refused addresses: the oldest are forgotten first', () => {
    const limiter = createConnectionLimiter({ maxConnections: 1, maxPerAddress: 1, clock: () => 0, logEveryMs: 60_000, maxLoggedAddresses: 2 });
    limiter.admit('holder');
    const logs = (address: string): boolean => {
      const r = limiter.admit(address);
      return !r.ok && r.log;
    };
    expect([logs('a'), logs('b'), logs('a'), logs('b')]).toEqual([true, true, false, false]);
    expect(logs('c')).toBe(true); // forgets a
    expect([logs('b'), logs('a')]).toEqual([false, true]);
  });
});
