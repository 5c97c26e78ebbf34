// @callmetry/janus against a stand-in for janus.js (test/fakeJanus.ts) and a real core monitor:
// wrapper bookkeeping, fabric creation/termination, the VideoRoom stream mapping, event mapping,
// and that nothing the adapter does can throw into janus.js or the app. The real janus.js
// against a real Janus Gateway in Chromium is janus.browser.test.ts.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type Janus from 'janus-gateway';
import type { JanusJS } from 'janus-gateway';
import { createMonitor, type ErrorRecord, type FabricEventRecord, type Logger, type Monitor } from '@callmetry/core';
import { attachJanus, instrumentJanus } from '../src/index';
import type { StatsEntry } from '../../core/src/types';
import type { FakePeerConnection } from '../../core/test/helpers/fakePeerConnection';
import { attachHandle, CALLBACKS, fakeJanusStatic, FakeSession, METHODS, noop, sdp, tick, type FakeHandle } from './fakeJanus';

/** Compile-time only: janus-gateway's own d.ts types are accepted. */
export function typesAccepted(session: Janus, handle: JanusJS.PluginHandle, janus: typeof Janus, monitor: Monitor): void {
  attachJanus(session, monitor, { handles: [handle], conferenceID: (h, info) => info.room ?? String(h.id) });
  instrumentJanus(janus, monitor);
}

const ROOM = 1234;
const VIDEOROOM = 'janus.plugin.videoroom';

interface Custom {
  conferenceID: string;
  name: string;
  data?: Record<string, unknown>;
  fabricID?: string;
}

let monitor: Monitor;
let events: FabricEventRecord[];
let errors: ErrorRecord[];
let custom: Custom[];
let logs: string[];

function newMonitor(): Monitor {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => void logs.push(`warn ${m}`),
    error: (m) => void logs.push(`error ${m}`),
  };
  const m = createMonitor({ appID: 'test', localUserID: 'me', logger });
  m.on('fabricEvent', (e) => void events.push(e));
  m.on('error', (e) => void errors.push(e));
  m.on('customEvent', ({ conferenceID, name, data, fabricID }) => void custom.push({ conferenceID, name, ...(data ? { data } : {}), ...(fabricID ? { fabricID } : {}) }));
  return m;
}

beforeEach(() => {
  events = [];
  errors = [];
  custom = [];
  logs = [];
  monitor = newMonitor();
});
afterEach(async () => {
  await monitor.close();
});

const names = (list: FabricEventRecord[] = events) =>
  list.filter((e) => e.event !== 'fabricStateChange').map((e) => e.event);

function snapshot(obj: object, members: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(members.map((m) => [m, (obj as Record<string, unknown>)[m]]));
}

/** Every member of `h` is what janus.js (or the app) put there: same functions / same source as an unwrapped handle's. */
function expectUnwrapped(h: FakeHandle, unwrapped: Record<string, unknown>, app: Record<string, unknown>): void {
  const now = snapshot(h, [...CALLBACKS, ...METHODS]);
  for (const name of CALLBACKS) expect(now[name], name).toBe(app[name] ?? noop);
  for (const name of METHODS) expect(String(now[name]), name).toBe(String(unwrapped[name]));
}

function offer(h: FakeHandle, tracks: unknown[] = [{ type: 'audio', capture: true }, { type: 'video', capture: true }]): Promise<unknown> {
  return new Promise((resolve, reject) => h.createOffer({ tracks, success: resolve, error: reject }));
}

function inbound(ssrc: number, kind: string, mid: string, packets: number): StatsEntry {
  return { id: `IT${ssrc}`, type: 'inbound-rtp', timestamp: Date.now(), ssrc, kind, mid, packetsReceived: packets, bytesReceived: packets * 100 };
}

/** VideoRoom subscriber stream descriptions as Janus 1.1 sends them. */
function streams(list: Array<[mid: string, type: string, feed?: number, display?: string]>): Record<string, unknown>[] {
  return list.map(([mid, type, feed, display], i) =>
    feed === undefined
      ? { type, active: false, mindex: i, mid, ready: false, send: true }
      : { type, active: true, mindex: i, mid, ready: true, send: true, feed_id: feed, feed_display: display, feed_mid: String(i % 2), codec: type === 'audio' ? 'opus' : 'vp8' },
  );
}

