// Real Janus Gateway (test/harness/janus.ts) + janus.js 1.4 (npm janus-gateway) in real Chromium:
// echotest, then a three-party videoroom with multistream subscribers and a publisher leaving.
// Facts this establishes for the Janus adapter are written down in test/servers/README-janus.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestPage } from '../harness/browser';
import { startJanus } from '../harness/janus';
import { useJanusPages } from '../harness/janusPages';
import type { PcSummary, ProbeEvent } from './janus.page';

const PAGE = new URL('./janus.page.ts', import.meta.url);
const ROOM = 1234;

/** Janus REST API call (plain HTTP transport) from Node. */
async function rest(url: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transaction: Math.random().toString(36).slice(2), ...body }),
  });
  return (await res.json()) as Record<string, any>;
}

interface PageState {
  myId: number | null;
  publishers: Record<string, string>;
  pubMessages: Record<string, any>[];
  subMessages: Record<string, any>[];
  remoteTracks: { mid: string; kind: string; on: boolean; reason?: string }[];
  failure: string | null;
  probe: {
    sessionsHooked: number;
    destroyCalls: number;
    events: ProbeEvent[];
    pcAfterCreateCall: { handle: number; call: string; pc: boolean; pcBefore: boolean }[];
    handlesWithPc: number[];
    pcStatesNow: Record<string, string>;
  };
}
/**
 * Janus offers only the veth's 127.0.0.2 (ice_enforce_list); Chromium, in the same namespace,
 * gathers host candidates on lo (127.0.0.1) and on that veth (127.0.0.2). Nothing else.
 */
function expectLoopbackIce(s: PcSummary): void {
  expect(s.remoteCandidates).toEqual(['127.0.0.2/host/udp']);
  expect(s.localCandidateAddresses.length).toBeGreaterThan(0);
  for (const a of s.localCandidateAddresses) expect(['127.0.0.1', '127.0.0.2']).toContain(a);
  expect(s.selected?.remote).toBe('127.0.0.2');
}

const stateOf = (p: TestPage) => p.run(() => window.janusTest.state()) as unknown as Promise<PageState>;

