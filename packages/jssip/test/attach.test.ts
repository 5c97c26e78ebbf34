// Bookkeeping of @callmetry/jssip with fake JsSIP objects (EventEmitters shaped like JsSIP 3.13's
// UA and RTCSession, emitting in JsSIP's orders) and core's FakePeerConnection. The real library
// in Chromium against Kamailio is covered by jssip.browser.test.ts.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type ErrorRecord, type FabricEventRecord, type Logger, type Monitor } from '@callmetry/core';
import { FakePeerConnection } from '../../core/test/helpers/fakePeerConnection';
import { attachJsSip, jssipCauseReport, type JsSipCauseReport } from '../src/index';
import { SESSION_EVENTS, UA_EVENTS } from './events';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

class FakeURI {
  constructor(
    readonly user: string,
    readonly host = 'callmetry.test',
  ) {}
  toString(): string {
    return `sip:${this.user}@${this.host}`;
  }
}

class FakeSession extends EventEmitter {
  connection: FakePeerConnection | undefined;
  ended = false;
  constructor(
    readonly id: string,
    readonly direction: 'outgoing' | 'incoming',
    remote: string,
    local: string,
  ) {
    super();
    this.remote_identity = { uri: new FakeURI(remote), display_name: remote };
    this.local_identity = { uri: new FakeURI(local), display_name: local };
  }
  readonly remote_identity: { uri: FakeURI; display_name: string };
  readonly local_identity: { uri: FakeURI; display_name: string };
  isEnded(): boolean {
    return this.ended;
  }
  /** JsSIP's _createRTCConnection: the PC, then 'peerconnection'. */
  createPc(): FakePeerConnection {
    this.connection = new FakePeerConnection();
    this.emit('peerconnection', { peerconnection: this.connection });
    return this.connection;
  }
  /** JsSIP's _ended/_failed: close the PC, then emit. */
  end(kind: 'ended' | 'failed', data: Record<string, unknown>): void {
    this.ended = true;
    this.connection?.close();
    this.emit(kind, data);
  }
  adapterListeners(): number {
    return SESSION_EVENTS.reduce((n, e) => n + this.listenerCount(e), 0);
  }
}

