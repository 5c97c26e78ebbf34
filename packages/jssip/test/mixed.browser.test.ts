// Mixed SIP stacks through Kamailio in real browsers: a SIP.js 0.21.1 user monitored with
// `attachSipJs(userAgent, monitor)` (@callmetry/sipjs) and a JsSIP 3.13.8 user monitored with
// `attachJsSip(ua, monitor)` call each other, both ways; both in Chromium, then each of them in
// Firefox ESR. Each monitor sees its fabric set up and terminated, in the conference named by the
// Call-ID (same on both ends), with every stream attributed to the right SIP user.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserPage } from '../../../test/harness/browser';
import { useKamailio } from '../../../test/harness/sipPages';
import type { PhoneConfig } from './pages/phone.page';
import type { Snapshot } from './pages/recorder';
import type { SipJsUserConfig } from './pages/sipjs-user.page';

const JSSIP_PAGE = new URL('./pages/phone.page.ts', import.meta.url);
const SIPJS_PAGE = new URL('./pages/sipjs-user.page.ts', import.meta.url);
const WAIT_MS = 20_000;

const { kamailio, openUser, openFirefoxUser } = useKamailio({ firefox: true });

interface User {
  name: string;
  tp: BrowserPage;
  snapshot(): Promise<Snapshot>;
  call(target: string): Promise<number>;
  hangup(): Promise<void>;
}

/**
 * Opens SIP user `name` on `page` (in Chromium, or in Firefox), started on the test's Kamailio,
 * driven through the page's global `window[api]`.
 */
async function sipUser(page: URL, api: 'phone' | 'sipjsUser', name: string, inFirefox = false): Promise<User> {
  const { tp, account } = await (inFirefox ? openFirefoxUser : openUser)(page, name);
  const cfg: PhoneConfig & SipJsUserConfig = account;
  await tp.run(async (x) => {
    await window[x.api].start(x.cfg);
  }, { api, cfg });
  return {
    name,
    tp,
    snapshot: () => tp.run((a) => window[a].snapshot(), api),
    call: (t) => tp.run((x) => window[x.api].call(x.t), { api, t }),
    hangup: () => tp.run((a) => window[a].hangup(), api),
  };
}
/** A JsSIP user (pages/phone.page.ts, window.phone) and a SIP.js user (pages/sipjs-user.page.ts, window.sipjsUser). */
const jssipUser = (name: string, inFirefox = false): Promise<User> => sipUser(JSSIP_PAGE, 'phone', name, inFirefox);
const sipjsUser = (name: string, inFirefox = false): Promise<User> => sipUser(SIPJS_PAGE, 'sipjsUser', name, inFirefox);

async function until(u: User, what: string, ok: (s: Snapshot) => boolean): Promise<Snapshot> {
  const deadline = Date.now() + WAIT_MS;
  let last = await u.snapshot();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      throw new Error(
        `${u.name}: timed out waiting for ${what}\n${JSON.stringify(last, null, 1).slice(0, 6000)}\npage errors: ${JSON.stringify(u.tp.errors)}\n` +
          `--- kamailio ---\n${kamailio().logTail(30)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
    last = await u.snapshot();
  }
  return last;
}

const eventsOf = (s: Snapshot, fabricID: string): string[] => s.events.filter((e) => e.fabricID === fabricID).map((e) => e.event);

/** The fabric of call `n` (the n-th fabric of this monitor): streams flowing, mapped to me and peer. */
function mappedAndFlowing(me: string, peer: string, n: number) {
  return (s: Snapshot): boolean => {
    const f = s.fabrics[n];
    if (!f || !s.events.some((e) => e.fabricID === f.id && e.event === 'fabricSetup')) return false;
    const kinds = (type: string, user: string): string =>
      f.streams
        .filter((x) => x.statsType === type && x.userID === user && (x.packetRate ?? 0) > 0)
        .map((x) => x.mediaType)
        .sort()
        .join();
    return kinds('inbound-rtp', peer) === 'audio,video' && kinds('outbound-rtp', me) === 'audio,video';
  };
}

/** The two calls between a SIP.js user and a JsSIP user (opened by `open`), one each way. */
function callsBothWays(open: () => Promise<[sipjs: User, jssip: User]>): void {
  let sally: User; // SIP.js
  let jack: User; // JsSIP

  beforeAll(async () => {
    [sally, jack] = await open();
  });
  afterAll(async () => {
    await sally?.tp.run(() => window.sipjsUser.stop()).catch(() => undefined);
    await Promise.all([sally?.tp.close(), jack?.tp.close()]);
  });

  test.each([
    ['SIP.js calls JsSIP', 0],
    ['JsSIP calls SIP.js', 1],
  ])('%s: fabricSetup, streams mapped to the SIP users, fabricTerminated on both monitors', async (_title, n) => {
    const [caller, callee] = n === 0 ? [sally, jack] : [jack, sally];
    const ci = await caller.call(callee.name);
    expect(ci).toBe(n);

    let [sc, se] = await Promise.all([
      until(caller, 'media mapped', mappedAndFlowing(caller.name, callee.name, n)),
      until(callee, 'media mapped', mappedAndFlowing(callee.name, caller.name, n)),
    ]);
    const callId = sc.calls[n]!.callId;
    expect(callId).toBeTruthy();
    expect(se.calls[n]!.callId).toBe(callId);
    const fc = sc.fabrics[n]!;
    const fe = se.fabrics[n]!;
    expect([fc.conferenceID, fc.remoteUserID, fc.state]).toEqual([callId, callee.name, 'established']);
    expect([fe.conferenceID, fe.remoteUserID, fe.state]).toEqual([callId, caller.name, 'established']);
    for (const [f, me, peer] of [[fc, caller.name, callee.name], [fe, callee.name, caller.name]] as const) {
      expect(f.streams.length).toBe(4);
      for (const x of f.streams) expect([x.statsType, x.userID, x.remoteUserID]).toEqual([x.statsType, x.statsType === 'inbound-rtp' ? peer : me, peer]);
    }

    await caller.hangup();
    [sc, se] = await Promise.all([
      until(caller, 'fabricTerminated', (s) => eventsOf(s, fc.id).includes('fabricTerminated')),
      until(callee, 'fabricTerminated', (s) => eventsOf(s, fe.id).includes('fabricTerminated')),
    ]);
    for (const [s, id] of [[sc, fc.id], [se, fe.id]] as const) {
      const ev = eventsOf(s, id);
      expect(ev.slice(0, 2)).toEqual(['fabricSetup', 'fabricStateChange']);
      expect(ev.slice(-2)).toEqual(['fabricTerminated', 'fabricStateChange']);
      expect(ev.filter((e) => e === 'fabricSetup' || e === 'fabricTerminated')).toEqual(['fabricSetup', 'fabricTerminated']);
      expect(s.errors.filter((e) => e.fabricID === id)).toEqual([]);
      expect(s.fabrics.find((f) => f.id === id)?.state).toBe('terminated');
    }
  });
}

describe('SIP.js <-> JsSIP, each monitored by its adapter (Chromium)', () => {
  callsBothWays(() => Promise.all([sipjsUser('sally'), jssipUser('jack')]));
});

describe('SIP.js in Firefox <-> JsSIP in Chromium, each monitored by its adapter', () => {
  callsBothWays(() => Promise.all([sipjsUser('fiona', true), jssipUser('carl')]));
});

describe('SIP.js in Chromium <-> JsSIP in Firefox, each monitored by its adapter', () => {
  callsBothWays(() => Promise.all([sipjsUser('gina'), jssipUser('fred', true)]));
});
