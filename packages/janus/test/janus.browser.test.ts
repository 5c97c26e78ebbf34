// @callmetry/janus with the real janus.js 1.4.2 (npm janus-gateway) + webrtc-adapter in real
// Chromium (and, in the videoroom, one participant in Firefox ESR), against the real Janus
// Gateway 1.1 from Debian (test/harness/janus.ts), all on
// loopback inside the namespace test/run.mjs creates. The page (janus.page.ts) is plain Janus app
// code plus one attachJanus / instrumentJanus call.
//
// Slow links: Janus only sends `slowlink` when it counts lost packets (media.slowlink_threshold)
// and the kernel here cannot drop packets (no netem), so that test routes an echotest through a
// UDP relay of its own (on the veth address: Janus ignores loopback sources) that drops a
// fraction of the datagrams, one direction at a time.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, requireNamespace, startHttpServer, type BrowserPage } from '../../../test/harness/browser';
import { useJanusPages } from '../../../test/harness/janusPages';
import type { Seen, SeenFabric, SeenStream } from './janus.page';

const PAGE = new URL('./janus.page.ts', import.meta.url);
const ROOM = 1234;

/**
 * A UDP relay between one client and Janus, on `host` (the veth's 127.0.0.2: Janus ignores
 * packets from loopback addresses, as it refuses 127.0.0.1 candidates): the client sends to `front`
 * (given to it as Janus' candidate), Janus sends to `back` (given to Janus as the client's only
 * candidate); each side's packets leave from the other socket, so both see consistent addresses.
 * `loss.up` / `loss.down` drop that fraction of the datagrams to / from Janus.
 */
async function startRelay(host: string) {
  const front: Socket = createSocket('udp4');
  const back: Socket = createSocket('udp4');
  const loss = { up: 0, down: 0 };
  let client: { address: string; port: number } | undefined;
  let janusPort: number | undefined;
  let dropped = 0;
  let forwarded = 0;
  const keep = (p: number): boolean => {
    if (p > 0 && Math.random() < p) {
      dropped++;
      return false;
    }
    forwarded++;
    return true;
  };
  // (A view, not a copy: @types/node's Buffer does not type-check as Uint8Array under TS 5.9.)
  const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    if (janusPort !== undefined && keep(loss.up)) back.send(bytes(msg), janusPort, '127.0.0.2');
  });
  back.on('message', (msg) => {
    if (client && keep(loss.down)) front.send(bytes(msg), client.port, client.address);
  });
  const bind = (s: Socket) => new Promise<void>((ok) => s.bind(0, host, () => ok()));
  await Promise.all([bind(front), bind(back)]);
  return {
    host,
    front: front.address().port,
    back: back.address().port,
    loss,
    target: (port: number) => void (janusPort = port),
    get dropped() {
      return dropped;
    },
    get forwarded() {
      return forwarded;
    },
    close: () => {
      back.close();
      front.close();
    },
  };
}

