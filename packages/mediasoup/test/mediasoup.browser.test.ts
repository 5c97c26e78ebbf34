// @callmetry/mediasoup with the real mediasoup-client 3.18.7 in real Chromium and Firefox ESR
// (its Chrome111 and Firefox120 handlers), over CONNECTED transports.
//
// THE SFU IS A STAND-IN: the mediasoup server's worker cannot be built here, so each server-side
// transport is a plain RTCPeerConnection in the same page (examples/mediasoup/loopbackSfu.ts,
// also used by the demo page). The stand-in creates its own offer and gathers its 127.0.0.1
// candidates; its ICE parameters, candidates and DTLS fingerprint are given to
// device.createSendTransport()/createRecvTransport() as the SFU's. Once the client's
// RTCPeerConnection has its local description (found by recording the page's RTCPeerConnections:
// mediasoup-client does not expose it), the stand-in takes the client's ICE credentials,
// fingerprint (client = DTLS client, as with mediasoup), candidates and SSRCs as its remote
// answer. The Device is loaded with router capabilities derived from the stand-in's SDP (opus,
// VP8 + RTX, with the browser's own payload types); consumers are created from the stand-in's own mids,
// SSRCs and codecs, so real media flows both ways and getStats() is real.
//
// The whole scenario runs twice in each browser: with the transports' own RTCPeerConnections (default 'auto') and
// with the public-API shim (`peerConnection: 'public'`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserPage } from '../../../test/harness/browser';
import { useEveryBrowser } from '../../../test/harness/browsers';
import type { SeenError, SeenEvent, SeenStream } from './pages/mediasoup.page';

const BROWSERS = useEveryBrowser();
const PAGE = new URL('./pages/mediasoup.page.ts', import.meta.url);

const names = (events: SeenEvent[], fabricID: string) =>
  events.filter((e) => e.fabricID === fabricID).map((e) => (e.event === 'fabricStateChange' ? `state:${String(e.data?.newState)}` : e.event));

