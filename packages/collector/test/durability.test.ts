import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqliteStorage } from '../src/index';
import { APP_A, WsClient, eventItem, fabricItem, getToken, ingestHttp, postJson, query, rid, signedRequest, start, statsItem, thirdPartyToken } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'callmetry-collector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('durability with a file database', () => {
  it('keeps acknowledged data, delta state and used nonces across a restart; a resend is stored once', async () => {
    const db = join(dir, 'collector.sqlite');
    const conf = `durable-${rid()}`;
    const sid = rid();
    const key = 'inbound-rtp:5';
    const nonce = rid();
    const jwt = thirdPartyToken(APP_A, 'alice');
    const batch = [
      fabricItem(1, conf, 'f1', 'alice', 'bob'),
      eventItem(2, conf, 'f1', 'fabricSetup', { setupDelay: 77 }),
      statsItem(3, conf, 'f1', [{ key, mediaType: 'audio', bitrate: 48, jitter: 3, fractionLoss: 0.01 }]),
    ];

    const first = await start({ db, summaryDelayMs: 3_600_000 });
    const tokenReq = signedRequest(APP_A, 'alice', { nonce });
    expect((await postJson(`${first.base}/v1/token`, tokenReq)).status).toBe(200);
    expect((await postJson(`${first.base}/v1/token`, { appID: 'app-a', userID: 'alice', thirdPartyToken: jwt })).status).toBe(200);
    const token = await getToken(first, APP_A, 'alice');
    const ws = await WsClient.connect(first.base, token);
    expect(await ws.batch(1, sid, batch)).toEqual({ type: 'ack', id: 1, acked: [1, 2, 3] });
    await ws.close();
    expect((first.storage as SqliteStorage).db.pragma('journal_mode', { simple: true })).toBe('wal');
    await first.close();
    expect(statSync(db).size).toBeGreaterThan(0);

    const second = await start({ db, summaryDelayMs: 3_600_000 });
    try {
      const before = await query(second, APP_A, conf);
      expect(before.fabrics[0]).toMatchObject({ fabricID: 'f1', state: 'established', setupDelay: 77 });
      expect(before.streams[0].series).toHaveLength(1);

      // The session token of the first run is still valid (same app secret): resend + a delta.
      const r = await ingestHttp(second, token, { sid, items: [...batch, statsItem(4, conf, 'f1', [{ key, bitrate: 24 }])] });
      expect(r.json).toEqual({ acked: [1, 2, 3, 4] });
      const after = await query(second, APP_A, conf);
      expect(after.fabrics).toHaveLength(1);
      expect(after.fabrics[0].events).toHaveLength(1);
      // The delta of n=4 was carried forward from the sample stored before the restart.
      expect(after.streams[0].series.map((p: any) => [p.bitrate, p.jitter, p.fractionLoss])).toEqual([
        [48, 3, 0.01],
        [24, 3, 0.01],
      ]);
      const db2 = (second.storage as SqliteStorage).db;
      expect((db2.prepare('SELECT COUNT(*) AS n FROM items WHERE sid = ?').get(sid) as { n: number }).n).toBe(4);

      // Replay protection survives the restart too.
      const replay = await postJson(`${second.base}/v1/token`, tokenReq);
      expect(replay.json.error).toBe('replayed');
      const replayJwt = await postJson(`${second.base}/v1/token`, { appID: 'app-a', userID: 'alice', thirdPartyToken: jwt });
      expect(replayJwt.json.error).toBe('replayed');
    } finally {
      await second.close();
    }
  });
});
