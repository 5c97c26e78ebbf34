// Listener bookkeeping of @callmetry/mediasoup against the real mediasoup-client 3.18.7 in Node,
// with its FakeHandler and fake parameters (no RTCPeerConnection: the adapter uses its
// public-API shim here; the browser test covers the real RTCPeerConnection).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import type { types as ms } from 'mediasoup-client';
import { FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import { createMonitor, type ErrorRecord, type FabricEventRecord, type Logger, type Monitor } from '@callmetry/core';
import { attachMediasoup } from '../src/index';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** The adapter logs through the monitor's logger. */
const spyLogger = () => ({ ...silent, warn: vi.fn(), error: vi.fn() });
/** mediasoup-client's fake parameters are frozen: the library mutates what it is given. */
const clone = <T>(value: T): T => structuredClone(value);

type Emitter = { listenerCount(event: string): number };
const OBSERVER_EVENTS = ['close', 'pause', 'resume', 'trackended', 'newproducer', 'newconsumer', 'newtransport'];
// ('connect' and 'produce' are the app's: the adapter never listens to them, see the detach test.)
const OWN_EVENTS = ['transportclose', 'connectionstatechange', 'icegatheringstatechange'];
/** Listeners the adapter may have added on an object (its own events and its observer's). */
function adapterListeners(item: Emitter & { observer: Emitter }): number {
  return (
    OBSERVER_EVENTS.reduce((n, e) => n + item.observer.listenerCount(e), 0) +
    OWN_EVENTS.reduce((n, e) => n + item.listenerCount(e), 0)
  );
}

async function loadedDevice(): Promise<Device> {
  const device = new Device({ handlerFactory: FakeHandler.createFactory(testFakeParameters) });
  await device.load({ routerRtpCapabilities: clone(testFakeParameters.generateRouterRtpCapabilities()) });
  return device;
}

function transportOptions(appData: Record<string, unknown> = {}): ms.TransportOptions {
  const { id, iceParameters, iceCandidates, dtlsParameters } = clone(testFakeParameters.generateTransportRemoteParameters());
  return { id, iceParameters, iceCandidates, dtlsParameters, appData };
}

/** A send transport whose app-side 'connect'/'produce' handlers answer like a signaling server. */
function sendTransport(device: Device, appData?: Record<string, unknown>): ms.Transport {
  const transport = device.createSendTransport(transportOptions(appData));
  transport.on('connect', (_p, callback) => callback());
  let n = 0;
  transport.on('produce', ({ kind }, callback) => callback({ id: `producer-${kind}-${++n}` }));
  return transport;
}

function recvTransport(device: Device, appData?: Record<string, unknown>): ms.Transport {
  const transport = device.createRecvTransport(transportOptions(appData));
  transport.on('connect', (_p, callback) => callback());
  return transport;
}

async function consume(transport: ms.Transport, codecMimeType: 'audio/opus' | 'video/VP8', appData: Record<string, unknown>) {
  const { id, producerId, kind, rtpParameters } = clone(testFakeParameters.generateConsumerRemoteParameters({ codecMimeType }));
  return transport.consume({ id, producerId, kind, rtpParameters, appData });
}

describe('attachMediasoup (mediasoup-client FakeHandler, Node)', () => {
  let monitor: Monitor;
  let log: ReturnType<typeof spyLogger>;
  let events: FabricEventRecord[];
  let errors: ErrorRecord[];
  let device: Device;

  beforeEach(async () => {
    log = spyLogger();
    monitor = createMonitor({ appID: 'app', localUserID: 'me', logger: log });
    events = [];
    errors = [];
    monitor.on('fabricEvent', (e) => events.push(e));
    monitor.on('error', (e) => errors.push(e));
    device = await loadedDevice();
  });
  afterEach(async () => {
    await monitor.close();
  });

  const adapterEvents = () =>
    events.filter((e) => e.event !== 'fabricStateChange').map((e) => ({ event: e.event, ...(e.data ? { data: e.data } : {}) }));

  it('makes a server fabric of each transport, with direction, conference and remote user', () => {
    const detach = attachMediasoup(device, monitor, {
      conferenceID: (t) => String(t.appData.room),
      remoteUserID: 'sfu-eu-1',
    });
    const send = sendTransport(device, { room: 'r1' });
    const recv = recvTransport(device, { room: 'r1' });
    const fabrics = monitor.fabrics();
    expect(fabrics.map((f) => [f.direction, f.conferenceID, f.remoteUserID, f.remoteEndpointType, f.usage])).toEqual([
      ['sendonly', 'r1', 'sfu-eu-1', 'server', 'multiplex'],
      ['receiveonly', 'r1', 'sfu-eu-1', 'server', 'multiplex'],
    ]);
    // FakeHandler has no RTCPeerConnection: the public-API shim stands in for it.
    expect(fabrics[0]?.pc.connectionState).toBe('new');
    expect(fabrics[0]?.pc.signalingState).toBe('stable');
    send.close();
    recv.close();
    detach();
  });

  it('conference ID defaults to appData.conferenceID / roomId; without one the transport is not monitored', () => {
    attachMediasoup(device, monitor);
    sendTransport(device, { conferenceID: 'c-1' });
    recvTransport(device, { roomId: 'room-2' });
    sendTransport(device, {});
    expect(monitor.fabrics().map((f) => f.conferenceID)).toEqual(['c-1', 'room-2']);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(String(log.warn.mock.calls[0]?.[0])).toMatch(/no conference ID/);
  });

  it('attaching twice reports once and returns the same detach', async () => {
    const detach1 = attachMediasoup(device, monitor, { conferenceID: 'c' });
    const detach2 = attachMediasoup(device, monitor, { conferenceID: 'other' });
    expect(detach2).toBe(detach1);
    expect(device.observer.listenerCount('newtransport')).toBe(1);
    const send = sendTransport(device);
    expect(monitor.fabrics()).toHaveLength(1);
    const producer = await send.produce({ track: new FakeMediaStreamTrack({ kind: 'audio' }), appData: { source: 'mic' } });
    producer.pause();
    expect(adapterEvents()).toEqual([
      { event: 'audioMute', data: { producerId: producer.id, kind: 'audio', usageLabel: 'mic', direction: 'outbound' } },
    ]);
    // A second monitor is a separate attachment.
    const other = createMonitor({ appID: 'app', localUserID: 'me', logger: silent });
    const detach3 = attachMediasoup(device, other, { conferenceID: 'c' });
    expect(detach3).not.toBe(detach1);
    expect(device.observer.listenerCount('newtransport')).toBe(2);
    detach3();
    await other.close();
    detach1();
    expect(device.observer.listenerCount('newtransport')).toBe(0);
    // After detach, attaching again works.
    const detach4 = attachMediasoup(device, monitor, { conferenceID: 'c' });
    expect(detach4).not.toBe(detach1);
    expect(device.observer.listenerCount('newtransport')).toBe(1);
    detach4();
  });

  it('maps producers to the local user and consumers to their producing user (ssrc, rtx and mid)', async () => {
    attachMediasoup(device, monitor, { conferenceID: 'c' });
    const send = sendTransport(device);
    const recv = recvTransport(device);
    const [sendFabric, recvFabric] = monitor.fabrics();
    const sendMap = vi.spyOn(sendFabric!, 'mapStream');
    const recvMap = vi.spyOn(recvFabric!, 'mapStream');

    const cam = await send.produce({ track: new FakeMediaStreamTrack({ kind: 'video' }), appData: { source: 'webcam' } });
    const ssrcs = (cam.rtpParameters.encodings ?? []).flatMap((e) => [e.ssrc, e.rtx?.ssrc]).filter((s) => s !== undefined);
    expect(ssrcs.length).toBeGreaterThan(0);
    expect(sendMap.mock.calls).toEqual([
      ...ssrcs.map((ssrc) => [{ ssrc }, { userID: 'me', usageLabel: 'webcam' }]),
      ...(cam.rtpParameters.mid ? [[{ mid: cam.rtpParameters.mid }, { userID: 'me', usageLabel: 'webcam' }]] : []),
    ]);

    const audio = await consume(recv, 'audio/opus', { userId: 'alice' });
    const video = await consume(recv, 'video/VP8', { peerId: 'bob', source: 'screen' });
    const unknown = await consume(recv, 'audio/opus', {});
    const firstSsrc = (c: ms.Consumer) => c.rtpParameters.encodings?.[0]?.ssrc;
    expect(recvMap).toHaveBeenCalledWith({ ssrc: firstSsrc(audio) }, { userID: 'alice', usageLabel: 'microphone' });
    expect(recvMap).toHaveBeenCalledWith({ ssrc: firstSsrc(video) }, { userID: 'bob', usageLabel: 'screen' });
    // No user in appData: the stream stays with the fabric's remote user.
    expect(recvMap).toHaveBeenCalledWith({ ssrc: firstSsrc(unknown) }, { userID: 'sfu', usageLabel: 'microphone' });
    // Consumers' rtpParameters from the SFU carry their mid.
    if (audio.rtpParameters.mid) expect(recvMap).toHaveBeenCalledWith({ mid: audio.rtpParameters.mid }, expect.anything());
  });

  it('userIdFromConsumer overrides appData', async () => {
    attachMediasoup(device, monitor, {
      conferenceID: 'c',
      userIdFromConsumer: (consumer) => ({ userID: `user-of-${consumer.producerId}`, usageLabel: 'voice' }),
    });
    const recv = recvTransport(device);
    const recvMap = vi.spyOn(monitor.fabrics()[0]!, 'mapStream');
    const audio = await consume(recv, 'audio/opus', { userId: 'ignored' });
    expect(recvMap).toHaveBeenCalledWith(
      { ssrc: audio.rtpParameters.encodings?.[0]?.ssrc },
      { userID: `user-of-${audio.producerId}`, usageLabel: 'voice' },
    );
    audio.pause();
    expect(adapterEvents().at(-1)).toEqual({
      event: 'audioMute',
      data: { consumerId: audio.id, producerId: audio.producerId, kind: 'audio', userID: `user-of-${audio.producerId}`, usageLabel: 'voice', direction: 'inbound' },
    });
  });

  it('pause/resume, screen share start/stop, trackended, and close of the transport', async () => {
    attachMediasoup(device, monitor, { conferenceID: 'c' });
    const send = sendTransport(device);
    const recv = recvTransport(device);
    const [sendFabric, recvFabric] = monitor.fabrics();
    const micTrack = new FakeMediaStreamTrack({ kind: 'audio' });
    const mic = await send.produce({ track: micTrack, appData: { source: 'mic' } });
    const screen = await send.produce({ track: new FakeMediaStreamTrack({ kind: 'video' }), appData: { share: true } });
    const screen2 = await send.produce({ track: new FakeMediaStreamTrack({ kind: 'video' }), appData: { source: 'screen' } });
    const consumer = await consume(recv, 'video/VP8', { displayName: 'Carol' });
    mic.pause();
    mic.resume();
    screen.pause();
    screen.resume();
    consumer.pause();
    consumer.resume();
    micTrack.remoteStop(); // the track ends by itself ('ended' event)
    screen.close();
    send.close(); // screen2 is still open: it stops with the transport

    const out = (producer: ms.Producer, usageLabel: string) => ({ producerId: producer.id, kind: producer.kind, usageLabel, direction: 'outbound' });
    const inbound = { consumerId: consumer.id, producerId: consumer.producerId, kind: 'video', userID: 'Carol', usageLabel: 'camera', direction: 'inbound' };
    expect(adapterEvents()).toEqual([
      { event: 'screenShareStart', data: out(screen, 'screen') },
      { event: 'screenShareStart', data: out(screen2, 'screen') },
      { event: 'audioMute', data: out(mic, 'mic') },
      { event: 'audioUnmute', data: out(mic, 'mic') },
      { event: 'videoPause', data: out(screen, 'screen') },
      { event: 'videoResume', data: out(screen, 'screen') },
      { event: 'videoPause', data: inbound },
      { event: 'videoResume', data: inbound },
      { event: 'screenShareStop', data: { ...out(screen, 'screen'), reason: 'close' } },
      { event: 'screenShareStop', data: { ...out(screen2, 'screen'), reason: 'transportclose' } },
      { event: 'fabricTerminated', data: { reason: 'transportclose' } },
    ]);
    expect(events.filter((e) => e.event !== 'fabricStateChange').map((e) => e.fabricID)).toEqual([
      ...Array(6).fill(sendFabric!.id),
      recvFabric!.id,
      recvFabric!.id,
      ...Array(3).fill(sendFabric!.id),
    ]);
    expect(errors).toEqual([
      expect.objectContaining({
        fabricID: sendFabric!.id,
        webRTCFunction: 'applicationLog',
        category: 'applicationLog',
        name: 'TrackEnded',
        message: `mediasoup producer ${mic.id} (audio, mic): its track ended`,
      }),
    ]);
    expect(sendFabric!.state).toBe('terminated');
    expect(recvFabric!.state).not.toBe('terminated');
    // The closed transport's producers no longer carry the adapter's listeners.
    expect(adapterListeners(screen2 as unknown as Emitter & { observer: Emitter })).toBe(0);
    expect(adapterListeners(mic as unknown as Emitter & { observer: Emitter })).toBe(0);
    expect(monitor.fabrics()).toEqual([recvFabric]);
  });

  it('detach removes every listener it added, terminates its fabrics and reports nothing more', async () => {
    const detach = attachMediasoup(device, monitor, { conferenceID: 'c' });
    const send = sendTransport(device);
    const recv = recvTransport(device);
    const mic = await send.produce({ track: new FakeMediaStreamTrack({ kind: 'audio' }), appData: { source: 'mic' } });
    const cam = await send.produce({ track: new FakeMediaStreamTrack({ kind: 'video' }) });
    const consumer = await consume(recv, 'audio/opus', { userId: 'alice' });
    const fabrics = monitor.fabrics();
    expect(fabrics).toHaveLength(2);
    type Watched = Emitter & { observer: Emitter };
    const watched = [send, recv, mic, cam, consumer] as unknown as Watched[];
    // The adapter listens on them (the shim's 'connectionstatechange' listener comes from core).
    expect(watched.map(adapterListeners).every((n) => n > 0)).toBe(true);

    detach();
    expect(watched.map(adapterListeners)).toEqual([0, 0, 0, 0, 0]);
    // Only the app's own signaling listeners remain (mediasoup-client checks them in produce()).
    expect([send.listenerCount('connect'), send.listenerCount('produce'), recv.listenerCount('connect')]).toEqual([1, 1, 1]);
    expect(device.observer.listenerCount('newtransport')).toBe(0);
    expect(fabrics.map((f) => f.state)).toEqual(['terminated', 'terminated']);
    expect(adapterEvents()).toEqual([{ event: 'fabricTerminated' }, { event: 'fabricTerminated' }]);
    expect(monitor.fabrics()).toEqual([]);

    const before = events.length;
    mic.pause();
    consumer.pause();
    await send.produce({ track: new FakeMediaStreamTrack({ kind: 'video' }), appData: { share: true } });
    sendTransport(device);
    send.close();
    expect(events.length).toBe(before);
    expect(monitor.fabrics()).toEqual([]);
    detach(); // idempotent
  });

  it('never throws: bad arguments, throwing option functions and a closed monitor', async () => {
    const { error } = log;
    expect(() => attachMediasoup(undefined as unknown as Device, monitor)()).not.toThrow();
    expect(() => attachMediasoup({} as unknown as Device, monitor)()).not.toThrow();
    // Without a monitor there is no logger to use: the console says why.
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => attachMediasoup(device, undefined as unknown as Monitor)()).not.toThrow();
    expect(consoleError).toHaveBeenCalledWith(expect.stringMatching(/^mediasoup: attach needs .* a monitor/));
    consoleError.mockRestore();
    expect(error).toHaveBeenCalledTimes(2);

    attachMediasoup(device, monitor, {
      conferenceID: () => 'c',
      remoteUserID: () => {
        throw new Error('app bug');
      },
      userIdFromConsumer: () => {
        throw new Error('app bug');
      },
      isScreenShare: () => {
        throw new Error('app bug');
      },
    });
    const send = sendTransport(device);
    const recv = recvTransport(device);
    expect(monitor.fabrics().map((f) => f.remoteUserID)).toEqual(['sfu', 'sfu']);
    await expect(send.produce({ track: new FakeMediaStreamTrack({ kind: 'video' }) })).resolves.toBeDefined();
    await expect(consume(recv, 'audio/opus', {})).resolves.toBeDefined();
    const messages = error.mock.calls.slice(2).map((c) => String(c[0]));
    expect(messages).toEqual([
      expect.stringContaining('options.remoteUserID threw'),
      expect.stringContaining('options.remoteUserID threw'),
      expect.stringContaining('options.isScreenShare threw'),
      expect.stringContaining('options.userIdFromConsumer threw'),
    ]);

    // Closing the monitor detaches the adapter: it no longer listens to the device.
    expect(device.observer.listenerCount('newtransport')).toBe(1);
    await monitor.close();
    expect(device.observer.listenerCount('newtransport')).toBe(0);
    expect(() => sendTransport(device)).not.toThrow();
    expect(monitor.fabrics()).toEqual([]);
  });
});
