// The facade against callstats.js 3.73.16 itself (bench/node_modules/callstats-js, read from its
// bundle): what an integration written for it relies on beyond the happy path of facade.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallStats, toCsStats } from '../../src/callstats/CallStats';
import type { CsStats, FabricEventRecord, FabricStats, StreamStats } from '../../src/types';
import { FakePeerConnection } from '../helpers/fakePeerConnection';
import { loadFixture } from '../fixtures/load';
import { fabricEvents, init, initWithPc, quietLogger } from './helpers';

/** Every method on callstats.js 3.73.16's prototype (module 36 of its bundle), in its order. */
const CALLSTATS_METHODS = [
  'initialize', 'addNewFabric', 'sendFabricEvent', 'sendCustomEvent', 'sendCustomStats', 'sendCallDetails',
  'sendUserFeedback', 'associateMstWithUserID', 'reportError', 'setProxyConfig', 'resetWifiStatsHandler',
  'attachWifiStatsHandler', 'setIdentifiers', 'getTurnCredentials', 'makePrecallTest', 'stopPrecallTests',
  'startPrecallTests', 'getSctResults', 'on',
] as const;

describe('every callstats.js method exists', () => {
  it('none is missing, and the ones without an equivalent answer a failure that says so, with a warning', async () => {
    const cs = new CallStats();
    const { logger } = init(cs);
    const api = cs as unknown as Record<string, unknown>;
    expect(CALLSTATS_METHODS.filter((m) => typeof api[m] != 'function')).toEqual([]);

    const unsupported = ['setIdentifiers', 'attachWifiStatsHandler', 'resetWifiStatsHandler', 'makePrecallTest', 'startPrecallTests', 'stopPrecallTests'];
    for (const name of unsupported) {
      const result = (api[name] as (...a: unknown[]) => unknown)({ conferenceID: 'c' }, () => undefined);
      expect(result).toEqual({ status: 'failure', message: expect.stringMatching(new RegExp(`^${name}: not supported`)) });
    }
    // callstats.js answers a Promise here and null there: so do we (never a Result an app can't use).
    await expect(cs.getTurnCredentials('user', 'pass')).rejects.toThrow(/^getTurnCredentials: not supported/);
    expect(cs.getSctResults()).toBeNull();
    expect(logger.lines.filter((l) => l.startsWith('warn ') && l.includes('not supported'))).toHaveLength(unsupported.length + 2);
  });

  it("on() with callstats.js's other events answers unsupported, not an argument error", () => {
    const cs = new CallStats();
    const { logger } = init(cs);
    for (const event of ['preCallTestResults', 'preCallTest', 'connectionRecommendation', 'mediaDisruption', 'pctConnectionQualityChange'])
      expect(cs.on(event, () => undefined)).toEqual({ status: 'failure', message: expect.stringMatching(new RegExp(`^on\\('${event}'\\): not supported`)) });
    expect(cs.on('nope', () => undefined)).toEqual({ status: 'failure', message: 'on: Argument missing/invalid' });
    expect(cs.on('preCallTest', 'not a function' as never)).toEqual({ status: 'failure', message: 'on: Argument missing/invalid' });
  });
});

describe('methods work unbound, as in callstats.js (whose methods use no `this`)', () => {
  it('destructured methods and methods called with another `this` still work', () => {
    const cs = new CallStats();
    const { initialize, addNewFabric, sendFabricEvent, reportError, on, setIdentifiers } = cs;
    expect(initialize('app', 'secret', 'alice', undefined, undefined, { logger: quietLogger() })).toEqual({ status: 'success' });
    const pc = new FakePeerConnection();
    expect(addNewFabric(pc, 'bob', 'multiplex', 'conf')).toEqual({ status: 'success' });
    const events: string[] = [];
    cs.monitor?.on('fabricEvent', (e) => events.push(e.event));
    expect(sendFabricEvent(pc, 'audioMute', 'conf')).toEqual({ status: 'success' });
    expect(sendFabricEvent.call(undefined, pc, 'audioUnmute', 'conf')).toEqual({ status: 'success' });
    expect(reportError(pc, 'conf', 'getUserMedia', 'denied').status).toBe('success');
    expect(on('error', () => undefined).status).toBe('success');
    expect(() => setIdentifiers({ conferenceID: 'x' })).not.toThrow();
    expect(events).toEqual(['audioMute', 'audioUnmute']);
    pc.close();
  });

  it('methods stay replaceable on the instance (lib-jitsi-meet wraps them)', () => {
    const cs = new CallStats();
    const original = cs.sendFabricEvent;
    const calls: unknown[][] = [];
    cs.sendFabricEvent = (...args) => (calls.push(args), original(...args));
    cs.sendFabricEvent(new FakePeerConnection(), 'audioMute', 'conf');
    expect(calls).toHaveLength(1);
  });
});