describe('Janus Gateway (real server) with janus.js 1.4 in Chromium', () => {
  const { iface, janus, open } = useJanusPages({
    page: PAGE,
    tests: 'Janus tests',
    run: 'them with `npm test` or `node test/run.mjs test/servers/janus.browser.test.ts`',
  });
  const dump: Record<string, unknown> = {};
  afterAll(() => {
    if (process.env.CALLMETRY_JANUS_DUMP) writeFileSync(process.env.CALLMETRY_JANUS_DUMP, JSON.stringify(dump, null, 2));
  });

  it('starts Janus with only echotest + videoroom, http + websockets, and demo room 1234', async () => {
    const info = (await (await fetch(`${janus().httpUrl}/info`)).json()) as Record<string, any>;
    expect(Object.keys(info.plugins).sort()).toEqual(['janus.plugin.echotest', 'janus.plugin.videoroom']);
    expect(Object.keys(info.transports).sort()).toEqual(['janus.transport.http', 'janus.transport.websockets']);
    expect(info.ipv6).toBe(false);
    expect(janus().wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

    const session = await rest(janus().httpUrl, { janus: 'create' });
    const sid = session.data.id as number;
    const handle = await rest(`${janus().httpUrl}/${sid}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' });
    const hid = handle.data.id as number;
    const list = await rest(`${janus().httpUrl}/${sid}/${hid}`, { janus: 'message', body: { request: 'list' } });
    const rooms = list.plugindata.data.list as { room: number; description: string; max_publishers: number }[];
    const demo = rooms.find((r) => r.room === ROOM);
    expect(demo?.description).toBe('Demo Room');
    expect(demo?.max_publishers).toBeGreaterThanOrEqual(3);
    await rest(`${janus().httpUrl}/${sid}`, { janus: 'destroy' });
  });

  it('startJanus fails loudly without a binary; stop() ends only its PID and removes its folder', async () => {
    await expect(startJanus({ iface: iface(), binary: '/nonexistent/janus' })).rejects.toThrow(/Janus Gateway binary not found.*apt-get install -y janus/s);
    await expect(startJanus({ iface: 'lo' })).rejects.toThrow(/libnice skips loopback/);

    const extra = await startJanus({ iface: iface() });
    expect(extra.wsPort).not.toBe(janus().wsPort);
    expect(existsSync(extra.configDir)).toBe(true);
    expect(readFileSync(`${extra.configDir}/janus.jcfg`, 'utf8')).toContain(`ice_enforce_list = "${iface()}"`);
    expect(() => process.kill(extra.pid, 0)).not.toThrow();
    await extra.stop();
    expect(() => process.kill(extra.pid, 0)).toThrow();
    expect(existsSync(extra.configDir)).toBe(false);
    expect(extra.logs()).toMatch(/Bye!/);
    // The shared instance is untouched.
    expect(() => process.kill(janus().pid, 0)).not.toThrow();
    expect((await fetch(`${janus().httpUrl}/info`)).ok).toBe(true);
  });

  it('echotest reaches webrtcState(true) with media both ways on 127.0.0.1 <-> 127.0.0.2', async () => {
    const page = await open('echotest');
    const r = await page.run((url) => window.janusTest.echotest(url), janus().wsUrl);
    dump.echotest = r;
    expect(r.webrtcUp).toBe(true);
    expect(r.pcSetAtAttach).toBe(false);
    expect(r.messages).toContainEqual({ echotest: 'event', result: 'ok' });
    expect(r.localTrackKinds.sort()).toEqual(['audio', 'video']);
    expect(r.remoteTrackKinds.sort()).toEqual(['audio', 'video']);
    expect(r.stats.connectionState).toBe('connected');
    // The selected pair is what matters; its 'succeeded' state can lag in a loaded machine's stats.
    expect(r.stats.selected).not.toBeNull();
    expectLoopbackIce(r.stats);

    const { pcAfterHangup } = await page.run(() => window.janusTest.echoHangup());
    expect(pcAfterHangup).toBe(false); // hangup() closes the PC and sets webrtcStuff.pc = null synchronously

    const st = await stateOf(page);
    dump.echotestProbe = st.probe;
    const ev = st.probe.events;
    expect(st.probe.sessionsHooked).toBe(1);
    // The probe (wrapping session.attach's callbacks) saw the app's callbacks, in order.
    const cbs = ev.map((e) => e.cb);
    expect(cbs[0]).toBe('success');
    expect(ev[0]?.pc).toBe(false);
    expect(cbs).toContain('onlocaltrack');
    expect(cbs).toContain('onremotetrack');
    expect(ev.find((e) => e.cb === 'webrtcState')).toMatchObject({ args: [true], pc: true, plugin: 'janus.plugin.echotest' });
    expect(ev.filter((e) => e.cb === 'iceState').map((e) => e.args[0])).toContain('connected');
    expect(ev.filter((e) => e.cb === 'connectionState').map((e) => e.args[0])).toContain('connected');
    expect(ev.find((e) => e.cb === 'oncleanup')).toMatchObject({ pc: false });
    // The PC exists synchronously once createOffer() returns (created before prepareWebrtc's first await).
    expect(st.probe.pcAfterCreateCall).toEqual([expect.objectContaining({ call: 'createOffer', pc: true, pcBefore: false })]);
    expect(Object.values(st.probe.pcStatesNow)).toEqual(['closed']);
    expect(page.errors).toEqual([]);
  });

  it('videoroom: three publishers, each receives the other two over one multistream subscriber; a leaver is announced', async () => {
    const names = ['alice', 'bob', 'carol'] as const;
    const [a, b, c] = await Promise.all(names.map((n) => open(n)));
    const ps = { alice: a!, bob: b!, carol: c! };
    expect(new Set([a!.context, b!.context, c!.context]).size).toBe(3);

    // Sequential joins: later joiners get earlier ones in 'joined'.publishers, earlier ones get
    // later ones through 'event' messages with a publishers list.
    const ids: Record<string, number> = {};
    const joinedLists: Record<string, { id: number; display: string }[]> = {};
    for (const n of names) {
      const r = await ps[n].run((arg) => window.janusTest.joinRoom(arg), { server: janus().wsUrl, room: ROOM, display: n });
      ids[n] = r.myId;
      joinedLists[n] = r.publishersAtJoin;
    }
    expect(new Set(Object.values(ids)).size).toBe(3);
    expect(joinedLists.alice).toEqual([]);
    expect(joinedLists.bob).toEqual([{ id: ids.alice, display: 'alice' }]);
    expect(joinedLists.carol!.sort((x, y) => x.display.localeCompare(y.display))).toEqual([
      { id: ids.alice, display: 'alice' },
      { id: ids.bob, display: 'bob' },
    ]);

    for (const n of names) {
      const others = names.filter((o) => o !== n);
      const r = await ps[n].run((feeds) => window.janusTest.waitForFeeds(feeds), others.map((o) => ids[o]!));
      dump[`media-${n}`] = r;
      // Each remote feed: audio + video decoded, identified through subscriber mid -> feed_id -> feed_display.
      expect(r.media.map((m) => ({ feedId: m.feedId, display: m.display, kinds: m.kinds }))).toEqual(
        others
          .map((o) => ({ feedId: ids[o]!, display: o, kinds: ['audio', 'video'] }))
          .sort((x, y) => x.feedId - y.feedId),
      );
      // One subscriber PC carries all of them (2 feeds x audio+video = 4 mids).
      expect(r.media.flatMap((m) => m.mids)).toHaveLength(4);
      expect(r.sub.connectionState).toBe('connected');
      expect(r.pub.outbound.map((o) => o.kind).sort()).toEqual(['audio', 'video']);
      expectLoopbackIce(r.pub);
      expectLoopbackIce(r.sub);
      const st = await stateOf(ps[n]);
      expect(st.failure).toBeNull();
      expect(st.publishers).toEqual(Object.fromEntries(others.map((o) => [String(ids[o]), o])));
      // Probe: one PC per handle (publisher, subscriber), created by the first createOffer /
      // createAnswer call and reused by the subscriber's renegotiations ('updated' offers).
      const calls = st.probe.pcAfterCreateCall;
      expect(calls.every((x) => x.pc)).toBe(true);
      expect(calls.filter((x) => !x.pcBefore).map((x) => x.call).sort()).toEqual(['createAnswer', 'createOffer']);
      expect(st.probe.handlesWithPc).toHaveLength(2);
      const pubHandle = calls.find((x) => x.call === 'createOffer')!.handle;
      // mediaState is about media *Janus receives*: only the publisher handle gets it.
      const media = st.probe.events.filter((e) => e.cb === 'mediaState');
      expect(media.map((e) => e.args.slice(0, 2)).sort()).toEqual([['audio', true], ['video', true]]);
      expect(media.every((e) => e.handle === pubHandle)).toBe(true);
      expect(st.probe.events.filter((e) => e.cb === 'webrtcState').map((e) => e.args[0])).toEqual([true, true]);
    }

    // carol leaves mid-call: janus.destroy() with default options, as the demos' "Stop" does.
    const left = await ps.carol.run(() => window.janusTest.leaveRoom('destroy'));
    dump.left = left;
    expect(left.destroyedCallback).toBe(true);
    // Without cleanupHandles, destroy() neither closes the handles' PCs nor calls any handle
    // callback (oncleanup/ondetached/webrtcState(false)): the WebSocket is closed first.
    expect(left.pcStates).toHaveLength(2);
    expect(left.pcStates).not.toContain('closed');
    const carol = await stateOf(ps.carol);
    dump['state-carol'] = carol;
    expect(carol.probe.destroyCalls).toBe(1);
    expect(carol.probe.events.filter((e) => ['oncleanup', 'ondetached'].includes(e.cb))).toEqual([]);
    expect(carol.probe.events.filter((e) => e.cb === 'webrtcState').map((e) => e.args[0])).toEqual([true, true]);
    for (const n of ['alice', 'bob'] as const) {
      const r = await ps[n].run((feed) => window.janusTest.waitForLeave(feed), ids.carol!);
      const st = await stateOf(ps[n]);
      dump[`leave-${n}`] = r;
      dump[`state-${n}`] = st;
      // Janus 1.1.2 sends 'unpublished' (seen twice) and then 'leaving' for a destroyed session.
      expect(r.leaving).toBe(1);
      expect(r.unpublished).toBeGreaterThanOrEqual(1);
      // ...and renegotiates the subscriber: carol's mids come back inactive, without feed_id.
      expect(r.subStreams.filter((x) => x.active === false)).toHaveLength(2);
      expect(r.subStreams.filter((x) => x.active === false).every((x) => x.feed_id === undefined)).toBe(true);
      const pub = st.pubMessages;
      expect(pub).toContainEqual(expect.objectContaining({ videoroom: 'event', room: ROOM, unpublished: ids.carol }));
      expect(pub).toContainEqual(expect.objectContaining({ videoroom: 'event', room: ROOM, leaving: ids.carol }));
      // The remaining two still receive each other.
      const other = n === 'alice' ? 'bob' : 'alice';
      const still = await ps[n].run((feeds) => window.janusTest.waitForFeeds(feeds), [ids[other]!]);
      expect(still.media.find((m) => m.feedId === ids[other])?.kinds).toEqual(['audio', 'video']);
    }
    for (const p of [a!, b!, c!]) expect(p.errors).toEqual([]);
  });
});
