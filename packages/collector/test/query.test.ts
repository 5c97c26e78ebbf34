import { beforeAll, describe, expect, it } from 'vitest';
import { APP_A, APP_B, T0, WsClient, basic, errorItem, eventItem, fabricItem, feedbackItem, getJson, getToken, ingestHttp, query, rid, statsItem, useCollector } from './helpers';

// A long idle delay: no summary interferes with what this file checks.
const c = useCollector({ summaryDelayMs: 3_600_000 });
const conf = `room-${rid()}`;
const aliceSid = rid();
const bobSid = rid();

beforeAll(async () => {
  const alice = await getToken(c(), APP_A, 'alice');
  const bob = await getToken(c(), APP_A, 'bob');
  const ws = await WsClient.connect(c().base, alice);
  const a = await ws.batch(1, aliceSid, [
    fabricItem(1, conf, 'fa', 'alice', 'bob', { attributes: { room: 'blue' } }),
    eventItem(2, conf, 'fa', 'fabricSetup', { setupDelay: 310, gatheringDelay: 100, connectivityDelay: 200 }),
    statsItem(
      3,
      conf,
      'fa',
      [
        { key: 'outbound-rtp:11', ssrc: '11', statsType: 'outbound-rtp', mediaType: 'audio', userID: 'alice', bitrate: 40, rtt: 50, fractionLoss: 0, jitter: 2, quality: 'excellent' },
        { key: 'inbound-rtp:22', ssrc: '22', statsType: 'inbound-rtp', mediaType: 'video', userID: 'bob', bitrate: 900, fractionLoss: 0.02, jitter: 8, quality: 'good' },
      ],
      { rtt: 55, protocol: 'udp', localCandidateType: 'host' },
    ),
    eventItem(4, conf, 'fa', 'audioMute'),
    eventItem(5, conf, 'fa', 'connectionDisruptionStart'),
    statsItem(6, conf, 'fa', [
      { key: 'outbound-rtp:11', bitrate: 10, rtt: 400, fractionLoss: 0.3, quality: 'bad' },
      { key: 'inbound-rtp:22', bitrate: 100, fractionLoss: 0.25, jitter: 60, quality: 'poor' },
    ], { rtt: 420 }),
    eventItem(7, conf, 'fa', 'connectionDisruptionEnd'),
    eventItem(8, conf, 'fa', 'fabricHold'),
  ]);
  expect(a.type).toBe('ack');
  const b = await ws.batch(2, aliceSid, [
    eventItem(9, conf, 'fa', 'fabricResume'),
    errorItem(10, conf, 'fa', 'setRemoteDescription', 'Failed to set remote answer sdp'),
    eventItem(11, conf, 'fa', 'audioUnmute'),
    { n: 12, t: T0 + 12_000, kind: 'custom', conferenceID: conf, fabricID: 'fa', name: 'screenShareAsked', data: { by: 'bob' } },
    { n: 13, t: T0 + 13_000, kind: 'customStats', conferenceID: conf, data: { cpu: 0.4 } },
    { n: 14, t: T0 + 14_000, kind: 'dropped', conferenceID: conf, count: 3, reason: 'buffer_full' },
    errorItem(15, conf, undefined, 'getUserMedia', 'Permission denied'),
    eventItem(16, conf, undefined, 'activeDeviceList', { devices: ['mic'] }),
    feedbackItem(17, conf, 'alice', 4, 'a bit choppy'),
  ]);
  expect(b.type).toBe('ack');
  await ws.close();
  const r = await ingestHttp(c(), bob, {
    sid: bobSid,
    items: [
      fabricItem(1, conf, 'fb', 'bob', 'alice'),
      eventItem(2, conf, 'fb', 'fabricSetupFailed'),
      feedbackItem(3, conf, 'bob', 2),
    ],
  });
  expect(r.status).toBe(200);
  // Another app's conference with the same ID: never visible to app-a.
  const eve = await getToken(c(), APP_B, 'eve');
  await ingestHttp(c(), eve, { sid: rid(), items: [fabricItem(1, conf, 'fx', 'eve', 'mallory'), errorItem(2, conf, 'fx', 'createOffer', 'app-b secret error')] });
});

