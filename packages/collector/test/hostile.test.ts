// Hostile input (the robustness review of the collector): odd request targets, client strings that
// are Object.prototype names, unpaired surrogates, reserved stream keys, huge bodies, huge echoes,
// endless invalid batches, bad query parameters and extreme numbers. Each gets a clear 4xx (never a
// 5xx), and nothing bad is stored.
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildStreams } from '../src/query';
import { WS_INVALID_BATCHES_BEFORE_CLOSE } from '../src/server';
import type { ConferenceData, SampleRecord } from '../src/types';
import { computeSummary } from '../src/summary';
import {
  APP_A,
  T0,
  WsClient,
  basic,
  countRows,
  errorItem,
  eventItem,
  eventually,
  fabricItem,
  feedbackItem,
  getJson,
  getToken,
  ingestHttp,
  postJson,
  query,
  rid,
  sdkTransport,
  signedRequest,
  start,
  statsItem,
  useCollector,
} from './helpers';

const c = useCollector();

/** Sends `path` as the request target as is (fetch would normalize it). */
function rawRequest(method: string, path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(c().base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Rows of every table ingest writes to. */
function storedRows(): Record<string, number> {
  const n = (table: string): number => countRows(c(), table);
  return { items: n('items'), sessions: n('sessions'), conferences: n('conferences'), fabrics: n('fabrics'), samples: n('samples'), participants: n('participants') };
}

const aliceToken = (): Promise<string> => getToken(c(), APP_A, 'alice');

describe('request targets that are no URL', () => {
  it.each(['//[', 'http://[', '//:99999/', 'http://x:99999/', '//[/x', '//a:b@[::1'])('%s: 400 bad_request, never a 500', async (target) => {
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const r = await rawRequest(method, target);
      expect(r.status, `${method} ${target}`).toBe(400);
      const json = JSON.parse(r.body);
      expect(json.error).toBe('bad_request');
      expect(json.message).toContain('the request target is not a valid URL');
    }
    expect(c().logs.filter((l) => l.level === 'error')).toEqual([]);
    expect((await rawRequest('GET', '/healthz')).status).toBe(200);
  });
});

describe('client strings named like Object.prototype members', () => {
  it('count as plain error categories in the summary', async () => {
    const conf = `cat-${rid()}`;
    const categories = ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'negotiationFailure', 'negotiationFailure'];
    const items = [
      fabricItem(1, conf, 'f1', 'alice', 'bob'),
      ...categories.map((category, i) => ({ ...errorItem(i + 2, conf, 'f1', 'createOffer', 'failed'), category })),
      eventItem(categories.length + 2, conf, 'f1', 'fabricTerminated'),
    ];
    expect((await ingestHttp(c(), await aliceToken(), { sid: rid(), items })).status).toBe(200);
    await c().summarizeNow();
    const summary = (await query(c(), APP_A, conf)).summary;
    expect(summary.errorCount).toBe(7);
    // JSON.parse makes "__proto__" an own key, so entries show exactly what was served.
    expect(Object.entries(summary.errorsByCategory).sort()).toEqual([
      ['__proto__', 1],
      ['constructor', 1],
      ['hasOwnProperty', 1],
      ['negotiationFailure', 2],
      ['toString', 1],
      ['valueOf', 1],
    ]);
  });
});

