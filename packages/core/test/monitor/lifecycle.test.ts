import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, tryCreateMonitor } from '../../src/monitor/monitor';
import type { ErrorRecord, FabricEventRecord, Logger, Monitor } from '../../src/types';
import { FakePeerConnection } from '../helpers/fakePeerConnection';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('fabric lifecycle (fake pc, fake timers)', () => {
  let monitor: Monitor;
  let events: FabricEventRecord[];
  let errors: ErrorRecord[];
  let pc: FakePeerConnection;

  beforeEach(() => {
    vi.useFakeTimers();
    monitor = createMonitor({ appID: 'app', localUserID: 'alice', logger: silent });
    events = [];
    errors = [];
    monitor.on('fabricEvent', (e) => events.push(e));
    monitor.on('error', (e) => errors.push(e));
    pc = new FakePeerConnection();
  });
  afterEach(async () => {
    await monitor.close();
    vi.useRealTimers();
  });

  const names = () => events.map((e) => (e.event === 'fabricStateChange' ? `state:${String(e.data?.newState)}` : e.event));

  it('reports setup with its delays, then termination when the pc closes', async () => {
    const fabric = monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' })!;
    expect(fabric.state).toBe('initializing');
    await vi.advanceTimersByTimeAsync(120);
    pc.setStates({ iceGatheringState: 'gathering' });
    await vi.advanceTimersByTimeAsync(30);
    pc.setStates({ iceConnectionState: 'checking', connectionState: 'connecting' });
    await vi.advanceTimersByTimeAsync(20);
    pc.setStates({ iceGatheringState: 'complete' });
    await vi.advanceTimersByTimeAsync(50);
    pc.setStates({ iceConnectionState: 'connected', connectionState: 'connected' });
    const setup = events.find((e) => e.event === 'fabricSetup');
    expect(setup?.data).toEqual({ setupDelay: 220, gatheringDelay: 50, connectivityDelay: 70 });
    expect(fabric.state).toBe('established');

    pc.close(); // fires no event, like a browser
    await vi.advanceTimersByTimeAsync(1100);
    expect(names()).toEqual(['fabricSetup', 'state:established', 'fabricTerminated', 'state:terminated']);
    expect(fabric.state).toBe('terminated');
    expect(pc.listenerCount()).toBe(0);
    expect(monitor.fabrics()).toHaveLength(0);
  });

  it('a pc that was already connected gets setupDelay 0', () => {
    pc.connectionState = 'connected';
    pc.iceConnectionState = 'connected';
    monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' });
    expect(events[0]).toMatchObject({ event: 'fabricSetup', data: { setupDelay: 0, alreadyConnected: true } });
  });

  it('a failed first connection gives fabricSetupFailed and an ICE error before setup', () => {
    const fabric = monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' })!;
    pc.setStates({ iceConnectionState: 'checking', connectionState: 'connecting' });
    pc.setStates({ iceConnectionState: 'failed', connectionState: 'failed' });
    expect(names()).toEqual(['fabricSetupFailed', 'state:failed']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ webRTCFunction: 'iceConnectionFailure', category: 'iceFailureBeforeSetup' });
    expect(fabric.state).toBe('failed');
  });

  it('detects disruption and recovery, and a drop', async () => {
    const fabric = monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' })!;
    pc.connect();
    pc.setStates({ connectionState: 'disconnected', iceConnectionState: 'disconnected' });
    expect(fabric.state).toBe('disrupted');
    await vi.advanceTimersByTimeAsync(700);
    pc.setStates({ connectionState: 'connected', iceConnectionState: 'connected' });
    expect(fabric.state).toBe('established');
    const end = events.find((e) => e.event === 'connectionDisruptionEnd');
    expect(end?.data).toEqual({ duration: 700 });
    pc.setStates({ connectionState: 'failed', iceConnectionState: 'failed' });
    expect(names()).toEqual([
      'fabricSetup', 'state:established',
      'connectionDisruptionStart', 'state:disrupted',
      'connectionDisruptionEnd', 'state:established',
      'connectionDisruptionStart', 'state:disrupted', 'fabricDropped',
    ]);
    expect(errors.map((e) => e.category)).toEqual(['iceFailureAfterSetup']);
  });

  it('detects an ICE restart from the local ufrag', () => {
    pc.localDescription = { type: 'offer', sdp: 'v=0\r\na=ice-ufrag:aaaa\r\n' };
    monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' });
    pc.connect();
    pc.localDescription = { type: 'offer', sdp: 'v=0\r\na=ice-ufrag:bbbb\r\n' };
    pc.setStates({ iceConnectionState: 'checking' });
    expect(names()).toContain('iceRestarted');
  });

  it('mapStream attributes a stream to a user; unmapStream gives it back to the remote user', async () => {
    const fabric = monitor.addFabric(pc, { remoteUserID: 'sfu', conferenceID: 'c' })!;
    pc.nextReport = [{ id: 'IT', type: 'inbound-rtp', timestamp: 1, ssrc: 5, kind: 'audio', mid: '1', packetsReceived: 10, bytesReceived: 1000 }];
    const userOf = async () => Object.values((await fabric.pollNow())!.streams).map((st) => (st as { userID: string }).userID);
    expect(fabric.mapStream({ mid: '1' }, { userID: 'carol' })).toEqual({ status: 'success' });
    expect(await userOf()).toEqual(['carol']);
    expect(fabric.unmapStream({ mid: '1' })).toEqual({ status: 'success' });
    expect(await userOf()).toEqual(['sfu']);
    expect(fabric.unmapStream({ mid: '9' })).toEqual({ status: 'success' }); // none set: nothing to forget
    expect(fabric.unmapStream({ nope: 1 } as never)).toEqual({ status: 'failure', message: 'stream selector must be {ssrc}, {mid} or {trackId}' });
  });

  it('one failing getStats does not stop polling or other fabrics', async () => {
    const other = new FakePeerConnection();
    monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' });
    monitor.addFabric(other, { remoteUserID: 'carol', conferenceID: 'c1' });
    pc.connect();
    other.connect();
    pc.failGetStats = new Error('boom');
    await vi.advanceTimersByTimeAsync(3100);
    expect(pc.getStatsCalls).toBeGreaterThanOrEqual(2);
    expect(other.getStatsCalls).toBeGreaterThanOrEqual(2);
    pc.failGetStats = undefined;
    const before = pc.getStatsCalls;
    await vi.advanceTimersByTimeAsync(1100);
    expect(pc.getStatsCalls).toBeGreaterThan(before);
    other.close();
  });

  it('terminate() releases listeners and timers; later calls are refused', async () => {
    const fabric = monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'c1' })!;
    pc.connect();
    fabric.terminate();
    fabric.terminate();
    expect(pc.listenerCount()).toBe(0);
    const calls = pc.getStatsCalls;
    await vi.advanceTimersByTimeAsync(5000);
    expect(pc.getStatsCalls).toBe(calls);
    expect(fabric.sendEvent('audioMute').status).toBe('failure');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('createMonitor options', () => {
  it('refuses invalid options with clear messages', () => {
    expect(tryCreateMonitor({ appID: '', localUserID: 'a' }).result.message).toContain('appID');
    expect(tryCreateMonitor({ appID: 'x', localUserID: '' }).result.message).toContain('localUserID');
    expect(tryCreateMonitor({ appID: 'x', localUserID: 'a', collectorURL: 'http://127.0.0.1:1' }).result.message).toContain('appSecret');
    const inert = createMonitor(null as never);
    expect(inert.addFabric(new FakePeerConnection(), { remoteUserID: 'b', conferenceID: 'c' })).toBeUndefined();
    return expect(inert.ready).resolves.toMatchObject({ status: 'failure', message: expect.stringContaining('options must be an object') });
  });

  it('refuses invalid fabric options', () => {
    const monitor = createMonitor({ appID: 'x', localUserID: 'a', logger: silent });
    const pc = new FakePeerConnection();
    expect(monitor.tryAddFabric(pc, { remoteUserID: 'b', conferenceID: '' }).result.message).toContain('conferenceID');
    expect(monitor.tryAddFabric(pc, { remoteUserID: 'b', conferenceID: 'c', usage: 'x' as never }).result.message).toContain('fabricUsage');
    expect(monitor.tryAddFabric({} as never, { remoteUserID: 'b', conferenceID: 'c' }).result.message).toContain('PeerConnection');
    void monitor.close();
  });

  it('addFabric logs why it refused (its caller, often an adapter, only gets undefined)', () => {
    const warn = vi.fn();
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: { ...silent, warn } });
    expect(monitor.addFabric(new FakePeerConnection(), { remoteUserID: 'b', conferenceID: '' })).toBeUndefined();
    expect(warn).toHaveBeenCalledWith('addFabric refused: conferenceID must be a string of 1..256 characters');
    void monitor.close();
  });
});
