// @callmetry/twilio against the REAL twilio-video SDK (pinned to 2.32.1) in real Chromium and Firefox ESR, talking
// to a local STAND-IN for Twilio's signaling (./standin/standin.ts, a Node WebSocket server that
// speaks twilio-video 2.32.1's private protocol) whose media side is a real RTCPeerConnection in
// another page (./standin/sfu.page.ts) sending a real audio and video track for one remote
// participant. Twilio's cloud is not involved (it cannot be reached here); what is exercised is the
// SDK's own Room, participants, publications, stats and reconnection logic and the real core.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { bundle, openPage, REPO_ROOT, requireNamespace, startHttpServer, useBrowser, type BrowserPage, type HttpServer, type TestPage } from '../../../test/harness/browser';
import { openFirefoxPage, useFirefox } from '../../../test/harness/firefoxPage';
import type { Snapshot } from './standin/client.page';
import { fakeAccessToken, TwilioStandIn } from './standin/standin';

const CLIENT_PAGE = new URL('./standin/client.page.ts', import.meta.url);
const SFU_PAGE = new URL('./standin/sfu.page.ts', import.meta.url);
const LOCAL = 'alice';
const REMOTE = 'bob';

const browser = useBrowser();
const firefox = useFirefox();

// The client (twilio-video + the adapter) in Chromium, then in Firefox ESR; the stand-in's media
// side stays a Chromium page.
for (const clientIn of ['Chromium', 'Firefox'] as const)
describe(`attachTwilio with twilio-video 2.32.1 in ${clientIn} against a signaling stand-in`, () => {
  let http: HttpServer;
  let sfu: TestPage;
  let client: BrowserPage;
  let standIn: TwilioStandIn;

  beforeAll(async () => {
    requireNamespace();
    http = await startHttpServer();
    [sfu, client] = await Promise.all([
      openPage(browser(), { scripts: [SFU_PAGE], server: http, label: 'sfu' }),
      clientIn === 'Firefox'
        ? openFirefoxPage(firefox(), { scripts: [CLIENT_PAGE], label: 'client-firefox' })
        : openPage(browser(), { scripts: [CLIENT_PAGE], server: http, label: 'client' }),
    ]);
    standIn = new TwilioStandIn({ http, sfu, remoteIdentity: REMOTE, verbose: !!process.env.STANDIN_VERBOSE });
    await standIn.start();
  });

  afterAll(async () => {
    await client?.run(() => window.client.reset()).catch(() => undefined);
    await standIn?.close();
    await client?.close();
    await sfu?.close();
    await http?.close();
  });

  // Each test ends its Room (also when it fails) so that the next one starts clean.
  afterEach(async () => {
    await client.run(() => window.client.reset());
    // twilio-video logs its own warnings and errors (e.g. the dropped socket); no exception may escape.
    expect([...client.errors, ...sfu.errors].filter((e) => e.startsWith('pageerror') || e.startsWith('page crashed'))).toEqual([]);
  });

  const snapshot = (poll = true): Promise<Snapshot> => client.run((p: boolean) => window.client.snapshot(p), poll);

  async function until(what: string, test: (s: Snapshot) => boolean, timeoutMs = 20_000): Promise<Snapshot> {
    const deadline = Date.now() + timeoutMs;
    let last: Snapshot | undefined;
    while (Date.now() < deadline) {
      last = await snapshot();
      if (test(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}; last snapshot:\n${JSON.stringify(last, null, 1).slice(0, 4000)}`);
  }

  type FabricEventRow = Snapshot['fabricEvents'][number];
  const appEvents = (s: Snapshot): FabricEventRow[] =>
    s.fabricEvents.filter((e) => !['fabricStateChange', 'fabricSetup', 'connectionDisruptionStart', 'connectionDisruptionEnd'].includes(e.event));
  const eventsAfter = (s: Snapshot, n: number): { event: string; data?: Record<string, unknown> }[] =>
    appEvents(s)
      .slice(n)
      .map((e) => ({ event: e.event, ...(e.data ? { data: e.data } : {}) }));

  async function connect(roomName: string, access?: 'stats-shim'): Promise<void> {
    const r = await client.run(
      (a: { wsServer: string; token: string; roomName: string; access?: 'stats-shim' }) =>
        window.client.connect({ wsServer: a.wsServer, token: a.token, roomName: a.roomName, localUserID: 'alice', ...(a.access ? { access: a.access } : {}) }),
      { wsServer: standIn.url, token: fakeAccessToken(LOCAL, roomName), roomName, ...(access ? { access } : {}) },
    );
    expect(r.roomName).toBe(roomName);
  }

  /** Every listener the adapter added is gone (the SDK's own once-listeners may be gone too). */
  async function expectListenersRemoved(): Promise<void> {
    const [before, after] = await Promise.all([
      client.run(() => window.client.listenerCountsBeforeAttach()),
      client.run(() => window.client.listenerCounts()),
    ]);
    for (const [key, n] of Object.entries(after)) expect({ key, n }).toEqual({ key, n: Math.min(n, before[key] ?? 0) });
    expect(await client.run(() => window.client.hasOwnUnpublishWrapper())).toBe(false);
  }

  it('Group Room: two participants, remote tracks attributed to their identity, mute/pause, dominant speaker, reconnection, disconnect', async () => {
    await connect('standup');

    // -- two participants; the remote one's audio and video subscribed and attributed to 'bob'
    let s = await until(
      'remote and local streams mapped (track id and SSRC)',
      (x) =>
        ['audio', 'video'].every((k) => x.streams.some((st) => st.statsType === 'inbound-rtp' && st.mediaType === k && st.userID === REMOTE && st.usageLabel === k)) &&
        ['audio', 'video'].every((k) => x.streams.some((st) => st.statsType === 'outbound-rtp' && st.mediaType === k && st.userID === LOCAL && st.usageLabel === k)),
    );
    expect(s.roomState).toBe('connected');
    expect(s.localIdentity).toBe(LOCAL);
    expect(s.participants.map((p) => p.identity)).toEqual([REMOTE]);
    expect(s.participants[0]?.tracks.map((t) => [t.kind, t.isSubscribed])).toEqual([['audio', true], ['video', true]]);
    expect(s.internalPcCount).toBe(1);
    expect(s.fabrics).toEqual([
      { id: expect.any(String), remoteUserID: 'twilio-sfu', remoteEndpointType: 'server', conferenceID: 'standup', state: 'established' },
    ]);
    const fabricID = s.fabrics[0]!.id;
    // The inbound streams are the remote participant's real tracks (the ids twilio-video gave them).
    const remoteTrackIds = s.participants[0]!.tracks.map((t) => t.mediaStreamTrackId).sort();
    expect(s.streams.filter((st) => st.statsType === 'inbound-rtp').map((st) => st.trackIdentifier).sort()).toEqual(remoteTrackIds);
    expect(s.streams.filter((st) => st.statsType === 'inbound-rtp').every((st) => (st.packetRate ?? 0) > 0)).toBe(true);
    expect(s.fabricEvents.map((e) => e.event).slice(0, 2)).toEqual(['fabricSetup', 'fabricStateChange']);
    expect(appEvents(s)).toEqual([]);
    expect(s.errors).toEqual([]);
    // attach is idempotent
    expect(await client.run(() => window.client.attachAgain())).toBe(true);

    // -- the remote participant disables, then enables its audio and video
    const [audioSid, videoSid] = [standIn.remoteTracks.find((t) => t.kind === 'audio')!.sid, standIn.remoteTracks.find((t) => t.kind === 'video')!.sid];
    let n = appEvents(s).length;
    standIn.setRemoteTrackEnabled('audio', false);
    standIn.setRemoteTrackEnabled('video', false);
    s = await until('remote mute and pause', (x) => appEvents(x).length >= n + 2);
    const remoteData = (reason: string, trackSid: string, kind: string) => ({
      userID: REMOTE,
      local: false,
      reason,
      trackSid,
      trackName: `${kind}-of-remote`,
      participantSid: standIn.remoteSid,
    });
    expect(eventsAfter(s, n)).toEqual([
      { event: 'audioMute', data: remoteData('disabled', audioSid, 'audio') },
      { event: 'videoPause', data: remoteData('disabled', videoSid, 'video') },
    ]);
    n = appEvents(s).length;
    standIn.setRemoteTrackEnabled('audio', true);
    standIn.setRemoteTrackEnabled('video', true);
    s = await until('remote unmute and resume', (x) => appEvents(x).length >= n + 2);
    expect(eventsAfter(s, n)).toEqual([
      { event: 'audioUnmute', data: remoteData('enabled', audioSid, 'audio') },
      { event: 'videoResume', data: remoteData('enabled', videoSid, 'video') },
    ]);

    // -- the local participant disables, then enables its video
    n = appEvents(s).length;
    await client.run(() => window.client.setLocalEnabled('video', false));
    s = await until('local pause', (x) => appEvents(x).length >= n + 1);
    await client.run(() => window.client.setLocalEnabled('video', true));
    s = await until('local resume', (x) => appEvents(x).length >= n + 2);
    expect(eventsAfter(s, n).map((e) => [e.event, e.data?.userID, e.data?.local, e.data?.reason])).toEqual([
      ['videoPause', LOCAL, true, 'disabled'],
      ['videoResume', LOCAL, true, 'enabled'],
    ]);
    // twilio-video told the (stand-in) server as well
    expect(standIn.received.some((b) => b.type === 'update' && b.participant?.tracks?.some((t: { kind: string; enabled: boolean }) => t.kind === 'video' && !t.enabled))).toBe(true);

    // -- dominant speaker over the `active_speaker` data channel (the media side offers it)
    n = appEvents(s).length;
    await standIn.offerActiveSpeakerChannel();
    await standIn.sendActiveSpeaker(standIn.remoteSid);
    s = await until('dominantSpeaker', (x) => appEvents(x).length >= n + 1);
    expect(s.dominantSpeaker).toBe(REMOTE);
    expect(eventsAfter(s, n)).toEqual([{ event: 'dominantSpeaker', data: { userID: REMOTE, participantSid: standIn.remoteSid } }]);

    // -- the signaling connection drops: twilio-video reconnects (a new socket, 'sync'/'synced')
    n = appEvents(s).length;
    standIn.dropConnection();
    s = await until('reconnected', (x) => x.roomEvents.some((e) => e.event === 'reconnected'));
    expect(standIn.connections).toBe(2);
    expect(standIn.received.some((b) => b.type === 'sync')).toBe(true);
    expect(s.roomEvents.filter((e) => e.event === 'reconnecting' || e.event === 'reconnected')).toEqual([
      { event: 'reconnecting', detail: { code: 53001, name: 'TwilioError', message: 'Signaling connection disconnected' } },
      { event: 'reconnected' },
    ]);
    expect(s.customEvents.map((e) => ({ ...e, data: { ...e.data, durationMs: typeof e.data?.durationMs } }))).toEqual([
      {
        conferenceID: 'standup',
        name: 'twilioReconnecting',
        fabricID,
        data: { code: 53001, name: 'TwilioError', message: 'Signaling connection disconnected', cause: 'signaling', durationMs: 'undefined' },
        timestamp: expect.any(Number),
      },
      { conferenceID: 'standup', name: 'twilioReconnected', fabricID, data: { durationMs: 'number' }, timestamp: expect.any(Number) },
    ]);
    // the same fabric carries on (the media connection never broke), still attributing streams
    s = await snapshot();
    expect(s.fabrics.map((f) => [f.id, f.state])).toEqual([[fabricID, 'established']]);
    expect(s.participants.map((p) => p.identity)).toEqual([REMOTE]);
    expect(eventsAfter(s, n)).toEqual([]);

    // -- the app leaves the Room: the fabric is terminated, the adapter detached itself
    n = appEvents(s).length;
    await client.run(() => window.client.disconnect());
    s = await until('fabricTerminated', (x) => x.fabricEvents.some((e) => e.event === 'fabricTerminated'));
    expect(eventsAfter(s, n)).toEqual([{ event: 'fabricTerminated' }]);
    expect(s.fabricEvents.filter((e) => e.event === 'fabricTerminated').map((e) => e.fabricID)).toEqual([fabricID]);
    expect(s.fabrics).toEqual([]);
    expect(s.errors).toEqual([]);
    await expectListenersRemoved();
  });

  it('Twilio error on disconnect: reported with its mapped function, then terminated', async () => {
    await connect('error-room');
    let s = await until('fabric established', (x) => x.fabrics[0]?.state === 'established');
    const fabricID = s.fabrics[0]!.id;
    standIn.sendError(53205, 'Participant disconnected because of duplicate identity');
    s = await until('fabricTerminated', (x) => x.fabricEvents.some((e) => e.event === 'fabricTerminated'));
    expect(s.roomEvents.filter((e) => e.event === 'disconnected')).toEqual([
      { event: 'disconnected', detail: { code: 53205, name: 'TwilioError', message: 'Participant disconnected because of duplicate identity' } },
    ]);
    expect(s.errors.map((e) => ({ fabricID: e.fabricID, conferenceID: e.conferenceID, fn: e.webRTCFunction, category: e.category, name: e.name, message: e.message }))).toEqual([
      {
        fabricID,
        conferenceID: 'error-room',
        fn: 'signalingError',
        category: 'signalingError',
        name: 'TwilioError',
        message: 'Twilio 53205: Participant disconnected because of duplicate identity',
      },
    ]);
    // the error comes before the termination
    const order = [...s.errors.map((e) => ['error', e.timestamp] as const), ...s.fabricEvents.filter((e) => e.event === 'fabricTerminated').map((e) => ['terminated', e.timestamp] as const)];
    expect(order.sort((a, b) => a[1] - b[1]).map((o) => o[0])).toEqual(['error', 'terminated']);
    // terminated with the reason
    expect(s.fabricEvents.find((e) => e.event === 'fabricTerminated')?.data).toEqual({
      code: 53205,
      name: 'TwilioError',
      message: 'Participant disconnected because of duplicate identity',
    });
    expect(s.fabrics).toEqual([]);
    await expectListenersRemoved();
  });

  it('stats shim over room.getStats(): streams attributed by SSRC; detach stops everything', async () => {
    await connect('shim-room', 'stats-shim');
    let s = await until(
      'inbound streams mapped through the shim',
      (x) => ['audio', 'video'].every((k) => x.streams.some((st) => st.statsType === 'inbound-rtp' && st.mediaType === k && st.userID === REMOTE && (st.packetRate ?? 0) > 0)),
    );
    expect(s.fabrics).toEqual([
      { id: expect.any(String), remoteUserID: 'twilio-sfu', remoteEndpointType: 'server', conferenceID: 'shim-room', state: 'established' },
    ]);
    expect(s.fabricEvents[0]).toMatchObject({ event: 'fabricSetup', data: { alreadyConnected: true } });
    // the shim's entries: SSRCs from Twilio's reports, jitter/rtt in core's milliseconds
    expect(s.streams.filter((st) => st.statsType === 'outbound-rtp').map((st) => [st.mediaType, st.userID]).sort()).toEqual([
      ['audio', LOCAL],
      ['video', LOCAL],
    ]);

    // explicit detach: listeners and the unpublish wrapper removed, the fabric terminated, nothing more reported
    await client.run(() => window.client.detach());
    s = await snapshot(false);
    expect(s.fabricEvents.filter((e) => e.event === 'fabricTerminated')).toHaveLength(1);
    expect(s.fabrics).toEqual([]);
    await expectListenersRemoved();
    const n = appEvents(s).length;
    standIn.setRemoteTrackEnabled('audio', false);
    await until('remote track disabled in the Room', (x) => x.participants[0]?.tracks.some((t) => t.kind === 'audio' && !t.isTrackEnabled) ?? false);
    s = await snapshot(false);
    expect(appEvents(s).length).toBe(n);
    expect(s.roomState).toBe('connected'); // the call goes on
    standIn.setRemoteTrackEnabled('audio', true);
  });

  // The example page is its own Chromium page (the stand-in's client is not involved): once.
  if (clientIn === 'Chromium')
  it('examples/twilio: the page joins through the stand-in and monitors the Room with its one-line attach', async () => {
    // Serve what the collector would: the example, core's browser build and the adapter's ESM build
    // (both built from source here), and twilio-video's script-tag build instead of Twilio's CDN.
    const file = async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(join(REPO_ROOT, path)));
    // The adapter imports @callmetry/core (the page's import map points it at core's ESM build).
    const esm = async (entry: string, external: string[]): Promise<string> =>
      (await esbuild.build({ entryPoints: [join(REPO_ROOT, entry)], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', external }))
        .outputFiles[0]!.text;
    http.route('/packages/core/dist/callstats.min.js', { body: await bundle('packages/core/src/browser.ts'), type: 'text/javascript' });
    http.route('/packages/core/dist/index.mjs', { body: await esm('packages/core/src/index.ts', []), type: 'text/javascript' });
    http.route('/packages/twilio/dist/index.mjs', { body: await esm('packages/twilio/src/index.ts', ['@callmetry/core']), type: 'text/javascript' });
    http.route('/examples/twilio/', { body: await file('examples/twilio/index.html'), type: 'text/html' });
    http.route('/examples/twilio/main.js', { body: await file('examples/twilio/main.js'), type: 'text/javascript' });
    http.route('/sdk/twilio-video.min.js', { body: await file('node_modules/twilio-video/dist/twilio-video.min.js'), type: 'text/javascript' });

    const context = await browser().newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(http.url('/examples/twilio/?sdk=/sdk/twilio-video.min.js&collector=none'));
      await page.fill('#token', fakeAccessToken('carol', 'example-room'));
      await page.fill('#room', 'example-room');
      await page.fill('#user', 'carol');
      await page.fill('#wsServer', standIn.url);
      await page.click('#connect');
      await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('event fabricSetup'), undefined, { timeout: 20_000 });
      expect(await page.textContent('#log')).toContain('joined Room example-room');
      // Polled in the page (waitForFunction does not await an async predicate's result).
      const inbound = await page.evaluate(async () => {
        const m = (window as unknown as { callmetryExample: { monitor: import('@callmetry/core').Monitor } }).callmetryExample.monitor;
        let users: string[] = [];
        for (let i = 0; i < 80 && users.length !== 2; i++) {
          const stats = await m.fabrics()[0]?.pollNow();
          users = (stats?.mediaStreamTracks ?? []).filter((t) => t.statsType === 'inbound-rtp').map((t) => `${t.mediaType}:${t.userID}`);
          if (users.length !== 2) await new Promise((r) => setTimeout(r, 250));
        }
        return users.sort();
      });
      expect(inbound).toEqual([`audio:${REMOTE}`, `video:${REMOTE}`]);
      await page.click('#leave');
      await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('event fabricTerminated'), undefined, { timeout: 10_000 });
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