/** A subscriber as an app writes one: answers every offer, then 'start'. */
async function subscriber(session: FakeSession, feeds: Array<[number, string]>): Promise<FakeHandle> {
  let sub!: FakeHandle;
  sub = await attachHandle(session, {
    plugin: VIDEOROOM,
    onmessage: (msg: Record<string, unknown>, jsep?: { type: string; sdp: string }) => {
      if (jsep) sub.createAnswer({ jsep, tracks: [{ type: 'data' }], success: (answer: unknown) => sub.send({ message: { request: 'start' }, jsep: answer }) });
    },
  });
  sub.send({ message: { request: 'join', ptype: 'subscriber', room: ROOM, streams: feeds.map(([feed]) => ({ feed })) } });
  const list = streams(feeds.flatMap(([feed, display], i) => [[String(2 * i), 'audio', feed, display], [String(2 * i + 1), 'video', feed, display]] as Array<[string, string, number, string]>));
  session.event(sub, { videoroom: 'attached', room: ROOM, streams: list }, { type: 'offer', sdp: sdp(list.map((s) => String(s.type))) });
  await tick();
  await tick();
  return sub;
}

/** A publisher in ROOM with alice (feed 2) and bob (feed 3), a subscriber to both, and a report of its 4 mids. */
async function roomWithAliceAndBob(): Promise<{ session: FakeSession; pub: FakeHandle; sub: FakeHandle; pc: NonNullable<FakeHandle['webrtcStuff']['pc']>; report: StatsEntry[] }> {
  const session = new FakeSession();
  attachJanus(session, monitor);
  const pub = await attachHandle(session, { plugin: VIDEOROOM });
  pub.send({ message: { request: 'join', ptype: 'publisher', room: ROOM, display: 'me' } });
  session.event(pub, { videoroom: 'joined', room: ROOM, id: 1, publishers: [{ id: 2, display: 'alice' }, { id: 3, display: 'bob' }] });
  await offer(pub);
  const sub = await subscriber(session, [[2, 'alice'], [3, 'bob']]);
  const report = [inbound(11, 'audio', '0', 10), inbound(12, 'video', '1', 10), inbound(13, 'audio', '2', 10), inbound(14, 'video', '3', 10)];
  return { session, pub, sub, pc: sub.webrtcStuff.pc!, report };
}


async function statsUsers(pc: FakePeerConnection, entries: StatsEntry[]): Promise<Record<string, string>> {
  pc.nextReport = entries;
  const stats = await monitor.getFabric(pc)!.pollNow();
  return Object.fromEntries((stats?.mediaStreamTracks ?? []).filter((s) => s.statsType === 'inbound-rtp').map((s) => [s.mid ?? '?', s.userID]));
}

// -------------------------------------------------------------------------------------------------

