import { describe, expect, it } from 'vitest';
import { APP_A, APP_B, WsClient, countRows, eventItem, fabricItem, getToken, ingestHttp, postJson, query, rid, statsItem, useCollector } from './helpers';

const c = useCollector();
const count = (table: string, where?: string): number => countRows(c(), table, where);
/** alice's token, a new session id and a new conference `<prefix>-<random>`. */
async function aliceSession(prefix: string): Promise<{ token: string; sid: string; conf: string }> {
  return { token: await getToken(c(), APP_A, 'alice'), sid: rid(), conf: `${prefix}-${rid()}` };
}

describe('ingest over WebSocket', () => {
  it('acknowledges a batch after storing it, answers ping', async () => {
    const { token, sid, conf } = await aliceSession('ws');
    const ws = await WsClient.connect(c().base, token);
    ws.send({ type: 'ping' });
    expect(await ws.next()).toEqual({ type: 'pong' });
    const ack = await ws.batch(7, sid, [fabricItem(1, conf, 'f1', 'alice', 'bob'), eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 120 })]);
    expect(ack).toEqual({ type: 'ack', id: 7, acked: [1, 2] });
    // Acknowledged means stored: the query API sees it right away.
    const detail = await query(c(), APP_A, conf);
    expect(detail.fabrics).toHaveLength(1);
    expect(detail.fabrics[0]).toMatchObject({ fabricID: 'f1', state: 'established', setupDelay: 120 });
    await ws.close();
  });

  it('keeps the connection open after a bad batch, storing nothing of it', async () => {
    const { token, sid, conf } = await aliceSession('ws-bad');
    const ws = await WsClient.connect(c().base, token);
    const err = await ws.batch(1, sid, [fabricItem(1, conf, 'f1', 'alice', 'bob'), { ...fabricItem(2, conf, 'f2', 'a', 'b'), direction: 'sideways' }]);
    expect(err).toMatchObject({ type: 'error', id: 1, error: 'invalid_batch' });
    expect(err.message).toContain('items[1].direction');
    expect(count('items', `sid = '${sid}'`)).toBe(0);
    const ok = await ws.batch(2, sid, [fabricItem(1, conf, 'f1', 'alice', 'bob')]);
    expect(ok).toEqual({ type: 'ack', id: 2, acked: [1] });
    await ws.close();
  });

  it('closes with 4400 after 3 messages that are not JSON or not a batch', async () => {
    const token = await getToken(c(), APP_A, 'alice');
    const ws = await WsClient.connect(c().base, token);
    ws.send('not json');
    expect(await ws.next()).toMatchObject({ type: 'error', error: 'bad_json' });
    ws.send({ type: 'hello' });
    expect(await ws.next()).toMatchObject({ type: 'error', error: 'not_a_batch' });
    ws.send([1, 2, 3]);
    expect(await ws.next()).toMatchObject({ type: 'error', error: 'not_a_batch' });
    expect((await ws.closed).code).toBe(4400);
  });

  it('closes with 1009 when a message is over the size limit', async () => {
    const token = await getToken(c(), APP_A, 'alice');
    const ws = await WsClient.connect(c().base, token);
    const conf = `big-${rid()}`;
    const big = { ...fabricItem(1, conf, 'f1', 'alice', 'bob'), attributes: { pad: 'x'.repeat(1024 * 1024 + 2000) } };
    ws.send({ type: 'batch', id: 1, sid: rid(), items: [big] });
    expect((await ws.closed).code).toBe(1009);
    expect(count('items', `conference_id = '${conf}'`)).toBe(0);
  });
});

