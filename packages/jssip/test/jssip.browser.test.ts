// @callmetry/jssip with the REAL jssip 3.13.8 in real Chromium, through a real SIP registrar and
// proxy (Kamailio over WebSocket, test/harness/kamailio.ts) on loopback: two users, each on its
// own page with its own monitor and the one-line `attachJsSip(ua, monitor)`.
// Covered: register, call, answer, media with stats mapped to the SIP users, hold/unhold, mute/
// unmute, BYE; busy (486) and declined (603) calls; a call to an unregistered user (404); a CANCEL;
// detach in the middle of a call; ua.stop() in the middle of a call.
// Fabric events are asserted as the full ordered list (core's lifecycle events included);
// fabricTerminated carries the end of the call (cause, originator, status or method).
// Run: `node test/run.mjs packages/jssip` (root; it creates the network namespace).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserPage } from '../../../test/harness/browser';
import { useKamailio } from '../../../test/harness/sipPages';
import type { EventRow, Media, PhoneConfig, Policy, Snapshot } from './pages/phone.page';

const PAGE = new URL('./pages/phone.page.ts', import.meta.url);
const WAIT_MS = 20_000;

const { kamailio: server, openUser, openFirefoxUser } = useKamailio({ firefox: true });

class Phone {
  private constructor(
    readonly tp: BrowserPage,
    readonly name: string,
  ) {}

  static async open(name: string, attach = true, inFirefox = false): Promise<{ phone: Phone; sameDetach: boolean }> {
    const { tp, account } = await (inFirefox ? openFirefoxUser : openUser)(PAGE, name);
    const cfg: PhoneConfig = { ...account, attach };
    const { sameDetach } = await tp.run((c) => window.phone.start(c), cfg);
    return { phone: new Phone(tp, name), sameDetach };
  }