describe('unpaired UTF-16 surrogates', () => {
  it('are refused in IDs and names (HTTP 400, WebSocket invalid_batch naming the path), storing nothing', async () => {
    const token = await aliceToken();
    const sid = rid();
    const conf = `sur-${rid()}`;
    const before = storedRows();
    const cases: [unknown, string][] = [
      [{ sid, items: [fabricItem(1, 'c-\ud800', 'f1', 'alice', 'bob')] }, 'items[0].conferenceID'],
      [{ sid: 's-\udc00', items: [fabricItem(1, conf, 'f1', 'alice', 'bob')] }, 'sid'],
      [{ sid, items: [fabricItem(1, conf, 'f1', 'alice\ud83d', 'bob')] }, 'items[0].localUserID'],
      [{ sid, items: [statsItem(1, conf, 'f1', [{ key: 'inbound-rtp:\udfff', bitrate: 1 }])] }, 'items[0].streams[0].key'],
      [{ sid, items: [{ n: 1, t: T0, kind: 'custom', conferenceID: conf, name: 'x', data: { 'k\ud800': 1 } }] }, 'items[0].data key'],
      [{ sid, items: [{ n: 1, t: T0, kind: 'customStats', conferenceID: conf, data: { 'k\ud800': 1 } }] }, 'items[0].data key'],
    ];
    for (const [batch, path] of cases) {
      const r = await ingestHttp(c(), token, batch);
      expect(r.status, path).toBe(400);
      expect(r.json.error).toBe('invalid_batch');
      expect(r.json.message).toContain(path);
      expect(r.json.message).toContain('unpaired UTF-16 surrogate');
    }
    const ws = await WsClient.connect(c().base, token);
    const m = await ws.batch(1, sid, [fabricItem(1, 'c-\ud800', 'f1', 'alice', 'bob')]);
    expect(m).toMatchObject({ type: 'error', id: 1, error: 'invalid_batch' });
    expect(m.message).toContain('items[0].conferenceID: must not contain an unpaired UTF-16 surrogate');
    await ws.close();
    const t = await postJson(`${c().base}/v1/token`, signedRequest(APP_A, 'bob\ud800'));
    expect(t.status).toBe(400);
    expect(t.json.message).toContain('userID');
    expect(storedRows()).toEqual(before);
  });

  it('become U+FFFD in free text: error messages and SDPs, comments, string values of data', async () => {
    const conf = `sur-text-${rid()}`;
    const r = await ingestHttp(c(), await aliceToken(), {
      sid: rid(),
      items: [
        { ...errorItem(1, conf, 'f1', 'createOffer', 'bad \ud800 end'), localSDP: 'v=0\udc00' },
        feedbackItem(2, conf, 'alice', 4, 'great\ud83d'),
        { n: 3, t: T0, kind: 'custom', conferenceID: conf, name: 'note', data: { text: 'x\udbff', list: ['\udc00', { deep: 'y\ud800z' }] } },
      ],
    });
    expect(r.status).toBe(200);
    const d = await query(c(), APP_A, conf);
    expect(d.errors[0]).toMatchObject({ message: 'bad \ufffd end', localSDP: 'v=0\ufffd' });
    expect(d.feedback[0].comment).toBe('great\ufffd');
    expect(d.customEvents[0].data).toEqual({ text: 'x\ufffd', list: ['\ufffd', { deep: 'y\ufffdz' }] });
  });
});

describe('reserved stream keys', () => {
  it('refuses stream keys starting with "#" (the connection sample is stored under "#connection")', async () => {
    const token = await aliceToken();
    const sid = rid();
    const conf = `conn-${rid()}`;
    for (const key of ['#connection', '#other']) {
      const r = await ingestHttp(c(), token, {
        sid,
        items: [statsItem(1, conf, 'f1', [{ key, bitrate: 100 }, { key: 'inbound-rtp:1', bitrate: 50 }], { rtt: 77 })],
      });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_batch');
      expect(r.json.message).toContain('items[0].streams[0].key');
      expect(r.json.message).toContain('reserved');
    }
    expect(countRows(c(), 'samples', `sid = '${sid}'`)).toBe(0);
    // Without it, the connection's RTT is the stream's fallback, as usual.
    const ok = await ingestHttp(c(), token, { sid, items: [statsItem(1, conf, 'f1', [{ key: 'inbound-rtp:1', bitrate: 50 }], { rtt: 77 })] });
    expect(ok.status).toBe(200);
    const d = await query(c(), APP_A, conf);
    expect(d.streams.map((s: { key: string; series: { rtt: number }[] }) => [s.key, s.series[0]?.rtt])).toEqual([['inbound-rtp:1', 77]]);
  });
});