describe('on(): one callback per event, as callstats.js', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("on('stats') replaces initialize's csStatsCallback and a previous on('stats')", async () => {
    const cs = new CallStats();
    const fromInit = vi.fn();
    const first = vi.fn();
    const second = vi.fn();
    cs.initialize('app', 'secret', 'alice', undefined, fromInit, { logger: quietLogger(), statsCallbackIntervalMs: 1000 });
    const pc = new FakePeerConnection();
    cs.addNewFabric(pc, 'bob', 'audio', 'conf');
    pc.connect();
    await vi.advanceTimersByTimeAsync(1500);
    expect(fromInit).toHaveBeenCalled();
    cs.on('stats', first);
    cs.on('stats', second);
    const before = fromInit.mock.calls.length;
    await vi.advanceTimersByTimeAsync(3000);
    expect(fromInit.mock.calls.length).toBe(before);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalled();
    pc.close();
  });

  it("before initialize: an on('stats') is kept when initialize gives no csStatsCallback, replaced when it gives one", async () => {
    const run = async (csStatsCallback?: () => void) => {
      const early = vi.fn();
      const cs = new CallStats();
      cs.on('stats', early);
      cs.initialize('app', 'secret', 'alice', undefined, csStatsCallback, { logger: quietLogger(), statsCallbackIntervalMs: 1000 });
      const pc = new FakePeerConnection();
      cs.addNewFabric(pc, 'bob', 'audio', 'conf');
      pc.connect();
      await vi.advanceTimersByTimeAsync(2500);
      pc.close();
      return early.mock.calls.length;
    };
    expect(await run()).toBeGreaterThan(0);
    const given = vi.fn();
    expect(await run(given)).toBe(0);
    expect(given).toHaveBeenCalled();
  });
});

