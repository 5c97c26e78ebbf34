// @callmetry/sipjs against the real sip.js 0.21.1 in real Chromium pages, calling each other
// through a real Kamailio (test/harness/kamailio.ts) on loopback inside the test namespace.
//   alice: UserAgent + Inviter/Invitation app code, attached twice (reports once);
//   bob:   Web.SimpleUser (hidden UserAgent, replaced UA delegate), attached through the SimpleUser;
//   carol: UserAgent app code, the callee that rejects / rings / answers.
// Each scenario asserts the exact ordered fabric events (adapter events and core's lifecycle
// events) and errors of each side.
// Run: `node test/run.mjs packages/sipjs` (root; it creates the network namespace).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ErrorRecord } from '@callmetry/core';
import type { BrowserPage } from '../../../test/harness/browser';
import { useKamailio } from '../../../test/harness/sipPages';
import type { CallInfo, CallOptions, HookState, LogEntry, Mode, PhoneConfig, Policy } from './pages/phone.page';

const PAGE = new URL('./pages/phone.page.ts', import.meta.url);
const WAIT_MS = 20_000;

const { kamailio: server, openUser, openFirefoxUser } = useKamailio({ firefox: true });

/** One fabric event as a compact token: `fabricHold:local`, `state:hold>established`, `callUnAnswered:busy:486`. */
function token(e: Extract<LogEntry, { kind: 'event' }>): string {
  const d = e.data ?? {};
  if (e.event === 'fabricStateChange') return `state:${String(d.prevState)}>${String(d.newState)}`;
  if (e.event === 'fabricHold' || e.event === 'fabricResume') return `${e.event}:${String(d.originator)}`;
  if (e.event === 'callUnAnswered') return `callUnAnswered:${String(d.cause)}:${String(d.statusCode)}`;
  return e.event;
}

class Phone {
  constructor(
    readonly tp: BrowserPage,
    readonly name: string,
  ) {}

  static async open(mode: Mode, name: string, attachTimes = 1, inFirefox = false): Promise<Phone> {
    const { tp, account } = await (inFirefox ? openFirefoxUser : openUser)(PAGE, name);
    const cfg: PhoneConfig = { mode, ...account, attachTimes };
    await tp.run((c) => window.sipjsPhone.start(c), cfg);
    return new Phone(tp, name);
  }

  mark(): Promise<number> {
    return this.tp.run(() => window.sipjsPhone.log.length);
  }
  log(from: number): Promise<LogEntry[]> {
    return this.tp.run((i) => window.sipjsPhone.log.slice(i), from);
  }
  async events(from: number): Promise<string[]> {
    return (await this.log(from)).flatMap((e) => (e.kind === 'event' ? [token(e)] : []));
  }
  async errors(from: number): Promise<ErrorRecord[]> {
    return (await this.log(from)).flatMap((e) => (e.kind === 'error' ? [e.record] : []));
  }
  async custom(from: number): Promise<Array<Extract<LogEntry, { kind: 'custom' }>>> {
    return (await this.log(from)).flatMap((e) => (e.kind === 'custom' ? [e] : []));
  }
  setPolicy(p: Policy): Promise<void> {
    return this.tp.run((x) => window.sipjsPhone.setPolicy(x), p);
  }
  call(target: string, options: CallOptions = {}): Promise<number> {
    return this.tp.run(({ t, o }) => window.sipjsPhone.call(t, o), { t: target, o: options });
  }
  callInfo(i: number): Promise<CallInfo> {
    return this.tp.run((x) => window.sipjsPhone.calls[x]!, i);
  }
  callCount(): Promise<number> {
    return this.tp.run(() => window.sipjsPhone.calls.length);
  }
  hold(on: boolean): Promise<boolean> {
    return this.tp.run((x) => window.sipjsPhone.hold(x), on);
  }
  mute(on: boolean): Promise<void> {
    return this.tp.run((x) => window.sipjsPhone.mute(x), on);
  }
  hangup(): Promise<void> {
    return this.tp.run(() => window.sipjsPhone.hangup());
  }
  detach(): Promise<void> {
    return this.tp.run(() => window.sipjsPhone.detach());
  }
  hooks(): Promise<HookState> {
    return this.tp.run(() => window.sipjsPhone.hooks());
  }
  sameDetach(): Promise<boolean> {
    return this.tp.run(() => window.sipjsPhone.sameDetach);
  }