describe('bodies over the 16 MiB drain limit', () => {
  const MiB = 1024 * 1024;
  /** POSTs `mib` MiB of 'a', chunked (a stream body) or with Content-Length. */
  async function postBig(url: string, mib: number, chunked: boolean): Promise<{ status: number; json: any }> {
    const chunk = new Uint8Array(MiB).fill(97);
    const body = chunked
      ? new ReadableStream<Uint8Array>({
          start(ctl) {
            for (let i = 0; i < mib; i++) ctl.enqueue(chunk);
            ctl.close();
          },
        })
      : new Uint8Array(mib * MiB).fill(97);
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body, duplex: 'half', headers: { 'Content-Type': 'application/json' } };
    const res = await fetch(url, init);
    return { status: res.status, json: await res.json() };
  }

  it('get a 413 the client can read, chunked or with Content-Length (not a reset)', async () => {
    const token = await aliceToken();
    for (const url of [`${c().base}/v1/token`, `${c().base}/v1/ingest?token=${encodeURIComponent(token)}`]) {
      for (let i = 0; i < 3; i++) {
        expect(await postBig(url, 20, true), `${url} chunked #${i}`).toMatchObject({ status: 413, json: { error: 'too_large' } });
      }
      for (let i = 0; i < 2; i++) {
        expect(await postBig(url, 50, false), `${url} Content-Length #${i}`).toMatchObject({ status: 413, json: { error: 'too_large' } });
      }
    }
    expect((await getJson(`${c().base}/healthz`)).status).toBe(200);
  });
});

describe('echoes of client input', () => {
  it('are clipped in answers and log lines (a 900 KB field name is not repeated)', async () => {
    const token = await aliceToken();
    const huge = 'k'.repeat(900_000);
    const conf = `echo-${rid()}`;
    const r = await ingestHttp(c(), token, { sid: rid(), items: [{ ...fabricItem(1, conf, 'f1', 'a', 'b'), [huge]: 1 }] });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/^items\[0\]\.k+…: unknown field/);
    expect(r.json.message.length).toBeLessThan(400);
    // Keys nested in free-form data: every level of the path is clipped.
    let data: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 17; i++) data = { ['d'.repeat(20_000)]: data };
    const deep = await ingestHttp(c(), token, { sid: rid(), items: [{ n: 1, t: T0, kind: 'custom', conferenceID: conf, name: 'x', data }] });
    expect(deep.status).toBe(400);
    expect(deep.json.message).toContain('nested deeper than 16 levels');
    expect(deep.json.message.length).toBeLessThan(600);
    const ws = await WsClient.connect(c().base, token);
    const m = await ws.batch(1, rid(), [{ ...fabricItem(1, conf, 'f1', 'a', 'b'), [huge]: 1 }]);
    expect(m.error).toBe('invalid_batch');
    expect(m.message.length).toBeLessThan(400);
    await ws.close();
    const longest = Math.max(...c().logs.map((l) => JSON.stringify(l.fields).length));
    expect(longest).toBeLessThan(2000);
  });

  it('unknown apps and conferences are echoed clipped too', async () => {
    const r = await getJson(`${c().base}/v1/apps/${APP_A.appID}/conferences/${'c'.repeat(5000)}`, basic(APP_A));
    expect(r.status).toBe(404);
    expect(r.json.message.length).toBeLessThan(400);
    const t = await postJson(`${c().base}/v1/token`, signedRequest({ appID: 'a'.repeat(256), secret: 'x' }, 'u'));
    expect(t.status).toBe(401);
    expect(t.json.message.length).toBeLessThan(300);
  });
});

