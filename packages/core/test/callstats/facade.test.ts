import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallStats } from '../../src/callstats/CallStats';
import type { ErrorRecord } from '../../src/types';
import { FakePeerConnection } from '../helpers/fakePeerConnection';
import { fabricEvents, init, initWithPc, quietLogger } from './helpers';

describe('CallStats enums', () => {
  it('exposes callstats.js enums with exact values as static and instance properties', () => {
    const cs = new CallStats();
    expect(CallStats.fabricUsage).toEqual({ audio: 'audio', video: 'video', data: 'data', screen: 'screen', multiplex: 'multiplex', unbundled: 'unbundled' });
    expect(cs.endpointType).toEqual({ peer: 'peer', server: 'server' });
    expect(cs.transmissionDirection).toEqual({ sendonly: 'sendonly', receiveonly: 'receiveonly', sendrecv: 'sendrecv', inactive: 'inactive' });
    expect(Object.keys(cs.webRTCFunctions)).toEqual([
      'createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription', 'addIceCandidate',
      'getUserMedia', 'iceConnectionFailure', 'signalingError', 'applicationError', 'applicationLog',
    ]);
    expect(cs.qualityRating).toEqual({ excellent: 5, good: 4, fair: 3, poor: 2, bad: 1 });
    expect(cs.csError.invalidWebRTCFunctionName).toBe('Invalid WebRTC function name');
    expect(cs.csError.invalidEndPointType).toBe('Invalid EndPoint Type');
    expect(cs.csError.invalidTransmissionDirection).toBe('Invalid fabric transmission direction');
    expect(cs.csError.authError).toBe('authError');
    expect(cs.fabricEvent.callUnAnswered).toBe('callUnAnswered');
    expect(cs.userIDType).toEqual({ local: 'local', remote: 'remote' });
    expect(CallStats.fabricEvent).toBe(cs.fabricEvent);
  });
});

describe('CallStats.initialize', () => {
  it('succeeds in local-only mode and calls csInitCallback with success', async () => {
    const cs = new CallStats();
    const { result, initCb } = init(cs);
    expect(result).toEqual({ status: 'success' });
    await cs.monitor?.ready;
    await Promise.resolve();
    expect(initCb).toHaveBeenCalledWith('success', expect.stringContaining('Local-only mode'));
  });

  it.each([
    ['no appID', [undefined, 'secret', 'alice']],
    ['no secret', ['app', undefined, 'alice']],
    ['secret of a wrong type', ['app', 42, 'alice']],
    ['no localUserID', ['app', 'secret', undefined]],
    ['empty localUserID object', ['app', 'secret', {}]],
  ])('refuses %s with a clear message', (_name, args) => {
    const cs = new CallStats();
    const result = (cs.initialize as (...a: unknown[]) => unknown)(...args, undefined, undefined, { logger: quietLogger() });
    expect(result).toMatchObject({ status: 'failure', message: expect.stringMatching(/^initialize: Argument missing\/invalid/) });
  });

  it('accepts {userName, aliasName} as localUserID', () => {
    const cs = new CallStats();
    const r = cs.initialize('app', 'secret', { userName: 'Alice A.', aliasName: 'alice' }, undefined, undefined, { logger: quietLogger() });
    expect(r.status).toBe('success');
    expect(cs.monitor?.localUserID).toBe('alice');
  });

  it('refuses a second initialize', () => {
    const cs = new CallStats();
    init(cs);
    expect(init(cs).result.status).toBe('failure');
  });

  it('says why a second initialize is refused: one callstats object per app', () => {
    const cs = new CallStats();
    init(cs);
    expect(init(cs).result).toEqual({ status: 'failure', message: 'initialize: already initialized (one callstats object per app)' });
  });

  it('never throws, even for hostile arguments', () => {
    const cs = new CallStats();
    const hostile = new Proxy({}, { get() { throw new Error('boom'); } });
    expect(() => cs.initialize(hostile as never, hostile as never, hostile as never, hostile as never, hostile as never, hostile as never)).not.toThrow();
  });
});

