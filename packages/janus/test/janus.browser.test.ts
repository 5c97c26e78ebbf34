// @callmetry/janus with the real janus.js 1.4.2 (npm janus-gateway) + webrtc-adapter in real
// Chromium, against the real Janus Gateway 1.1 from Debian (test/harness/janus.ts), all on
// loopback inside the namespace test/run.mjs creates. The page (janus.page.ts) is plain Janus app
// code plus one attachJanus / instrumentJanus call.
//
// Slow links: Janus only sends `slowlink` when it counts lost packets (media.slowlink_threshold),
// and loss cannot be injected here (no netem; a UDP relay would need janus.js's internal trickle
// rewritten). Not provoked: the slowLink mapping is covered by attach.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, requireNamespace, startHttpServer, useBrowser, type HttpServer, type TestPage } from '../../../test/harness/browser';
import { startJanus, type JanusServer } from '../../../test/harness/janus';
import type { Seen, SeenFabric, SeenStream } from './janus.page';

const PAGE = new URL('./janus.page.ts', import.meta.url);
const ROOM = 1234;

/** The veth Janus gathers candidates on: set by test/run.mjs. Missing = a loud failure. */
function janusIface(): string {
  const iface = process.env.CALLMETRY_JANUS_IFACE;
  if (!iface) {
    throw new Error(
      'CALLMETRY_JANUS_IFACE is not set. The Janus adapter tests need the veth interface (127.0.0.2) that ' +
        'test/run.mjs creates in the test network namespace: run `node test/run.mjs packages/janus` as root.',
    );
  }
  return iface;
}