describe('invalid batches over one WebSocket', () => {
  const N = WS_INVALID_BATCHES_BEFORE_CLOSE;

  it(`close it with 4400 after ${N} in a row; an acknowledged batch starts the count again`, async () => {
    const token = await aliceToken();
    const sid = rid();
    const conf = `ws-inv-${rid()}`;
    const bad = [{ ...fabricItem(1, conf, 'f1', 'alice', 'bob'), direction: 'sideways' }];
    const ws = await WsClient.connect(c().base, token);
    for (let i = 1; i < N; i++) expect(await ws.batch(i, sid, bad)).toMatchObject({ type: 'error', id: i, error: 'invalid_batch' });
    expect(await ws.batch(1000, sid, [fabricItem(1, conf, 'f1', 'alice', 'bob')])).toEqual({ type: 'ack', id: 1000, acked: [1] });
    for (let i = 1; i < N; i++) expect(await ws.batch(2000 + i, sid, bad)).toMatchObject({ type: 'error', id: 2000 + i, error: 'invalid_batch' });
    expect(ws.isClosed).toBe(false);
    const last = await ws.batch(3000, sid, bad);
    expect(last).toMatchObject({ type: 'error', id: 3000, error: 'invalid_batch' });
    expect(last.message).toContain(`closing after ${N} invalid batches in a row`);
    expect((await ws.closed).code).toBe(4400);
    expect(countRows(c(), 'items', `sid = '${sid}'`)).toBe(1);
  });

  it('a batch with a bad id counts as invalid too', async () => {
    const ws = await WsClient.connect(c().base, await aliceToken());
    for (let i = 1; i < N; i++) {
      ws.send({ type: 'batch', id: -i, sid: rid(), items: [] });
      expect(await ws.next()).toMatchObject({ type: 'error', error: 'invalid_batch' });
    }
    ws.send({ type: 'batch', id: 'x', sid: rid(), items: [] });
    expect(await ws.next()).toMatchObject({ type: 'error', error: 'invalid_batch' });
    expect((await ws.closed).code).toBe(4400);
  });

  it('the SDK transport gets past the close: a run of bad items is discarded, every good item stored', async () => {
    const conf = `sdk-${rid()}`;
    const transport = sdkTransport(c(), { batchIntervalMs: 20, minBackoffMs: 20, maxBackoffMs: 200 });
    // Items 100..107 have a name over 128 characters: refused by the collector. Splitting the
    // batch around 8 adjacent bad items takes more than N refusals in a row.
    for (let i = 0; i < 300; i++) {
      const bad = i >= 100 && i < 108;
      transport.send({ kind: 'custom', conferenceID: conf, name: bad ? 'x'.repeat(200) : 'ok', data: { i } });
    }
    try {
      expect(await transport.start()).toEqual({ ok: true });
      await eventually(async () => (countRows(c(), 'items', `conference_id = '${conf}'`) === 292 ? true : undefined), 'all good items stored');
    } finally {
      await transport.close();
    }
    const closes = c().logs.filter((l) => l.message === 'websocket closed by the collector' && l.fields.code === 4400 && l.fields.error === 'invalid_batch');
    expect(closes.length).toBeGreaterThanOrEqual(1);
    const stored = (await query(c(), APP_A, conf)).customEvents.map((e: { data: { i: number } }) => e.data.i);
    expect(stored).toEqual(Array.from({ length: 300 }, (_, i) => i).filter((i) => i < 100 || i >= 108));
  });
});