for (const { name, open } of BROWSERS)
describe.each(['auto', 'public'] as const)(`mediasoup-client in ${name} (peerConnection: '%s')`, (mode) => {
  let page: BrowserPage;
  let setup: Awaited<ReturnType<Window['msTest']['setup']>>;
  beforeAll(async () => {
    page = await open({ scripts: [PAGE], label: `mediasoup-${mode}` });
  });
  afterAll(async () => page?.close());

  it('makes a server fabric of each transport, set up once the transport connects (attached twice)', async () => {
    setup = await page.run((m) => window.msTest.setup(m), mode);
    expect(setup.handlerName).toBe(name === 'Firefox' ? 'Firefox120' : 'Chrome111');
    expect(setup.sameDetach).toBe(true);
    expect(setup.fabrics).toBe(2);
    const common = { conferenceID: 'room-1', remoteUserID: 'sfu-1', remoteEndpointType: 'server' };
    expect(setup.send).toMatchObject({ ...common, direction: 'sendonly', usesClientPc: mode === 'auto' });
    expect(setup.recv).toMatchObject({ ...common, direction: 'receiveonly', usesClientPc: mode === 'auto' });
    expect(setup.consumers.audio.ssrc).toBe(setup.standInSentSsrcs[0]);
    const { events } = await page.run(() => window.msTest.seen());
    // Exactly one setup per fabric: attaching twice reports once.
    expect(names(events, setup.send.fabricID)).toEqual(['fabricSetup', 'state:established']);
    expect(names(events, setup.recv.fabricID)).toEqual(['fabricSetup', 'state:established']);
  });

  it("maps producers to the local user and consumers to their producer's user in the samples", async () => {
    const streams: SeenStream[] = await page.run(() => window.msTest.mappedStreams());
    const bySsrc = (ssrc: number | undefined) => streams.find((x) => x.ssrc === String(ssrc));
    expect(bySsrc(setup.producers.mic.ssrc)).toMatchObject({
      fabricID: setup.send.fabricID,
      statsType: 'outbound-rtp',
      mediaType: 'audio',
      userID: 'me',
      remoteUserID: 'sfu-1',
      usageLabel: 'mic',
    });
    expect(bySsrc(setup.producers.cam.ssrc)).toMatchObject({
      fabricID: setup.send.fabricID,
      statsType: 'outbound-rtp',
      mediaType: 'video',
      userID: 'me',
      usageLabel: 'webcam',
    });
    expect(bySsrc(setup.consumers.audio.ssrc)).toMatchObject({
      fabricID: setup.recv.fabricID,
      statsType: 'inbound-rtp',
      mediaType: 'audio',
      userID: 'alice',
      remoteUserID: 'sfu-1',
      usageLabel: 'mic',
    });
    expect(bySsrc(setup.consumers.video.ssrc)).toMatchObject({
      fabricID: setup.recv.fabricID,
      statsType: 'inbound-rtp',
      mediaType: 'video',
      userID: 'alice',
      usageLabel: 'camera',
    });
  });

  it('reports screen share, pause/resume and an ended track; closing the transport terminates its fabric', async () => {
    const { endedReachedListeners } = await page.run(() => window.msTest.actions());
    // A dispatched 'ended' reaches mediasoup-client's listener in Chromium only (see actions()).
    expect(endedReachedListeners).toBe(name === 'Chromium');
    expect(await page.run(() => window.msTest.closeSendTransport())).toEqual({ fabrics: 1 });
    const { events, errors } = (await page.run(() => window.msTest.seen())) as { events: SeenEvent[]; errors: SeenError[] };
    expect(names(events, setup.send.fabricID)).toEqual([
      'fabricSetup',
      'state:established',
      'screenShareStart',
      'audioMute',
      'audioUnmute',
      'videoPause',
      'videoResume',
      'screenShareStop',
      'fabricTerminated',
      'state:terminated',
    ]);
    const sendEvents = events.filter((e) => e.fabricID === setup.send.fabricID);
    const screenStart = sendEvents.find((e) => e.event === 'screenShareStart');
    expect(screenStart?.data).toMatchObject({ kind: 'video', usageLabel: 'screen', direction: 'outbound' });
    expect(sendEvents.find((e) => e.event === 'screenShareStop')?.data).toEqual({ ...screenStart?.data, reason: 'close' });
    expect(sendEvents.find((e) => e.event === 'audioMute')?.data).toEqual({
      producerId: setup.producers.mic.id,
      kind: 'audio',
      usageLabel: 'mic',
      direction: 'outbound',
    });
    expect(names(events, setup.recv.fabricID)).toEqual([
      'fabricSetup',
      'state:established',
      'videoPause',
      'videoResume',
      'audioMute',
      'audioUnmute',
    ]);
    expect(events.find((e) => e.fabricID === setup.recv.fabricID && e.event === 'videoPause')?.data).toEqual({
      consumerId: setup.consumers.video.id,
      producerId: 'alice-cam',
      kind: 'video',
      userID: 'alice',
      usageLabel: 'camera',
      direction: 'inbound',
    });
    const trackEnded = {
      fabricID: setup.send.fabricID,
      webRTCFunction: 'applicationLog',
      category: 'applicationLog',
      name: 'TrackEnded',
      message: `mediasoup producer ${setup.producers.cam.id} (video, webcam): its track ended`,
    };
    expect(errors).toEqual(endedReachedListeners ? [trackEnded] : []);
  });

  it('detach terminates the remaining fabric and nothing more is reported', async () => {
    const result = await page.run(() => window.msTest.detachAndContinue());
    expect(result.fabricsAfterDetach).toBe(0);
    expect(result.fabricsAtEnd).toBe(0);
    expect(result.after).toEqual(result.atDetach);
    const { events } = await page.run(() => window.msTest.seen());
    expect(names(events, setup.recv.fabricID).slice(-2)).toEqual(['fabricTerminated', 'state:terminated']);
    expect(page.errors).toEqual([]);
  });
});