class FakeUA extends EventEmitter {
  status = 1;
  sessions = new Set<FakeSession>();
  stopCalls = 0;
  private n = 0;
  /** JsSIP: the PC (and its 'peerconnection' event) come before newRTCSession. */
  call(target: string): FakeSession {
    const s = new FakeSession(`call-${++this.n}from`, 'outgoing', target, 'alice');
    s.createPc();
    this.sessions.add(s);
    this.emit('newRTCSession', { originator: 'local', session: s, request: { call_id: `call-${this.n}` } });
    return s;
  }
  incoming(from: string): FakeSession {
    const s = new FakeSession(`in-${++this.n}tag`, 'incoming', from, 'alice');
    this.sessions.add(s);
    this.emit('newRTCSession', { originator: 'remote', session: s, request: { call_id: `in-${this.n}` } });
    return s;
  }
  stop(): void {
    this.stopCalls++;
    this.status = 2;
    for (const s of this.sessions) if (!s.ended) s.end('ended', { originator: 'local', cause: 'Terminated' });
  }
  adapterListeners(): number {
    return UA_EVENTS.reduce((n, e) => n + this.listenerCount(e), 0);
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('attachJsSip (fake JsSIP objects)', () => {
  let monitor: Monitor;
  let events: FabricEventRecord[];
  let errors: ErrorRecord[];
  let custom: Array<{ conferenceID: string; name: string; data?: Record<string, unknown> }>;
  let ua: FakeUA;

  beforeEach(() => {
    monitor = createMonitor({ appID: 'app', localUserID: 'alice', logger: silent });
    events = [];
    errors = [];
    custom = [];
    monitor.on('fabricEvent', (e) => events.push(e));
    monitor.on('error', (e) => errors.push(e));
    monitor.on('customEvent', ({ conferenceID, name, data }) => custom.push({ conferenceID, name, ...(data ? { data } : {}) }));
    ua = new FakeUA();
  });
  afterEach(async () => {
    await monitor.close();
  });

  const names = (): string[] => events.map((e) => e.event);
  const appEvents = () => events.filter((e) => e.event !== 'fabricStateChange').map((e) => ({ event: e.event, ...(e.data ? { data: e.data } : {}) }));

  it('outgoing: fabric at newRTCSession (PC already there), Call-ID conference, remote user from the To URI', () => {
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    const fabric = monitor.getFabric(s.connection!);
    expect(fabric).toMatchObject({ conferenceID: 'call-1', remoteUserID: 'bob', remoteEndpointType: 'peer' });
    expect(fabric?.attributes).toEqual({
      sipCallID: 'call-1',
      sipDirection: 'outgoing',
      sipRemoteURI: 'sip:bob@callmetry.test',
      sipLocalURI: 'sip:alice@callmetry.test',
    });
    expect(monitor.fabrics()).toHaveLength(1);
  });

  it('incoming: fabric on the session peerconnection event (inside answer), remote user from From', () => {
    attachJsSip(ua, monitor);
    const s = ua.incoming('carol');
    expect(monitor.fabrics()).toHaveLength(0);
    const pc = s.createPc();
    expect(monitor.getFabric(pc)).toMatchObject({ conferenceID: 'in-1', remoteUserID: 'carol' });
  });

  it('incoming answered by an app listener that ran before the adapter: the PC is picked up at newRTCSession', () => {
    attachJsSip(ua, monitor);
    // The adapter prepends its newRTCSession listener; an app that prepends after it (or answers
    // from an initCallback) runs first, and the peerconnection event is gone by then.
    ua.prependListener('newRTCSession', ({ session }: { session: FakeSession }) => session.createPc());
    const s = ua.incoming('dave');
    expect(monitor.getFabric(s.connection!)?.remoteUserID).toBe('dave');
    expect(monitor.fabrics()).toHaveLength(1);
  });

  it('conferenceID and remoteUserID options (string, function, bad values fall back)', () => {
    attachJsSip(ua, monitor, { conferenceID: 'room-1', remoteUserID: ({ session }) => `x-${session.remote_identity?.uri?.user}`, attributes: { app: 1 } });
    const s = ua.call('bob');
    expect(monitor.getFabric(s.connection!)).toMatchObject({ conferenceID: 'room-1', remoteUserID: 'x-bob', attributes: { sipCallID: 'call-1', app: 1 } });

    const m2 = createMonitor({ appID: 'app', localUserID: 'alice', logger: silent });
    const ua2 = new FakeUA();
    attachJsSip(ua2, m2, { conferenceID: ({ callID, direction }) => `${direction}:${callID}` });
    const s2 = ua2.call('bob');
    expect(m2.getFabric(s2.connection!)?.conferenceID).toBe('outgoing:call-1');

    const m3 = createMonitor({ appID: 'app', localUserID: 'alice', logger: silent });
    const ua3 = new FakeUA();
    attachJsSip(ua3, m3, {
      conferenceID: () => {
        throw new Error('app bug');
      },
      remoteUserID: () => '',
    });
    const s3 = ua3.call('bob');
    expect(m3.getFabric(s3.connection!)).toMatchObject({ conferenceID: 'call-1', remoteUserID: 'bob' });
    void m2.close();
    void m3.close();
  });

  it('attaching twice returns the same detach and reports once', () => {
    const d1 = attachJsSip(ua, monitor);
    const d2 = attachJsSip(ua, monitor);
    expect(d2).toBe(d1);
    expect(ua.listenerCount('newRTCSession')).toBe(1);
    const s = ua.call('bob');
    s.emit('hold', { originator: 'local' });
    expect(appEvents()).toEqual([{ event: 'fabricHold', data: { originator: 'local' } }]);
    expect(s.adapterListeners()).toBe(SESSION_EVENTS.length);
  });

  it('hold/unhold on either side: one hold state; muted/unmuted flags give audio and video events', () => {
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    s.connection!.connect();
    s.emit('confirmed', { originator: 'local' });
    s.emit('hold', { originator: 'local' });
    s.emit('hold', { originator: 'remote' });
    s.emit('unhold', { originator: 'local' });
    s.emit('unhold', { originator: 'remote' });
    s.emit('muted', { audio: true, video: false });
    s.emit('muted', { audio: false, video: true });
    s.emit('unmuted', { audio: true, video: true });
    s.emit('muted', undefined);
    expect(appEvents()).toEqual([
      { event: 'fabricSetup', data: expect.any(Object) },
      { event: 'fabricHold', data: { originator: 'local' } },
      { event: 'fabricResume', data: { originator: 'remote' } },
      { event: 'audioMute' },
      { event: 'videoPause' },
      { event: 'audioUnmute' },
      { event: 'videoResume' },
    ]);
  });

  it('BYE: no report, fabric terminated with the reason (the PC is already closed); listeners released', async () => {
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    s.connection!.connect();
    s.end('ended', { originator: 'remote', cause: 'Terminated', message: { method: 'BYE' } });
    expect(names()).not.toContain('fabricTerminated'); // a microtask later
    await tick();
    expect(names()).toEqual(['fabricSetup', 'fabricStateChange', 'fabricTerminated', 'fabricStateChange']);
    expect(events[2]?.data).toEqual({ cause: 'Terminated', originator: 'remote', method: 'BYE' });
    expect(errors).toEqual([]);
    expect(s.adapterListeners()).toBe(0);
    expect(monitor.fabrics()).toEqual([]);
  });

  it('caller busy: callUnAnswered with cause and status on the fabric, then fabricTerminated', async () => {
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    s.emit('progress', { originator: 'remote', response: { status_code: 180 } });
    s.end('failed', { originator: 'remote', cause: 'Busy', message: { status_code: 486, reason_phrase: 'Busy Here' } });
    await tick();
    expect(appEvents()).toEqual([
      { event: 'callUnAnswered', data: { cause: 'Busy', originator: 'remote', statusCode: 486, reasonPhrase: 'Busy Here' } },
      { event: 'fabricTerminated', data: { cause: 'Busy', originator: 'remote', statusCode: 486, reasonPhrase: 'Busy Here' } },
    ]);
    expect(errors).toEqual([]);
    expect(custom).toEqual([]);
  });

  it('callee rejects (no PC): callUnAnswered as a conference custom event', async () => {
    attachJsSip(ua, monitor);
    const s = ua.incoming('bob');
    s.end('failed', { originator: 'local', cause: 'Rejected', message: null });
    await tick();
    expect(events).toEqual([]);
    expect(custom).toEqual([
      { conferenceID: 'in-1', name: 'callUnAnswered', data: { cause: 'Rejected', originator: 'local', sipCallID: 'in-1', sipDirection: 'incoming' } },
    ]);
    expect(s.adapterListeners()).toBe(0);
  });

  it('404: signalingError on the fabric; without a PC: on the conference', async () => {
    attachJsSip(ua, monitor);
    const s = ua.call('nobody');
    const fabricID = monitor.getFabric(s.connection!)!.id;
    s.end('failed', { originator: 'remote', cause: 'Not Found', message: { status_code: 404, reason_phrase: 'Not Found' } });
    const t = ua.incoming('x');
    t.end('failed', { originator: 'system', cause: 'Internal Error', message: 'answer() failed: boom' });
    await tick();
    expect(errors.map(({ timestamp: _t, ...e }) => e)).toEqual([
      {
        fabricID,
        conferenceID: 'call-1',
        webRTCFunction: 'signalingError',
        category: 'signalingError',
        name: 'Not Found',
        message: 'JsSIP call failed: Not Found 404 Not Found (originator remote)',
      },
      {
        conferenceID: 'in-2',
        webRTCFunction: 'applicationError',
        category: 'applicationError',
        name: 'Internal Error',
        message: 'JsSIP call failed: Internal Error (originator system): answer() failed: boom',
      },
    ]);
    expect(appEvents()).toEqual([
      { event: 'fabricTerminated', data: { cause: 'Not Found', originator: 'remote', statusCode: 404, reasonPhrase: 'Not Found' } },
    ]);
  });

  it('causeReports overrides the table', async () => {
    attachJsSip(ua, monitor, { causeReports: { 'Not Found': 'callUnAnswered', Busy: 'none' } });
    ua.call('nobody').end('failed', { originator: 'remote', cause: 'Not Found', message: { status_code: 404 } });
    ua.call('bob').end('failed', { originator: 'remote', cause: 'Busy', message: { status_code: 486 } });
    await tick();
    expect(appEvents().map((e) => e.event)).toEqual(['callUnAnswered', 'fabricTerminated', 'fabricTerminated']);
    expect(errors).toEqual([]);
  });

  it('WebRTC failures: createOffer, createAnswer (not createOffer), setLocalDescription and setRemoteDescription with SDPs', async () => {
    attachJsSip(ua, monitor);
    const s = ua.incoming('bob');
    const pc = s.createPc();
    const offer = { originator: 'remote', type: 'offer', sdp: 'v=0 offer' };
    s.emit('sdp', offer);
    offer.sdp = 'v=0 offer rewritten by the app'; // read when the failure is reported
    s.emit('peerconnection:setremotedescriptionfailed', Object.assign(new Error('bad offer'), { name: 'OperationError' }));
    pc.localDescription = { type: 'answer', sdp: 'v=0 local' };
    pc.remoteDescription = { type: 'offer', sdp: 'v=0 remote' };
    s.emit('peerconnection:createanswerfailed', new Error('no answer'));
    s.emit('peerconnection:createofferfailed', new Error('no offer'));
    s.emit('peerconnection:setlocaldescriptionfailed', new Error('no sld'));
    s.emit('getusermediafailed', Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' }));
    expect(errors.map((e) => [e.webRTCFunction, e.category, e.name ?? '', e.message, e.localSDP ?? '', e.remoteSDP ?? ''])).toEqual([
      ['setRemoteDescription', 'negotiationFailure', 'OperationError', 'bad offer', '', 'v=0 offer rewritten by the app'],
      ['createAnswer', 'negotiationFailure', 'Error', 'no answer', 'v=0 local', 'v=0 remote'],
      ['createOffer', 'negotiationFailure', 'Error', 'no offer', 'v=0 local', 'v=0 remote'],
      ['setLocalDescription', 'sdpGeneration', 'Error', 'no sld', 'v=0 local', 'v=0 remote'],
      ['getUserMedia', 'mediaConfiguration', 'NotAllowedError', 'Permission denied', '', ''],
    ]);
    expect(errors.every((e) => e.fabricID === monitor.getFabric(pc)?.id)).toBe(true);
  });

  it('errors JsSIP emits right after failed still reach the fabric before fabricTerminated', async () => {
    const order: string[] = [];
    monitor.on('fabricEvent', (e) => order.push(e.event));
    monitor.on('error', (e) => order.push(`error:${e.webRTCFunction}`));
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    const fabricID = monitor.getFabric(s.connection!)!.id;
    s.end('failed', { originator: 'local', cause: 'User Denied Media Access', message: null });
    s.emit('getusermediafailed', Object.assign(new Error('Requested device not found'), { name: 'NotFoundError' }));
    await tick();
    expect(order).toEqual(['error:applicationLog', 'error:getUserMedia', 'fabricTerminated', 'fabricStateChange']);
    expect(errors.every((e) => e.fabricID === fabricID)).toBe(true);
  });

  it('detach removes every listener (UA and sessions), restores ua.stop and terminates the fabrics; the call goes on', async () => {
    const protoStop = FakeUA.prototype.stop;
    const before = ua.adapterListeners();
    const detach = attachJsSip(ua, monitor);
    expect(Object.prototype.hasOwnProperty.call(ua, 'stop')).toBe(true);
    const s1 = ua.call('bob');
    const s2 = ua.incoming('carol');
    s2.createPc();
    expect(monitor.fabrics()).toHaveLength(2);
    detach();
    expect(ua.adapterListeners()).toBe(before);
    expect(s1.adapterListeners() + s2.adapterListeners()).toBe(0);
    expect(Object.prototype.hasOwnProperty.call(ua, 'stop')).toBe(false);
    expect(ua.stop).toBe(protoStop);
    expect(monitor.fabrics()).toEqual([]);
    expect(appEvents().filter((e) => e.event === 'fabricTerminated')).toEqual([{ event: 'fabricTerminated' }, { event: 'fabricTerminated' }]);
    // Nothing more is reported.
    const n = events.length;
    s1.emit('hold', { originator: 'local' });
    ua.call('dave');
    await tick();
    expect(events.length).toBe(n);
    expect(monitor.fabrics()).toEqual([]);
    // A new attach works again.
    attachJsSip(ua, monitor)();
    detach();
  });

  it('detach does not remove a wrapper someone put on top of ua.stop (ours goes inert)', () => {
    const detach = attachJsSip(ua, monitor);
    const ours = ua.stop;
    const appWrapper = vi.fn(function (this: FakeUA) {
      ours.call(this);
    });
    ua.stop = appWrapper;
    detach();
    expect(ua.stop).toBe(appWrapper);
    ua.stop();
    expect(ua.stopCalls).toBe(1);
    expect(appWrapper).toHaveBeenCalledOnce();
  });

  it('a fabric the app added itself is not terminated by detach', () => {
    const s = new FakeSession('x', 'incoming', 'bob', 'alice');
    const pc = new FakePeerConnection();
    const own = monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'mine' })!;
    const detach = attachJsSip(ua, monitor);
    ua.emit('newRTCSession', { originator: 'remote', session: s, request: { call_id: 'x' } });
    s.connection = pc;
    s.emit('peerconnection', { peerconnection: pc });
    detach();
    expect(own.state).not.toBe('terminated');
  });

  it('ua.stop(): sessions end (reported), then the adapter detaches itself', async () => {
    const before = ua.adapterListeners();
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    s.connection!.connect();
    ua.stop();
    expect(ua.stopCalls).toBe(1);
    await tick();
    expect(names()).toEqual(['fabricSetup', 'fabricStateChange', 'fabricTerminated', 'fabricStateChange']);
    expect(ua.adapterListeners()).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(ua, 'stop')).toBe(false);
    // Attaching again after a restart monitors again.
    ua.status = 1;
    attachJsSip(ua, monitor);
    ua.call('carol');
    expect(monitor.fabrics()).toHaveLength(1);
  });

  it('a stop that bypassed the wrapper: detaches on the disconnected event of a closed UA', async () => {
    attachJsSip(ua, monitor);
    FakeUA.prototype.stop.call(ua);
    ua.emit('disconnected', { error: false });
    await tick();
    expect(ua.adapterListeners()).toBe(0);
    // ... but not on a transport loss of a running UA.
    const u2 = new FakeUA();
    attachJsSip(u2, monitor);
    u2.emit('disconnected', { error: true });
    await tick();
    expect(u2.adapterListeners()).toBe(2);
  });

  it('never throws into JsSIP or the app', async () => {
    const throwing: Logger = {
      debug: () => {
        throw new Error('logger');
      },
      info: () => undefined,
      warn: () => {
        throw new Error('logger');
      },
      error: () => {
        throw new Error('logger');
      },
    };
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(attachJsSip(undefined as never, monitor)).toBeTypeOf('function');
    expect(attachJsSip(ua, undefined as never)).toBeTypeOf('function');
    expect(attachJsSip(ua, {} as never)).toBeTypeOf('function');
    expect(consoleError).toHaveBeenCalledTimes(2);
    consoleError.mockRestore();
    await monitor.close();
    monitor = createMonitor({ appID: 'app', localUserID: 'alice', logger: throwing });
    attachJsSip(ua, monitor);
    expect(() => ua.emit('newRTCSession', undefined)).not.toThrow();
    expect(() => ua.emit('newRTCSession', { originator: 'remote', session: {} })).not.toThrow();
    const s = ua.call('bob');
    vi.spyOn(monitor, 'reportError').mockImplementation(() => {
      throw new Error('monitor bug');
    });
    const fabric = monitor.getFabric(s.connection!)!;
    vi.spyOn(fabric, 'sendEvent').mockImplementation(() => {
      throw new Error('fabric bug');
    });
    for (const ev of SESSION_EVENTS) {
      expect(() => s.emit(ev, undefined)).not.toThrow();
      expect(() => s.emit(ev, null)).not.toThrow();
      expect(() => s.emit(ev, { originator: 7, cause: {}, message: 5 })).not.toThrow();
    }
    await tick();
  });

  it('a session whose end cannot be read (throwing getters) is still released and its fabric terminated', async () => {
    attachJsSip(ua, monitor);
    // A hostile 'failed' payload: its cause getter throws.
    const s = ua.call('bob');
    s.end('failed', {
      originator: 'remote',
      get cause(): string {
        throw new Error('hostile payload');
      },
    });
    // A session whose connection getter throws once the PC exists (read when the 404 is reported).
    const t = ua.incoming('carol');
    t.createPc();
    Object.defineProperty(t, 'connection', {
      get() {
        throw new Error('hostile session');
      },
    });
    expect(() => t.emit('failed', { originator: 'remote', cause: 'Not Found', message: { status_code: 404 } })).not.toThrow();
    await tick();
    expect(s.adapterListeners() + t.adapterListeners()).toBe(0);
    expect(monitor.fabrics()).toEqual([]);
    expect(names().filter((n) => n === 'fabricTerminated')).toHaveLength(2);
  });

  it('a refused PC (already closed) is not retried at every event; the warning goes to the monitor logger', async () => {
    const warn = vi.fn();
    await monitor.close();
    monitor = createMonitor({ appID: 'app', localUserID: 'alice', logger: { ...silent, warn } });
    attachJsSip(ua, monitor);
    const s = ua.incoming('bob');
    s.connection = new FakePeerConnection();
    s.connection.close();
    for (const ev of ['connecting', 'sending', 'progress', 'accepted', 'confirmed']) s.emit(ev, {});
    expect(monitor.fabrics()).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.join(' ')).toContain('already closed');
  });