type State = Seen & { monitorFabrics: string[] };
const stateOf = (p: TestPage) => p.run(() => window.jt.state()) as Promise<State>;

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value).slice(0, 4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const appEvents = (s: State, fabricID?: string) =>
  s.events.filter((e) => e.event !== 'fabricStateChange' && (!fabricID || e.fabricID === fabricID)).map((e) => e.event);

/** Streams of a sample that carry media (bitrate > 0), as `statsType/mediaType/userID`. */
const flowing = (streams: SeenStream[]) =>
  streams.filter((s) => (s.bitrate ?? 0) > 0).map((s) => `${s.statsType}/${s.mediaType}/${s.userID}`).sort();

/** A participant's publisher / subscriber fabric (their creation order varies). */
const pubOf = (s: State): SeenFabric => s.fabrics.find((f) => f.direction === 'sendonly')!;
const subOf = (s: State): SeenFabric => s.fabrics.find((f) => f.direction === 'receiveonly')!;

const inboundUsers = (f: SeenFabric) =>
  f.streams.filter((s) => s.statsType === 'inbound-rtp' && (s.bitrate ?? 0) > 0).map((s) => `${s.userID}/${s.mediaType}`).sort();

describe('@callmetry/janus with janus.js 1.4.2 against Janus Gateway in Chromium', () => {
  let iface: string;
  beforeAll(() => {
    iface = janusIface();
    requireNamespace();
  });
  const browser = useBrowser();
  let janus: JanusServer;
  let http: HttpServer;
  const pages: TestPage[] = [];

  beforeAll(async () => {
    janus = await startJanus({ iface });
    http = await startHttpServer();
    http.route('/favicon.ico', { body: new Uint8Array(0), type: 'image/x-icon' });
  });
  afterAll(async () => {
    for (const p of pages.splice(0)) await p.close();
    await http?.close();
    await janus?.stop();
  });

  const open = async (label: string): Promise<TestPage> => {
    const p = await openPage(browser(), { scripts: [PAGE], server: http, label });
    pages.push(p);
    await p.run((user) => window.jt.setup(user), label);
    return p;
  };

  it('echotest: fabric to the server, real bitrate both ways, mutes, hangup reason, peer close, destroy restores janus.js', async () => {
    const page = await open('echo-user');
    await page.run((url) => window.jt.echotest(url), janus.wsUrl);

    // Stats flow with real bitrate: audio + video sent and echoed back.
    const s1 = await until(
      () => stateOf(page),
      (s) => s.fabrics.length === 1 && flowing(s.fabrics[0]!.streams).length === 4,
      'audio+video bitrate both ways',
    );
    const echo = s1.fabrics[0]!;
    expect(echo).toMatchObject({ remoteUserID: 'janus', remoteEndpointType: 'server', direction: 'sendrecv', usage: 'multiplex', state: 'established' });
    expect(echo.conferenceID).toMatch(/^janus-\d+$/);
    expect(flowing(echo.streams)).toEqual([
      'inbound-rtp/audio/janus',
      'inbound-rtp/video/janus',
      'outbound-rtp/audio/echo-user',
      'outbound-rtp/video/echo-user',
    ]);
    for (const s of echo.streams.filter((x) => x.mediaType === 'video')) expect(s.bitrate!).toBeGreaterThan(10);

    // handle.muteAudio() & co. (janus.js answers true): one fabric event per change.
    expect(await page.run(() => window.jt.echoMute())).toEqual([true, true, true, true, true]);
    // Janus tells when it starts receiving each medium (mediaState): custom events.
    const s2 = await until(() => stateOf(page), (s) => s.custom.filter((c) => c.name === 'mediaState').length >= 2, 'mediaState');
    expect(s2.custom.filter((c) => c.name === 'mediaState').slice(0, 2).map((c) => [c.data?.type, c.data?.receiving, c.fabricID]).sort()).toEqual([
      ['audio', true, echo.fabricID],
      ['video', true, echo.fabricID],
    ]);

    const { pcAfterHangup } = await page.run(() => window.jt.echoHangup());
    expect(pcAfterHangup).toBe(false);
    const s3 = await stateOf(page);
    expect(appEvents(s3, echo.fabricID)).toEqual(['fabricSetup', 'audioMute', 'audioUnmute', 'videoPause', 'videoResume', 'fabricTerminated']);
    expect(s3.events.filter((e) => e.event === 'audioMute' || e.event === 'videoPause').every((e) => e.data === undefined)).toBe(true);
    // Janus' hangup event came after janus.js's own cleanup: the reason is recorded for the conference.
    expect(s3.custom.filter((c) => c.name === 'hangup')).toEqual([
      { conferenceID: echo.conferenceID, name: 'hangup', data: { reason: 'Janus API', plugin: 'janus.plugin.echotest', handleId: expect.any(String) } },
    ]);
    expect(s3.monitorFabrics).toEqual([]);

    // The app closes a PeerConnection behind janus.js's back: Janus hangs up with 'DTLS alert'.
    const { reason } = await page.run(() => window.jt.echoPeerClose());
    expect(reason).toBe('DTLS alert');
    const s4 = await until(() => stateOf(page), (s) => s.custom.filter((c) => c.name === 'hangup').length === 2 && s.monitorFabrics.length === 0, 'second hangup');
    const second = s4.fabrics[1]!;
    expect(second).toMatchObject({ usage: 'audio', direction: 'sendrecv', conferenceID: echo.conferenceID });
    expect(s4.custom.filter((c) => c.name === 'hangup')[1]?.data).toMatchObject({ reason: 'DTLS alert' });
    expect(appEvents(s4, second.fabricID)).toEqual(['fabricSetup', 'fabricTerminated']);
    expect(s4.errors).toEqual([]);

    // session.destroy(): the adapter detaches itself; every janus.js function is its own again.
    const pristine = await page.run(() => window.jt.echoDestroy());
    expect(Object.entries(pristine).filter(([, ok]) => !ok)).toEqual([]);
    expect(page.errors).toEqual([]);
  });

  it('videoroom: three participants, each monitor attributes every remote stream to its publisher; a leaver; detach', async () => {
    const names = ['alice', 'bob', 'carol'] as const;
    const ps: Record<(typeof names)[number], TestPage> = { alice: await open('alice'), bob: await open('bob'), carol: await open('carol') };
    const ids: Record<string, number> = {};
    for (const n of names) {
      const r = await ps[n].run((arg) => window.jt.joinRoom(arg), { server: janus.wsUrl, room: ROOM, display: n });
      ids[n] = r.myId;
    }
    for (const n of names) {
      const others = names.filter((o) => o !== n);
      await ps[n].run((feeds) => window.jt.waitForFeeds(feeds), others.map((o) => ids[o]!));
      // The monitor's own stats: every inbound stream with media is attributed to its publisher.
      const s = await until(
        () => stateOf(ps[n]),
        (st) => st.fabrics.length === 2 && inboundUsers(subOf(st)).length === 4 && flowing(pubOf(st).streams).length === 2,
        `${n}: attributed inbound streams`,
      );
      const [pub, sub] = [pubOf(s), subOf(s)];
      expect(pub).toMatchObject({ conferenceID: String(ROOM), direction: 'sendonly', remoteEndpointType: 'server', remoteUserID: 'janus', usage: 'multiplex' });
      expect(sub).toMatchObject({ conferenceID: String(ROOM), direction: 'receiveonly', remoteEndpointType: 'server', remoteUserID: 'janus', usage: 'multiplex' });
      expect(flowing(pub.streams)).toEqual([`outbound-rtp/audio/${n}`, `outbound-rtp/video/${n}`]);
      expect(inboundUsers(sub)).toEqual(others.flatMap((o) => [`${o}/audio`, `${o}/video`]).sort());
      expect(sub.streams.filter((x) => x.statsType === 'inbound-rtp').every((x) => x.usageLabel === x.mediaType)).toBe(true);
      expect(s.errors).toEqual([]);
      expect(s.custom.filter((c) => c.name === 'publisherLeft')).toEqual([]);
    }

    // carol leaves mid-call (janus.destroy(), as the demos' "Stop" does).
    const carolBefore = await stateOf(ps.carol);
    await ps.carol.run(() => window.jt.leaveRoom());
    const carol = await stateOf(ps.carol);
    expect(carol.monitorFabrics).toEqual([]);
    for (const f of carolBefore.fabrics) expect(appEvents(carol, f.fabricID).at(-1)).toBe('fabricTerminated');

    for (const n of ['alice', 'bob'] as const) {
      await ps[n].run((feed) => window.jt.waitForLeave(feed), ids.carol!);
      const other = n === 'alice' ? 'bob' : 'alice';
      // One event (Janus sent 'unpublished' twice, then 'leaving'), and carol's streams are no
      // longer attributed to her once the stats after the renegotiation came in.
      const s = await until(
        () => stateOf(ps[n]),
        (st) => {
          const sub = subOf(st);
          return !sub.streams.some((x) => x.userID === 'carol') && inboundUsers(sub).length === 2;
        },
        `${n}: carol's streams no longer attributed`,
      );
      const left = s.custom.filter((c) => c.name === 'publisherLeft');
      expect(left).toEqual([
        {
          conferenceID: String(ROOM),
          name: 'publisherLeft',
          data: { feedId: ids.carol, display: 'carol', userID: 'carol', reason: 'unpublished', mids: expect.any(Array) },
          fabricID: subOf(s).fabricID,
        },
      ]);
      expect((left[0]!.data!.mids as string[]).length).toBe(2);
      expect(inboundUsers(subOf(s))).toEqual([`${other}/audio`, `${other}/video`]);
      expect(s.errors).toEqual([]);
    }

    // alice detaches: fabrics terminated, janus.js's functions restored, nothing reported afterwards.
    const aliceBefore = await stateOf(ps.alice);
    const pristine = await ps.alice.run(() => window.jt.detachAdapter());
    expect(Object.entries(pristine).filter(([, ok]) => !ok)).toEqual([]);
    const detached = await stateOf(ps.alice);
    expect(detached.monitorFabrics).toEqual([]);
    expect(detached.events.slice(aliceBefore.events.length).filter((e) => e.event !== 'fabricStateChange').map((e) => e.event)).toEqual([
      'fabricTerminated',
      'fabricTerminated',
    ]);
    const frozen = await stateOf(ps.alice);
    // The call goes on: alice mutes, bob leaves, alice's app sees it; the monitor hears nothing.
    expect(await ps.alice.run(() => window.jt.muteAll())).toEqual([true, true, true]);
    await ps.bob.run(() => window.jt.leaveRoom());
    await ps.alice.run((feed) => window.jt.waitForLeave(feed), ids.bob!);
    const after = await stateOf(ps.alice);
    expect(after.events).toHaveLength(frozen.events.length);
    expect(after.custom).toHaveLength(frozen.custom.length);
    expect(after.errors).toEqual([]);
    expect(after.samplesTotal).toBe(frozen.samplesTotal);
    for (const p of Object.values(ps)) expect(p.errors).toEqual([]);
  });
});