  setPolicy(p: Policy): Promise<void> {
    return this.tp.run((x) => window.phone.setPolicy(x), p);
  }
  call(target: string, badCamera = false): Promise<number> {
    return this.tp.run((a) => window.phone.call(a.target, { badCamera: a.badCamera }), { target, badCamera });
  }
  hangup(status?: number): Promise<void> {
    return this.tp.run((s) => window.phone.hangup(s ?? undefined), status ?? null);
  }
  hold(on: boolean): Promise<boolean> {
    return this.tp.run((x) => window.phone.hold(x), on);
  }
  /** JsSIP refuses hold/unhold (false) while the previous re-INVITE is still in progress: retry until it takes it. */
  async holdWhenReady(on: boolean): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await this.hold(on))) {
      if (Date.now() > deadline) throw new Error(`${this.name}: hold(${on}) refused until the deadline`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  mute(audio: boolean, video: boolean): Promise<void> {
    return this.tp.run((a) => window.phone.mute(a.audio, a.video), { audio, video });
  }
  unmute(audio: boolean, video: boolean): Promise<void> {
    return this.tp.run((a) => window.phone.unmute(a.audio, a.video), { audio, video });
  }
  snapshot(): Promise<Snapshot> {
    return this.tp.run(() => window.phone.snapshot());
  }
  listeners(): Promise<{ ua: number; sessions: number; ownStop: boolean }> {
    return this.tp.run(() => window.phone.adapterListeners());
  }
  detach(): Promise<void> {
    return this.tp.run(() => window.phone.detach());
  }
  media(): Promise<Media> {
    return this.tp.run(() => window.phone.media());
  }
  stopUa(): Promise<void> {
    return this.tp.run(() => window.phone.stopUa());
  }
  close(): Promise<void> {
    return this.tp.close();
  }

  /** Poll the snapshot until `ok`; on timeout fail with it and Kamailio's log. */
  async until(what: string, ok: (s: Snapshot) => boolean): Promise<Snapshot> {
    const deadline = Date.now() + WAIT_MS;
    let last = await this.snapshot();
    while (!ok(last)) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: timed out waiting for ${what}\n${JSON.stringify({ ...last, fabrics: last.fabrics.map((f) => ({ ...f, streams: f.streams.length })) }, null, 1).slice(0, 6000)}\n` +
            `page errors: ${JSON.stringify(this.tp.errors)}\n--- kamailio ---\n${server().logTail(30)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
      last = await this.snapshot();
    }
    return last;
  }
}

/** Fabric events of one fabric as `event` or `event {data}` (fabricSetup's delays dropped). */
function sequence(rows: EventRow[], fabricID?: string): Array<string | [string, Record<string, unknown>]> {
  return rows
    .filter((r) => fabricID === undefined || r.fabricID === fabricID)
    .map((r) => {
      if (!r.data || r.event === 'fabricSetup') return r.event;
      return [r.event, r.data];
    });
}
const has = (s: Snapshot, event: string, n = 1): boolean => s.events.filter((e) => e.event === event).length >= n;
const stateChange = (prevState: string, newState: string): [string, Record<string, unknown>] => ['fabricStateChange', { prevState, newState }];
/** `originator` holds and resumes: the two events and their state changes. */
const holdAndResume = (originator: string): Array<[string, Record<string, unknown>]> => [
  ['fabricHold', { originator }],
  stateChange('established', 'hold'),
  ['fabricResume', { originator }],
  stateChange('hold', 'established'),
];
/** fabricTerminated with the end of the call (JsSIP's ended/failed): cause, originator, ... */
const terminated = (cause: string, originator: string, more: Record<string, unknown> = {}): [string, Record<string, unknown>] => [
  'fabricTerminated',
  { cause, originator, ...more },
];

/** Both calls' last fabric: its id. */
function lastFabric(s: Snapshot): string {
  const f = s.fabrics[s.fabrics.length - 1];
  if (!f) throw new Error(`no fabric: ${JSON.stringify(s)}`);
  return f.id;
}

// All in Chromium; then alice in Firefox ESR (her hold, mute and BYE through Firefox's SDP and
// RTCPeerConnection), bob in Chromium.
for (const { title, aliceInFirefox } of [
  { title: 'in Chromium', aliceInFirefox: false },
  { title: 'alice in Firefox, bob in Chromium', aliceInFirefox: true },
])
describe(`attachJsSip: JsSIP 3.13.8 through Kamailio (${title})`, () => {
  let alice: Phone;
  let bob: Phone;

  beforeAll(async () => {
    const [a, b] = await Promise.all([Phone.open('alice', true, aliceInFirefox), Phone.open('bob')]);
    alice = a.phone;
    bob = b.phone;
    // attachJsSip(ua, monitor) twice: the same detach, one attachment.
    expect(a.sameDetach).toBe(true);
    expect(b.sameDetach).toBe(true);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
  });

  test('answered call: fabrics with the Call-ID and the SIP users, stats mapped, hold/unhold, mute/unmute, BYE', async () => {
    await bob.setPolicy({ action: 'answer' });
    const ai = await alice.call('bob');
    expect(ai).toBe(0);

    // Media flows; every stream of the samples is attributed to its SIP user.
    const flowing = (me: string, peer: string) => (s: Snapshot) => {
      const f = s.fabrics[0];
      if (!f || !has(s, 'fabricSetup')) return false;
      const kinds = (type: string, user: string) =>
        f.streams.filter((x) => x.statsType === type && x.userID === user && (x.packetRate ?? 0) > 0).map((x) => x.mediaType).sort();
      return kinds('inbound-rtp', peer).join() === 'audio,video' && kinds('outbound-rtp', me).join() === 'audio,video';
    };
    let [sa, sb] = await Promise.all([alice.until('media alice<-bob', flowing('alice', 'bob')), bob.until('media bob<-alice', flowing('bob', 'alice'))]);
    const callId = sa.calls[0]!.callId;
    expect(callId).toBeTruthy();
    expect(sb.calls[0]!.callId).toBe(callId);
    expect(sa.fabrics.map((f) => [f.conferenceID, f.remoteUserID, f.state])).toEqual([[callId, 'bob', 'established']]);
    expect(sb.fabrics.map((f) => [f.conferenceID, f.remoteUserID, f.state])).toEqual([[callId, 'alice', 'established']]);
    for (const [s, me, peer] of [[sa, 'alice', 'bob'], [sb, 'bob', 'alice']] as const) {
      const streams = s.fabrics[0]!.streams;
      expect(streams.length).toBe(4);
      for (const x of streams) {
        expect(x.remoteUserID).toBe(peer);
        expect(x.userID).toBe(x.statsType === 'inbound-rtp' ? peer : me);
      }
    }

    // Hold and unhold from alice: local on alice, remote on bob.
    expect(await alice.hold(true)).toBe(true);
    await Promise.all([alice.until('fabricHold', (s) => has(s, 'fabricHold')), bob.until('fabricHold', (s) => has(s, 'fabricHold'))]);
    await alice.holdWhenReady(false);
    await Promise.all([alice.until('fabricResume', (s) => has(s, 'fabricResume')), bob.until('fabricResume', (s) => has(s, 'fabricResume'))]);

    // Mute audio, then video; unmute both at once.
    await alice.mute(true, false);
    await alice.mute(false, true);
    await alice.unmute(true, true);
    await alice.until('videoResume', (s) => has(s, 'videoResume'));

    // bob's inbound audio comes back after the unhold.
    await bob.until('audio again', (s) => (s.fabrics[0]?.streams.find((x) => x.statsType === 'inbound-rtp' && x.mediaType === 'audio')?.packetRate ?? 0) > 0);

    await alice.hangup();
    [sa, sb] = await Promise.all([
      alice.until('fabricTerminated', (s) => has(s, 'fabricTerminated')),
      bob.until('fabricTerminated', (s) => has(s, 'fabricTerminated')),
    ]);
    expect(sequence(sa.events)).toEqual([
      'fabricSetup',
      stateChange('initializing', 'established'),
      ...holdAndResume('local'),
      'audioMute',
      'videoPause',
      'audioUnmute',
      'videoResume',
      terminated('Terminated', 'local'),
      stateChange('established', 'terminated'),
    ]);
    expect(sequence(sb.events)).toEqual([
      'fabricSetup',
      stateChange('initializing', 'established'),
      ...holdAndResume('remote'),
      terminated('Terminated', 'remote', { method: 'BYE' }),
      stateChange('established', 'terminated'),
    ]);
    expect(sa.calls[0]!.jssip.at(-1)).toEqual({ type: 'ended', originator: 'local', cause: 'Terminated' });
    expect(sb.calls[0]!.jssip.at(-1)).toEqual({ type: 'ended', originator: 'remote', cause: 'Terminated' });
    for (const s of [sa, sb]) {
      expect(s.errors).toEqual([]);
      expect(s.custom).toEqual([]);
      // JsSIP closed the PC before 'ended': the final stats are the last poll's.
      expect(s.fabrics[0]!.state).toBe('terminated');
      expect(s.fabrics[0]!.streams.length).toBe(4);
      expect(s.fabrics[0]!.samples).toBeGreaterThan(2);
    }
    // The sessions' listeners are gone with the calls; the UA's stay.
    expect(await alice.listeners()).toEqual({ ua: 2, sessions: 0, ownStop: true });
    expect(await bob.listeners()).toEqual({ ua: 2, sessions: 0, ownStop: true });
  });

  test.each([
    [486, 'Busy', 'Busy Here'],
    [603, 'Rejected', 'Decline'],
  ])('call rejected with %i: callUnAnswered (%s) on the caller fabric, conference event on the callee', async (status, cause, reasonPhrase) => {
    await bob.setPolicy({ action: 'reject', status });
    const [na, nb] = await Promise.all([alice.snapshot(), bob.snapshot()]);
    const ai = await alice.call('bob');
    const sa = await alice.until('fabricTerminated', (s) => s.events.length > na.events.length && s.events.at(-2)?.event === 'fabricTerminated');
    const sb = await bob.until('custom callUnAnswered', (s) => s.custom.length > nb.custom.length);
    const callId = sa.calls[ai]!.callId;
    const fabricID = lastFabric(sa);
    expect(sa.fabrics.at(-1)).toMatchObject({ conferenceID: callId, remoteUserID: 'bob', state: 'terminated' });
    expect(sequence(sa.events.slice(na.events.length))).toEqual([
      ['callUnAnswered', { cause, originator: 'remote', statusCode: status, reasonPhrase }],
      terminated(cause, 'remote', { statusCode: status, reasonPhrase }),
      stateChange('initializing', 'terminated'),
    ]);
    expect(sa.events.slice(na.events.length).every((e) => e.fabricID === fabricID && e.conferenceID === callId)).toBe(true);
    // The callee never had a peer connection: no fabric, a conference-level custom event.
    expect(sb.events.length).toBe(nb.events.length);
    expect(sb.fabrics.length).toBe(nb.fabrics.length);
    expect(sb.custom.slice(nb.custom.length)).toEqual([
      { conferenceID: callId, name: 'callUnAnswered', data: { cause: 'Rejected', originator: 'local', sipCallID: callId, sipDirection: 'incoming' } },
    ]);
    expect(sa.errors.length + sb.errors.length).toBe(na.errors.length + nb.errors.length);
  });

  test('call to an unregistered user: signalingError (404) on the caller fabric', async () => {
    const na = await alice.snapshot();
    const ai = await alice.call('nobody');
    const sa = await alice.until('fabricTerminated', (s) => s.events.length > na.events.length && s.events.at(-2)?.event === 'fabricTerminated');
    const callId = sa.calls[ai]!.callId;
    const fabricID = lastFabric(sa);
    expect(sa.fabrics.at(-1)).toMatchObject({ conferenceID: callId, remoteUserID: 'nobody' });
    expect(sequence(sa.events.slice(na.events.length))).toEqual([
      terminated('Not Found', 'remote', { statusCode: 404, reasonPhrase: 'Not Found' }),
      stateChange('initializing', 'terminated'),
    ]);
    expect(sa.errors.slice(na.errors.length)).toEqual([
      {
        fabricID,
        conferenceID: callId,
        webRTCFunction: 'signalingError',
        category: 'signalingError',
        name: 'Not Found',
        message: 'JsSIP call failed: Not Found 404 Not Found (originator remote)',
      },
    ]);
  });

  test('caller CANCELs while ringing: callUnAnswered (Canceled) on both ends', async () => {
    await bob.setPolicy({ action: 'ring' });
    const [na, nb] = await Promise.all([alice.snapshot(), bob.snapshot()]);
    const ai = await alice.call('bob');
    await bob.until('incoming call', (s) => s.calls.length > nb.calls.length);
    await alice.until('180 Ringing', (s) => s.calls[ai]?.jssip.some((e) => e.type === 'progress' && e.status === 180) === true);
    await alice.hangup();
    const sa = await alice.until('fabricTerminated', (s) => s.events.length > na.events.length && s.events.at(-2)?.event === 'fabricTerminated');
    const sb = await bob.until('custom callUnAnswered', (s) => s.custom.length > nb.custom.length);
    const callId = sa.calls[ai]!.callId;
    expect(sequence(sa.events.slice(na.events.length))).toEqual([
      ['callUnAnswered', { cause: 'Canceled', originator: 'local' }],
      terminated('Canceled', 'local'),
      stateChange('initializing', 'terminated'),
    ]);
    expect(sb.custom.slice(nb.custom.length)).toEqual([
      {
        conferenceID: callId,
        name: 'callUnAnswered',
        data: { cause: 'Canceled', originator: 'remote', method: 'CANCEL', sipCallID: callId, sipDirection: 'incoming' },
      },
    ]);
    expect(sb.events.length).toBe(nb.events.length);
  });

  test('getUserMedia fails (no such camera): the cause and the getUserMedia error, on the caller fabric', async () => {
    const na = await alice.snapshot();
    const ai = await alice.call('bob', true);
    const sa = await alice.until('fabricTerminated', (s) => s.events.length > na.events.length && s.events.at(-2)?.event === 'fabricTerminated');
    const callId = sa.calls[ai]!.callId;
    const fabricID = lastFabric(sa);
    expect(sequence(sa.events.slice(na.events.length))).toEqual([terminated('User Denied Media Access', 'local'), stateChange('initializing', 'terminated')]);
    expect(sa.errors.slice(na.errors.length).map((e) => [e.fabricID, e.conferenceID, e.webRTCFunction, e.category, e.name])).toEqual([
      [fabricID, callId, 'applicationLog', 'applicationLog', 'User Denied Media Access'],
      [fabricID, callId, 'getUserMedia', 'mediaConfiguration', 'OverconstrainedError'],
    ]);
  });

  test('setRemoteDescription fails on the callee (offer without fingerprint): the error with that SDP; the caller gets 488', async () => {
    await bob.setPolicy({ action: 'answer', mangleOffer: 'drop-fingerprint' });
    const [na, nb] = await Promise.all([alice.snapshot(), bob.snapshot()]);
    const ai = await alice.call('bob');
    const sb = await bob.until('callee fabricTerminated', (s) => s.events.length > nb.events.length && s.events.at(-2)?.event === 'fabricTerminated');
    const sa = await alice.until('caller fabricTerminated', (s) => s.events.length > na.events.length && s.events.at(-2)?.event === 'fabricTerminated');
    const callId = sa.calls[ai]!.callId;
    const bobFabric = lastFabric(sb);
    expect(sb.fabrics.at(-1)).toMatchObject({ conferenceID: callId, remoteUserID: 'alice' });
    expect(sequence(sb.events.slice(nb.events.length))).toEqual([terminated('WebRTC Error', 'system'), stateChange('initializing', 'terminated')]);
    const errs = sb.errors.slice(nb.errors.length);
    expect(errs.map((e) => [e.fabricID, e.conferenceID, e.webRTCFunction, e.category, e.name])).toEqual([
      [bobFabric, callId, 'applicationLog', 'applicationLog', 'WebRTC Error'],
      [bobFabric, callId, 'setRemoteDescription', 'negotiationFailure', 'InvalidAccessError'],
    ]);
    expect(errs[1]!.remoteSDP).toMatch(/^v=0\r\n[\s\S]*m=audio [\s\S]*m=video /);
    expect(errs[1]!.remoteSDP).not.toContain('a=fingerprint');
    expect(errs[1]!.message).toMatch(/fingerprint/i);
    expect(sa.errors.slice(na.errors.length).map((e) => [e.webRTCFunction, e.name, e.message])).toEqual([
      ['signalingError', 'Incompatible SDP', 'JsSIP call failed: Incompatible SDP 488 Not Acceptable Here (originator remote)'],
    ]);
    await bob.setPolicy({ action: 'answer' });
  });
});

/**
 * Opens `caller` and `callee` (pages of their own), lets the callee answer a call from the caller,
 * and runs `body` once the call is set up on both monitors; closes both pages after.
 */
async function inCall(caller: string, callee: string, body: (a: Phone, b: Phone) => Promise<void>): Promise<void> {
  const [{ phone: a }, { phone: b }] = await Promise.all([Phone.open(caller), Phone.open(callee)]);
  try {
    await b.setPolicy({ action: 'answer' });
    await a.call(callee);
    await Promise.all([a.until('fabricSetup', (s) => has(s, 'fabricSetup')), b.until('fabricSetup', (s) => has(s, 'fabricSetup'))]);
    await body(a, b);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe('attachJsSip: detach and ua.stop() in the middle of a call', () => {
  test('detach: fabric terminated, every listener and the stop wrapper gone, the call goes on unmonitored', async () => {
    await inCall('carol', 'dave', async (carol, dave) => {
      const live = await carol.listeners();
      expect(live.ua).toBe(2);
      expect(live.sessions).toBeGreaterThan(0);
      expect(live.ownStop).toBe(true);

      await carol.detach();
      expect(await carol.listeners()).toEqual({ ua: 0, sessions: 0, ownStop: false });
      const sc = await carol.snapshot();
      expect(sequence(sc.events)).toEqual(['fabricSetup', stateChange('initializing', 'established'), 'fabricTerminated', stateChange('established', 'terminated')]);

      // The call goes on: media still arrives, and hold still works (dave still reports it).
      const m1 = await carol.media();
      await new Promise((r) => setTimeout(r, 500));
      const m2 = await carol.media();
      expect(m2.connectionState).toBe('connected');
      expect(m2.inboundPackets).toBeGreaterThan(m1.inboundPackets);
      expect(await carol.hold(true)).toBe(true);
      await dave.until('fabricHold', (s) => has(s, 'fabricHold'));
      await carol.hangup();
      await dave.until('fabricTerminated', (s) => has(s, 'fabricTerminated'));
      expect((await carol.snapshot()).events).toEqual(sc.events);
      expect((await carol.snapshot()).calls[0]!.jssip.at(-1)).toMatchObject({ type: 'ended', originator: 'local' });
    });
  });

  test('ua.stop(): the call ends (reported on both ends), then the adapter detaches itself', async () => {
    await inCall('erin', 'frank', async (erin, frank) => {
      await erin.stopUa();
      const [se, sf] = await Promise.all([
        erin.until('fabricTerminated', (s) => has(s, 'fabricTerminated')),
        frank.until('fabricTerminated', (s) => has(s, 'fabricTerminated')),
      ]);
      for (const [s, end] of [
        [se, terminated('Terminated', 'local')],
        [sf, terminated('Terminated', 'remote', { method: 'BYE' })],
      ] as const) {
        expect(sequence(s.events)).toEqual(['fabricSetup', stateChange('initializing', 'established'), end, stateChange('established', 'terminated')]);
        expect(s.errors).toEqual([]);
      }
      expect(se.calls[0]!.jssip.at(-1)).toEqual({ type: 'ended', originator: 'local', cause: 'Terminated' });
      expect(sf.calls[0]!.jssip.at(-1)).toEqual({ type: 'ended', originator: 'remote', cause: 'Terminated' });
      expect(await erin.listeners()).toEqual({ ua: 0, sessions: 0, ownStop: false });
    });
  });
});