describe('query API authentication', () => {
  it('answers 401 to missing or bad credentials and 403 to another app', async () => {
    const url = `${c().base}/v1/apps/app-a/conferences`;
    expect((await getJson(url)).status).toBe(401);
    expect((await getJson(url, basic({ appID: 'app-a', secret: 'wrong' }))).status).toBe(401);
    expect((await getJson(url, basic({ appID: 'ghost', secret: 'x' }))).status).toBe(401);
    expect((await getJson(url, { Authorization: 'Bearer abc' })).status).toBe(401);
    const cross = await getJson(url, basic(APP_B));
    expect(cross.status).toBe(403);
    expect(cross.json.error).toBe('forbidden');
    const crossDetail = await getJson(`${url}/${conf}`, basic(APP_B));
    expect(crossDetail.status).toBe(403);
    expect(JSON.stringify(crossDetail.json)).not.toContain('alice');
    const logged = c().logs.filter((l) => l.level === 'warn' && l.fields.status === 403);
    expect(logged.length).toBeGreaterThanOrEqual(2);
  });

  it('answers 404 for an unknown conference and keeps the apps apart', async () => {
    const r = await getJson(`${c().base}/v1/apps/app-a/conferences/nope`, basic(APP_A));
    expect(r.status).toBe(404);
    const b = await query(c(), APP_B, conf);
    expect(b.fabrics.map((f: { fabricID: string }) => f.fabricID)).toEqual(['fx']);
    expect(b.errors.map((e: { message: string }) => e.message)).toEqual(['app-b secret error']);
    const a = await query(c(), APP_A, conf);
    expect(JSON.stringify(a)).not.toContain('app-b secret error');
  });
});