  it('the monitor closing detaches the adapter: listeners and the ua.stop wrapper go', async () => {
    const before = ua.adapterListeners();
    attachJsSip(ua, monitor);
    const s = ua.call('bob');
    await monitor.close();
    expect(ua.adapterListeners()).toBe(before);
    expect(s.adapterListeners()).toBe(0);
    expect(Object.prototype.hasOwnProperty.call(ua, 'stop')).toBe(false);
    ua.call('carol');
    expect(monitor.fabrics()).toEqual([]);
  });

  it('cause table: every JsSIP cause (JsSIP 3.13 C.causes) as the README says; unknown causes are applicationLog', () => {
    const table: Record<JsSipCauseReport, string[]> = {
      callUnAnswered: ['Busy', 'Rejected', 'Canceled', 'No Answer', 'Unavailable', 'Expires'],
      signalingError: [
        'Not Found',
        'Address Incomplete',
        'Authentication Error',
        'Incompatible SDP',
        'Missing SDP',
        'Bad Media Description',
        'Request Timeout',
        'Connection Error',
        'SIP Failure Code',
        'Dialog Error',
        'No ACK',
      ],
      applicationError: ['Internal Error'],
      applicationLog: ['User Denied Media Access', 'WebRTC Error', 'RTP Timeout', 'Redirected'],
      none: ['Terminated'],
    };
    const causes = Object.values(table).flat();
    expect(causes).toHaveLength(23);
    for (const [report, list] of Object.entries(table)) for (const cause of list) expect([cause, jssipCauseReport(cause)]).toEqual([cause, report]);
    expect(jssipCauseReport('Something New')).toBe('applicationLog');
    expect(jssipCauseReport('Busy Here')).toBe('applicationLog');
    expect(jssipCauseReport('')).toBe('applicationLog');
    expect(jssipCauseReport(undefined)).toBe('applicationLog');
    expect(jssipCauseReport('Busy', { Busy: 'signalingError' })).toBe('signalingError');
    expect(jssipCauseReport('Busy', { Busy: 'nonsense' as never })).toBe('callUnAnswered');
    expect(jssipCauseReport('toString')).toBe('applicationLog');
  });
});