describe('CallStats.addNewFabric', () => {
  let cs: CallStats;
  let pc: FakePeerConnection;
  beforeEach(() => {
    ({ cs, pc } = initWithPc(false));
  });
  afterEach(() => pc.close());

  it('adds a fabric and adding the same pc twice is harmless', () => {
    expect(cs.addNewFabric(pc, 'bob', 'multiplex', 'conf-1')).toEqual({ status: 'success' });
    expect(cs.addNewFabric(pc, 'bob', 'multiplex', 'conf-1')).toEqual({ status: 'success' });
    expect(cs.monitor?.fabrics()).toHaveLength(1);
  });

  it.each([
    ['null pc', [null, 'bob', 'audio', 'conf'], /Argument missing\/invalid/],
    ['not a pc', [{}, 'bob', 'audio', 'conf'], /Invalid PeerConnection object passed/],
    ['missing remoteUserID', ['PC', undefined, 'audio', 'conf'], /Argument missing\/invalid/],
    ['missing conferenceID', ['PC', 'bob', 'audio', undefined], /Argument missing\/invalid/],
    ['unknown usage', ['PC', 'bob', 'telepathy', 'conf'], /Invalid fabricUsage value telepathy/],
  ])('refuses %s', (_name, args, message) => {
    const realArgs = (args as unknown[]).map((a) => (a === 'PC' ? pc : a));
    const result = (cs.addNewFabric as (...a: unknown[]) => unknown)(...realArgs);
    expect(result).toMatchObject({ status: 'failure', message: expect.stringMatching(message) });
  });

  it('validates fabricAttributes with callstats.js messages', () => {
    expect(cs.addNewFabric(pc, 'bob', 'audio', 'c', { remoteEndpointType: 'alien' })).toMatchObject({
      status: 'failure',
      message: 'addNewFabric: Invalid EndPoint Type alien',
    });
    expect(cs.addNewFabric(pc, 'bob', 'audio', 'c', { fabricTransmissionDirection: 'recvonly' })).toMatchObject({
      status: 'failure',
      message: 'addNewFabric: Invalid fabric transmission direction recvonly',
    });
    expect(cs.addNewFabric(pc, 'sfu', 'audio', 'c', { remoteEndpointType: 'server', fabricTransmissionDirection: 'receiveonly' }).status).toBe('success');
    const fabric = cs.monitor?.getFabric(pc);
    expect(fabric?.remoteEndpointType).toBe('server');
    expect(fabric?.direction).toBe('receiveonly');
  });

  it('refuses a closed pc', () => {
    pc.close();
    expect(cs.addNewFabric(pc, 'bob', 'audio', 'c')).toMatchObject({ status: 'failure', message: expect.stringContaining('closed') });
  });

  it('accepts pcCallback in 5th position and calls it on disruption', () => {
    const cb = vi.fn();
    cs.addNewFabric(pc, 'bob', 'audio', 'c', cb);
    pc.connect();
    pc.setStates({ connectionState: 'disconnected', iceConnectionState: 'disconnected' });
    expect(cb).toHaveBeenCalledWith('appConnectivityError', 'Connectivity check for PC object to bob failed.');
  });
});