describe('csStatsCallback values, as callstats.js gives them', () => {
  const stream = (over: Partial<StreamStats>): StreamStats => ({
    ssrc: '1', statsType: 'inbound-rtp', mediaType: 'audio', userID: 'bob', remoteUserID: 'bob', ...over,
  });

  it("quality in callstats.js's words (excellent / fair / bad / unknown), audioLevel, one object per stream", () => {
    const tracks = [
      stream({ ssrc: '1', quality: 'excellent', audioOutputLevel: 0.25 }),
      stream({ ssrc: '2', quality: 'good', mediaType: 'video' }),
      stream({ ssrc: '3', quality: 'fair', statsType: 'outbound-rtp', audioInputLevel: 0.5 }),
      stream({ ssrc: '4', quality: 'poor' }),
      stream({ ssrc: '5', quality: 'bad' }),
      stream({ ssrc: '6' }),
    ];
    const stats: FabricStats = {
      fabricID: 'f', conferenceID: 'c', connectionState: 'connected', fabricState: 'established', conferenceURL: 'u', timestamp: 1,
      streams: Object.fromEntries(tracks.map((t) => [t.ssrc, t])), mediaStreamTracks: tracks, connection: {},
    };
    const cs = toCsStats(stats);
    expect(cs.connectionState).toBe('online');
    expect(cs.fabricState).toBe('established');
    expect(cs.mediaStreamTracks.map((t) => t.quality)).toEqual(['excellent', 'fair', 'fair', 'fair', 'bad', 'unknown']);
    expect(cs.mediaStreamTracks.map((t) => t.audioLevel)).toEqual([0.25, undefined, undefined, undefined, undefined, undefined]);
    for (const t of cs.mediaStreamTracks) expect(cs.streams[t.ssrc]).toBe(t);
    // The monitor's own FabricStats are left as they were.
    expect(tracks.map((t) => t.quality)).toEqual(['excellent', 'good', 'fair', 'poor', 'bad', undefined]);
    expect(stats.connectionState).toBe('connected');
  });

  it('connectionState is the browser network state: offline when navigator.onLine is false', () => {
    vi.stubGlobal('navigator', { onLine: false });
    try {
      const stats = { connectionState: 'connected', streams: {}, mediaStreamTracks: [] } as unknown as FabricStats;
      expect(toCsStats(stats).connectionState).toBe('offline');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('reaches csStatsCallback from a recorded Chromium call; the typed monitor keeps its own values', async () => {
    vi.useFakeTimers();
    try {
      const side = loadFixture('chromium/p2p-audio-video.json').caller!;
      const cs = new CallStats();
      const facade: CsStats[] = [];
      const typed: FabricStats[] = [];
      cs.initialize('app', 'secret', 'alice', undefined, (s) => facade.push(s), {
        logger: quietLogger(), statsIntervalMs: 1000, statsCallbackIntervalMs: 1000,
      });
      cs.monitor?.on('stats', (s) => typed.push(s));
      const pc = new FakePeerConnection();
      pc.localDescription = { type: 'offer', sdp: side.localSDP };
      pc.remoteDescription = { type: 'answer', sdp: side.remoteSDP };
      cs.addNewFabric(pc, 'bob', 'multiplex', 'conf');
      pc.connect();
      for (const poll of side.polls) {
        pc.nextReport = poll;
        await vi.advanceTimersByTimeAsync(1000);
      }
      pc.close();
      const last = facade.at(-1);
      expect(last?.connectionState).toBe('online');
      expect(typed.at(-1)?.connectionState).toBe('connected');
      const inAudio = last?.mediaStreamTracks.find((t) => t.statsType === 'inbound-rtp' && t.mediaType === 'audio');
      expect(inAudio?.audioLevel).toBeGreaterThan(0);
      expect(inAudio?.audioLevel).toBe(inAudio?.audioOutputLevel);
      for (const t of last?.mediaStreamTracks ?? []) expect(['excellent', 'fair', 'bad', 'unknown']).toContain(t.quality);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('associateMstWithUserID', () => {
  it('takes a {userName, aliasName} userID (lib-jitsi-meet passes its local one) as its alias', () => {
    const cs = new CallStats();
    cs.initialize('app', 'secret', 'alice', undefined, undefined, { logger: quietLogger() });
    const pc = new FakePeerConnection();
    cs.addNewFabric(pc, 'sfu', 'multiplex', 'conf', { remoteEndpointType: 'server' });
    const fabric = cs.monitor?.getFabric(pc);
    const mapStream = vi.spyOn(fabric!, 'mapStream');
    expect(cs.associateMstWithUserID(pc, { userName: 'Alice A.', aliasName: 'alice-1' }, 'conf', 1234, 'camera', 'video-1').status).toBe('success');
    expect(cs.associateMstWithUserID(pc, 'carol', 'conf', '99', 'microphone').status).toBe('success');
    expect(mapStream.mock.calls.map(([sel, map]) => [sel, map.userID])).toEqual([
      [{ ssrc: '1234' }, 'alice-1'],
      [{ ssrc: '99' }, 'carol'],
    ]);
    pc.close();
  });
});

describe('sendCallDetails', () => {
  let cs: CallStats;
  let pc: FakePeerConnection;
  let events: FabricEventRecord[];
  beforeEach(() => {
    ({ cs, pc } = initWithPc(true));
    events = fabricEvents(cs);
  });
  afterEach(() => pc.close());

  it('sends the callDetails fabric event, callType defaulting to unknown (the app object left as is)', () => {
    const details = { role: 'agent', contactID: 'c-1' };
    expect(cs.sendCallDetails(pc, 'conf', details)).toEqual({ status: 'success' });
    expect(cs.sendCallDetails(pc, 'conf', { role: 'participant', callType: 'inbound' }).status).toBe('success');
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['callDetails', { role: 'agent', contactID: 'c-1', callType: 'unknown' }],
      ['callDetails', { role: 'participant', callType: 'inbound' }],
    ]);
    expect(details).toEqual({ role: 'agent', contactID: 'c-1' });
  });

  it("refuses what callstats.js refused: no pc, no eventData, no role, a role or callType not in its enums", () => {
    const fail = { status: 'failure', message: 'sendCallDetails: Argument missing/invalid' };
    expect(cs.sendCallDetails(null as never, 'conf', { role: 'agent' })).toEqual(fail);
    expect(cs.sendCallDetails(pc, 'conf', undefined as never)).toEqual(fail);
    expect(cs.sendCallDetails(pc, 'conf', {} as never)).toEqual(fail);
    expect(cs.sendCallDetails(pc, 'conf', { role: 'boss' })).toEqual(fail);
    expect(cs.sendCallDetails(pc, 'conf', { role: 'agent', callType: 'sideways' })).toEqual(fail);
    expect(events).toEqual([]);
  });
});
