// Bounded fuzz: 2000 malformed, oversized or wrong-typed messages over HTTP and WebSocket (seeded,
// so a failure reproduces). Every one must be refused, nothing of them stored, and the collector
// must still serve a good client afterwards.
import { describe, expect, it } from 'vitest';
import { APP_A, WsClient, countRows, eventItem, fabricItem, feedbackItem, getToken, ingestHttp, postJson, query, statsItem, useCollector } from './helpers';
import { prng } from '../../../test/harness/prng';

const SEED = 0x5eed;
const HTTP_MESSAGES = 1000;
const WS_MESSAGES = 1000;

const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (max: number): number => Math.floor(rand() * max);

type Json = any;
const CONF = (i: number): string => `fuzz-conf-${i}`;

function validItem(i: number, n: number): Json {
  const conf = CONF(i);
  switch (int(5)) {
    case 0:
      return fabricItem(n, conf, 'f1', 'alice', 'bob');
    case 1:
      return eventItem(n, conf, 'f1', 'fabricSetup', { setupDelay: 100 });
    case 2:
      return statsItem(n, conf, 'f1', [{ key: 'inbound-rtp:1', mediaType: 'audio', bitrate: 30, fractionLoss: 0.1, quality: 'good' }], { rtt: 20 });
    case 3:
      return feedbackItem(n, conf, 'alice', 4, 'ok');
    default:
      return { n, t: 1_700_000_000_000, kind: 'custom', conferenceID: conf, name: 'x', data: { a: 1 } };
  }
}

const deep = (levels: number): Json => {
  let o: Json = { leaf: 1 };
  for (let i = 0; i < levels; i++) o = { o };
  return o;
};

/** Mutations that each make an item invalid. */
const ITEM_MUTATIONS: ((it: Json) => Json)[] = [
  (it) => ({ ...it, n: 0 }),
  (it) => ({ ...it, n: -3 }),
  (it) => ({ ...it, n: 1.5 }),
  (it) => ({ ...it, n: String(it.n) }),
  (it) => ({ ...it, n: null }),
  (it) => {
    const { n: _n, ...rest } = it;
    return rest;
  },
  (it) => ({ ...it, t: 'now' }),
  (it) => ({ ...it, t: -1 }),
  (it) => ({ ...it, t: 1e300 }),
  (it) => ({ ...it, kind: 'nope' }),
  (it) => ({ ...it, kind: 7 }),
  (it) => ({ ...it, conferenceID: '' }),
  (it) => ({ ...it, conferenceID: 'c'.repeat(257) }),
  (it) => ({ ...it, conferenceID: 12 }),
  (it) => ({ ...it, conferenceID: 'has\nnewline' }),
  (it) => ({ ...it, unexpected: true }),
  (it) => ({ ...it, __proto__: { polluted: true }, constructor: 'x' }),
  (it) => ({ ...it, kind: 'fabric', fabricID: 'f', localUserID: 'a', remoteUserID: 'b', fabricUsage: 'audio', remoteEndpointType: 'p2p', direction: 'sendrecv' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'fabric', fabricID: 'f', localUserID: 'a', remoteUserID: 'b', fabricUsage: 'audio', remoteEndpointType: 'peer', direction: 'both' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'fabric', fabricID: 'f', localUserID: 'a', remoteUserID: 'b', fabricUsage: 'audio', remoteEndpointType: 'peer', direction: 'inactive', attributes: [] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'event', event: '' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'event', event: 'fabricSetup', data: 'slow' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'event', event: 'x', data: deep(40) }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'event', event: 'x', fabricID: null }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'error', fn: 'createOffer', category: 'x' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'error', fn: 5, category: 'x', message: 'm' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: {} }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ bitrate: 3 }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ key: 'k', bitrate: 'fast' }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ key: 'k', fractionLoss: 2 }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ key: 'k', quality: 'great' }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ key: 'k', newField: 1 }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ key: 'k' }, { key: 'k' }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [], connection: 5 }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', fabricID: 'f', streams: [{ key: 'k', bitrate: -1 }] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'stats', streams: [] }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'feedback', userID: 'a', rating: { overall: 6 } }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'feedback', userID: 'a', rating: { overall: 2.5 } }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'feedback', userID: 'a' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'customStats', data: { a: 'x' } }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'dropped', count: -1, reason: 'buffer_full' }),
  (it) => ({ n: it.n, t: it.t, conferenceID: it.conferenceID, kind: 'dropped', count: 1, reason: 'other' }),
  () => null,
  () => 'item',
  () => [1, 2],
];

/** A batch (sid + items) that is invalid: good items with one bad one, or a bad envelope. */
function badBatch(i: number): Json {
  const sid = `fuzz-sid-${i}`;
  const count = 1 + int(6);
  const items = Array.from({ length: count }, (_, k) => validItem(i, k + 1));
  switch (int(8)) {
    case 0:
      return { items };
    case 1:
      return { sid: 42, items };
    case 2:
      return { sid, items: 'many' };
    case 3:
      return { sid, items: Array.from({ length: 501 }, (_, k) => eventItem(k + 1, CONF(i), 'f', 'audioMute')) };
    case 4:
      return { sid, items: [...items, { ...validItem(i, 1) }] }; // duplicate n in the batch
    default: {
      const at = int(items.length);
      items[at] = pick(ITEM_MUTATIONS)(items[at]);
      return { sid, items };
    }
  }
}