describe('CallStats.sendFabricEvent', () => {
  let cs: CallStats;
  let pc: FakePeerConnection;
  beforeEach(() => {
    ({ cs, pc } = initWithPc(true));
  });

  it('sends valid events in order', () => {
    const events = fabricEvents(cs);
    expect(cs.sendFabricEvent(pc, 'audioMute', 'conf').status).toBe('success');
    expect(cs.sendFabricEvent(pc, 'audioUnmute', 'conf').status).toBe('success');
    expect(cs.sendFabricEvent(pc, 'dominantSpeaker', 'conf').status).toBe('success');
    expect(events.map((e) => e.event)).toEqual(['audioMute', 'audioUnmute', 'dominantSpeaker']);
  });

  it('refuses unknown events, fabricSetupFailed, and activeDeviceList without a deviceList', () => {
    expect(cs.sendFabricEvent(pc, 'explode' as never, 'conf')).toEqual({ status: 'failure', message: 'sendFabricEvent: Invalid fabricEvents value explode' });
    expect(cs.sendFabricEvent(pc, 'fabricSetupFailed', 'conf')).toEqual({
      status: 'failure',
      message: 'sendFabricEvent: Unsupported fabricEvent fabricSetupFailed',
    });
    expect(cs.sendFabricEvent(pc, 'activeDeviceList', 'conf')).toMatchObject({ status: 'failure', message: expect.stringContaining('deviceList') });
    expect(cs.sendFabricEvent(pc, 'activeDeviceList', 'conf', { deviceList: [] }).status).toBe('success');
  });

  it('refuses an unknown pc, a wrong conference and a terminated fabric', () => {
    const other = new FakePeerConnection();
    expect(cs.sendFabricEvent(other, 'audioMute', 'conf')).toMatchObject({ status: 'failure', message: expect.stringContaining('Invalid PeerConnection') });
    expect(cs.sendFabricEvent(pc, 'audioMute', 'other-conf')).toMatchObject({ status: 'failure', message: expect.stringContaining('conferenceId does not exist') });
    expect(cs.sendFabricEvent(pc, 'fabricTerminated', 'conf').status).toBe('success');
    expect(cs.sendFabricEvent(pc, 'audioMute', 'conf').status).toBe('failure');
  });

  it('hold stops getStats polling and resume restarts it', async () => {
    vi.useFakeTimers();
    try {
      const cs2 = new CallStats();
      init(cs2);
      const pc2 = new FakePeerConnection();
      cs2.addNewFabric(pc2, 'bob', 'audio', 'conf');
      pc2.connect();
      await vi.advanceTimersByTimeAsync(3100);
      const before = pc2.getStatsCalls;
      expect(before).toBeGreaterThanOrEqual(2);
      cs2.sendFabricEvent(pc2, 'fabricHold', 'conf');
      expect(cs2.monitor?.getFabric(pc2)?.state).toBe('hold');
      await vi.advanceTimersByTimeAsync(5000);
      expect(pc2.getStatsCalls).toBe(before);
      cs2.sendFabricEvent(pc2, 'fabricResume', 'conf');
      await vi.advanceTimersByTimeAsync(2100);
      expect(pc2.getStatsCalls).toBeGreaterThan(before);
      expect(cs2.monitor?.getFabric(pc2)?.state).toBe('established');
      pc2.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('CallStats.reportError', () => {
  let cs: CallStats;
  let pc: FakePeerConnection;
  let errors: ErrorRecord[];
  beforeEach(() => {
    ({ cs, pc } = initWithPc(true));
    errors = [];
    cs.on('error', (e) => errors.push(e as ErrorRecord));
  });

  it('classifies failures as callstats.js did', () => {
    const cases: Array<[string, string]> = [
      ['createOffer', 'negotiationFailure'],
      ['createAnswer', 'negotiationFailure'],
      ['setRemoteDescription', 'negotiationFailure'],
      ['setLocalDescription', 'sdpGeneration'],
      ['addIceCandidate', 'sdpGeneration'],
      ['getUserMedia', 'mediaConfiguration'],
      ['iceConnectionFailure', 'iceFailureBeforeSetup'],
      ['signalingError', 'signalingError'],
      ['applicationLog', 'applicationLog'],
    ];
    for (const [fn] of cases) expect(cs.reportError(pc, 'conf', fn as never, new Error(fn)).status).toBe('success');
    expect(errors.map((e) => [e.webRTCFunction, e.category])).toEqual(cases);
    pc.connect();
    cs.reportError(pc, 'conf', 'iceConnectionFailure', 'lost');
    expect(errors.at(-1)?.category).toBe('iceFailureAfterSetup');
  });

  it('accepts Error objects, DOMException-like objects, strings and SDPs', () => {
    cs.reportError(pc, 'conf', 'setRemoteDescription', { name: 'InvalidAccessError', message: 'bad sdp' }, 'v=0 local', { type: 'offer', sdp: 'v=0 remote' } as never);
    cs.reportError(pc, 'conf', 'getUserMedia', 'NotAllowedError: denied');
    cs.reportError(pc, 'conf', 'createOffer', null);
    expect(errors[0]).toMatchObject({ name: 'InvalidAccessError', message: 'bad sdp', localSDP: 'v=0 local', remoteSDP: 'v=0 remote' });
    expect(errors[1]).toMatchObject({ message: 'NotAllowedError: denied' });
    expect(errors[2]?.message).toContain('createOffer failed');
  });

  it('caps an application log at 20 KB and warns', () => {
    const huge = 'x'.repeat(50_000);
    const result = cs.reportError(pc, 'conf', 'applicationLog', huge);
    expect(result.status).toBe('success');
    expect(result.message).toContain('truncated');
    expect(errors[0]?.message.length).toBe(20 * 1024);
  });

  it('refuses an unknown function and accepts errors without a pc', () => {
    expect(cs.reportError(pc, 'conf', 'fly' as never, 'x')).toEqual({ status: 'failure', message: 'reportError: Invalid webRTC functionName value fly' });
    expect(cs.reportError(null, 'conf', 'getUserMedia', 'denied').status).toBe('success');
    expect(errors.at(-1)).toMatchObject({ conferenceID: 'conf', category: 'mediaConfiguration' });
  });
});

describe('calls before initialize', () => {
  it('are queued and delivered in order afterwards', () => {
    const cs = new CallStats();
    const pc = new FakePeerConnection();
    expect(cs.addNewFabric(pc, 'bob', 'audio', 'conf').status).toBe('success');
    expect(cs.sendFabricEvent(pc, 'audioMute', 'conf').status).toBe('success');
    expect(cs.sendFabricEvent(pc, 'videoPause', 'conf').status).toBe('success');
    // Invalid arguments are refused at once, not queued.
    expect(cs.sendFabricEvent(pc, 'nope' as never, 'conf').status).toBe('failure');
    const logger = quietLogger();
    const events: string[] = [];
    cs.initialize('app', 'secret', 'alice', undefined, undefined, { logger });
    // The replay happens inside initialize; subscribe via the monitor to check the state it left.
    const fabric = cs.monitor?.getFabric(pc);
    expect(fabric).toBeDefined();
    cs.monitor?.on('fabricEvent', (e) => events.push(e.event));
    cs.sendFabricEvent(pc, 'videoResume', 'conf');
    expect(events).toEqual(['videoResume']);
    pc.close();
  });
});

describe('listeners and callbacks', () => {
  it('a throwing stats callback or listener is caught and logged', async () => {
    vi.useFakeTimers();
    try {
      const cs = new CallStats();
      const logger = quietLogger();
      cs.initialize('app', 'secret', 'alice', () => { throw new Error('init cb'); }, () => { throw new Error('stats cb'); }, {
        logger,
        statsCallbackIntervalMs: 1000,
      });
      cs.on('stats', () => { throw new Error('listener'); });
      const pc = new FakePeerConnection();
      cs.addNewFabric(pc, 'bob', 'audio', 'conf');
      pc.connect();
      await vi.advanceTimersByTimeAsync(2500);
      expect(logger.lines.some((l) => l.includes('csInitCallback threw'))).toBe(true);
      expect(logger.lines.filter((l) => l.includes("'stats' callback threw")).length).toBeGreaterThanOrEqual(2);
      pc.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('on() refuses unknown events', () => {
    const cs = new CallStats();
    expect(cs.on('nope' as never, () => undefined)).toEqual({ status: 'failure', message: 'on: Argument missing/invalid' });
    expect(cs.on('recommendedConfig', () => undefined).status).toBe('success');
  });
});

describe('feedback, custom events, proxy config', () => {
  it('validates feedback', () => {
    const cs = new CallStats();
    init(cs);
    const cb = vi.fn();
    expect(cs.sendUserFeedback('conf', { overall: 4, audio: 5, comment: 'ok' }, cb).status).toBe('success');
    expect(cb).toHaveBeenCalledWith('success', expect.any(String));
    expect(cs.sendUserFeedback('conf', { overall: 9 }).status).toBe('failure');
    expect(cs.sendUserFeedback('', { overall: 3 }).status).toBe('failure');
    expect(cs.sendUserFeedback('conf', null as never).status).toBe('failure');
  });

  it('validates custom events and stats', () => {
    const cs = new CallStats();
    init(cs);
    expect(cs.sendCustomEvent(null, 'conf', [{ type: 'x' }]).status).toBe('success');
    expect(cs.sendCustomEvent(null, 'conf', []).status).toBe('failure');
    expect(cs.sendCustomStats(null, 'conf', { cpu: 0.5 }).status).toBe('success');
    expect(cs.sendCustomStats(null, 'conf', { cpu: 'high' } as never).status).toBe('failure');
  });

  it('setProxyConfig takes a URL before initialize only', () => {
    const cs = new CallStats();
    expect(cs.setProxyConfig({ collectorURL: 'not a url' }).status).toBe('failure');
    expect(cs.setProxyConfig({ collectorURL: 'http://127.0.0.1:9' }).status).toBe('success');
    init(cs);
    expect(cs.setProxyConfig({ collectorURL: 'http://127.0.0.1:9' }).status).toBe('failure');
  });
});