describe('attachJanus: fabrics for plugin handles', () => {
  it('echotest: the pc becomes a fabric to the server as soon as createOffer created it', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const h = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    expect(monitor.fabrics()).toHaveLength(0);
    const done = offer(h);
    const pc = h.webrtcStuff.pc!;
    // Synchronously: janus.js created the pc inside createOffer; no room for an echotest.
    const fabric = monitor.getFabric(pc)!;
    await done;
    expect(fabric).toMatchObject({
      conferenceID: `janus-${session.id}`,
      remoteUserID: 'janus',
      remoteEndpointType: 'server',
      direction: 'sendrecv',
      usage: 'multiplex',
    });
    session.webrtcup(h);
    pc.connect();
    expect(names()).toEqual(['fabricSetup']);

    h.hangup(true);
    expect(names()).toEqual(['fabricSetup', 'fabricTerminated']);
    // Janus then answers the hangup request with its own hangup event, after cleanup: nothing more.
    session.hangupEvent(h, 'Janus API');
    expect(names()).toEqual(['fabricSetup', 'fabricTerminated']);
    expect(events.find((e) => e.event === 'fabricTerminated')?.data).toBeUndefined(); // the app hung up: no reason
    expect(custom).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('VideoRoom joinandconfigure: the fabric waits for the room sent from the offer callback', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const h = await attachHandle(session, { plugin: VIDEOROOM });
    let pcInCallback: unknown;
    await new Promise((resolve) =>
      h.createOffer({
        tracks: [{ type: 'audio', capture: true }],
        success: (jsep: unknown) => {
          pcInCallback = monitor.getFabric(h.webrtcStuff.pc!);
          h.send({ message: { request: 'joinandconfigure', ptype: 'publisher', room: 'lobby' }, jsep });
          resolve(undefined);
        },
      }),
    );
    expect(pcInCallback).toBeUndefined();
    expect(monitor.getFabric(h.webrtcStuff.pc!)).toMatchObject({ conferenceID: 'lobby', direction: 'sendonly', usage: 'audio' });
    // Without any room by then: the fallback conference once the offer is done.
    const h2 = await attachHandle(session, { plugin: VIDEOROOM });
    await offer(h2);
    expect(monitor.getFabric(h2.webrtcStuff.pc!)?.conferenceID).toBe(`janus-${session.id}`);
  });

  it('usage and direction follow the tracks; conferenceID and remoteUserID options (string or function)', async () => {
    const session = new FakeSession();
    const conferenceID = vi.fn((_h: unknown, info: { plugin: string; room?: string }) => (info.room ? `room-${info.room}` : undefined));
    attachJanus(session, monitor, { conferenceID, remoteUserID: 'sfu-1' });
    const audio = await attachHandle(session, { plugin: 'janus.plugin.audiobridge' });
    audio.send({ message: { request: 'join', room: 7 } });
    await offer(audio, [{ type: 'audio', capture: true }]);
    expect(monitor.getFabric(audio.webrtcStuff.pc!)).toMatchObject({ conferenceID: 'room-7', usage: 'audio', remoteUserID: 'sfu-1', direction: 'sendrecv' });

    const screen = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(screen, [{ type: 'screen', capture: true }]);
    expect(monitor.getFabric(screen.webrtcStuff.pc!)).toMatchObject({ conferenceID: `janus-${session.id}`, usage: 'screen' });

    // Deprecated `media` is turned into tracks by janus.js before the pc exists.
    const legacy = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await new Promise((resolve) => legacy.createOffer({ media: { audio: false, video: true }, success: resolve }));
    expect(monitor.getFabric(legacy.webrtcStuff.pc!)?.usage).toBe('video');

    // A streaming-style answer that sends nothing: receive only.
    const viewer = await attachHandle(session, { plugin: 'janus.plugin.streaming' });
    await new Promise((resolve) => viewer.createAnswer({ jsep: { type: 'offer', sdp: sdp(['audio', 'video']) }, success: resolve }));
    expect(monitor.getFabric(viewer.webrtcStuff.pc!)).toMatchObject({ direction: 'receiveonly', usage: 'multiplex' });
    expect(conferenceID).toHaveBeenCalled();
  });

  it('attaching twice returns the same detach and reports once; two monitors each get their own', async () => {
    const session = new FakeSession();
    const d1 = attachJanus(session, monitor);
    const d2 = attachJanus(session, monitor);
    expect(d2).toBe(d1);
    const other = newMonitor();
    const d3 = attachJanus(session, other);
    expect(d3).not.toBe(d1);
    const h = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(h);
    expect(monitor.fabrics()).toHaveLength(1);
    expect(other.fabrics()).toHaveLength(1);
    h.muteAudio();
    expect(events.filter((e) => e.event === 'audioMute')).toHaveLength(2); // one per monitor
    expect(new Set(events.filter((e) => e.event === 'audioMute').map((e) => e.fabricID)).size).toBe(2);
    d3();
    h.unmuteAudio();
    expect(events.filter((e) => e.event === 'audioUnmute')).toHaveLength(1);
    await other.close();
  });

  it('handles attached before the adapter: options.handles, with or without a pc', async () => {
    const session = new FakeSession();
    const early = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(early);
    const idle = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    attachJanus(session, monitor, { handles: [early] });
    expect(monitor.getFabric(early.webrtcStuff.pc!)?.conferenceID).toBe(`janus-${session.id}`);
    // A second attach adds handles to the same attachment.
    attachJanus(session, monitor, { handles: [idle, early] });
    await offer(idle);
    expect(monitor.fabrics()).toHaveLength(2);
  });

  it('mute wrappers send audioMute/audioUnmute/videoPause/videoResume once per change', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const h = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(h);
    expect(h.muteAudio()).toBe(true);
    h.muteAudio();
    h.unmuteAudio();
    h.muteVideo('1');
    h.unmuteVideo('1');
    h.unmuteVideo('1');
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['audioMute', undefined],
      ['audioUnmute', undefined],
      ['videoPause', { mid: '1' }],
      ['videoResume', { mid: '1' }],
    ]);
    // Without a pc janus.js answers false: nothing is sent.
    const idle = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    expect(idle.muteAudio()).toBe(false);
    expect(events).toHaveLength(4);
  });

  it("Janus' hangup event: fabricTerminated with the reason; ICE failed is also an error", async () => {
    const session = new FakeSession();
    attachJanus(session, monitor, { conferenceID: 'conf' });
    const a = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(a);
    const pcA = a.webrtcStuff.pc!;
    const fabricA = monitor.getFabric(pcA)!;
    session.hangupEvent(a, 'DTLS alert');
    expect(events.filter((e) => e.event !== 'fabricStateChange').map((e) => [e.event, e.fabricID, e.data])).toEqual([['fabricTerminated', fabricA.id, { reason: 'DTLS alert' }]]);
    expect(custom).toEqual([]);
    expect(errors).toEqual([]);

    const b = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(b);
    session.hangupEvent(b, 'ICE failed');
    expect(events.find((e) => e.event === 'fabricTerminated' && e.fabricID !== fabricA.id)?.data).toEqual({ reason: 'ICE failed' });
    expect(errors.map((e) => [e.webRTCFunction, e.message])).toEqual([['iceConnectionFailure', 'Janus hung up the PeerConnection: ICE failed']]);
    expect(names()).toEqual(['fabricTerminated', 'fabricTerminated']);
  });

  it('slowLink and mediaState become custom events with their details, on the fabric', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor, { conferenceID: 'conf' });
    const h = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(h);
    const fabricID = monitor.getFabric(h.webrtcStuff.pc!)!.id;
    session.media(h, 'video', true, '1');
    session.slowlink(h, true, 12, '1');
    session.slowlink(h, false, 3, '0');
    session.media(h, 'video', false, '1');
    expect(custom).toEqual([
      { conferenceID: 'conf', name: 'mediaState', data: { type: 'video', receiving: true, mid: '1' }, fabricID },
      { conferenceID: 'conf', name: 'slowLink', data: { uplink: true, direction: 'receive', lost: 12, mid: '1' }, fabricID },
      { conferenceID: 'conf', name: 'slowLink', data: { uplink: false, direction: 'send', lost: 3, mid: '0' }, fabricID },
      { conferenceID: 'conf', name: 'mediaState', data: { type: 'video', receiving: false, mid: '1' }, fabricID },
    ]);
    expect(names()).toEqual([]);
  });

  it('errors: attach failure, getUserMedia refusal, createAnswer failure, plugin error messages', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor, { conferenceID: 'conf' });
    await expect(attachHandle(session, { plugin: 'janus.plugin.missing' })).rejects.toThrow(/No such plugin/);
    expect(errors.map((e) => [e.webRTCFunction, e.message])).toEqual([['signalingError', 'Janus: attaching janus.plugin.missing failed: Ooops: 460 No such plugin']]);

    const h = await attachHandle(session, { plugin: VIDEOROOM });
    session.failWebrtc = new DOMException('Permission denied', 'NotAllowedError');
    await expect(offer(h)).rejects.toThrow('Permission denied');
    expect(errors.at(-1)).toMatchObject({ webRTCFunction: 'getUserMedia', conferenceID: 'conf' });
    session.failWebrtc = new Error('boom');
    await expect(new Promise((ok, ko) => h.createAnswer({ jsep: { type: 'offer', sdp: sdp(['audio']) }, success: ok, error: ko }))).rejects.toThrow('boom');
    expect(errors.at(-1)).toMatchObject({ webRTCFunction: 'createAnswer', message: 'boom' });

    session.event(h, { videoroom: 'event', error_code: 426, error: 'No such room (4321)' });
    expect(errors.at(-1)).toMatchObject({ webRTCFunction: 'signalingError', message: 'Janus janus.plugin.videoroom error 426: No such room (4321)' });
    expect(errors).toHaveLength(4);
  });
});