type State = Seen & { monitorFabrics: string[] };
const stateOf = (p: BrowserPage) => p.run(() => window.jt.state()) as Promise<State>;

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
  const { browser, janus, open: openJanusPage, openInFirefox } = useJanusPages({
    page: PAGE,
    tests: 'Janus adapter tests',
    run: '`node test/run.mjs packages/janus`',
    // slowlink events from 4 lost packets per second (Janus' default 0 = never).
    janus: { slowlinkThreshold: 4 },
    firefox: true,
  });

  /** A page with the adapter set up for `label`: in Chromium (playwright's page at hand), or in Firefox. */
  const setUp = async <P extends BrowserPage>(p: P, label: string): Promise<P> => {
    await p.run((user) => window.jt.setup(user), label);
    return p;
  };
  const open = async (label: string) => setUp(await openJanusPage(label), label);
  const openIn = async (label: string, inFirefox: boolean): Promise<BrowserPage> => (inFirefox ? setUp(await openInFirefox(label), label) : open(label));

  it('echotest: fabric to the server, real bitrate both ways, mutes, hangup reason, peer close, destroy restores janus.js', async () => {
    const page = await open('echo-user');
    await page.run((url) => window.jt.echotest(url), janus().wsUrl);

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
    // The app hung up (hangup(true)): janus.js cleaned up before Janus' hangup event came, so
    // fabricTerminated carries no reason (Janus then says 'Janus API' or 'DTLS alert').
    expect(s3.events.find((e) => e.fabricID === echo.fabricID && e.event === 'fabricTerminated')?.data).toBeUndefined();
    expect(s3.monitorFabrics).toEqual([]);

    // The app closes a PeerConnection behind janus.js's back: Janus hangs up with 'DTLS alert'.
    const { reason } = await page.run(() => window.jt.echoPeerClose());
    expect(reason).toBe('DTLS alert');
    const s4 = await until(() => stateOf(page), (s) => s.fabrics.length === 2 && s.monitorFabrics.length === 0, 'second fabric terminated');
    const second = s4.fabrics[1]!;
    expect(second).toMatchObject({ usage: 'audio', direction: 'sendrecv', conferenceID: echo.conferenceID });
    // Janus hung up first: its reason goes with fabricTerminated.
    expect(s4.events.find((e) => e.fabricID === second.fabricID && e.event === 'fabricTerminated')?.data).toEqual({ reason: 'DTLS alert' });
    expect(appEvents(s4, second.fabricID)).toEqual(['fabricSetup', 'fabricTerminated']);
    expect(s4.errors).toEqual([]);

    // session.destroy(): the adapter detaches itself; every janus.js function is its own again.
    const pristine = await page.run(() => window.jt.echoDestroy());
    expect(Object.entries(pristine).filter(([, ok]) => !ok)).toEqual([]);
    expect(page.errors).toEqual([]);
  });

  it('slow link: loss on a relayed path makes Janus send slowlink, both ways; recorded as custom events on the fabric', async () => {
    const page = await open('lossy-user');
    const relays: Array<Awaited<ReturnType<typeof startRelay>>> = [];
    await page.page.exposeFunction('cmRelayCreate', async () => {
      const r = await startRelay(requireNamespace().janusIp);
      relays.push(r);
      return { host: r.host, front: r.front, back: r.back };
    });
    await page.page.exposeFunction('cmRelayTarget', (janusPort: number) => relays.at(-1)!.target(janusPort));
    try {
      await page.run((url) => window.jt.relayedEchotest(url), janus().wsUrl);
      expect(relays).toHaveLength(1);
      const relay = relays[0]!;
      const s0 = await until(() => stateOf(page), (s) => s.fabrics.length === 1 && flowing(s.fabrics[0]!.streams).length === 4, 'relayed media');
      expect(s0.custom.filter((c) => c.name === 'slowLink')).toEqual([]);
      const fabricID = s0.fabrics[0]!.fabricID;

      // Loss on the way to Janus: Janus is not getting all of this client's packets (it NACKs
      // them): slowlink with uplink=false. (Janus' "uplink" is its own link towards the user.)
      relay.loss.up = 0.3;
      const s1 = await until(() => stateOf(page), (s) => s.custom.some((c) => c.name === 'slowLink'), 'slowLink (loss towards Janus)');
      const first = s1.custom.find((c) => c.name === 'slowLink')!;
      expect(first).toMatchObject({ conferenceID: 'lossy', fabricID, data: { uplink: false, direction: 'send', mid: expect.any(String) } });
      expect(first.data!.lost as number).toBeGreaterThanOrEqual(4);
      expect(await page.run(() => window.jt.relayedSlowLinks())).toBeGreaterThan(0);

      // Loss on the way from Janus: this client NACKs many of Janus' packets: uplink=true.
      relay.loss.up = 0;
      relay.loss.down = 0.3;
      const seen = s1.custom.length;
      const s2 = await until(
        () => stateOf(page),
        (s) => s.custom.slice(seen).some((c) => c.name === 'slowLink' && c.data?.uplink === true),
        'slowLink (loss from Janus)',
      );
      expect(s2.custom.slice(seen).find((c) => c.name === 'slowLink' && c.data?.uplink === true)).toMatchObject({
        conferenceID: 'lossy',
        fabricID,
        data: { uplink: true, direction: 'receive', mid: expect.any(String) },
      });
      expect(relay.dropped).toBeGreaterThan(0);
      expect(s2.errors).toEqual([]);
    } finally {
      for (const r of relays) r.close();
    }
  });

  it('examples/janus: two pages join the room; each shows the other\'s streams attributed to them', async () => {
    // The example as the collector serves it, but built from source here: core's browser build
    // (global Callmetry), core's and the adapter's ESM builds (the page's import map resolves the
    // adapter's @callmetry/core import), and examples/janus/build.mjs's janus.js bundle.
    const build = async (options: esbuild.BuildOptions): Promise<string> => {
      const r = await esbuild.build({ bundle: true, write: false, platform: 'browser', target: 'es2020', absWorkingDir: REPO_ROOT, logLevel: 'silent', ...options });
      return r.outputFiles![0]!.text;
    };
    const [core, coreEsm, adapter, libs] = await Promise.all([
      build({ entryPoints: ['packages/core/src/browser.ts'], format: 'iife' }),
      build({ entryPoints: ['packages/core/src/index.ts'], format: 'esm' }),
      build({ entryPoints: ['packages/janus/src/index.ts'], format: 'esm', external: ['@callmetry/core'] }),
      build({
        stdin: { contents: readFileSync(join(REPO_ROOT, 'examples/janus/build.mjs'), 'utf8').match(/contents:\s*"([^"]+)"/)![1]!, resolveDir: join(REPO_ROOT, 'examples/janus') },
        format: 'iife',
      }),
    ]);
    const site = await startHttpServer({
      routes: {
        '/favicon.ico': { body: new Uint8Array(0), type: 'image/x-icon' },
        '/packages/core/dist/callstats.min.js': { body: core, type: 'text/javascript' },
        '/packages/core/dist/index.mjs': { body: coreEsm, type: 'text/javascript' },
        '/packages/janus/dist/index.mjs': { body: adapter, type: 'text/javascript' },
        '/examples/janus/dist/janus.js': { body: libs, type: 'text/javascript' },
        '/examples/janus/': { body: readFileSync(join(REPO_ROOT, 'examples/janus/index.html'), 'utf8'), type: 'text/html' },
        '/examples/janus/app.js': { body: readFileSync(join(REPO_ROOT, 'examples/janus/app.js'), 'utf8'), type: 'text/javascript' },
      },
    });
    const contexts = await Promise.all([browser().newContext(), browser().newContext()]);
    try {
      const pagesByName: Record<string, import('playwright-core').Page> = {};
      for (const [i, name] of ['erin', 'frank'].entries()) {
        const page = await contexts[i]!.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        const q = new URLSearchParams({ server: janus().wsUrl, room: '1234', display: name, collector: 'none', autojoin: '1' });
        await page.goto(site.url(`/examples/janus/?${q}`));
        pagesByName[name] = page;
        await page.waitForFunction(() => /in room 1234/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 20_000 });
        expect(errors).toEqual([]);
      }
      for (const [name, other] of [['erin', 'frank'], ['frank', 'erin']] as const) {
        // The page's table is the monitor's own sample: inbound streams and the user they belong to.
        await pagesByName[name]!.waitForFunction(
          (o) => {
            const rows = [...document.querySelectorAll('#streams tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
            return rows.filter((r) => r[3] === o && Number(r[4]) > 0).map((r) => r[2]).sort().join() === 'audio,video';
          },
          other,
          { timeout: 20_000 },
        );
      }
      const log = await pagesByName.erin!.textContent('#log');
      expect(log).toMatch(/fabricEvent fabricSetup 1234/);
      await pagesByName.erin!.click('#mute-audio');
      await pagesByName.erin!.waitForFunction(() => /fabricEvent audioMute 1234/.test(document.getElementById('log')!.textContent ?? ''));
      await pagesByName.erin!.click('#leave');
      await pagesByName.erin!.waitForFunction(() => /fabricEvent fabricTerminated/.test(document.getElementById('log')!.textContent ?? ''));
    } finally {
      for (const c of contexts) await c.close();
      await site.close();
    }
  });

  // Run twice: all in Chromium, then with alice in Firefox ESR (janus.js, the adapter and the
  // monitor on Firefox's RTCPeerConnection, next to Chromium publishers). Each run closes its pages,
  // which ends their Janus sessions, so the next run starts from an empty room.
  it.each([
    ['all in Chromium', false],
    ['alice in Firefox', true],
  ])('videoroom (%s): three participants, each monitor attributes every remote stream to its publisher; a leaver; detach', async (_title, aliceInFirefox) => {
    const names = ['alice', 'bob', 'carol'] as const;
    const ps: Record<(typeof names)[number], BrowserPage> = { alice: await openIn('alice', aliceInFirefox), bob: await open('bob'), carol: await open('carol') };
    try {
    const ids: Record<string, number> = {};
    for (const n of names) {
      const r = await ps[n].run((arg) => window.jt.joinRoom(arg), { server: janus().wsUrl, room: ROOM, display: n });
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
    } finally {
      for (const p of Object.values(ps)) await p.close();
    }
  });
});
