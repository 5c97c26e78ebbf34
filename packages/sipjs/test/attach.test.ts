// Bookkeeping of @callmetry/sipjs with small SIP.js stand-ins (./fakeSipJs.ts) in Node: attach
// twice, detach restores everything, self-detach on UserAgent stop, the status mapping, hold and
// mute bookkeeping, which step a failure is attributed to, and that nothing throws. The real
// library, Kamailio and Chromium are in sipjs.browser.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type ErrorRecord, type FabricEventRecord, type FabricStats, type Logger, type Monitor } from '@callmetry/core';
import { attachSipJs, checkSipJsVersion, classifySipStatus, isHoldOffer, userAgentOf, type SipJsAttachTarget } from '../src/index';
import { isHookedRegistry } from '../src/internals';
import { FakeInvitation, FakeInviter, FakeSdh, FakeUserAgent, OpaqueSdh, type FakeSession } from './fakeSipJs';

const logs: string[] = [];
const logger: Logger = {
  debug: () => undefined,
  info: (m) => logs.push(`info ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};

const ua2 = (ua: FakeUserAgent): SipJsAttachTarget => ua as unknown as SipJsAttachTarget;
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** `event` or `event:originator` / `callUnAnswered:cause:status` / `state:a>b`. */
function token(r: FabricEventRecord): string {
  const d = r.data ?? {};
  if (r.event === 'fabricStateChange') return `state:${String(d.prevState)}>${String(d.newState)}`;
  if (r.event === 'fabricHold' || r.event === 'fabricResume') return `${r.event}:${String(d.originator)}`;
  if (r.event === 'callUnAnswered') return `callUnAnswered:${String(d.cause)}:${String(d.statusCode)}`;
  return r.event;
}

describe('attachSipJs (SIP.js stand-ins, Node)', () => {
  let monitor: Monitor;
  let events: FabricEventRecord[];
  let errors: ErrorRecord[];
  let samples: FabricStats[];
  let custom: Array<[string, string, Record<string, unknown> | undefined]>;
  let ua: FakeUserAgent;

  beforeEach(() => {
    logs.length = 0;
    monitor = createMonitor({ appID: 'unit', localUserID: 'alice', logger });
    events = [];
    errors = [];
    samples = [];
    monitor.on('fabricEvent', (r) => events.push(r));
    monitor.on('error', (r) => errors.push(r));
    monitor.on('sample', (s) => samples.push(s));
    custom = [];
    monitor.on('customEvent', (r) => custom.push([r.conferenceID, r.name, r.data]));
    ua = new FakeUserAgent();
    ua.start();
  });
  afterEach(async () => {
    await monitor.close();
  });

  const tokens = (): string[] => events.map(token);
  /** Attaches, then an outgoing call to bob that was answered. */
  async function established(): Promise<FakeInviter> {
    attachSipJs(ua2(ua), monitor);
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    await call.answered();
    return call;
  }

  it('attaching twice returns the same detach and reports once', async () => {
    const originalRegistry = ua._sessions;
    const d1 = attachSipJs(ua2(ua), monitor);
    const d2 = attachSipJs(ua2(ua), monitor);
    expect(d2).toBe(d1);
    expect(isHookedRegistry(ua._sessions)).toBe(true);
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    expect(monitor.fabrics()).toHaveLength(1);
    call.rejectedWith(486, 'Busy Here');
    await flush();
    expect(tokens()).toEqual(['callUnAnswered:busy:486', 'fabricTerminated', 'state:initializing>terminated']);
    expect(errors).toHaveLength(1);
    d1();
    expect(ua._sessions).toBe(originalRegistry);
  });

  it('finds the UserAgent of a SessionManager or SimpleUser; both attach as the UA', () => {
    const simpleUser = { sessionManager: { userAgent: ua }, call: () => Promise.resolve(), hangup: () => Promise.resolve(), isHeld: () => false, isMuted: () => false };
    const sessionManager = { userAgent: ua };
    expect(userAgentOf(simpleUser)).toBe(ua);
    expect(userAgentOf(sessionManager)).toBe(ua);
    expect(userAgentOf(ua)).toBe(ua);
    expect(userAgentOf({})).toBeUndefined();
    const d = attachSipJs(simpleUser as unknown as SipJsAttachTarget, monitor);
    expect(attachSipJs(ua2(ua), monitor)).toBe(d);
    expect(attachSipJs(sessionManager as unknown as SipJsAttachTarget, monitor)).toBe(d);
    d();
  });

  it('detach restores every wrapper and listener, terminates its fabrics, and stops reporting', async () => {
    const registry = ua._sessions;
    const factory = ua.configuration.sessionDescriptionHandlerFactory;
    const detach = attachSipJs(ua2(ua), monitor);
    expect(ua.stateChange.listeners).toHaveLength(1);
    const call = new FakeInviter(ua, 'bob');
    expect(Object.prototype.hasOwnProperty.call(call, 'invite')).toBe(true);
    await call.invite();
    await call.answered();
    const sdh = call.sessionDescriptionHandler as FakeSdh;
    const incoming = new FakeInvitation(ua, 'carol');
    const wrappedReject = incoming.incomingInviteRequest.reject; // wrapped when the Invitation registered
    const stepNames = ['getDescription', 'setDescription', 'enableSenderTracks', 'createLocalOfferOrAnswer', 'setLocalSessionDescription', 'setRemoteSessionDescription'] as const;
    const wrappedFactory = sdh.mediaStreamFactory; // an own property, wrapped when the SDH was made
    expect(call.invite).not.toBe(FakeInviter.prototype.invite);
    for (const name of stepNames) expect(sdh[name], name).not.toBe(FakeSdh.prototype[name]);

    detach();
    expect(ua._sessions).toBe(registry);
    expect(ua.configuration.sessionDescriptionHandlerFactory).toBe(factory);
    expect(ua.stateChange.listeners).toHaveLength(0);
    expect(call.stateChange.listeners).toHaveLength(0);
    expect(incoming.stateChange.listeners).toHaveLength(0);
    // The originals are back (core's scope.wrap puts them back as own properties).
    expect(call.invite).toBe(FakeInviter.prototype.invite);
    expect(incoming.incomingInviteRequest.reject).not.toBe(wrappedReject);
    expect(incoming.incomingInviteRequest.reject({ statusCode: 486 }).message).toMatch(/^SIP\/2.0 486 Busy Here\r\n/);
    for (const name of stepNames) expect(sdh[name], name).toBe(FakeSdh.prototype[name]);
    expect(sdh.mediaStreamFactory).not.toBe(wrappedFactory);
    expect(typeof sdh.mediaStreamFactory).toBe('function');
    expect(tokens().slice(-2)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    expect(monitor.fabrics()).toHaveLength(0);

    const before = events.length + errors.length;
    sdh.enableSenderTracks(false);
    const later = new FakeInviter(ua, 'dave');
    await later.invite();
    later.rejectedWith(486, 'Busy Here');
    incoming.canceled();
    call.transition('Terminated');
    await flush();
    expect(events.length + errors.length).toBe(before);
    expect(monitor.fabrics()).toHaveLength(0);
  });

  it('detach leaves a wrapper someone added after it in place (and its own becomes inert)', async () => {
    const detach = attachSipJs(ua2(ua), monitor);
    const ours = ua.configuration.sessionDescriptionHandlerFactory;
    const theirs = (s: unknown, o?: unknown) => ours(s, o);
    ua.configuration.sessionDescriptionHandlerFactory = theirs;
    detach();
    expect(ua.configuration.sessionDescriptionHandlerFactory).toBe(theirs);
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    expect(monitor.fabrics()).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('detaches itself when the UserAgent stops; a new attach works again', async () => {
    const registry = ua._sessions;
    const detach = attachSipJs(ua2(ua), monitor);
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    await call.answered();
    ua.stop();
    expect(ua._sessions).toBe(registry);
    expect(ua.stateChange.listeners).toHaveLength(0);
    expect(monitor.fabrics()).toHaveLength(0);
    expect(tokens().slice(-2)).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    detach(); // harmless
    ua.start();
    const again = attachSipJs(ua2(ua), monitor);
    expect(again).not.toBe(detach);
    expect(isHookedRegistry(ua._sessions)).toBe(true);
    again();
  });

  it('detaches itself when the monitor closes', async () => {
    const registry = ua._sessions;
    const factory = ua.configuration.sessionDescriptionHandlerFactory;
    attachSipJs(ua2(ua), monitor);
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    await monitor.close();
    expect(ua._sessions).toBe(registry);
    expect(ua.configuration.sessionDescriptionHandlerFactory).toBe(factory);
    expect(ua.stateChange.listeners).toHaveLength(0);
    expect(call.stateChange.listeners).toHaveLength(0);
    expect(call.invite).toBe(FakeInviter.prototype.invite);
  });

  it('fabric attributes name the SIP call; fabricTerminated carries the final status', async () => {
    attachSipJs(ua2(ua), monitor, { attributes: { tenant: 't1' } });
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    expect(monitor.fabrics()[0]?.attributes).toEqual({
      sipjsVersion: '0.21.0',
      sipCallID: call.request.callId,
      sipDirection: 'outgoing',
      sipRemoteURI: 'sip:bob@example.test',
      tenant: 't1',
    });
    call.rejectedWith(486, 'Busy Here');
    await flush();
    expect(events.find((e) => e.event === 'fabricTerminated')?.data).toEqual({ cause: 'busy', originator: 'remote', statusCode: 486, reasonPhrase: 'Busy Here' });
  });

  it('adopts sessions that existed before attach', async () => {
    const call = new FakeInviter(ua, 'bob');
    await call.invite();
    await call.answered();
    attachSipJs(ua2(ua), monitor);
    const [fabric] = monitor.fabrics();
    expect(fabric?.remoteUserID).toBe('bob');
    expect(fabric?.conferenceID).toBe(call.request.callId);
    call.transition('Terminated');
    await flush();
    expect(tokens()).toEqual(['fabricTerminated', 'state:initializing>terminated']);
  });

  describe('outgoing calls: final status of the INVITE (README table)', () => {
    it.each([
      [486, 'Busy Here', ['callUnAnswered:busy:486'], 'applicationLog'],
      [600, 'Busy Everywhere', ['callUnAnswered:busy:600'], 'applicationLog'],
      [603, 'Decline', ['callUnAnswered:declined:603'], 'applicationLog'],
      [480, 'Temporarily Unavailable', ['callUnAnswered:noAnswer:480'], 'applicationLog'],
      [408, 'Request Timeout', ['callUnAnswered:noAnswer:408'], 'applicationLog'],
      [487, 'Request Terminated', ['callUnAnswered:cancelled:487'], 'applicationLog'],
      [404, 'Not Found', [], 'signalingError'],
      [484, 'Address Incomplete', [], 'signalingError'],
      [488, 'Not Acceptable Here', [], 'signalingError'],
      [503, 'Service Unavailable', [], 'signalingError'],
      [302, 'Moved Temporarily', [], 'signalingError'],
    ])('%i %s', async (status, phrase, unanswered, fn) => {
      attachSipJs(ua2(ua), monitor);
      const call = new FakeInviter(ua, 'bob');
      let appSaw: number | undefined;
      const appDelegate = {
        marker: 'app',
        onReject(this: { marker: string }, r: { message: { statusCode: number } }) {
          appSaw = this.marker === 'app' ? r.message.statusCode : -1;
        },
        onRedirect(this: { marker: string }, r: { message: { statusCode: number } }) {
          appSaw = this.marker === 'app' ? r.message.statusCode : -1;
        },
      };
      await call.invite({ requestDelegate: appDelegate });
      call.rejectedWith(status, phrase);
      await flush();
      expect(appSaw).toBe(status); // the app's delegate still runs, with its own `this`
      expect(tokens()).toEqual([...unanswered, 'fabricTerminated', 'state:initializing>terminated']);
      expect(errors.map((e) => [e.webRTCFunction, e.name, e.message, e.conferenceID, e.fabricID])).toEqual([
        [fn, 'SIPError', `${status} ${phrase} (INVITE to sip:bob@example.test)`, call.request.callId, events[0]!.fabricID],
      ]);
      expect(classifySipStatus(status).webRTCFunction).toBe(fn);
    });

    it('a final poll runs at Terminated before the pc closes, then the fabric ends', async () => {
      const call = await established();
      const pc = (call.sessionDescriptionHandler as FakeSdh).peerConnection!;
      const polls = pc.getStatsCalls;
      call.transition('Terminated'); // listeners first, then SIP.js closes the pc
      expect(pc.getStatsCalls).toBe(polls + 1);
      expect(pc.signalingState).toBe('closed');
      await flush();
      expect(samples).toHaveLength(1);
      expect(tokens()).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    });

    it('a call without SDH (INVITE without SDP) reports the status at conference level', async () => {
      attachSipJs(ua2(ua), monitor);
      const call = new FakeInviter(ua, 'bob');
      await call.invite({ withoutSdp: true });
      call.rejectedWith(486, 'Busy Here');
      await flush();
      expect(events).toEqual([]);
      expect(errors.map((e) => [e.webRTCFunction, e.fabricID, e.conferenceID])).toEqual([['applicationLog', undefined, call.request.callId]]);
      expect(custom).toEqual([
        [call.request.callId, 'callUnAnswered', { cause: 'busy', originator: 'remote', statusCode: 486, reasonPhrase: 'Busy Here', sipCallID: call.request.callId, sipDirection: 'outgoing' }],
      ]);
    });

    it('callUnAnswered data; a 487 after our own CANCEL has originator local', async () => {
      attachSipJs(ua2(ua), monitor);
      const busy = new FakeInviter(ua, 'bob');
      await busy.invite();
      busy.rejectedWith(486, 'Busy Here');
      const cancelled = new FakeInviter(ua, 'bob');
      await cancelled.invite();
      await cancelled.cancel();
      cancelled.rejectedWith(487, 'Request Terminated');
      await flush();
      expect(events.filter((e) => e.event === 'callUnAnswered').map((e) => e.data)).toEqual([
        { cause: 'busy', originator: 'remote', statusCode: 486, reasonPhrase: 'Busy Here' },
        { cause: 'cancelled', originator: 'local', statusCode: 487, reasonPhrase: 'Request Terminated' },
      ]);
      expect(custom).toEqual([]);
    });
  });

  describe('incoming calls that never had media', () => {
    it.each([
      [
        'rejected with a status',
        (s: FakeInvitation) => void s.reject({ statusCode: 603 }),
        'incoming call from sip:alice@example.test rejected here: 603 Decline',
        { cause: 'declined', originator: 'local', statusCode: 603, reasonPhrase: 'Decline' },
      ],
      [
        'rejected with the default status',
        (s: FakeInvitation) => void s.reject(),
        'incoming call from sip:alice@example.test rejected here: 480 Temporarily Unavailable',
        { cause: 'noAnswer', originator: 'local', statusCode: 480, reasonPhrase: 'Temporarily Unavailable' },
      ],
      [
        'rejected with a signaling status',
        (s: FakeInvitation) => void s.reject({ statusCode: 500 }),
        'incoming call from sip:alice@example.test rejected here: 500 Server Internal Error',
        undefined,
      ],
      [
        'cancelled by the caller',
        (s: FakeInvitation) => s.canceled(),
        'incoming call from sip:alice@example.test cancelled by the caller before it was answered (487 Request Terminated)',
        { cause: 'cancelled', originator: 'remote', statusCode: 487, reasonPhrase: 'Request Terminated' },
      ],
      [
        'ended otherwise',
        (s: FakeInvitation) => s.transition('Terminated'),
        'incoming call from sip:alice@example.test ended before it was answered',
        { cause: 'noAnswer', originator: 'local' },
      ],
    ])('%s: an applicationLog and the custom event callUnAnswered on the conference', async (_what, end, message, data) => {
      attachSipJs(ua2(ua), monitor);
      const call = new FakeInvitation(ua, 'alice');
      end(call);
      await flush();
      expect(events).toEqual([]);
      expect(errors.map((e) => [e.webRTCFunction, e.message, e.conferenceID, e.fabricID])).toEqual([['applicationLog', message, call.request.callId, undefined]]);
      const callId = call.request.callId;
      expect(custom).toEqual(data ? [[callId, 'callUnAnswered', { ...data, sipCallID: callId, sipDirection: 'incoming' }]] : []);
    });

    it('an answered incoming call ending normally reports no error', async () => {
      attachSipJs(ua2(ua), monitor);
      const call = new FakeInvitation(ua, 'alice');
      await call.accept();
      call.transition('Terminated');
      await flush();
      expect(errors).toEqual([]);
      expect(monitor.fabrics()).toHaveLength(0);
      expect(tokens()).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    });
  });

  describe('hold and mute', () => {
    const hold = async (call: FakeSession, on: boolean): Promise<void> => {
      call.sessionDescriptionHandlerOptionsReInvite = { ...call.sessionDescriptionHandlerOptionsReInvite, hold: on };
      await call.invite({});
    };

    it('local hold/unhold when the re-INVITE is accepted; remote hold from the re-offer direction', async () => {
      const call = await established();
      await hold(call, true);
      expect(tokens()).toEqual([]); // not before the 2xx
      await call.acceptReinvite();
      await hold(call, false);
      await call.acceptReinvite();
      await call.remoteReinvite('v=0\r\nm=audio 9 X 0\r\na=sendonly\r\nm=video 9 X 96\r\na=inactive\r\n');
      await call.remoteReinvite('v=0\r\nm=audio 9 X 0\r\na=sendonly\r\nm=video 9 X 96\r\na=sendonly\r\n'); // still held: no event
      await call.remoteReinvite('v=0\r\nm=audio 9 X 0\r\na=sendrecv\r\n');
      expect(tokens()).toEqual([
        'fabricHold:local',
        'state:initializing>hold',
        'fabricResume:local',
        'state:hold>initializing',
        'fabricHold:remote',
        'state:initializing>hold',
        'fabricResume:remote',
        'state:hold>initializing',
      ]);
    });

    it('held by both sides: one fabricHold, one fabricResume when the last side resumes', async () => {
      const call = await established();
      await hold(call, true);
      await call.acceptReinvite();
      await call.remoteReinvite('v=0\r\nm=audio 9 X 0\r\na=inactive\r\n');
      await call.remoteReinvite('v=0\r\nm=audio 9 X 0\r\na=sendrecv\r\n');
      await hold(call, false);
      await call.acceptReinvite();
      expect(tokens().filter((t) => !t.startsWith('state:'))).toEqual(['fabricHold:local', 'fabricResume:local']);
    });

    it('a rejected hold re-INVITE changes nothing', async () => {
      const call = await established();
      await hold(call, true);
      call.lastInvite?.requestDelegate?.onReject?.({ message: { statusCode: 491, reasonPhrase: 'Request Pending' } });
      expect(tokens()).toEqual([]);
      (call.sessionDescriptionHandler as FakeSdh).enableSenderTracks(false); // now a mute again
      expect(tokens()).toEqual(['audioMute', 'videoPause']);
    });

    it('enableSenderTracks gives audioMute/videoPause and back; sender changes during hold are not mutes', async () => {
      const call = await established();
      const sdh = call.sessionDescriptionHandler as FakeSdh;
      sdh.enableSenderTracks(false);
      sdh.enableSenderTracks(false); // no change: no event
      sdh.enableSenderTracks(true);
      // SessionManager.hold(): invite(), then its tracks go off while the re-INVITE is pending
      await hold(call, true);
      sdh.enableSenderTracks(false);
      await call.acceptReinvite();
      sdh.enableSenderTracks(false);
      // unhold while the app had muted meanwhile: tracks stay off after the unhold -> a mute now
      await hold(call, false);
      sdh.enableSenderTracks(true);
      await call.acceptReinvite();
      sdh.enableSenderTracks(false);
      expect(tokens().filter((t) => !t.startsWith('state:'))).toEqual([
        'audioMute',
        'videoPause',
        'audioUnmute',
        'videoResume',
        'fabricHold:local',
        'fabricResume:local',
        'audioMute',
        'videoPause',
      ]);
    });

    it('hold then unhold at once (SessionManager, a double click): the refused unhold does not turn the hold into a mute', async () => {
      const call = await established();
      const sdh = call.sessionDescriptionHandler as FakeSdh;
      // SessionManager.setHold(true): the re-INVITE is sent...
      call.sessionDescriptionHandlerOptionsReInvite = { hold: true };
      const holding = call.invite({});
      // ...and setHold(false) before its 2xx: SIP.js refuses a second re-INVITE while one is pending.
      call.sessionDescriptionHandlerOptionsReInvite = { hold: false };
      await expect(call.invite({})).rejects.toThrow('Reinvite in progress');
      await holding;
      sdh.enableSenderTracks(false); // SessionManager, once the hold re-INVITE is sent
      await call.acceptReinvite();
      sdh.enableSenderTracks(false); // and in its onAccept
      expect(tokens().filter((t) => !t.startsWith('state:'))).toEqual(['fabricHold:local']);
      // A real mute later is still seen.
      await hold(call, false);
      await call.acceptReinvite();
      sdh.enableSenderTracks(true);
      sdh.enableSenderTracks(false);
      expect(tokens().filter((t) => !t.startsWith('state:'))).toEqual(['fabricHold:local', 'fabricResume:local', 'audioMute', 'videoPause']);
    });

    it('only the kinds that have a sender track', async () => {
      const call = await established();
      const sdh = call.sessionDescriptionHandler as FakeSdh;
      sdh.peerConnection!.senders = [{ track: { kind: 'audio', enabled: true } }, { track: null }];
      sdh.enableSenderTracks(false);
      expect(tokens()).toEqual(['audioMute']);
    });
  });

  describe('failures: the step that failed, with its SDPs', () => {
    const gum = Object.assign(new Error('Requested device not found'), { name: 'NotFoundError' });

    it.each([
      ['media', 'getUserMedia', 'mediaConfiguration'],
      ['create', 'createOffer', 'negotiationFailure'],
      ['setLocal', 'setLocalDescription', 'sdpGeneration'],
      ['modifiers', 'applicationError', 'applicationError'],
    ] as const)('outgoing offer: %s -> %s', async (step, fn, category) => {
      attachSipJs(ua2(ua), monitor);
      ua.makeSdh = () => {
        const sdh = new FakeSdh();
        sdh.fail[step] = step === 'media' ? gum : new Error(`${step} failed`);
        return sdh;
      };
      const call = new FakeInviter(ua, 'bob');
      await expect(call.invite()).rejects.toBeDefined();
      await flush();
      expect(errors.map((e) => [e.webRTCFunction, e.category])).toEqual([[fn, category]]);
      expect(errors[0]!.fabricID).toBe(events[0]!.fabricID);
      if (step === 'setLocal') expect(errors[0]!.localSDP).toMatch(/^v=0/);
      expect(tokens()).toEqual(['fabricTerminated', 'state:initializing>terminated']);
    });

    it('incoming answer: createAnswer and setRemoteDescription with the remote SDP', async () => {
      attachSipJs(ua2(ua), monitor);
      ua.makeSdh = () => {
        const sdh = new FakeSdh();
        sdh.fail.create = new Error('createAnswer failed');
        return sdh;
      };
      const a = new FakeInvitation(ua, 'alice');
      await expect(a.accept()).rejects.toBeDefined();
      ua.makeSdh = () => {
        const sdh = new FakeSdh();
        sdh.fail.setRemote = Object.assign(new Error('bad sdp'), { name: 'OperationError' });
        return sdh;
      };
      const b = new FakeInvitation(ua, 'alice');
      await expect(b.accept()).rejects.toBeDefined();
      await flush();
      expect(errors.map((e) => e.webRTCFunction)).toEqual(['createAnswer', 'setRemoteDescription']);
      expect(errors[1]!.remoteSDP).toMatch(/^v=0/);
      expect(errors[1]!.name).toBe('OperationError');
    });

    it('an SDH that is not a Web SDH: no fabric, failures by method at conference level', async () => {
      attachSipJs(ua2(ua), monitor);
      ua.makeSdh = () => Object.assign(new OpaqueSdh(), { failWith: gum });
      const call = new FakeInviter(ua, 'bob');
      await expect(call.invite()).rejects.toBeDefined();
      await flush();
      expect(monitor.fabrics()).toHaveLength(0);
      expect(errors.map((e) => [e.webRTCFunction, e.fabricID])).toEqual([['getUserMedia', undefined]]);
    });

    it('failures of a closed SDH (teardown) are not reported', async () => {
      const call = await established();
      const sdh = call.sessionDescriptionHandler as FakeSdh;
      call.transition('Terminated');
      await expect(sdh.setDescription('v=0\r\n')).rejects.toThrow('Peer connection closed.');
      await flush();
      expect(errors).toEqual([]);
    });
  });

  describe('options', () => {
    it('conferenceID (string or function), remoteUserID (uri or function), endpoint and attributes', async () => {
      attachSipJs(ua2(ua), monitor, {
        conferenceID: (s) => `room-${s.remoteIdentity.uri.user ?? ''}`,
        remoteUserID: 'uri',
        remoteEndpointType: 'server',
        attributes: { tenant: 't1' },
      });
      const call = new FakeInviter(ua, 'bob');
      await call.invite();
      const [f] = monitor.fabrics();
      expect([f?.conferenceID, f?.remoteUserID, f?.remoteEndpointType]).toEqual(['room-bob', 'sip:bob@example.test', 'server']);
    });

    it('bad option functions fall back to the Call-ID and the URI user', async () => {
      attachSipJs(ua2(ua), monitor, {
        conferenceID: () => {
          throw new Error('nope');
        },
        remoteUserID: () => '',
      });
      const call = new FakeInviter(ua, 'bob');
      await call.invite();
      const [f] = monitor.fabrics();
      expect([f?.conferenceID, f?.remoteUserID]).toEqual([call.request.callId, 'bob']);
      const anonymous = new FakeInviter(ua, undefined);
      await anonymous.invite();
      expect(monitor.fabrics()[1]?.remoteUserID).toBe('sip:example.test');
    });

    it('an unknown SIP.js version runs on public hooks only (fabrics still come from the SDH factory)', async () => {
      const old = new FakeUserAgent('SIP.js/0.15.11');
      old.start();
      const registry = old._sessions;
      const detach = attachSipJs(old as unknown as SipJsAttachTarget, monitor);
      expect(old._sessions).toBe(registry);
      expect(logs.some((l) => l.startsWith('warn') && l.includes('0.15.11'))).toBe(true);
      const call = new FakeInviter(old, 'bob');
      await call.invite();
      expect(monitor.fabrics()).toHaveLength(1);
      call.transition('Terminated');
      await flush();
      expect(tokens()).toEqual(['fabricTerminated', 'state:initializing>terminated']);
      detach();
    });
  });

  describe('never throws', () => {
    it('bad arguments give a no-op detach, logged (without a monitor, on the console)', () => {
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        expect(() => attachSipJs({} as SipJsAttachTarget, monitor)()).not.toThrow();
        expect(() => attachSipJs(ua2(ua), {} as Monitor)()).not.toThrow();
        expect(() => attachSipJs(null as unknown as SipJsAttachTarget, monitor)()).not.toThrow();
        expect(logs.filter((l) => l.startsWith('error'))).toHaveLength(2);
        expect(consoleError).toHaveBeenCalledTimes(1);
      } finally {
        consoleError.mockRestore();
      }
    });

    it('sessions with throwing getters and listeners that throw do not break the library', async () => {
      attachSipJs(ua2(ua), monitor);
      monitor.on('fabricEvent', () => {
        throw new Error('listener bug');
      });
      const weird = new FakeInviter(ua, 'bob', (self) =>
        Object.defineProperty(self, 'remoteIdentity', {
          get() {
            throw new Error('boom');
          },
        }),
      );
      await weird.invite();
      expect(() => weird.rejectedWith(486, 'Busy Here')).not.toThrow();
      await flush();
      expect(monitor.fabrics()).toHaveLength(0);
      expect(errors.map((e) => e.message)).toEqual(['486 Busy Here']);
    });

    it('a session whose peer connection getters start throwing still ends: fabric terminated, hooks gone', async () => {
      const call = await established();
      // E.g. a revoked Proxy around the pc: its state getters throw from now on.
      const pc = (call.sessionDescriptionHandler as FakeSdh).peerConnection!;
      Object.defineProperty(pc, 'connectionState', {
        get() {
          throw new Error('revoked');
        },
        set() {},
      });
      expect(() => call.transition('Terminated')).not.toThrow();
      await flush();
      expect(call.stateChange.listeners).toHaveLength(0);
      expect(call.invite).toBe(FakeInviter.prototype.invite);
      expect(monitor.fabrics()).toHaveLength(0);
      expect(tokens()).toContain('fabricTerminated');
    });
  });

  it('helpers: version check and SDP hold detection', () => {
    expect(checkSipJsVersion('0.21.0')).toEqual({ usable: true, tested: true, version: '0.21.0' });
    expect(checkSipJsVersion('0.20.1')).toMatchObject({ usable: true, tested: false });
    expect(checkSipJsVersion('0.22.0')).toMatchObject({ usable: false });
    expect(checkSipJsVersion(undefined)).toMatchObject({ usable: true, tested: false });
    expect(isHoldOffer('v=0\r\nm=audio 9 X 0\r\na=sendonly\r\nm=video 0 X 96\r\na=sendrecv\r\n')).toBe(true); // port 0 ignored
    expect(isHoldOffer('v=0\r\na=inactive\r\nm=audio 9 X 0\r\n')).toBe(true); // session level
    expect(isHoldOffer('v=0\r\nm=audio 9 X 0\r\na=recvonly\r\n')).toBe(false);
    expect(isHoldOffer('v=0\r\nm=audio 9 X 0\r\n')).toBe(false);
    expect(isHoldOffer('')).toBe(false);
  });
});