describe('attachJanus: VideoRoom', () => {
  it('publisher sendonly and subscriber receiveonly in the room; subscriber mids attributed to their publishers', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const pub = await attachHandle(session, { plugin: VIDEOROOM });
    pub.send({ message: { request: 'join', ptype: 'publisher', room: ROOM, display: 'me' } });
    session.event(pub, { videoroom: 'joined', room: ROOM, id: 1, private_id: 99, publishers: [{ id: 2, display: 'alice' }, { id: 3, display: 'bob' }] });
    await offer(pub, [{ type: 'audio', capture: true, recv: false }, { type: 'video', capture: true, recv: false }]);
    expect(monitor.getFabric(pub.webrtcStuff.pc!)).toMatchObject({ conferenceID: '1234', direction: 'sendonly', usage: 'multiplex', remoteUserID: 'janus' });

    const sub = await subscriber(session, [[2, 'alice'], [3, 'bob']]);
    const pc = sub.webrtcStuff.pc!;
    const fabric = monitor.getFabric(pc)!;
    expect(fabric).toMatchObject({ conferenceID: '1234', direction: 'receiveonly', usage: 'multiplex' });
    expect(sub.sent.map((s) => s.message.request)).toEqual(['join', 'start']);
    const report = [inbound(11, 'audio', '0', 10), inbound(12, 'video', '1', 10), inbound(13, 'audio', '2', 10), inbound(14, 'video', '3', 10)];
    expect(await statsUsers(pc, report)).toEqual({ '0': 'alice', '1': 'alice', '2': 'bob', '3': 'bob' });
    expect((await fabric.pollNow())?.mediaStreamTracks.map((s) => s.usageLabel)).toEqual(['audio', 'video', 'audio', 'video']);
  });

  it("a publisher leaving: one 'publisherLeft' event, its mids no longer attributed to it; a new feed on a reused mid is", async () => {
    const { session, pub, sub, pc, report } = await roomWithAliceAndBob();

    // As observed with Janus 1.1.2 for a destroyed session: unpublished twice, then leaving.
    session.event(pub, { videoroom: 'event', room: ROOM, unpublished: 3 });
    session.event(pub, { videoroom: 'event', room: ROOM, unpublished: 3 });
    session.event(pub, { videoroom: 'event', room: ROOM, leaving: 3 });
    expect(custom).toEqual([
      { conferenceID: '1234', name: 'publisherLeft', data: { feedId: 3, display: 'bob', userID: 'bob', reason: 'unpublished', mids: ['2', '3'] }, fabricID: monitor.getFabric(pc)!.id },
    ]);
    expect(await statsUsers(pc, report)).toEqual({ '0': 'alice', '1': 'alice', '2': 'janus', '3': 'janus' });
    // Then the subscriber is renegotiated: bob's mids inactive, without feed.
    session.event(sub, { videoroom: 'updated', room: ROOM, streams: streams([['0', 'audio', 2, 'alice'], ['1', 'video', 2, 'alice'], ['2', 'audio'], ['3', 'video']]) }, { type: 'offer', sdp: sdp(['audio', 'video', 'audio', 'video']) });
    await tick();
    expect(await statsUsers(pc, report)).toEqual({ '0': 'alice', '1': 'alice', '2': 'janus', '3': 'janus' });

    // carol publishes; the subscriber gets her on the reused mids 2 and 3.
    session.event(pub, { videoroom: 'event', room: ROOM, publishers: [{ id: 4, display: 'carol' }] });
    session.event(sub, { videoroom: 'updated', room: ROOM, streams: streams([['0', 'audio', 2, 'alice'], ['1', 'video', 2, 'alice'], ['2', 'audio', 4, 'carol'], ['3', 'video', 4, 'carol']]) }, { type: 'offer', sdp: sdp(['audio', 'video', 'audio', 'video']) });
    expect(await statsUsers(pc, report)).toEqual({ '0': 'alice', '1': 'alice', '2': 'carol', '3': 'carol' });
    // An explicit leave gives only 'leaving'; own 'leaving: ok' / 'unpublished: ok' are not feeds.
    session.event(pub, { videoroom: 'event', room: ROOM, leaving: 4 });
    session.event(pub, { videoroom: 'event', room: ROOM, unpublished: 'ok' });
    session.event(pub, { videoroom: 'event', room: ROOM, leaving: 'ok' });
    expect(custom.map((c) => [c.name, c.data?.display, c.data?.reason])).toEqual([
      ['publisherLeft', 'bob', 'unpublished'],
      ['publisherLeft', 'carol', 'leaving'],
    ]);
    expect(await statsUsers(pc, report)).toEqual({ '0': 'alice', '1': 'alice', '2': 'janus', '3': 'janus' });
  });

  it("the subscriber's 'updated' (leaver's mids inactive) before the publisher's 'unpublished': the leaver's mids are still named", async () => {
    const { session, pub, sub, pc, report } = await roomWithAliceAndBob();
    // As Janus may order them: the subscriber is renegotiated first (bob's mids lose their feed)...
    session.event(sub, { videoroom: 'updated', room: ROOM, streams: streams([['0', 'audio', 2, 'alice'], ['1', 'video', 2, 'alice'], ['2', 'audio'], ['3', 'video']]) }, { type: 'offer', sdp: sdp(['audio', 'video', 'audio', 'video']) });
    await tick();
    expect(await statsUsers(pc, report)).toEqual({ '0': 'alice', '1': 'alice', '2': 'janus', '3': 'janus' });
    // ...then the publisher handle hears that bob unpublished: his event still lists his mids.
    session.event(pub, { videoroom: 'event', room: ROOM, unpublished: 3 });
    expect(custom).toEqual([
      { conferenceID: '1234', name: 'publisherLeft', data: { feedId: 3, display: 'bob', userID: 'bob', reason: 'unpublished', mids: ['2', '3'] }, fabricID: monitor.getFabric(pc)!.id },
    ]);
  });

  it('userIdFromFeed names feeds; app mapStream overrides survive renegotiations that do not change the feed', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor, { userIdFromFeed: (id, display) => (id === 3 ? undefined : `user-${String(id)}-${display ?? ''}`) });
    const sub = await subscriber(session, [[2, 'alice'], [3, 'bob']]);
    const pc = sub.webrtcStuff.pc!;
    const report = [inbound(11, 'audio', '0', 10), inbound(13, 'audio', '2', 10)];
    expect(await statsUsers(pc, report)).toEqual({ '0': 'user-2-alice', '2': 'bob' });
    monitor.getFabric(pc)!.mapStream({ mid: '2' }, { userID: 'robert' });
    session.event(sub, { videoroom: 'updated', room: ROOM, streams: streams([['0', 'audio', 2, 'alice'], ['1', 'video', 2, 'alice'], ['2', 'audio', 3, 'bob'], ['3', 'video', 3, 'bob']]) }, { type: 'offer', sdp: sdp(['audio', 'video', 'audio', 'video']) });
    expect(await statsUsers(pc, report)).toEqual({ '0': 'user-2-alice', '2': 'robert' });
  });
});

