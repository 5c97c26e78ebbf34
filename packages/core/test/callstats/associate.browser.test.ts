// associateMstWithUserID through the callstats.js facade on a real receiving RTCPeerConnection in
// Chromium: the SSRCs of the received streams (read from the real report) map to the users set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, useBrowser, type TestPage } from '../../../../test/harness/browser';

const browser = useBrowser();
const LAB = new URL('../pages/lab.page.ts', import.meta.url);

describe('associateMstWithUserID on a real receiver', () => {
  let page: TestPage;
  beforeAll(async () => {
    page = await openPage(browser(), { scripts: [LAB] });
  });
  afterAll(async () => page?.close());

  it('maps each received stream to the user given for its SSRC, others to the remote user', async () => {
    const result = await page.run(async () => {
      const cs = new window.core.CallStats();
      cs.initialize('app', 'secret', 'bob', undefined, undefined, { statsCallbackIntervalMs: 1000 });
      const id = await window.lab.createPair({ audio: true, video: true });
      const { pc1, pc2 } = window.lab.pcs(id);
      // The receiving side (pc2) is monitored: its inbound streams come from "the SFU".
      cs.addNewFabric(pc2, 'sfu', 'multiplex', 'conf-a', { remoteEndpointType: 'server' });
      await window.lab.negotiate(id);
      await window.lab.waitConnected(id);
      // The SSRCs as the sender reports them, independent of the SDK.
      const sent: Record<string, string> = {};
      (await pc1.getStats()).forEach((s: { type: string; kind?: string; ssrc?: number }) => {
        if (s.type === 'outbound-rtp' && s.kind && s.ssrc !== undefined) sent[s.kind] = String(s.ssrc);
      });
      const assoc = cs.associateMstWithUserID(pc2, 'carol', 'conf-a', sent.video!, 'camera', 'video-tag-1');
      const wrongConf = cs.associateMstWithUserID(pc2, 'carol', 'other-conf', sent.video!, 'camera');
      const unknownPc = cs.associateMstWithUserID(pc1, 'carol', 'conf-a', sent.video!, 'camera');
      const stats = await new Promise<import('../../src/types').CsStats>((resolve) => {
        cs.on('stats', (s) => {
          const inbound = s.mediaStreamTracks.filter((t) => t.statsType === 'inbound-rtp');
          // Rates need two polls: wait for a callback where they exist.
          if (inbound.length >= 2 && inbound.every((t) => t.bitrate !== undefined)) resolve(s);
        });
      });
      window.lab.close(id);
      return { sent, assoc, wrongConf, unknownPc, streams: stats.streams };
    });
    expect(result.assoc).toEqual({ status: 'success' });
    expect(result.wrongConf.status).toBe('failure');
    expect(result.unknownPc.status).toBe('failure');
    const video = result.streams[result.sent.video!];
    const audio = result.streams[result.sent.audio!];
    expect(video).toMatchObject({
      statsType: 'inbound-rtp',
      mediaType: 'video',
      userID: 'carol',
      remoteUserID: 'sfu',
      usageLabel: 'camera',
      associatedVideoTag: 'video-tag-1',
    });
    expect(audio).toMatchObject({ statsType: 'inbound-rtp', mediaType: 'audio', userID: 'sfu' });
    expect(video?.bitrate).toBeGreaterThan(0);
  });
});