describe('conference list and detail', () => {
  it('lists conferences with counts', async () => {
    const list = await query(c(), APP_A);
    const entry = list.conferences.find((x: { conferenceID: string }) => x.conferenceID === conf);
    expect(entry).toEqual({
      conferenceID: conf,
      firstSeen: T0 + 1000,
      lastSeen: T0 + 17_000,
      participantCount: 2,
      fabricCount: 2,
      errorCount: 2,
      summarized: false,
    });
  });

  it('gives participants, fabrics with state, setup delay and events in order', async () => {
    const d = await query(c(), APP_A, conf);
    expect(d.conferenceID).toBe(conf);
    expect(d.participants.map((p: { userID: string }) => p.userID).sort()).toEqual(['alice', 'bob']);
    const fa = d.fabrics.find((f: { fabricID: string }) => f.fabricID === 'fa');
    expect(fa).toMatchObject({
      sid: aliceSid,
      localUserID: 'alice',
      remoteUserID: 'bob',
      fabricUsage: 'multiplex',
      remoteEndpointType: 'peer',
      direction: 'sendrecv',
      attributes: { room: 'blue' },
      state: 'established',
      setupDelay: 310,
    });
    expect(fa.events.map((e: { event: string }) => e.event)).toEqual([
      'fabricSetup',
      'audioMute',
      'connectionDisruptionStart',
      'connectionDisruptionEnd',
      'fabricHold',
      'fabricResume',
      'audioUnmute',
    ]);
    expect(fa.events[0]).toEqual({ t: T0 + 2000, event: 'fabricSetup', data: { setupDelay: 310, gatheringDelay: 100, connectivityDelay: 200 } });
    const fb = d.fabrics.find((f: { fabricID: string }) => f.fabricID === 'fb');
    expect(fb).toMatchObject({ sid: bobSid, localUserID: 'bob', state: 'failed', setupDelay: null });
    expect(d.events).toEqual([{ t: T0 + 16_000, sid: aliceSid, userID: 'alice', event: 'activeDeviceList', data: { devices: ['mic'] } }]);
  });

  it('gives errors, feedback, custom events and stats, dropped counts', async () => {
    const d = await query(c(), APP_A, conf);
    expect(d.errors).toEqual([
      {
        t: T0 + 10_000,
        sid: aliceSid,
        userID: 'alice',
        fabricID: 'fa',
        fn: 'setRemoteDescription',
        category: 'negotiationFailure',
        name: 'OperationError',
        message: 'Failed to set remote answer sdp',
      },
      {
        t: T0 + 15_000,
        sid: aliceSid,
        userID: 'alice',
        fabricID: null,
        fn: 'getUserMedia',
        category: 'negotiationFailure',
        name: 'OperationError',
        message: 'Permission denied',
      },
    ]);
    expect(d.feedback).toEqual([
      { t: T0 + 3000, sid: bobSid, userID: 'bob', rating: { overall: 2, audio: 2 }, comment: null },
      { t: T0 + 17_000, sid: aliceSid, userID: 'alice', rating: { overall: 4, audio: 4 }, comment: 'a bit choppy' },
    ]);
    expect(d.customEvents).toEqual([{ t: T0 + 12_000, sid: aliceSid, userID: 'alice', fabricID: 'fa', name: 'screenShareAsked', data: { by: 'bob' } }]);
    expect(d.customStats).toEqual([{ t: T0 + 13_000, sid: aliceSid, userID: 'alice', fabricID: null, data: { cpu: 0.4 } }]);
    expect(d.dropped).toEqual([{ t: T0 + 14_000, sid: aliceSid, count: 3, reason: 'buffer_full' }]);
    expect(d.summary).toBeNull();
  });

  it('gives per-stream summaries and series', async () => {
    const d = await query(c(), APP_A, conf);
    expect(d.streams).toHaveLength(2);
    const out = d.streams.find((s: { key: string }) => s.key === 'outbound-rtp:11');
    const inb = d.streams.find((s: { key: string }) => s.key === 'inbound-rtp:22');
    expect(out).toMatchObject({ fabricID: 'fa', ssrc: '11', statsType: 'outbound-rtp', mediaType: 'audio', userID: 'alice' });
    expect(out.summary).toEqual({
      samples: 2,
      bitrate: { avg: 25, worst: 10 },
      fractionLoss: { avg: 0.15, worst: 0.3 },
      rtt: { avg: 225, worst: 400 },
      jitter: { avg: 2, worst: 2 },
      mos: { avg: null, worst: null },
      quality: 'bad',
      worstQuality: 'bad',
    });
    expect(out.series.map((p: any) => [p.t, p.bitrate, p.rtt, p.fractionLoss, p.jitter, p.quality])).toEqual([
      [T0 + 3000, 40, 50, 0, 2, 'excellent'],
      [T0 + 6000, 10, 400, 0.3, 2, 'bad'],
    ]);
    // The inbound stream has no RTT of its own: the connection's of the same sample.
    expect(inb.series.map((p: any) => p.rtt)).toEqual([55, 420]);
    expect(inb.summary).toMatchObject({
      bitrate: { avg: 500, worst: 100 },
      fractionLoss: { avg: 0.135, worst: 0.25 },
      jitter: { avg: 34, worst: 60 },
      rtt: { avg: 237.5, worst: 420 },
    });
  });

  it('downsamples long series on request (maxPoints)', async () => {
    const token = await getToken(c(), APP_A, 'alice');
    const sid = rid();
    const long = `long-${rid()}`;
    const items = [fabricItem(1, long, 'f', 'alice', 'bob')];
    for (let i = 0; i < 300; i++) items.push(statsItem(i + 2, long, 'f', [{ key: 'outbound-rtp:1', bitrate: i }]) as any);
    expect((await ingestHttp(c(), token, { sid, items })).status).toBe(200);
    const r = await getJson(`${c().base}/v1/apps/app-a/conferences/${long}?maxPoints=30`, basic(APP_A));
    const s = r.json.streams[0];
    expect(s.series).toHaveLength(30);
    expect(s.summary.samples).toBe(300);
    expect(s.summary.bitrate).toEqual({ avg: 149.5, worst: 0 });
    expect(s.series[0].bitrate).toBe(4.5);
  });
});