describe('query parameters', () => {
  const list = (q: string): Promise<{ status: number; json: any }> => getJson(`${c().base}/v1/apps/${APP_A.appID}/conferences?${q}`, basic(APP_A));

  it('answer 400 for a present but invalid limit', async () => {
    for (const v of ['abc', '-1', '0', '1e309', '1.5', '%zz', 'NaN', '', '1001', '1e3', ' 5']) {
      const r = await list(`limit=${v}`);
      expect(r.status, `limit=${v}`).toBe(400);
      expect(r.json).toMatchObject({ error: 'bad_request' });
      expect(r.json.message).toContain('?limit must be an integer from 1 to 1000');
    }
    expect((await list('limit=1&limit=2')).status).toBe(400);
    expect((await list('limit=5')).status).toBe(200);
    expect((await list('')).status).toBe(200);
  });

  it('answer 400 for a present but invalid maxPoints', async () => {
    const conf = `mp-${rid()}`;
    await ingestHttp(c(), await aliceToken(), { sid: rid(), items: [fabricItem(1, conf, 'f1', 'alice', 'bob')] });
    const detail = (q: string): Promise<{ status: number; json: any }> => getJson(`${c().base}/v1/apps/${APP_A.appID}/conferences/${conf}?${q}`, basic(APP_A));
    for (const v of ['x', '-5', '1', '1e9', '100001', '2.5']) {
      const r = await detail(`maxPoints=${v}`);
      expect(r.status, `maxPoints=${v}`).toBe(400);
      expect(r.json.message).toContain('?maxPoints must be an integer from 2 to 100000');
    }
    expect((await detail('maxPoints=30')).status).toBe(200);
  });
});

describe('extreme numbers', () => {
  it('are refused beyond the documented bounds (stream numbers, fabricSetup delays, dropped counts)', async () => {
    const token = await aliceToken();
    const sid = rid();
    const conf = `num-${rid()}`;
    const before = storedRows();
    const cases: [unknown, string][] = [
      [statsItem(1, conf, 'f1', [{ key: 'inbound-rtp:1', bitrate: 1.7e308 }]), 'items[0].streams[0].bitrate'],
      [statsItem(1, conf, 'f1', [{ key: 'inbound-rtp:1', rtt: 2e9 }]), 'items[0].streams[0].rtt'],
      [statsItem(1, conf, 'f1', [], { availableOutgoingBitrate: 1e300 }), 'items[0].connection.availableOutgoingBitrate'],
      [eventItem(1, conf, 'f1', 'fabricSetup', { setupDelay: -5000 }), 'items[0].data.setupDelay'],
      [eventItem(1, conf, 'f1', 'fabricSetup', { setupDelay: 1e308 }), 'items[0].data.setupDelay'],
      [eventItem(1, conf, 'f1', 'fabricSetup', { setupDelay: '120' }), 'items[0].data.setupDelay'],
      [eventItem(1, conf, 'f1', 'fabricSetup', { setupDelay: 10, connectivityDelay: -1 }), 'items[0].data.connectivityDelay'],
      [{ n: 1, t: T0, kind: 'dropped', conferenceID: conf, count: Number.MAX_SAFE_INTEGER, reason: 'buffer_full' }, 'items[0].count'],
    ];
    for (const [item, path] of cases) {
      const r = await ingestHttp(c(), token, { sid, items: [item] });
      expect(r.status, path).toBe(400);
      expect(r.json.message).toContain(`${path}: `);
    }
    expect(storedRows()).toEqual(before);
    // At the bounds: accepted.
    const ok = await ingestHttp(c(), token, {
      sid,
      items: [
        statsItem(1, conf, 'f1', [{ key: 'inbound-rtp:1', bitrate: 1e9, rtt: 1e9 }]),
        eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 1e9, gatheringDelay: 0 }),
        { n: 3, t: T0, kind: 'dropped', conferenceID: conf, count: 1e9, reason: 'buffer_full' },
      ],
    });
    expect(ok.status).toBe(200);
  });

  it('stored before the bounds existed still give finite summaries (no null from overflow)', () => {
    const sample = (n: number, fields: Record<string, number | string>): SampleRecord => ({ sid: 's', fabricID: 'f', key: 'inbound-rtp:1', n, t: T0 + n, fields });
    const streams = buildStreams([sample(1, { mediaType: 'video', bitrate: 1.7e308 }), sample(2, { mediaType: 'video', bitrate: 1.7e308 })]);
    expect(streams[0]!.summary.bitrate).toEqual({ avg: 1.7e308, worst: 1.7e308 });
    expect(streams[0]!.series.map((p) => p.bitrate)).toEqual([1.7e308, 1.7e308]);

    const fabric = (setupDelay: number) => ({
      sid: 's', fabricID: `f${setupDelay}`, localUserID: 'a', remoteUserID: 'b', fabricUsage: 'multiplex', remoteEndpointType: 'peer' as const,
      direction: 'sendrecv' as const, attributes: null, state: 'established' as const, setupDelay, firstSeen: T0, lastSeen: T0,
    });
    const dropped = (n: number) => ({ sid: 's', userID: 'a', receivedAt: T0, item: { n, t: T0, kind: 'dropped' as const, conferenceID: 'c', count: Number.MAX_SAFE_INTEGER, reason: 'buffer_full' as const } });
    const data: ConferenceData = {
      conference: { conferenceID: 'c', firstSeen: T0, lastSeen: T0 + 2, lastReceived: T0, summary: null, summaryStale: true, dataVersion: 1 },
      participants: [],
      fabrics: [fabric(1e308), fabric(1.5e308)],
      events: [],
      errors: [],
      feedback: [],
      customEvents: [],
      customStats: [],
      dropped: [dropped(1), dropped(2)],
      samples: [sample(1, { mediaType: 'video', bitrate: 1.7e308 }), sample(2, { mediaType: 'video', bitrate: 1.7e308 })],
    };
    const s = computeSummary(data, 'idle', T0);
    expect(s.setupDelay?.max).toBe(1.5e308);
    expect(s.setupDelay!.avg / 1.25e308).toBeCloseTo(1, 12);
    expect(s.video?.bitrate).toEqual({ avg: 1.7e308, worst: 1.7e308 });
    expect(s.droppedSamples).toBe(Number.MAX_SAFE_INTEGER);
    // Served as JSON, these stay numbers (Infinity would become null).
    const served = JSON.parse(JSON.stringify(s));
    expect([served.setupDelay.avg, served.video.bitrate.avg, served.video.bitrate.worst].every(Number.isFinite)).toBe(true);
  });
});