describe('attachJanus: ending and detaching', () => {
  it('session.destroy() terminates the fabrics (janus.js runs no handle callback) and detaches the adapter', async () => {
    const session = new FakeSession();
    const before = snapshot(session, ['attach', 'destroy']);
    attachJanus(session, monitor);
    const a = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(a);
    const pc = a.webrtcStuff.pc!;
    await new Promise((resolve) => session.destroy({ success: resolve }));
    expect(names()).toEqual(['fabricTerminated']);
    expect(pc.signalingState).toBe('stable'); // janus.js leaves it open
    expect(snapshot(session, ['attach', 'destroy'])).toEqual(before);
    // Every handle member is janus.js's own again.
    const probe = await attachHandle(new FakeSession(), { plugin: 'janus.plugin.echotest' });
    expectUnwrapped(a, snapshot(probe, [...CALLBACKS, ...METHODS]), {});
    expect(monitor.fabrics()).toEqual([]);
    // Attaching again works (a fresh attachment).
    expect(attachJanus(session, monitor)).not.toBe(undefined);
  });

  it('detach restores every wrapper, terminates its fabrics, and nothing is reported afterwards', async () => {
    const session = new FakeSession();
    const sessionBefore = snapshot(session, ['attach', 'destroy']);
    // The handle's own members, as janus.js made them (captured by a plain attach).
    const probe = new FakeSession();
    const p = await attachHandle(probe, { plugin: 'janus.plugin.echotest' });
    const original = snapshot(p, [...CALLBACKS, ...METHODS]);

    const detach = attachJanus(session, monitor);
    expect(session.attach).not.toBe(sessionBefore.attach);
    const appCallbacks = { onmessage: vi.fn(), webrtcState: vi.fn(), slowLink: vi.fn(), oncleanup: vi.fn() };
    const h = await attachHandle(session, { plugin: VIDEOROOM, ...appCallbacks });
    const wrapped = snapshot(h, [...CALLBACKS, ...METHODS]);
    expect(wrapped.createOffer).not.toBe(undefined);
    expect(String(wrapped.createOffer)).not.toBe(String(original.createOffer));
    h.send({ message: { request: 'join', ptype: 'publisher', room: ROOM } });
    await offer(h);
    const pc = h.webrtcStuff.pc!;
    expect(monitor.getFabric(pc)).toBeDefined();

    detach();
    expect(names()).toEqual(['fabricTerminated']);
    expect(snapshot(session, ['attach', 'destroy'])).toEqual(sessionBefore);
    expectUnwrapped(h, original, appCallbacks);

    // Nothing more is reported.
    h.muteAudio();
    session.slowlink(h, true, 10, '0');
    session.event(h, { videoroom: 'event', room: ROOM, error_code: 1, error: 'x' });
    session.hangupEvent(h, 'ICE failed');
    const h2 = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(h2);
    expect(names()).toEqual(['fabricTerminated']);
    expect(custom).toEqual([]);
    expect(errors).toEqual([]);
    expect(monitor.fabrics()).toEqual([]);
    expect(appCallbacks.slowLink).toHaveBeenCalledTimes(1);
    expect(appCallbacks.webrtcState).toHaveBeenCalledWith(false, 'ICE failed');
    detach(); // idempotent
  });

  it('a wrapper someone installed on top of the adapter survives detach; the adapter one becomes a pass-through', async () => {
    const session = new FakeSession();
    const detach = attachJanus(session, monitor);
    const h = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(h);
    const ours = h.muteAudio as () => boolean;
    const theirs = vi.fn(() => ours());
    h.muteAudio = theirs;
    detach();
    expect(h.muteAudio).toBe(theirs);
    expect(h.muteAudio()).toBe(true);
    expect(theirs).toHaveBeenCalledTimes(1);
    expect(events.filter((e) => e.event === 'audioMute')).toEqual([]);
  });

  it("ondetached (Janus detached the handle) and the app's handle.detach() end the fabric and unwrap the handle", async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const a = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    const b = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
    await offer(a);
    await offer(b);
    session.detachedEvent(a);
    b.detach();
    expect(names()).toEqual(['fabricTerminated', 'fabricTerminated']);
    const probe = await attachHandle(new FakeSession(), { plugin: 'janus.plugin.echotest' });
    for (const h of [a, b]) expectUnwrapped(h, snapshot(probe, [...CALLBACKS, ...METHODS]), {});
    expect(monitor.fabrics()).toEqual([]);
  });
});