  /** Waits until the events since `from` contain `tok` (`count` times); fails with the log. */
  async waitEvent(from: number, tok: string, count = 1): Promise<void> {
    await until(`${this.name}: ${count}x ${tok}`, () => this.events(from), (ev) => ev.filter((t) => t === tok).length >= count);
  }
  async waitErrors(from: number, n: number): Promise<ErrorRecord[]> {
    return until(`${this.name}: ${n} error(s)`, () => this.errors(from), (er) => er.length >= n);
  }
  /** waitErrors, each error as [webRTCFunction, message]. */
  async waitErrorLines(from: number, n: number): Promise<string[][]> {
    return (await this.waitErrors(from, n)).map((e) => [e.webRTCFunction, e.message]);
  }

  async close(): Promise<void> {
    await this.tp.run(() => window.sipjsPhone.stop()).catch(() => undefined);
    await this.tp.close();
  }
}

/** Polls `get` until `ok(value)`; fails with the last value and Kamailio's log tail. */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last = await get();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}\n--- kamailio ---\n${server().logTail(20)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    last = await get();
  }
  return last;
}

/** `originator` holds and resumes: the two events and their state changes, as tokens. */
const holdAndResume = (originator: string): string[] => [
  `fabricHold:${originator}`,
  'state:established>hold',
  `fabricResume:${originator}`,
  'state:hold>established',
];

/** The last sample since `from` has inbound and outbound audio and video. */
function fullSample(log: LogEntry[]): Extract<LogEntry, { kind: 'sample' }> | undefined {
  const samples = log.filter((e): e is Extract<LogEntry, { kind: 'sample' }> => e.kind === 'sample');
  const last = samples[samples.length - 1];
  if (!last) return undefined;
  const kinds = new Set(last.streams.map((s) => `${s.statsType}/${s.mediaType}`));
  return ['inbound-rtp/audio', 'inbound-rtp/video', 'outbound-rtp/audio', 'outbound-rtp/video'].every((k) => kinds.has(k)) ? last : undefined;
}

/** The log entry right before the fabricTerminated event of `fabricID` is a stats sample of it (the final poll). */
function finalPollBeforeTermination(log: LogEntry[], fabricID: string): boolean {
  const i = log.findIndex((e) => e.kind === 'event' && e.fabricID === fabricID && e.event === 'fabricTerminated');
  const before = log.slice(0, i).filter((e) => e.kind !== 'event' || e.fabricID === fabricID);
  const prev = before[before.length - 1];
  return i > 0 && prev?.kind === 'sample' && prev.fabricID === fabricID;
}

const fabricIDs = (log: LogEntry[]): string[] => [...new Set(log.flatMap((e) => (e.kind === 'event' ? [e.fabricID] : [])))];
const conferenceIDs = (log: LogEntry[]): string[] => [...new Set(log.flatMap((e) => (e.kind === 'event' ? [e.conferenceID] : [])))];