describe('small things', () => {
  it('/healthz answers 405 to methods other than GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await rawRequest(method, '/healthz');
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    expect((await rawRequest('HEAD', '/healthz')).status).toBe(200);
  });

  it('validation messages read well ("an object", a missing field)', async () => {
    const token = await aliceToken();
    const r = await ingestHttp(c(), token, { sid: { x: 1 }, items: [] });
    expect(r.json.message).toContain('sid: expected a string, got an object');
    const missing = await ingestHttp(c(), token, { items: [] });
    expect(missing.json.message).toContain('sid: expected a string, got nothing (the field is missing)');
  });
});

describe('WebSocket heartbeat', () => {
  it('closes a connection that answers no ping; one that does (the ws package) stays open', async () => {
    const hb = await start({ wsHeartbeatMs: 50 });
    try {
      const token = await getToken(hb, APP_A, 'alice');
      const good = await WsClient.connect(hb.base, token);
      // A raw socket: the upgrade handshake, then silence (it never answers a ping).
      const { hostname, port } = new URL(hb.base);
      const silent = connect({ host: hostname, port: Number(port) });
      let head = '';
      silent.setEncoding('latin1');
      silent.on('data', (d: string) => (head += d));
      const closed = new Promise<void>((resolve) => silent.on('close', () => resolve()));
      silent.write(
        `GET /v1/ws?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await eventually(async () => (head.startsWith('HTTP/1.1 101') ? true : undefined), 'the upgrade');
      await closed;
      expect(hb.logs.some((l) => l.fields.error === 'no_pong')).toBe(true);
      // Several heartbeats later the answering client is still served.
      await new Promise((r) => setTimeout(r, 300));
      expect(good.isClosed).toBe(false);
      good.send({ type: 'ping' });
      expect(await good.next()).toEqual({ type: 'pong' });
      await good.close();
    } finally {
      await hb.close();
    }
  });
});