describe('attachJanus: nothing kept after the fact', () => {
  // The leak tests ask V8 for a full collection (node's --expose-gc, set at run time).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  /**
   * Indices of the refs whose objects are still reachable after a full collection (the last one
   * is left out: this test's own loop variable may still hold it).
   */
  async function reachable(refs: Array<WeakRef<object>>): Promise<number[]> {
    await tick();
    gc();
    await tick();
    gc();
    return refs.slice(0, -1).flatMap((r, i) => (r.deref() ? [i] : []));
  }

  it('a long-lived session keeps nothing of its detached handles, nor of publishers that left', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const handles: Array<WeakRef<object>> = [];
    for (let i = 0; i < 40; i++) {
      const h = await attachHandle(session, { plugin: 'janus.plugin.echotest' });
      await offer(h);
      if (i % 2) h.detach();
      else session.detachedEvent(h);
      handles.push(new WeakRef(h));
    }
    expect(monitor.fabrics()).toEqual([]);
    // Feed ids are opaque to the adapter: objects here, so that their release can be seen.
    const pub = await attachHandle(session, { plugin: VIDEOROOM });
    const feeds: Array<WeakRef<object>> = [];
    for (let i = 0; i < 40; i++) {
      const id = { feed: i };
      session.event(pub, { videoroom: 'event', room: ROOM, publishers: [{ id, display: `p${i}` }] });
      session.event(pub, { videoroom: 'event', room: ROOM, [i % 2 ? 'leaving' : 'unpublished']: id });
      feeds.push(new WeakRef(id));
    }
    expect(custom.filter((c) => c.name === 'publisherLeft')).toHaveLength(40);
    custom.length = 0; // (their data names the feed ids)
    expect(await reachable(handles)).toEqual([]);
    expect(await reachable(feeds)).toEqual([]);
  });
});

