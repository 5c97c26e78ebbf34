import { describe, expect, it, vi } from 'vitest';
import { reconstruct, startFake, type FakeCollector } from './fakeCollector';
import { closeAfterEach, ev, eventually, expected, makeSamples, makeTransport, statsItem, type FullSample } from './helpers';

let fake: FakeCollector | undefined;
const track = closeAfterEach(async () => {
  await fake?.stop();
  fake = undefined;
  vi.unstubAllGlobals();
});

/** Checks every stored stats sample of the session against the full samples (matched by t). */
function expectExactReconstruction(f: FakeCollector, sid: string, samples: FullSample[]): number {
  const byT = new Map(samples.map((s) => [s.t, s]));
  const items = f.items(sid);
  const rec = reconstruct(items);
  let n = 0;
  for (const it of items) {
    if (it.kind !== 'stats') continue;
    const want = expected(byT.get(it.t)!);
    const got = rec.get(it.n)!;
    expect(Object.fromEntries(got.streams)).toEqual(want.streams);
    expect(got.connection).toEqual(want.connection);
    n++;
  }
  return n;
}

describe('transport against a protocol-following collector', () => {
  it('batches (<= 500 items, <= 1 MiB), numbers items 1..N and gets every one acknowledged once', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url));
    expect(await h.transport.start()).toEqual({ ok: true });
    for (let i = 0; i < 1234; i++) h.transport.send(ev('c1', i));
    // big items: the byte limit splits batches
    for (let i = 0; i < 30; i++) h.transport.send({ kind: 'custom', conferenceID: 'c1', name: 'big', data: { pad: 'x'.repeat(100_000) } });
    await h.transport.flush();
    const items = fake.items(h.transport.sid);
    expect(items.map((i) => i.n)).toEqual(Array.from({ length: 1264 }, (_, i) => i + 1));
    expect(fake.state.duplicates).toBe(0);
    // 1234 small items need 3 batches, 3 MB of big ones 3 more, at most one shared
    expect(fake.state.batches.length).toBeGreaterThanOrEqual(5);
    for (const b of fake.state.batches) {
      expect(b.items.length).toBeLessThanOrEqual(500);
      expect(b.bytes).toBeLessThanOrEqual(1024 * 1024);
      expect(b.via).toBe('ws');
    }
    // data items carry t; events keep their fields
    expect(items[0]).toMatchObject({ kind: 'event', conferenceID: 'c1', event: 'audioMute', fabricID: 'f1', data: { i: 0 } });
    expect(typeof items[0]?.t).toBe('number');
    expect(h.transport.status()).toMatchObject({ state: 'connected', droppedSamples: 0 });
  });

  it('gathers items sent within batchIntervalMs into one batch', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { options: { batchIntervalMs: 60_000 } }));
    await h.transport.start();
    for (let i = 0; i < 10; i++) h.transport.send(ev('c1', i));
    await h.transport.flush();
    expect(fake.state.batches.map((b) => b.items.length)).toEqual([10]);
  });

  it('delta-codes stats so that the collector reconstructs every full sample exactly', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url));
    await h.transport.start();
    const samples = [...makeSamples(400, 11, ['fA', 'fB', 'fC']), ...makeSamples(400, 12, ['fA', 'fB', 'fC'], { sharedSsrcs: true })]
      .map((s, i) => ({ ...s, t: s.t + (i >= 400 ? 400 : 0) }));
    for (const s of samples) h.transport.send(statsItem(s));
    await h.transport.flush();
    expect(expectExactReconstruction(fake, h.transport.sid, samples)).toBe(800);
    // and the stream entries really were deltas
    const sentFields = fake.items().flatMap((i) => i.streams as Array<Record<string, unknown>>).reduce((a, e) => a + Object.keys(e).length, 0);
    const fullFields = samples.flatMap((s) => s.streams).reduce((a, e) => a + Object.keys(e).length, 0);
    expect(sentFields).toBeLessThan(fullFields * 0.85);
  });

  it('survives a collector restart mid-stream: reconnects with backoff and every item is stored exactly once', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { options: { minBackoffMs: 50, maxBackoffMs: 400 } }));
    await h.transport.start();
    const samples = makeSamples(300, 5);
    let sent = 0;
    const sendSome = (k: number): void => {
      for (let i = 0; i < k; i++, sent++) {
        const s = samples[sent]!;
        h.transport.send(statsItem(s));
        if (sent % 7 === 0) h.transport.send(ev('conf1', sent));
      }
    };
    // one batch is committed but its ack never arrives: the resend must not be stored twice
    let killed = false;
    fake.afterCommit = () => (killed ? 'ack' : ((killed = true), 'kill'));
    const total = (): number => sent + Math.ceil(sent / 7);
    sendSome(100);
    await fake.until(() => killed && fake!.state.duplicates > 0 && fake!.items().length === total());
    sendSome(50);
    await fake.until(() => fake!.items().length === total());
    await fake.stop(); // crash
    sendSome(100); // while down
    await eventually(() => h.transport.status().state === 'disconnected', 'disconnected');
    await fake.start(fake.port);
    sendSome(50);
    await fake.until(() => fake!.items().length === total());
    await h.transport.flush();

    const stored = fake.items(h.transport.sid);
    const expectedCount = sent + Math.ceil(sent / 7);
    expect(stored.length).toBe(expectedCount);
    expect(stored.map((i) => i.n)).toEqual(Array.from({ length: expectedCount }, (_, i) => i + 1));
    // the killed batch was resent and deduplicated; received = stored + duplicates
    expect(fake.state.duplicates).toBeGreaterThan(0);
    expect(fake.state.received).toBe(stored.length + fake.state.duplicates);
    expect(fake.state.wsConnections).toBeGreaterThanOrEqual(3);
    expect(expectExactReconstruction(fake, h.transport.sid, samples)).toBe(300);
    expect(h.statuses.some((s) => s.state === 'disconnected')).toBe(true);
    expect(h.transport.status().state).toBe('connected');
  });

  it('buffer overflow while offline drops the oldest stats, never events, and survivors reconstruct exactly', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { options: { bufferSize: 100, minBackoffMs: 20, maxBackoffMs: 50 } }));
    await h.transport.start();
    const samples = makeSamples(500, 9);
    h.transport.send(statsItem(samples[0]!));
    await h.transport.flush();
    await fake.stop();
    let events = 0;
    samples.slice(1).forEach((s, i) => {
      h.transport.send(statsItem(s));
      if (i % 20 === 0) {
        h.transport.send(ev('conf1', i));
        events++;
      }
    });
    const dropped = h.transport.status().droppedSamples;
    expect(dropped).toBeGreaterThan(300);
    expect(h.statuses.at(-1)?.droppedSamples).toBe(dropped);
    await fake.start(fake.port);
    await fake.until(() => fake!.items().some((i) => i.kind === 'dropped') && fake!.items().filter((i) => i.kind === 'event').length === events);
    await h.transport.flush();

    const stored = fake.items(h.transport.sid);
    expect(stored.filter((i) => i.kind === 'event')).toHaveLength(events);
    const statsT = stored.filter((i) => i.kind === 'stats').map((i) => i.t);
    // the first sample (acknowledged before) and the newest ones survived
    expect(statsT).toEqual([samples[0]!.t, ...samples.slice(samples.length - (statsT.length - 1)).map((s) => s.t)]);
    expect(statsT.length).toBe(500 - dropped);
    const droppedItems = stored.filter((i) => i.kind === 'dropped');
    expect(droppedItems.reduce((a, i) => a + Number(i.count), 0)).toBe(dropped);
    expect(droppedItems[0]).toMatchObject({ reason: 'buffer_full', conferenceID: 'conf1' });
    expect(expectExactReconstruction(fake, h.transport.sid, samples)).toBe(statsT.length);
  });

  it('falls back to HTTP POST /v1/ingest when the WebSocket is refused, and reports wsChannelFailure', async () => {
    fake = await startFake();
    fake.wsMode = 'refuse';
    const h = track(makeTransport(fake.url, { internal: { wsProbeMs: 100 } }));
    expect(await h.transport.start()).toEqual({ ok: true });
    const samples = makeSamples(50, 2);
    for (const s of samples) h.transport.send(statsItem(s));
    await fake.until(() => fake!.items().length === 50);
    await h.transport.flush();
    expect(fake.state.batches.every((b) => b.via === 'http')).toBe(true);
    expect(h.statuses.some((s) => s.error === 'wsChannelFailure')).toBe(true);
    expect(h.transport.status().state).toBe('connected');
    const ingest = fake.state.requests.filter((r) => r.url === '/v1/ingest');
    expect(ingest[0]?.headers.authorization).toMatch(/^Bearer /);
    expect(expectExactReconstruction(fake, h.transport.sid, samples)).toBe(50);

    // the WebSocket comes back: the probe moves the transport back to it
    fake.wsMode = 'accept';
    await fake.until(() => fake!.state.wsConnections > 0);
    h.transport.send(ev('c1', 1));
    await fake.until(() => fake!.state.batches.some((b) => b.via === 'ws'));
    expect(fake.items()).toHaveLength(51);
  });

  it('httpOnly sends over HTTP without trying a WebSocket', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url, { options: { httpOnly: true } }));
    await h.transport.start();
    for (let i = 0; i < 5; i++) h.transport.send(ev('c1', i));
    await h.transport.flush();
    expect(fake.items()).toHaveLength(5);
    expect(fake.state.requests.some((r) => r.method === 'UPGRADE')).toBe(false);
    expect(h.statuses.some((s) => s.error === 'wsChannelFailure')).toBe(false);
  });

  it('strips candidate addresses unless collectIP is true', async () => {
    fake = await startFake();
    const item = {
      kind: 'stats' as const, conferenceID: 'c1', fabricID: 'f1',
      streams: [{ key: 'inbound-rtp:1', ssrc: '1', bitrate: 5, localAddress: '10.1.2.3' }],
      connection: { rtt: 3, protocol: 'udp', localAddress: '192.168.7.7', remoteAddress: '203.0.113.9' },
    };
    const off = track(makeTransport(fake.url));
    await off.transport.start();
    off.transport.send(item);
    await off.transport.flush();
    const wire = fake.state.wsMessages.join('');
    expect(wire).toContain('"rtt":3');
    for (const ip of ['10.1.2.3', '192.168.7.7', '203.0.113.9']) expect(wire).not.toContain(ip);
    expect(wire).not.toMatch(/localAddress|remoteAddress/);

    const on = track(makeTransport(fake.url, { collectIP: true }));
    await on.transport.start();
    on.transport.send(item);
    await on.transport.flush();
    const stored = fake.items(on.transport.sid)[0]!;
    expect(stored.connection).toMatchObject({ localAddress: '192.168.7.7', remoteAddress: '203.0.113.9' });
  });

  it('removes addresses from the SDPs of error reports unless collectIP is true', async () => {
    fake = await startFake();
    const sdp = [
      'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 'm=audio 50000 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 198.51.100.23',
      'a=rtcp:9 IN IP4 198.51.100.23', 'a=candidate:1 1 udp 2122260223 198.51.100.23 50000 typ host',
      'a=candidate:2 1 udp 1686052607 203.0.113.77 61000 typ srflx raddr 198.51.100.23 rport 50000', 'a=mid:0', '',
    ].join('\r\n');
    const item = { kind: 'error' as const, conferenceID: 'c1', fn: 'setRemoteDescription', category: 'negotiationFailure', message: 'x', localSDP: sdp, remoteSDP: sdp };
    const off = track(makeTransport(fake.url));
    await off.transport.start();
    off.transport.send(item);
    await off.transport.flush();
    const [stored] = fake.items(off.transport.sid);
    for (const ip of ['198.51.100.23', '203.0.113.77']) expect(JSON.stringify(stored)).not.toContain(ip);
    expect(stored?.localSDP).toContain('a=mid:0');
    expect(stored?.localSDP).toContain('c=IN IP4 0.0.0.0');

    const on = track(makeTransport(fake.url, { collectIP: true }));
    await on.transport.start();
    on.transport.send(item);
    await on.transport.flush();
    expect(fake.items(on.transport.sid)[0]?.remoteSDP).toBe(sdp);
  });

  it('sends only protocol fields, and invalid stats values as unknown', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url));
    await h.transport.start();
    h.transport.send({ kind: 'event', conferenceID: 'c1', event: 'audioMute', remoteUserID: 'extra' });
    h.transport.send({
      kind: 'stats', conferenceID: 'c1', fabricID: 'f1',
      streams: [{ key: 'k', bitrate: -5, fractionLoss: 2, jitter: 4, cname: 'x', ssrc: 7 }],
      connection: { rtt: 1, availableIncomingBitrate: 9 },
    });
    await h.transport.flush();
    const [e, s] = fake.items(h.transport.sid);
    expect(e).not.toHaveProperty('remoteUserID');
    expect(s?.streams).toEqual([{ key: 'k', jitter: 4, ssrc: '7' }]);
    expect(s?.connection).toEqual({ rtt: 1 });
    expect(h.logger.lines.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(4);
  });

  it('a batch the collector refuses is split until the bad item is alone; the rest is stored', async () => {
    fake = await startFake();
    fake.rejectItem = (i) => ((i.data as { i?: number } | undefined)?.i === 37 ? 'bad item' : undefined);
    const h = track(makeTransport(fake.url, { options: { batchIntervalMs: 60_000 } }));
    await h.transport.start();
    for (let i = 0; i < 100; i++) h.transport.send(ev('c1', i));
    await h.transport.flush();
    const stored = fake.items(h.transport.sid);
    expect(stored).toHaveLength(99);
    expect(stored.some((i) => (i.data as { i: number }).i === 37)).toBe(false);
    expect(h.logger.lines.some((l) => l.level === 'error' && /refused item n=38/.test(l.message))).toBe(true);
  });

  it('send never throws and ignores what it cannot send', async () => {
    fake = await startFake();
    const h = track(makeTransport(fake.url));
    await h.transport.start();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => h.transport.send({ kind: 'custom', conferenceID: 'c1', name: 'x', data: cyclic })).not.toThrow();
    expect(() => h.transport.send({ kind: 'nope' as 'event', conferenceID: 'c1' })).not.toThrow();
    expect(() => h.transport.send({ kind: 'event', conferenceID: '' })).not.toThrow();
    expect(() => h.transport.send(null as never)).not.toThrow();
    h.transport.send(ev('c1', 1));
    await h.transport.flush();
    expect(fake.items(h.transport.sid).map((i) => i.n)).toEqual([1]);
  });

  it('close() flushes, then leaves no timer, socket or listener behind', async () => {
    fake = await startFake();
    const h = makeTransport(fake.url);
    await h.transport.start();
    for (let i = 0; i < 20; i++) h.transport.send(ev('c1', i));
    await h.transport.close();
    expect(fake.items()).toHaveLength(20);
    expect(h.timers.pending()).toBe(0);
    expect(h.transport.status().state).toBe('disconnected');
    await eventually(() => (fake as unknown as { wss: { clients: Set<unknown> } }).wss.clients.size === 0, 'socket closed');
    h.transport.send(ev('c1', 99));
    expect(h.timers.pending()).toBe(0);
  });

  it('close() while the collector is down or unreachable also leaves no timer', async () => {
    fake = await startFake();
    const h = makeTransport(fake.url, { options: { minBackoffMs: 10_000, maxBackoffMs: 20_000 } });
    await h.transport.start();
    await fake.stop();
    for (let i = 0; i < 5; i++) h.transport.send(ev('c1', i));
    await eventually(() => h.transport.status().state === 'disconnected', 'disconnected');
    expect(h.timers.pending()).toBeGreaterThan(0);
    await h.transport.close();
    expect(h.timers.pending()).toBe(0);
  });
});