// All in Chromium; then alice and carol (the core API) in Firefox ESR calling bob (SimpleUser) in
// Chromium, so that hold, mute and the failures also go through Firefox's SDP and SDH.
for (const { title, firefox } of [
  { title: 'in Chromium', firefox: false },
  { title: 'alice and carol in Firefox, bob in Chromium', firefox: true },
])
describe(`attachSipJs: real SIP.js 0.21.1 calls through Kamailio (${title})`, () => {
  let alice: Phone;
  let bob: Phone;
  let carol: Phone;
  let domain: string;

  beforeAll(async () => {
    domain = server().domain;
    [alice, bob, carol] = await Promise.all([
      Phone.open('core', 'alice', 2, firefox),
      Phone.open('simple', 'bob', 2),
      Phone.open('core', 'carol', 1, firefox),
    ]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
  });

  test('attaching twice gives one attachment; the session registry and SDH factory are hooked', async () => {
    for (const p of [alice, bob, carol]) {
      expect(await p.sameDetach()).toBe(true);
      expect(await p.hooks()).toEqual({ registryHooked: true, factoryOriginal: false, fabrics: 0 });
    }
  });

  test('answered call: stats flow, hold/unhold both ways, mute/unmute, BYE', async () => {
    const [a0, b0] = [await alice.mark(), await bob.mark()];
    await bob.setPolicy({ action: 'answer' });
    const ai = await alice.call('bob');
    await alice.waitEvent(a0, 'fabricSetup');
    await bob.waitEvent(b0, 'fabricSetup');

    // Real stats: both directions, both kinds, attributed to the SIP users.
    const sa = await until('alice: full sample', () => alice.log(a0), (l) => !!fullSample(l));
    const sb = await until('bob: full sample', () => bob.log(b0), (l) => !!fullSample(l));
    const streams = (l: LogEntry[]) => fullSample(l)!.streams.map((s) => `${s.statsType}/${s.mediaType}/${s.userID}/${s.remoteUserID}`).sort();
    expect(streams(sa)).toEqual(['inbound-rtp/audio/bob/bob', 'inbound-rtp/video/bob/bob', 'outbound-rtp/audio/alice/bob', 'outbound-rtp/video/alice/bob']);
    expect(streams(sb)).toEqual(['inbound-rtp/audio/alice/alice', 'inbound-rtp/video/alice/alice', 'outbound-rtp/audio/bob/alice', 'outbound-rtp/video/bob/alice']);

    // alice holds and unholds (core API re-INVITE with hold: true/false), then bob through
    // SimpleUser (which also disables his sender tracks: not a mute).
    for (const [holder, h0, other, o0] of [[alice, a0, bob, b0], [bob, b0, alice, a0]] as const) {
      expect(await holder.hold(true), `${holder.name}: hold`).toBe(true);
      await holder.waitEvent(h0, 'fabricHold:local');
      await other.waitEvent(o0, 'fabricHold:remote');
      expect(await holder.hold(false), `${holder.name}: unhold`).toBe(true);
      await holder.waitEvent(h0, 'fabricResume:local');
      await other.waitEvent(o0, 'fabricResume:remote');
    }

    // Mute: SimpleUser.mute() on bob, sdh.enableSenderTracks(false) on alice.
    await bob.mute(true);
    await bob.mute(false);
    await alice.mute(true);
    await alice.mute(false);

    await alice.hangup();
    await alice.waitEvent(a0, 'fabricTerminated');
    await bob.waitEvent(b0, 'fabricTerminated');

    const [la, lb] = [await alice.log(a0), await bob.log(b0)];
    // Each side: alice's hold round then bob's (local on the holder, remote on the other), its own mute/unmute, BYE.
    const answeredCall = (first: string, second: string): string[] => [
      'fabricSetup',
      'state:initializing>established',
      ...holdAndResume(first),
      ...holdAndResume(second),
      'audioMute',
      'videoPause',
      'audioUnmute',
      'videoResume',
      'fabricTerminated',
      'state:established>terminated',
    ];
    expect(await alice.events(a0)).toEqual(answeredCall('local', 'remote'));
    expect(await bob.events(b0)).toEqual(answeredCall('remote', 'local'));
    expect(await alice.errors(a0)).toEqual([]);
    expect(await bob.errors(b0)).toEqual([]);

    // One fabric per side, in the conference named by the shared Call-ID.
    const callId = (await alice.callInfo(ai)).callId;
    expect(conferenceIDs(la)).toEqual([callId]);
    expect(conferenceIDs(lb)).toEqual([callId]);
    const [fa] = fabricIDs(la);
    const [fb] = fabricIDs(lb);
    expect(fabricIDs(la)).toHaveLength(1);
    expect(fabricIDs(lb)).toHaveLength(1);
    // A last stats poll was taken at Terminated, before SIP.js closed the peer connection. Not in
    // Firefox: a getStats() still pending when its peer connection closes never settles there (core's
    // lifecycle browser test pins it), so that poll is abandoned when the fabric terminates; the
    // fabric and the session's attachment still end (the hooks below).
    expect(finalPollBeforeTermination(la, fa!)).toBe(!firefox);
    expect(finalPollBeforeTermination(lb, fb!)).toBe(true);
    expect((await alice.hooks()).fabrics).toBe(0);
    expect((await bob.hooks()).fabrics).toBe(0);
  });

  test.each([
    [486, 'busy', 'Busy Here'],
    [603, 'declined', 'Decline'],
  ])('callee rejects with %i: callUnAnswered (%s) + applicationLog on the caller, applicationLog on the callee', async (status, cause, phrase) => {
    const [a0, c0] = [await alice.mark(), await carol.mark()];
    await carol.setPolicy({ action: 'reject', status });
    const ai = await alice.call('carol');
    await alice.waitEvent(a0, 'fabricTerminated');
    const callId = (await alice.callInfo(ai)).callId;
    expect((await alice.callInfo(ai)).status).toBe(status);
    expect(await alice.events(a0)).toEqual([`callUnAnswered:${cause}:${status}`, 'fabricTerminated', 'state:initializing>terminated']);
    const [ea] = await alice.waitErrors(a0, 1);
    expect(await alice.errors(a0)).toHaveLength(1);
    expect(ea).toMatchObject({
      conferenceID: callId,
      fabricID: fabricIDs(await alice.log(a0))[0],
      webRTCFunction: 'applicationLog',
      category: 'applicationLog',
      name: 'SIPError',
      message: `${status} ${phrase} (INVITE to sip:carol@${domain})`,
    });
    // The callee never had a peer connection: a conference-level log.
    const [ec] = await carol.waitErrors(c0, 1);
    expect(ec).toMatchObject({
      conferenceID: callId,
      webRTCFunction: 'applicationLog',
      message: `incoming call from sip:alice@${domain} rejected here: ${status} ${phrase}`,
    });
    expect(ec!.fabricID).toBeUndefined();
    expect(await carol.events(c0)).toEqual([]);
    expect(await carol.custom(c0)).toEqual([
      {
        kind: 'custom',
        conferenceID: callId,
        name: 'callUnAnswered',
        data: { cause, originator: 'local', statusCode: status, reasonPhrase: phrase, sipCallID: callId, sipDirection: 'incoming' },
      },
    ]);
    expect(await alice.custom(a0)).toEqual([]); // the caller's went to its fabric
    expect((await alice.log(a0)).find((e) => e.kind === 'event' && e.event === 'callUnAnswered')).toMatchObject({
      data: { cause, originator: 'remote', statusCode: status, reasonPhrase: phrase },
    });
  });

  test('SimpleUser.decline() answers 480: callUnAnswered (noAnswer) on the caller', async () => {
    const [a0, b0] = [await alice.mark(), await bob.mark()];
    await bob.setPolicy({ action: 'reject', status: 480 });
    const ai = await alice.call('bob');
    await alice.waitEvent(a0, 'fabricTerminated');
    expect((await alice.callInfo(ai)).status).toBe(480);
    expect(await alice.events(a0)).toEqual(['callUnAnswered:noAnswer:480', 'fabricTerminated', 'state:initializing>terminated']);
    expect(await alice.waitErrorLines(a0, 1)).toEqual([['applicationLog', `480 Temporarily Unavailable (INVITE to sip:bob@${domain})`]]);
    expect(await bob.waitErrorLines(b0, 1)).toEqual([['applicationLog', `incoming call from sip:alice@${domain} rejected here: 480 Temporarily Unavailable`]]);
    expect(await bob.events(b0)).toEqual([]);
  });

  test('call to an unregistered user: 404 is a signalingError, no callUnAnswered', async () => {
    const a0 = await alice.mark();
    const ai = await alice.call('nobody');
    await alice.waitEvent(a0, 'fabricTerminated');
    expect((await alice.callInfo(ai)).status).toBe(404);
    expect(await alice.events(a0)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    const errors = await alice.waitErrors(a0, 1);
    expect(errors.map((e) => [e.webRTCFunction, e.category, e.message])).toEqual([
      ['signalingError', 'signalingError', `404 Not Found (INVITE to sip:nobody@${domain})`],
    ]);
  });

  test('caller cancels while ringing: 487 callUnAnswered (cancelled); the callee logs the CANCEL', async () => {
    const [a0, c0] = [await alice.mark(), await carol.mark()];
    await carol.setPolicy({ action: 'ring' });
    const before = await carol.callCount();
    const ai = await alice.call('carol');
    await until('carol: ringing', () => carol.callCount(), (n) => n > before);
    await alice.hangup();
    await alice.waitEvent(a0, 'fabricTerminated');
    expect((await alice.callInfo(ai)).status).toBe(487);
    expect(await alice.events(a0)).toEqual(['callUnAnswered:cancelled:487', 'fabricTerminated', 'state:initializing>terminated']);
    expect(await alice.waitErrorLines(a0, 1)).toEqual([['applicationLog', `487 Request Terminated (INVITE to sip:carol@${domain})`]]);
    expect(await carol.waitErrorLines(c0, 1)).toEqual([
      ['applicationLog', `incoming call from sip:alice@${domain} cancelled by the caller before it was answered (487 Request Terminated)`],
    ]);
    expect((await carol.custom(c0)).map((e) => e.data)).toEqual([
      { cause: 'cancelled', originator: 'remote', statusCode: 487, reasonPhrase: 'Request Terminated', sipCallID: (await alice.callInfo(ai)).callId, sipDirection: 'incoming' },
    ]);
    expect((await alice.log(a0)).find((e) => e.kind === 'event' && e.event === 'callUnAnswered')).toMatchObject({ data: { originator: 'local' } });
  });

  test('getUserMedia failure is reported as getUserMedia on the call fabric', async () => {
    const [a0, c0] = [await alice.mark(), await carol.mark()];
    await carol.setPolicy({ action: 'answer' });
    await alice.call('carol', { constraints: { audio: true, video: { width: { exact: 12345 } } } });
    await alice.waitEvent(a0, 'fabricTerminated');
    expect(await alice.events(a0)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    const errors = await alice.errors(a0);
    expect(errors.map((e) => [e.webRTCFunction, e.category, e.name])).toEqual([['getUserMedia', 'mediaConfiguration', 'OverconstrainedError']]);
    expect(errors[0]!.fabricID).toBe(fabricIDs(await alice.log(a0))[0]);
    expect(await carol.log(c0)).toEqual([]); // the INVITE was never sent
  });

  test('setLocalDescription failure carries the local SDP', async () => {
    const a0 = await alice.mark();
    await alice.call('carol', { breakOffer: true });
    await alice.waitEvent(a0, 'fabricTerminated');
    expect(await alice.events(a0)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    const errors = await alice.errors(a0);
    expect(errors.map((e) => [e.webRTCFunction, e.category])).toEqual([['setLocalDescription', 'sdpGeneration']]);
    expect(errors[0]!.localSDP).toMatch(/^v=0\r\n/);
    expect(errors[0]!.localSDP).not.toMatch(/a=fingerprint/);
  });

  test('setRemoteDescription failure carries both SDPs; the callee sees the BYE', async () => {
    const [a0, c0] = [await alice.mark(), await carol.mark()];
    await carol.setPolicy({ action: 'answer' });
    await alice.call('carol', { breakAnswer: true });
    await alice.waitEvent(a0, 'fabricTerminated');
    await carol.waitEvent(c0, 'fabricTerminated');
    expect(await alice.events(a0)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    const errors = await alice.errors(a0);
    expect(errors.map((e) => [e.webRTCFunction, e.category])).toEqual([['setRemoteDescription', 'negotiationFailure']]);
    expect(errors[0]!.remoteSDP).toMatch(/^v=0\r\n/);
    expect(errors[0]!.remoteSDP).not.toMatch(/a=fingerprint/);
    expect(errors[0]!.localSDP).toMatch(/a=fingerprint/);
    // carol answered (Established at her 200) and got alice's ACK + BYE before ICE/DTLS could connect.
    expect(await carol.errors(c0)).toEqual([]);
    expect(await carol.events(c0)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
  });

  test('after detach nothing is reported (the other side still is)', async () => {
    await alice.detach();
    expect(await alice.hooks()).toEqual({ registryHooked: false, factoryOriginal: true, fabrics: 0 });
    const [a0, b0] = [await alice.mark(), await bob.mark()];
    await bob.setPolicy({ action: 'answer' });
    await alice.call('bob');
    await bob.waitEvent(b0, 'fabricSetup');
    await alice.hangup();
    await bob.waitEvent(b0, 'fabricTerminated');
    expect(await bob.events(b0)).toEqual(['fabricSetup', 'state:initializing>established', 'fabricTerminated', 'state:established>terminated']);
    expect(await alice.log(a0)).toEqual([]);
  });

  test('stopping the UserAgent detaches (UserAgent and SimpleUser)', async () => {
    await carol.tp.run(() => window.sipjsPhone.stop());
    await until('carol detached', () => carol.hooks(), (h) => !h.registryHooked);
    expect(await carol.hooks()).toEqual({ registryHooked: false, factoryOriginal: true, fabrics: 0 });
    await bob.tp.run(() => window.sipjsPhone.stop());
    await until('bob detached', () => bob.hooks(), (h) => !h.registryHooked);
    expect(await bob.hooks()).toEqual({ registryHooked: false, factoryOriginal: true, fabrics: 0 });
  });
});