describe('attachJanus never throws', () => {
  it('app callbacks that throw propagate exactly as without the adapter, after the adapter did its work', async () => {
    const session = new FakeSession();
    attachJanus(session, monitor);
    const boom = new Error('app bug');
    const sub = await attachHandle(session, {
      plugin: VIDEOROOM,
      onmessage: () => {
        throw boom;
      },
    });
    sub.send({ message: { request: 'join', ptype: 'subscriber', room: ROOM, streams: [{ feed: 2 }] } });
    expect(() => session.event(sub, { videoroom: 'attached', room: ROOM, streams: streams([['0', 'audio', 2, 'alice']]) })).toThrow(boom);
    await new Promise((resolve) => sub.createAnswer({ jsep: { type: 'offer', sdp: sdp(['audio']) }, success: resolve }));
    expect(await statsUsers(sub.webrtcStuff.pc!, [inbound(1, 'audio', '0', 5)])).toEqual({ '0': 'alice' });
  });

  it('a throwing monitor, throwing options and malformed messages are logged, never thrown', async () => {
    const session = new FakeSession();
    const bad = newMonitor();
    bad.tryAddFabric = () => {
      throw new Error('monitor broken');
    };
    bad.sendCustomEvent = () => {
      throw new Error('monitor broken');
    };
    attachJanus(session, bad, {
      conferenceID: () => {
        throw new Error('option broken');
      },
      userIdFromFeed: () => {
        throw new Error('option broken');
      },
    });
    const h = await attachHandle(session, { plugin: VIDEOROOM });
    await expect(offer(h)).resolves.toBeTruthy();
    expect(() => {
      session.slowlink(h, true, 1, '0');
      session.event(h, null as never);
      session.event(h, { videoroom: 'attached', streams: 'nope' });
      session.event(h, { videoroom: 'updated', streams: [null, 1, { mid: 0, type: 'audio', feed_id: {} }] });
      session.event(h, { videoroom: 'event', publishers: [null, { id: null }], unpublished: { x: 1 } });
      h.muteAudio();
      session.hangupEvent(h, 'ICE failed');
    }).not.toThrow();
    // Caught by the adapter skeleton (core's attachAdapter) and logged through the monitor's logger.
    expect(logs.some((l) => l.includes('janus: a handler failed'))).toBe(true);
    await bad.close();
  });

  it("bad arguments give a no-op detach and a log line (the monitor's logger, else the console)", () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(() => attachJanus(null as never, monitor)()).not.toThrow();
      expect(() => attachJanus({} as never, monitor, null as never)()).not.toThrow();
      expect(() => instrumentJanus({} as never, monitor)()).not.toThrow();
      expect(logs).toHaveLength(3);
      expect(() => attachJanus(new FakeSession(), {} as never)()).not.toThrow();
      expect(consoleError).toHaveBeenCalledTimes(1);
    } finally {
      consoleError.mockRestore();
    }
  });
});