function garbage(): string {
  switch (int(6)) {
    case 0:
      return Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256))).toString('latin1');
    case 1:
      return JSON.stringify(badBatch(0)).slice(0, 1 + int(60));
    case 2:
      return pick(['null', '[]', '"str"', '42', 'true', '{}', '{"sid":']);
    case 3:
      return '{"sid":"s","items":[' + '['.repeat(5000) + ']'.repeat(5000) + ']}';
    case 4:
      return '\u0000\u0001\uffff';
    default:
      return '';
  }
}

// The failed-auth limit off: the fuzz forges tokens from one address and then needs a good client
// served from it (the limit has its own tests, authLimit.test.ts).
const c = useCollector({ authFailuresPerMinute: 0 });

function storedRows(): Record<string, number> {
  const n = (table: string): number => countRows(c(), table);
  return { items: n('items'), sessions: n('sessions'), conferences: n('conferences'), fabrics: n('fabrics'), samples: n('samples'), participants: n('participants') };
}

describe('fuzz', () => {
  it(`refuses ${HTTP_MESSAGES} bad HTTP and ${WS_MESSAGES} bad WebSocket messages, stores none, then serves a good client`, async () => {
    const token = await getToken(c(), APP_A, 'fuzzer');
    const statuses = new Map<number, number>();
    let oversized = 0;

    for (let i = 0; i < HTTP_MESSAGES; i++) {
      const r = rand();
      let res: { status: number; json: any };
      if (r < 0.6) res = await ingestHttp(c(), token, badBatch(i));
      else if (r < 0.8) res = await ingestHttp(c(), token, garbage());
      else if (r < 0.85 && oversized < 5) {
        oversized++;
        const b = badBatch(i);
        res = await ingestHttp(c(), token, { sid: 's', items: [{ ...fabricItem(1, CONF(i), 'f', 'a', 'b'), attributes: { pad: 'x'.repeat(1024 * 1024) } }], b });
      } else if (r < 0.9) res = await ingestHttp(c(), pick(['', 'x.y.z', token.slice(0, -2) + 'AA', token.split('.').reverse().join('.')]), badBatch(i));
      else if (r < 0.95) res = await postJson(`${c().base}/v1/token`, pick([garbage(), { appID: 'app-a' }, { appID: 'app-a', userID: 'u', thirdPartyToken: garbage() || 'x' }]));
      else res = await postJson(`${c().base}/v1/ingest?token=${encodeURIComponent(token)}`, garbage(), { 'Content-Type': 'text/plain' });
      expect(res.status, `http message ${i}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `http message ${i}`).toBeLessThan(500);
      expect(typeof res.json.error, `http message ${i}`).toBe('string');
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(statuses.get(400)).toBeGreaterThan(500);
    expect(statuses.get(401)).toBeGreaterThan(10);
    expect(statuses.get(413)).toBeGreaterThanOrEqual(1);

    let ws = await WsClient.connect(c().base, token);
    const closes = new Map<number, number>();
    let errors = 0;
    for (let i = 0; i < WS_MESSAGES; i++) {
      if (ws.isClosed) {
        const { code } = await ws.closed;
        closes.set(code, (closes.get(code) ?? 0) + 1);
        ws = await WsClient.connect(c().base, token);
      }
      const r = rand();
      if (r < 0.7) {
        const b = badBatch(i + HTTP_MESSAGES);
        ws.send({ type: 'batch', id: i, ...(typeof b === 'object' && b !== null ? b : {}) });
      } else if (r < 0.72 && oversized < 10) {
        oversized++;
        ws.send({ type: 'batch', id: i, sid: 's', items: [{ ...fabricItem(1, CONF(i), 'f', 'a', 'b'), attributes: { pad: 'x'.repeat(1024 * 1024 + 1000) } }] });
      } else if (r < 0.8) {
        ws.send({ type: 'batch', id: pick([-1, 'one', 1.5, null]), sid: 's', items: [validItem(i, 1)] });
      } else {
        ws.send(pick([garbage(), JSON.stringify({ type: pick(['ack', 'hello', 5, null]) }), JSON.stringify([1])]) || 'x');
      }
      // Every message gets an error answer or the connection is closed.
      const m = await ws.next();
      if (m === null) continue;
      expect(m.type, `ws message ${i}: ${JSON.stringify(m)}`).toBe('error');
      errors++;
    }
    await ws.close();
    expect(errors).toBeGreaterThan(WS_MESSAGES / 2);
    expect(closes.get(4400)).toBeGreaterThanOrEqual(1);
    expect(closes.get(1009)).toBeGreaterThanOrEqual(1);

    // Nothing of the fuzz was stored.
    expect(storedRows()).toEqual({ items: 0, sessions: 0, conferences: 0, fabrics: 0, samples: 0, participants: 0 });
    expect((await query(c(), APP_A)).conferences).toEqual([]);
    const refusals = c().logs.filter((l) => l.level === 'warn').length;
    expect(refusals).toBeGreaterThanOrEqual(HTTP_MESSAGES + WS_MESSAGES / 2);

    // A good client is still served, over both transports.
    const good = await getToken(c(), APP_A, 'alice');
    const gws = await WsClient.connect(c().base, good);
    expect(await gws.batch(1, 'good-sid', [fabricItem(1, 'good-conf', 'f1', 'alice', 'bob')])).toEqual({ type: 'ack', id: 1, acked: [1] });
    await gws.close();
    expect((await ingestHttp(c(), good, { sid: 'good-sid', items: [eventItem(2, 'good-conf', 'f1', 'fabricSetup')] })).json).toEqual({ acked: [2] });
    const d = await query(c(), APP_A, 'good-conf');
    expect(d.fabrics[0]).toMatchObject({ fabricID: 'f1', state: 'established' });
    expect((await query(c(), APP_A)).conferences.map((x: { conferenceID: string }) => x.conferenceID)).toEqual(['good-conf']);
  });
});