describe('ingest over HTTP', () => {
  it('acknowledges with Bearer, with ?token= and a text/plain body (sendBeacon)', async () => {
    const { token, sid, conf } = await aliceSession('http');
    const r = await ingestHttp(c(), token, { sid, items: [fabricItem(1, conf, 'f1', 'alice', 'bob')] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ acked: [1] });
    const beacon = await postJson(
      `${c().base}/v1/ingest?token=${encodeURIComponent(token)}`,
      JSON.stringify({ sid, items: [eventItem(2, conf, 'f1', 'fabricTerminated')] }),
      { 'Content-Type': 'text/plain;charset=UTF-8', Origin: 'https://app.example' },
    );
    expect(beacon.status).toBe(200);
    expect(beacon.json).toEqual({ acked: [2] });
    expect(beacon.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const detail = await query(c(), APP_A, conf);
    expect(detail.fabrics[0].state).toBe('terminated');
  });

  it('answers 400 (malformed, wrong types), 413 (too big), storing nothing', async () => {
    const { token, sid, conf } = await aliceSession('http-bad');
    const bad = await ingestHttp(c(), token, '{"sid": "x", "items": [');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('bad_json');
    const wrong = await ingestHttp(c(), token, { sid, items: [{ ...fabricItem(1, conf, 'f1', 'a', 'b'), n: '1' }] });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ error: 'invalid_batch' });
    expect(wrong.json.message).toContain('items[0].n');
    const tooMany = await ingestHttp(c(), token, {
      sid,
      items: Array.from({ length: 501 }, (_, i) => eventItem(i + 1, conf, 'f1', 'audioMute')),
    });
    expect(tooMany.status).toBe(400);
    const big = await ingestHttp(c(), token, {
      sid,
      items: [{ ...fabricItem(1, conf, 'f1', 'a', 'b'), attributes: { pad: 'x'.repeat(1024 * 1024) } }],
    });
    expect(big.status).toBe(413);
    expect(big.json.error).toBe('too_large');
    expect(count('items', `conference_id = '${conf}'`)).toBe(0);
    expect(count('sessions', `sid = '${sid}'`)).toBe(0);
  });
});

describe('idempotency and ownership', () => {
  it('stores a resent batch once and acknowledges it again (WS then HTTP)', async () => {
    const { token, sid, conf } = await aliceSession('dup');
    const items = [
      fabricItem(1, conf, 'f1', 'alice', 'bob'),
      eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 50 }),
      statsItem(3, conf, 'f1', [{ key: 'outbound-rtp:1', ssrc: '1', statsType: 'outbound-rtp', mediaType: 'audio', bitrate: 40 }]),
      eventItem(4, conf, 'f1', 'audioMute'),
    ];
    const ws = await WsClient.connect(c().base, token);
    expect(await ws.batch(1, sid, items)).toEqual({ type: 'ack', id: 1, acked: [1, 2, 3, 4] });
    expect(await ws.batch(2, sid, items)).toEqual({ type: 'ack', id: 2, acked: [1, 2, 3, 4] });
    await ws.close();
    // Partly new: the old items acknowledged again, only the new one stored.
    const r = await ingestHttp(c(), token, { sid, items: [...items.slice(2), eventItem(5, conf, 'f1', 'audioUnmute')] });
    expect(r.json).toEqual({ acked: [3, 4, 5] });
    expect(count('items', `sid = '${sid}'`)).toBe(5);
    expect(count('samples', `sid = '${sid}'`)).toBe(1);
    const detail = await query(c(), APP_A, conf);
    expect(detail.fabrics[0].events.map((e: { event: string }) => e.event)).toEqual(['fabricSetup', 'audioMute', 'audioUnmute']);
    expect(detail.streams[0].series).toHaveLength(1);
  });

  it("refuses a sid that belongs to another app (403 over HTTP, 4403 over WS)", async () => {
    const sid = rid();
    const conf = `own-${rid()}`;
    const a = await getToken(c(), APP_A, 'alice');
    const b = await getToken(c(), APP_B, 'eve');
    expect((await ingestHttp(c(), a, { sid, items: [fabricItem(1, conf, 'f1', 'alice', 'bob')] })).status).toBe(200);
    const r = await ingestHttp(c(), b, { sid, items: [fabricItem(2, conf, 'f9', 'eve', 'bob')] });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('sid_owned_by_other_app');
    const ws = await WsClient.connect(c().base, b);
    const msg = await ws.batch(1, sid, [fabricItem(3, conf, 'f9', 'eve', 'bob')]);
    expect(msg).toMatchObject({ type: 'error', error: 'sid_owned_by_other_app' });
    expect((await ws.closed).code).toBe(4403);
    expect(count('items', `sid = '${sid}'`)).toBe(1);
    expect((await query(c(), APP_B)).conferences.map((x: { conferenceID: string }) => x.conferenceID)).not.toContain(conf);
  });
});