describe('pagehide (browser)', () => {
  it('registers only where window exists, beacons the unacknowledged items with ?token=, and unregisters on close', async () => {
    fake = await startFake();
    const target = new EventTarget();
    const beacons: Array<{ url: string; body: string }> = [];
    vi.stubGlobal('window', target);
    vi.stubGlobal('navigator', {
      sendBeacon: (url: string, body: string) => {
        beacons.push({ url, body });
        // deliver it like a browser would: text/plain, no headers
        void fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
        return true;
      },
    });
    const add = vi.spyOn(target, 'addEventListener');
    const remove = vi.spyOn(target, 'removeEventListener');
    fake.wsMode = 'refuse';
    const h = makeTransport(fake.url, { options: { minBackoffMs: 60_000, maxBackoffMs: 60_000 } });
    expect(add).toHaveBeenCalledWith('pagehide', expect.any(Function));
    await h.transport.start();
    for (let i = 0; i < 30; i++) h.transport.send(ev('c1', i));
    await eventually(() => h.transport.status().state === 'disconnected', 'WebSocket failed');
    target.dispatchEvent(new Event('pagehide'));
    expect(beacons).toHaveLength(1);
    expect(beacons[0]!.url).toMatch(/\/v1\/ingest\?token=/);
    expect(JSON.parse(beacons[0]!.body).items).toHaveLength(30);
    await fake.until(() => fake!.items().length === 30);
    expect(fake.state.batches[0]?.contentType).toMatch(/text\/plain/);
    await h.transport.close();
    expect(remove).toHaveBeenCalledWith('pagehide', add.mock.calls[0]![1]);
    target.dispatchEvent(new Event('pagehide'));
    expect(beacons).toHaveLength(1);
    expect(h.timers.pending()).toBe(0);
  });

  it('falls back to fetch keepalive when sendBeacon refuses', async () => {
    const target = new EventTarget();
    vi.stubGlobal('window', target);
    vi.stubGlobal('navigator', { sendBeacon: () => false });
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init });
      if (String(url).endsWith('/v1/token')) {
        return new Response(JSON.stringify({ token: 'a.b.c', expiresAt: Date.now() + 3_600_000 }), { status: 200 });
      }
      return new Response('{}', { status: 503 });
    }) as typeof fetch;
    const h = makeTransport('http://127.0.0.1:9', { fetchImpl, options: { httpOnly: true, batchIntervalMs: 60_000 } });
    await h.transport.start();
    h.transport.send(ev('c1', 1));
    target.dispatchEvent(new Event('pagehide'));
    const keepalive = calls.find((c) => c.init?.keepalive === true);
    expect(keepalive?.url).toBe('http://127.0.0.1:9/v1/ingest?token=a.b.c');
    expect(JSON.parse(String(keepalive?.init?.body)).items[0]).toMatchObject({ n: 1, kind: 'event' });
    await h.transport.close();
    expect(h.timers.pending()).toBe(0);
  });

  it('does not touch window in Node', () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    const h = makeTransport('http://127.0.0.1:9');
    void h.transport.close();
  });
});