describe('instrumentJanus', () => {
  it('catches every session through Janus.sessions.set; detach restores it and detaches the sessions', async () => {
    const J = fakeJanusStatic();
    const existing = await J.create(); // before: caught too, but not its earlier handles
    const setBefore = J.sessions.set;
    const detach = instrumentJanus(J, monitor, { conferenceID: 'c' });
    expect(instrumentJanus(J, monitor)).toBe(detach);
    expect(Object.prototype.hasOwnProperty.call(J.sessions, 'set')).toBe(true);
    const s1 = await J.create();
    const s2 = await J.create();
    J.sessions.set(s1.id, s1); // janus.js sets again on reconnect: still one attachment
    for (const s of [existing, s1, s2]) {
      const h = await attachHandle(s, { plugin: 'janus.plugin.echotest' });
      await offer(h);
    }
    expect(monitor.fabrics().map((f) => f.conferenceID)).toEqual(['c', 'c', 'c']);
    const h1 = [...s1.handles.values()][0]!;
    h1.muteAudio();
    expect(events.filter((e) => e.event === 'audioMute')).toHaveLength(1);

    detach();
    expect(Object.prototype.hasOwnProperty.call(J.sessions, 'set')).toBe(false);
    expect(J.sessions.set).toBe(setBefore);
    expect(monitor.fabrics()).toEqual([]);
    const s3 = await J.create();
    const h3 = await attachHandle(s3, { plugin: 'janus.plugin.echotest' });
    await offer(h3);
    expect(monitor.fabrics()).toEqual([]);
  });
});
