// @callmetry/twilio against the REAL twilio-video SDK (pinned to 2.32.1) in real Chromium, talking
// to a local STAND-IN for Twilio's signaling (./standin/standin.ts, a Node WebSocket server that
// speaks twilio-video 2.32.1's private protocol) whose media side is a real RTCPeerConnection in
// another page (./standin/sfu.page.ts) sending a real audio and video track for one remote
// participant. Twilio's cloud is not involved (it cannot be reached here); what is exercised is the
// SDK's own Room, participants, publications, stats and reconnection logic and the real core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, requireNamespace, startHttpServer, useBrowser, type HttpServer, type TestPage } from '../../../test/harness/browser';
import type { Snapshot } from './standin/client.page';
import { fakeAccessToken, TwilioStandIn } from './standin/standin';

const CLIENT_PAGE = new URL('./standin/client.page.ts', import.meta.url);
const SFU_PAGE = new URL('./standin/sfu.page.ts', import.meta.url);
const LOCAL = 'alice';
const REMOTE = 'bob';

describe('attachTwilio with twilio-video 2.32.1 against a signaling stand-in', () => {
  const browser = useBrowser();
  let http: HttpServer;
  let sfu: TestPage;
  let client: TestPage;
  let standIn: TwilioStandIn;

  beforeAll(async () => {
    requireNamespace();
    http = await startHttpServer();
    [sfu, client] = await Promise.all([
      openPage(browser(), { scripts: [SFU_PAGE], server: http, label: 'sfu' }),
      openPage(browser(), { scripts: [CLIENT_PAGE], server: http, label: 'client' }),
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

  it('connects: two participants, the remote track subscribed and mapped to its identity', async () => {
    const connected = await client.run(
      (a: { wsServer: string; token: string }) => window.client.connect({ ...a, roomName: 'standup', localUserID: 'alice' }),
      { wsServer: standIn.url, token: fakeAccessToken(LOCAL, 'standup') },
    );
    expect(connected.roomName).toBe('standup');
    const s = await until('remote streams attributed to bob', (x) => x.streams.some((st) => st.statsType === 'inbound-rtp' && st.userID === REMOTE));
    console.error(JSON.stringify(s, null, 1));
  });
});
