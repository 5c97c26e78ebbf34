// Smoke test of the browser harness: real Chromium in the test network namespace, real WebRTC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatheredCandidate, PeerResult } from './pages/webrtc-smoke';
import { openPage, requireNamespace, startHttpServer, useBrowser, type HttpServer, type TestPage } from './browser';

const PAGE = new URL('./pages/webrtc-smoke.ts', import.meta.url);

/** Relay: every message goes to the other sockets of the same `?room=`; queued until one joins. */
function startRelay(http: HttpServer): WebSocketServer {
  const wss = new WebSocketServer({ server: http.server, path: '/signal' });
  const rooms = new Map<string, { peers: Set<WebSocket>; queue: string[] }>();
  wss.on('connection', (ws, req) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? '';
    const room = rooms.get(name) ?? { peers: new Set<WebSocket>(), queue: [] };
    rooms.set(name, room);
    room.peers.add(ws);
    if (room.peers.size > 1) for (const m of room.queue.splice(0)) ws.send(m);
    ws.on('message', (data) => {
      const text = String(data);
      const others = [...room.peers].filter((p) => p !== ws);
      if (others.length === 0) room.queue.push(text);
      for (const p of others) p.send(text);
    });
    ws.on('close', () => room.peers.delete(ws));
  });
  return wss;
}

/**
 * Addresses Chromium may gather in the test namespace: 127.0.0.1 (lo) and the Janus veth address
 * (127.0.0.2). Chromium must see the veth: Janus binds its ICE sockets to that device and can only
 * answer peers on it, so a browser without a 127.0.0.2 candidate never connects to Janus.
 */
function namespaceAddresses(): Set<string> {
  return new Set(['127.0.0.1', requireNamespace().janusIp]);
}

function expectLoopbackOnly(candidates: GatheredCandidate[], peers: PeerResult[]): void {
  const allowed = namespaceAddresses();
  expect(candidates.length).toBeGreaterThan(0);
  const gathered = new Set(candidates.map((c) => c.address));
  // lo is always used; nothing else than the namespace's own addresses (no real interface, no
  // mDNS .local name, no IPv6) is ever gathered.
  expect(gathered.has('127.0.0.1')).toBe(true);
  for (const address of gathered) expect(allowed).toContain(address);
  for (const c of candidates) expect(c.type).toBe('host');
  for (const p of peers) {
    expect(p.stats.localCandidateAddresses.length).toBeGreaterThan(0);
    for (const a of [...p.stats.localCandidateAddresses, ...p.stats.remoteCandidateAddresses]) expect(allowed).toContain(a);
  }
}

function expectMediaFlowing(p: PeerResult): void {
  expect(p.connectionState).toBe('connected');
  expect(p.stats.types).toEqual(expect.arrayContaining(['inbound-rtp', 'outbound-rtp', 'candidate-pair', 'transport']));
  // The selected pair is what matters; its 'succeeded' state can lag on a loaded machine.
  expect(p.stats.selectedPair).toBe(true);
  for (const kind of ['audio', 'video']) {
    expect(p.stats.inbound.find((i) => i.kind === kind)?.packetsReceived ?? 0).toBeGreaterThan(0);
    expect(p.stats.outbound.find((o) => o.kind === kind)?.packetsSent ?? 0).toBeGreaterThan(0);
  }
}

describe('browser harness (Chromium, WebRTC on loopback)', () => {
  const browser = useBrowser();
  const pages: TestPage[] = [];
  let http: HttpServer;
  let relay: WebSocketServer;

  beforeAll(async () => {
    requireNamespace();
    http = await startHttpServer();
    relay = startRelay(http);
  });
  afterAll(async () => {
    for (const p of pages) await p.run(() => window.smoke.hangup()).catch(() => {});
    for (const p of pages.splice(0)) await p.close();
    if (relay) await new Promise<void>((ok) => relay.close(() => ok()));
    await http?.close();
  });

  it('connects two RTCPeerConnections in one page with fake camera and microphone', async () => {
    const page = await openPage(browser(), { scripts: [PAGE], server: http, label: 'loopback' });
    pages.push(page);
    const { a, b, candidates } = await page.run(() => window.smoke.loopbackCall());

    expect(a.localTrackKinds).toEqual(['audio', 'video']);
    expect(b.remoteTrackKinds).toEqual(['audio', 'video']);
    expectMediaFlowing(a);
    expectMediaFlowing(b);
    expect(new Set(candidates.map((c) => c.pc))).toEqual(new Set(['a', 'b']));
    expectLoopbackOnly(candidates, [a, b]);
    expect(page.errors).toEqual([]);
  });

  it('connects two browser contexts signaled over a Node WebSocket relay', async () => {
    const b = browser();
    const [caller, callee] = await Promise.all([
      openPage(b, { scripts: [PAGE], server: http, label: 'caller' }),
      openPage(b, { scripts: [PAGE], server: http, label: 'callee' }),
    ]);
    pages.push(caller, callee);
    expect(caller.context).not.toBe(callee.context);

    const wsUrl = http.url('/signal?room=smoke').replace(/^http/, 'ws');
    const call = (role: 'caller' | 'callee') => (p: TestPage) =>
      p.run(([url, r]) => window.smoke.relayCall(url, r), [wsUrl, role] as [string, 'caller' | 'callee']);
    const [x, y] = await Promise.all([call('caller')(caller), call('callee')(callee)]);

    expectMediaFlowing(x.peer);
    expectMediaFlowing(y.peer);
    expect(x.peer.remoteTrackKinds).toEqual(['audio', 'video']);
    expect(y.peer.remoteTrackKinds).toEqual(['audio', 'video']);
    expectLoopbackOnly([...x.candidates, ...y.candidates], [x.peer, y.peer]);
    expect(caller.errors).toEqual([]);
    expect(callee.errors).toEqual([]);
  });
});