describe('delta-coded stats', () => {
  it('reconstructs full samples by carrying fields forward per (sid, fabricID, key); null removes', async () => {
    const { token, sid, conf } = await aliceSession('delta');
    const key = 'inbound-rtp:1111';
    const first = {
      key,
      ssrc: '1111',
      statsType: 'inbound-rtp',
      mediaType: 'audio',
      userID: 'bob',
      bitrate: 32,
      fractionLoss: 0.01,
      jitter: 5,
      quality: 'good',
    };
    const ws = await WsClient.connect(c().base, token);
    await ws.batch(1, sid, [
      fabricItem(1, conf, 'f1', 'alice', 'bob'),
      fabricItem(2, conf, 'f2', 'alice', 'carol'),
      statsItem(3, conf, 'f1', [first], { rtt: 40, protocol: 'udp' }),
      // Same key on another fabric: its own chain.
      statsItem(4, conf, 'f2', [{ ...first, bitrate: 500, userID: 'carol' }]),
    ]);
    await ws.batch(2, sid, [
      statsItem(5, conf, 'f1', [{ key, bitrate: 30 }], { rtt: 45 }),
      statsItem(6, conf, 'f1', [{ key, jitter: null, fractionLoss: 0.2, quality: 'poor' }]),
      statsItem(7, conf, 'f1', [{ key }]),
      statsItem(8, conf, 'f2', [{ key, bitrate: 510 }]),
    ]);
    await ws.close();
    const d = await query(c(), APP_A, conf);
    const f1 = d.streams.find((s: { fabricID: string }) => s.fabricID === 'f1');
    const f2 = d.streams.find((s: { fabricID: string }) => s.fabricID === 'f2');
    expect(f1).toMatchObject({ key, ssrc: '1111', statsType: 'inbound-rtp', mediaType: 'audio', userID: 'bob' });
    expect(f1.series.map((p: any) => [p.bitrate, p.fractionLoss, p.jitter, p.quality, p.rtt])).toEqual([
      [32, 0.01, 5, 'good', 40],
      [30, 0.01, 5, 'good', 45],
      [30, 0.2, null, 'poor', null],
      [30, 0.2, null, 'poor', null],
    ]);
    expect(f1.summary).toMatchObject({
      samples: 4,
      bitrate: { avg: 30.5, worst: 30 },
      fractionLoss: { avg: 0.105, worst: 0.2 },
      jitter: { avg: 5, worst: 5 },
      rtt: { avg: 42.5, worst: 45 },
      quality: 'poor',
      worstQuality: 'poor',
    });
    expect(f2.userID).toBe('carol');
    expect(f2.series.map((p: any) => p.bitrate)).toEqual([500, 510]);
    expect(f2.series[1].jitter).toBe(5);
  });

  it('re-derives later samples when an earlier delta arrives late', async () => {
    const { token, sid, conf } = await aliceSession('late');
    const key = 'outbound-rtp:9';
    await ingestHttp(c(), token, { sid, items: [fabricItem(1, conf, 'f1', 'alice', 'bob'), statsItem(2, conf, 'f1', [{ key, bitrate: 100, rtt: 10 }])] });
    // n=4 arrives before n=3.
    await ingestHttp(c(), token, { sid, items: [statsItem(4, conf, 'f1', [{ key, rtt: 30 }])] });
    await ingestHttp(c(), token, { sid, items: [statsItem(3, conf, 'f1', [{ key, bitrate: 200 }])] });
    const d = await query(c(), APP_A, conf);
    expect(d.streams[0].series.map((p: any) => [p.bitrate, p.rtt])).toEqual([
      [100, 10],
      [200, 10],
      [200, 30],
    ]);
  });
});
