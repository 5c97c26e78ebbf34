// Fast unit tests of @callmetry/twilio with a fake Room (Node EventEmitters shaped like
// twilio-video 2.x's objects, fake peer connections from core's test helpers) and the real core
// monitor. The real SDK is exercised by twilio.browser.test.ts.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type CustomEventRecord, type ErrorRecord, type Fabric, type FabricEventRecord, type Logger, type Monitor, type StatsEntry } from '@callmetry/core';
import { FakePeerConnection } from '../../core/test/helpers/fakePeerConnection';
import { attachTwilio, type TwilioStatsReportLike, type TwilioTrackStatsLike } from '../src/index';
import { twilioErrorFunction } from '../src/errors';
import { entriesFromTwilioReport, RoomStatsPeerConnection } from '../src/statsShim';

// ---- fakes --------------------------------------------------------------------------------------

class FakeTrack extends EventEmitter {
  isEnabled = true;
  isStopped = false;
  constructor(
    readonly kind: 'audio' | 'video',
    readonly mediaStreamTrack: { id: string; kind: string },
    readonly name = `${kind}-track`,
  ) {
    super();
  }
}

class FakePublication {
  track: FakeTrack | null;
  isSubscribed: boolean;
  constructor(
    readonly trackSid: string,
    readonly kind: 'audio' | 'video',
    public isTrackEnabled = true,
    track?: FakeTrack,
  ) {
    this.trackName = `${kind}-track`;
    this.track = track ?? null;
    this.isSubscribed = !!track;
  }
  readonly trackName: string;
}

class FakeParticipant extends EventEmitter {
  readonly tracks = new Map<string, FakePublication>();
  state = 'connected';
  constructor(
    readonly sid: string,
    readonly identity: string,
  ) {
    super();
  }
  publish(pub: FakePublication): FakePublication {
    this.tracks.set(pub.trackSid, pub);
    return pub;
  }
}

class FakeLocalParticipant extends FakeParticipant {
  unpublishTrack(track: FakeTrack): FakePublication | null {
    for (const [sid, pub] of this.tracks) {
      if (pub.track === track) {
        this.tracks.delete(sid);
        return pub;
      }
    }
    return null;
  }
}

interface FakePcV2 {
  id: string;
  _peerConnection: { _peerConnection: FakePeerConnection };
}

class FakeRoom extends EventEmitter {
  state = 'connected';
  mediaRegion: string | null = 'us1';
  readonly participants = new Map<string, FakeParticipant>();
  readonly localParticipant = new FakeLocalParticipant('PAlocal', 'alice');
  reports: TwilioStatsReportLike[] = [];
  getStatsCalls = 0;
  readonly _signaling = { _peerConnectionManager: { _peerConnections: new Map<string, FakePcV2>() } };
  constructor(
    readonly sid = 'RM123',
    readonly name = 'standup',
  ) {
    super();
  }
  addPc(id: string): FakePeerConnection {
    const pc = new FakePeerConnection();
    this._signaling._peerConnectionManager._peerConnections.set(id, { id, _peerConnection: { _peerConnection: pc } });
    return pc;
  }
  join(p: FakeParticipant): FakeParticipant {
    this.participants.set(p.sid, p);
    return p;
  }
  async getStats(): Promise<TwilioStatsReportLike[]> {
    this.getStatsCalls++;
    return this.reports;
  }
  listenerTotal(): number {
    let n = 0;
    for (const e of [this, this.localParticipant]) for (const ev of e.eventNames()) n += e.listenerCount(ev);
    return n;
  }
}

function trackStats(trackSid: string, ssrc: string, extra: Partial<TwilioTrackStatsLike> = {}): TwilioTrackStatsLike {
  return { trackId: `id-${trackSid}`, trackSid, ssrc, timestamp: 1000, packetsLost: 0, codec: 'opus', ...extra };
}

function report(id: string, remote: { audio?: TwilioTrackStatsLike[]; video?: TwilioTrackStatsLike[] }, local: { audio?: TwilioTrackStatsLike[]; video?: TwilioTrackStatsLike[] } = {}): TwilioStatsReportLike {
  return {
    peerConnectionId: id,
    localAudioTrackStats: local.audio ?? [],
    localVideoTrackStats: local.video ?? [],
    remoteAudioTrackStats: remote.audio ?? [],
    remoteVideoTrackStats: remote.video ?? [],
  };
}

const inbound = (ssrc: number, kind: string, trackIdentifier: string, packets = 100): StatsEntry => ({
  id: `IT-${ssrc}`,
  type: 'inbound-rtp',
  timestamp: Date.now(),
  ssrc,
  kind,
  trackIdentifier,
  packetsReceived: packets,
  bytesReceived: packets * 100,
  packetsLost: 0,
  jitter: 0.01,
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (m: string) => void lines.push(`${level}: ${m}`);
  return { lines, debug: () => undefined, info: rec('info'), warn: rec('warn'), error: rec('error') };
}

interface Setup {
  room: FakeRoom;
  monitor: Monitor;
  events: FabricEventRecord[];
  errors: ErrorRecord[];
  logger: ReturnType<typeof recordingLogger>;
  app: () => { event: string; data?: Record<string, unknown>; fabricID: string }[];
}

const monitors: Monitor[] = [];
function setup(localUserID = 'alice'): Setup {
  const logger = recordingLogger();
  const monitor = createMonitor({ appID: 'unit', localUserID, logger });
  monitors.push(monitor);
  const events: FabricEventRecord[] = [];
  const errors: ErrorRecord[] = [];
  monitor.on('fabricEvent', (r) => void events.push(r));
  monitor.on('error', (r) => void errors.push(r));
  const room = new FakeRoom();
  const lifecycle = new Set(['fabricSetup', 'fabricStateChange', 'connectionDisruptionStart', 'connectionDisruptionEnd', 'fabricTerminated']);
  const app = () =>
    events.filter((e) => !lifecycle.has(e.event)).map((e) => ({ event: e.event, ...(e.data ? { data: e.data } : {}), fabricID: e.fabricID }));
  return { room, monitor, events, errors, logger, app };
}

afterEach(async () => {
  vi.useRealTimers();
  for (const m of monitors.splice(0)) await m.close();
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

// ---- tests --------------------------------------------------------------------------------------

describe('attachTwilio bookkeeping', () => {
  it('attaching twice attaches once: one set of listeners, events reported once', () => {
    const { room, monitor, app } = setup();
    room.addPc('pc1');
    const bob = room.join(new FakeParticipant('PAbob', 'bob'));
    const pub = bob.publish(new FakePublication('MTa', 'audio', true, new FakeTrack('audio', { id: 'a1', kind: 'audio' })));
    const before = room.listenerTotal();
    const detach1 = attachTwilio(room, monitor);
    const added = room.listenerTotal() - before;
    const detach2 = attachTwilio(room, monitor);
    expect(detach2).toBe(detach1);
    expect(room.listenerTotal() - before).toBe(added);
    expect(room.listenerCount('trackDisabled')).toBe(1);
    expect(monitor.fabrics()).toHaveLength(1);

    pub.isTrackEnabled = false;
    room.emit('trackDisabled', pub, bob);
    expect(app().map((e) => e.event)).toEqual(['audioMute']);
    detach1();
  });

  it('detach removes every listener and wrapper, terminates its fabrics, and is idempotent', () => {
    const { room, monitor, events } = setup();
    room.addPc('pc1');
    const before = room.listenerTotal();
    const originalUnpublish = room.localParticipant.unpublishTrack;
    const detach = attachTwilio(room, monitor);
    expect(room.listenerTotal()).toBeGreaterThan(before);
    expect(Object.prototype.hasOwnProperty.call(room.localParticipant, 'unpublishTrack')).toBe(true);

    detach();
    expect(room.listenerTotal()).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(room.localParticipant, 'unpublishTrack')).toBe(false);
    expect(room.localParticipant.unpublishTrack).toBe(originalUnpublish);
    expect(events.filter((e) => e.event === 'fabricTerminated')).toHaveLength(1);
    expect(monitor.fabrics()).toHaveLength(0);
    detach();
    expect(events.filter((e) => e.event === 'fabricTerminated')).toHaveLength(1);
    // a later attach is a new attachment
    const again = attachTwilio(room, monitor);
    expect(again).not.toBe(detach);
    expect(monitor.fabrics()).toHaveLength(1);
    again();
  });

  it('leaves a wrapper installed after its own in place on detach', () => {
    const { room, monitor } = setup();
    const detach = attachTwilio(room, monitor);
    const ours = room.localParticipant.unpublishTrack;
    const theirs = function (this: FakeLocalParticipant, t: FakeTrack) {
      return ours.call(this, t);
    };
    room.localParticipant.unpublishTrack = theirs;
    detach();
    expect(room.localParticipant.unpublishTrack).toBe(theirs);
  });

  it("detaches itself on 'disconnected', reporting Twilio's error first", () => {
    const { room, monitor, events, errors } = setup();
    room.addPc('pc1').connect();
    const before = room.listenerTotal();
    attachTwilio(room, monitor);
    const fabricID = monitor.fabrics()[0]!.id;
    room.state = 'disconnected';
    room.emit('disconnected', room, Object.assign(new Error('Media connection failed or Media activity ceased'), { name: 'TwilioError', code: 53405 }));
    expect(errors.map((e) => [e.fabricID, e.webRTCFunction, e.category, e.name, e.message])).toEqual([
      [fabricID, 'iceConnectionFailure', 'iceFailureAfterSetup', 'TwilioError', 'Twilio 53405: Media connection failed or Media activity ceased'],
    ]);
    // terminated with the reason
    expect(events.filter((e) => e.event === 'fabricTerminated').map((e) => [e.fabricID, e.data])).toEqual([
      [fabricID, { code: 53405, name: 'TwilioError', message: 'Media connection failed or Media activity ceased' }],
    ]);
    expect(room.listenerTotal()).toBe(before);
    expect(monitor.fabrics()).toHaveLength(0);
  });

  it("detaches on 'disconnected' even when Twilio's error cannot be read (listeners, wrappers, timer, fabrics)", async () => {
    vi.useFakeTimers();
    const { room, monitor } = setup();
    room.addPc('pc1');
    const before = room.listenerTotal();
    attachTwilio(room, monitor);
    const hostile = {
      get code(): number {
        throw new Error('hostile error');
      },
    };
    expect(() => room.emit('disconnected', room, hostile)).not.toThrow();
    expect(room.listenerTotal()).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(room.localParticipant, 'unpublishTrack')).toBe(false);
    expect(monitor.fabrics()).toHaveLength(0);
    const calls = room.getStatsCalls;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(room.getStatsCalls).toBe(calls); // the 1 s timer is gone too
  });

  it("a plain 'disconnected' (the app left) reports no error", () => {
    const { room, monitor, events, errors } = setup();
    room.addPc('pc1');
    attachTwilio(room, monitor);
    room.emit('disconnected', room, null);
    expect(errors).toEqual([]);
    expect(events.filter((e) => e.event === 'fabricTerminated').map((e) => e.data)).toEqual([undefined]);
  });

  it('detaches itself when the monitor closes', async () => {
    const { room, monitor } = setup();
    room.addPc('pc1');
    const before = room.listenerTotal();
    const originalUnpublish = room.localParticipant.unpublishTrack;
    attachTwilio(room, monitor);
    expect(room.listenerTotal()).toBeGreaterThan(before);
    await monitor.close();
    expect(room.listenerTotal()).toBe(before);
    expect(room.localParticipant.unpublishTrack).toBe(originalUnpublish);
  });

  it('never throws: bad arguments, throwing getters, malformed events, a failing getStats', async () => {
    const { room, monitor, logger } = setup();
    expect(attachTwilio(null as never, monitor)()).toBeUndefined();
    expect(attachTwilio({} as never, monitor)()).toBeUndefined();
    expect(attachTwilio(room, null as never)()).toBeUndefined();

    room.addPc('pc1');
    room.getStats = () => {
      throw new Error('getStats exploded');
    };
    Object.defineProperty(room, 'participants', {
      get() {
        throw new Error('participants exploded');
      },
    });
    const detach = attachTwilio(room, monitor);
    expect(() => {
      room.emit('trackDisabled');
      room.emit('trackSubscribed', null, undefined, 42);
      room.emit('dominantSpeakerChanged', { identity: 7 });
      room.emit('participantConnected', {});
      room.emit('reconnecting', 'not an error');
      room.localParticipant.emit('trackDisabled', undefined);
    }).not.toThrow();
    await tick();
    detach();
    expect(logger.lines.some((l) => l.startsWith('error: twilio:') || l.startsWith('warn: twilio:'))).toBe(true);
  });
});

describe('fabrics', () => {
  it('group Room: one fabric per media-server peer connection, remote user twilio-sfu, conference = Room name', () => {
    const { room, monitor } = setup();
    room.addPc('pc1');
    const detach = attachTwilio(room, monitor);
    const [f] = monitor.fabrics();
    expect(f).toMatchObject({ remoteUserID: 'twilio-sfu', remoteEndpointType: 'server', conferenceID: 'standup', usage: 'multiplex' });
    expect(f?.attributes).toMatchObject({
      twilioRoomSid: 'RM123',
      twilioRoomName: 'standup',
      twilioRoomType: 'group',
      twilioIdentity: 'alice',
      twilioParticipantSid: 'PAlocal',
      twilioPeerConnectionAccess: 'internal',
      twilioPeerConnectionId: 'pc1',
    });
    detach();
  });

  it('conferenceID options: by SID, fixed, or a function', () => {
    for (const [options, expected] of [
      [{ conferenceIDFrom: 'sid' as const }, 'RM123'],
      [{ conferenceID: 'fixed' }, 'fixed'],
      [{ conferenceID: (r: { sid: string }) => `c-${r.sid}` }, 'c-RM123'],
      // A function that throws or answers no string: the default (the Room's name), the Room still monitored.
      [{ conferenceID: () => { throw new Error('app bug'); } }, 'standup'],
      [{ conferenceID: () => 42 as unknown as string }, 'standup'],
    ] as const) {
      const { room, monitor } = setup();
      room.addPc('pc1');
      const detach = attachTwilio(room, monitor, options);
      expect(monitor.fabrics()[0]?.conferenceID).toBe(expected);
      detach();
    }
  });

  it("warns when the Room's identity is not the monitor's user and sends it as an attribute", () => {
    const { room, monitor, logger } = setup('someone-else');
    room.addPc('pc1');
    const detach = attachTwilio(room, monitor);
    expect(logger.lines.filter((l) => l.includes("identity 'alice' is not the monitor's localUserID 'someone-else'"))).toHaveLength(1);
    expect(monitor.fabrics()[0]?.attributes).toMatchObject({
      twilioIdentity: 'alice',
      twilioIdentityMismatch: true,
    });
    detach();
  });

  it('follows peer connections that appear and vanish (checked every second)', () => {
    vi.useFakeTimers();
    const { room, monitor } = setup();
    const detach = attachTwilio(room, monitor);
    expect(monitor.fabrics()).toHaveLength(0);
    room.addPc('pc1');
    vi.advanceTimersByTime(1000);
    expect(monitor.fabrics()).toHaveLength(1);
    room._signaling._peerConnectionManager._peerConnections.delete('pc1');
    vi.advanceTimersByTime(1000);
    expect(monitor.fabrics()).toHaveLength(0);
    detach();
  });

  it('falls back to the stats shim when internals are missing or the version is not 2.x', async () => {
    for (const variant of ['no-internals', 'version-3', 'forced'] as const) {
      const { room, monitor, logger } = setup();
      if (variant === 'no-internals') (room as unknown as { _signaling: unknown })._signaling = undefined;
      else room.addPc('pc1');
      const detach = attachTwilio(room, monitor, {
        ...(variant === 'version-3' ? { twilioVersion: '3.0.0' } : {}),
        ...(variant === 'forced' ? { peerConnections: 'stats-shim' as const } : {}),
      });
      const [f] = monitor.fabrics();
      expect(f?.pc).toBeInstanceOf(RoomStatsPeerConnection);
      expect(f?.remoteUserID).toBe('twilio-sfu');
      if (variant !== 'forced') expect(logger.lines.filter((l) => l.startsWith('warn:') && l.includes('room.getStats()'))).toHaveLength(1);
      detach();
    }
  });

  it('peer-to-peer Room: one fabric per remote participant, identified from the stats reports', async () => {
    vi.useFakeTimers();
    const { room, monitor, app } = setup();
    room.mediaRegion = null;
    const bob = room.join(new FakeParticipant('PAbob', 'bob'));
    const carol = room.join(new FakeParticipant('PAcarol', 'carol'));
    bob.publish(new FakePublication('MTb', 'audio', true, new FakeTrack('audio', { id: 'b1', kind: 'audio' })));
    const carolAudio = carol.publish(new FakePublication('MTc', 'audio', true, new FakeTrack('audio', { id: 'c1', kind: 'audio' })));
    room.addPc('pc-b');
    room.addPc('pc-c');
    room.reports = [report('pc-b', { audio: [trackStats('MTb', '111')] }), report('pc-c', { audio: [trackStats('MTc', '222')] })];
    const detach = attachTwilio(room, monitor);
    expect(monitor.fabrics()).toHaveLength(0); // not attributed yet
    await vi.advanceTimersByTimeAsync(10);
    const fabrics = monitor.fabrics().map((f) => [f.remoteUserID, f.remoteEndpointType]);
    expect(fabrics.sort()).toEqual([
      ['bob', 'peer'],
      ['carol', 'peer'],
    ]);
    const carolFabric = monitor.fabrics().find((f) => f.remoteUserID === 'carol')!;

    carolAudio.isTrackEnabled = false;
    room.emit('trackDisabled', carolAudio, carol);
    expect(app()).toEqual([
      { event: 'audioMute', fabricID: carolFabric.id, data: expect.objectContaining({ userID: 'carol', local: false, reason: 'disabled', trackSid: 'MTc' }) },
    ]);

    room.participants.delete('PAcarol');
    room.emit('participantDisconnected', carol);
    expect(monitor.fabrics().map((f) => f.remoteUserID)).toEqual(['bob']);
    detach();
  });

  it('peer-to-peer Room: a participant that left gets no new fabric while its peer connection is still listed', async () => {
    vi.useFakeTimers();
    const { room, monitor, events } = setup();
    room.mediaRegion = null;
    const bob = room.join(new FakeParticipant('PAbob', 'bob'));
    bob.publish(new FakePublication('MTb', 'audio', true, new FakeTrack('audio', { id: 'b1', kind: 'audio' })));
    room.addPc('pc-b');
    room.reports = [report('pc-b', { audio: [trackStats('MTb', '111')] })];
    const detach = attachTwilio(room, monitor);
    await vi.advanceTimersByTimeAsync(10);
    expect(monitor.fabrics().map((f) => f.remoteUserID)).toEqual(['bob']);
    // twilio-video emits participantDisconnected before it closes and drops the peer connection.
    room.participants.delete('PAbob');
    room.emit('participantDisconnected', bob);
    await vi.advanceTimersByTimeAsync(5000);
    room._signaling._peerConnectionManager._peerConnections.delete('pc-b');
    await vi.advanceTimersByTimeAsync(2000);
    expect(monitor.fabrics()).toEqual([]);
    expect(events.filter((e) => e.event === 'fabricTerminated')).toHaveLength(1);
    detach();
  });

  it('peer-to-peer Room: a peer connection without remote tracks goes to the only participant', async () => {
    vi.useFakeTimers();
    const { room, monitor } = setup();
    room.mediaRegion = null;
    room.join(new FakeParticipant('PAbob', 'bob'));
    room.addPc('pc-b');
    const detach = attachTwilio(room, monitor);
    await vi.advanceTimersByTimeAsync(2000);
    expect(monitor.fabrics()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(monitor.fabrics().map((f) => f.remoteUserID)).toEqual(['bob']);
    detach();
  });
});

describe('stream mappings', () => {
  it('maps a subscribed remote track by MediaStreamTrack id and by the SSRC of its stats', async () => {
    const { room, monitor } = setup();
    const pc = room.addPc('pc1');
    pc.connect();
    const bob = room.join(new FakeParticipant('PAbob', 'bob'));
    const detach = attachTwilio(room, monitor, { usageLabel: (p) => `${p.kind}:${p.trackName}` });
    const track = new FakeTrack('video', { id: 'mst-video', kind: 'video' });
    const pub = bob.publish(new FakePublication('MTv', 'video', true, track));
    room.emit('trackSubscribed', track, pub, bob);

    pc.nextReport = [inbound(1, 'video', 'mst-video'), inbound(2, 'audio', 'unknown-track')];
    const f = monitor.fabrics()[0]!;
    let stats = await f.pollNow();
    const byIdent = (s: typeof stats, ssrc: string) => s?.mediaStreamTracks.find((t) => t.ssrc === ssrc);
    expect(byIdent(stats, '1')).toMatchObject({ userID: 'bob', usageLabel: 'video:video-track' });
    expect(byIdent(stats, '2')).toMatchObject({ userID: 'twilio-sfu' });

    // SSRC from room.getStats(): the second stream belongs to bob's audio
    const audio = bob.publish(new FakePublication('MTa', 'audio', true, new FakeTrack('audio', { id: 'other', kind: 'audio' })));
    room.reports = [report('pc1', { audio: [trackStats('MTa', '2')] }, { audio: [] })];
    const calls = room.getStatsCalls;
    room.emit('trackSubscribed', audio.track, audio, bob); // asks for a refresh within a second
    await vi.waitFor(() => expect(room.getStatsCalls).toBeGreaterThan(calls), { timeout: 3000 });
    await tick();
    stats = await f.pollNow();
    expect(byIdent(stats, '2')).toMatchObject({ userID: 'bob', usageLabel: 'audio:audio-track' });
    detach();
  });
});

describe('stream mappings of participants that left', () => {
  it('are not kept: unmapped from the live fabric, and a fabric added later (new peer connection) gets only the present participants\' mappings', async () => {
    vi.useFakeTimers();
    const { room, monitor } = setup();
    room.addPc('pc1');
    /** mapStream calls made on each fabric the adapter adds, from its creation on. */
    const mapped: string[][] = [];
    /** unmapStream calls on each fabric (its selectors). */
    const unmapped: string[][] = [];
    const addFabric = monitor.addFabric.bind(monitor);
    monitor.addFabric = (pc, o) => {
      const f = addFabric(pc, o);
      const calls: string[] = [];
      const unmaps: string[] = [];
      mapped.push(calls);
      unmapped.push(unmaps);
      const map = f!.mapStream.bind(f);
      const unmap = f!.unmapStream.bind(f);
      (f as { mapStream: Fabric['mapStream'] }).mapStream = (selector, mapping) => (calls.push(mapping.userID), map(selector, mapping));
      (f as { unmapStream: Fabric['unmapStream'] }).unmapStream = (selector) => (unmaps.push(JSON.stringify(selector)), unmap(selector));
      return f;
    };
    const detach = attachTwilio(room, monitor);
    const join = async (i: number): Promise<FakeParticipant> => {
      const p = room.join(new FakeParticipant(`PA${i}`, `user${i}`));
      room.emit('participantConnected', p);
      const track = new FakeTrack('audio', { id: `mst${i}`, kind: 'audio' });
      const pub = p.publish(new FakePublication(`MT${i}`, 'audio', true, track));
      room.reports = [report('pc1', { audio: [trackStats(`MT${i}`, String(1000 + i))] })];
      room.emit('trackSubscribed', track, pub, p); // trackId mapping; the SSRC from the next getStats
      await vi.advanceTimersByTimeAsync(1000);
      return p;
    };
    const stays = await join(0);
    for (let i = 1; i <= 20; i++) {
      const p = await join(i);
      room.participants.delete(p.sid);
      room.emit('participantDisconnected', p);
    }
    expect(mapped[0]).toContain('user20'); // they were mapped while present
    // ... and unmapped from the live fabric when they left (trackId and SSRC of each).
    expect(unmapped[0]).toHaveLength(40);
    expect(unmapped[0]).toContain(JSON.stringify({ trackId: 'mst20' }));
    expect(unmapped[0]).toContain(JSON.stringify({ ssrc: '1020' }));
    // Twilio replaces the peer connection (e.g. after a reconnection): a new fabric.
    room._signaling._peerConnectionManager._peerConnections.clear();
    room.addPc('pc2');
    room.emit('reconnected');
    expect(mapped).toHaveLength(2);
    expect(mapped[1]).toEqual([stays.identity, stays.identity]); // its trackId and its SSRC
    detach();
  });
});

describe('fabric events', () => {
  function groupRoom() {
    const s = setup();
    s.room.addPc('pc1');
    const bob = s.room.join(new FakeParticipant('PAbob', 'bob'));
    return { ...s, bob };
  }

  it('remote disable/enable/unpublish/publish: mute and unmute transitions only', () => {
    const { room, monitor, app, bob } = groupRoom();
    const a1 = bob.publish(new FakePublication('MTa1', 'audio'));
    const detach = attachTwilio(room, monitor);
    a1.isTrackEnabled = false;
    room.emit('trackDisabled', a1, bob);
    room.emit('trackDisabled', a1, bob); // no transition: nothing
    a1.isTrackEnabled = true;
    room.emit('trackEnabled', a1, bob);
    bob.tracks.delete('MTa1');
    room.emit('trackUnpublished', a1, bob);
    const a2 = bob.publish(new FakePublication('MTa2', 'audio'));
    room.emit('trackPublished', a2, bob);
    const v = bob.publish(new FakePublication('MTv', 'video'));
    room.emit('trackPublished', v, bob); // first video: nothing was paused
    expect(app().map((e) => [e.event, e.data?.reason, e.data?.trackSid])).toEqual([
      ['audioMute', 'disabled', 'MTa1'],
      ['audioUnmute', 'enabled', 'MTa1'],
      ['audioMute', 'unpublished', 'MTa1'],
      ['audioUnmute', 'published', 'MTa2'],
    ]);
    detach();
  });

  it('a participant already muted when first seen is reported muted', () => {
    const { room, monitor, app, bob } = groupRoom();
    bob.publish(new FakePublication('MTv', 'video', false));
    const detach = attachTwilio(room, monitor);
    const carol = room.join(new FakeParticipant('PAcarol', 'carol'));
    carol.publish(new FakePublication('MTc', 'audio', false));
    room.emit('participantConnected', carol);
    expect(app().map((e) => [e.event, e.data?.userID, e.data?.reason])).toEqual([
      ['videoPause', 'bob', 'initial'],
      ['audioMute', 'carol', 'connected'],
    ]);
    detach();
  });

  it('local disable/enable/stop and unpublishTrack (wrapped) give mute events for the local user', () => {
    const { room, monitor, app } = groupRoom();
    const lp = room.localParticipant;
    const mic = new FakeTrack('audio', { id: 'mic', kind: 'audio' });
    const cam = new FakeTrack('video', { id: 'cam', kind: 'video' });
    lp.publish(new FakePublication('MTmic', 'audio', true, mic));
    lp.publish(new FakePublication('MTcam', 'video', true, cam));
    const detach = attachTwilio(room, monitor);
    mic.isEnabled = false;
    lp.emit('trackDisabled', mic);
    mic.isEnabled = true;
    lp.emit('trackEnabled', mic);
    expect(lp.unpublishTrack(cam)?.trackSid).toBe('MTcam');
    expect(app().map((e) => [e.event, e.data?.userID, e.data?.local, e.data?.reason])).toEqual([
      ['audioMute', 'alice', true, 'disabled'],
      ['audioUnmute', 'alice', true, 'enabled'],
      ['videoPause', 'alice', true, 'unpublished'],
    ]);
    detach();
  });

  it('dominantSpeaker with the identity; none speaking sends nothing', () => {
    const { room, monitor, app, bob } = groupRoom();
    const detach = attachTwilio(room, monitor);
    room.emit('dominantSpeakerChanged', bob);
    room.emit('dominantSpeakerChanged', null);
    expect(app()).toEqual([{ event: 'dominantSpeaker', fabricID: monitor.fabrics()[0]!.id, data: { userID: 'bob', participantSid: 'PAbob' } }]);
    detach();
  });

  it('reconnecting/reconnected are custom events with the Twilio error', () => {
    const { room, monitor } = groupRoom();
    const custom: CustomEventRecord[] = [];
    monitor.on('customEvent', (r) => void custom.push(r));
    const detach = attachTwilio(room, monitor);
    const fabric = monitor.fabrics()[0]!.id;
    room.emit('reconnecting', Object.assign(new Error('Media connection failed or Media activity ceased'), { name: 'TwilioError', code: 53405 }));
    room.emit('reconnected');
    expect(custom).toEqual([
      {
        conferenceID: 'standup',
        name: 'twilioReconnecting',
        fabricID: fabric,
        data: { code: 53405, name: 'TwilioError', message: 'Media connection failed or Media activity ceased', cause: 'media' },
        timestamp: expect.any(Number),
      },
      { conferenceID: 'standup', name: 'twilioReconnected', fabricID: fabric, data: { durationMs: expect.any(Number) }, timestamp: expect.any(Number) },
    ]);
    detach();
  });

  it('events wait for the fabric when there is none yet', () => {
    vi.useFakeTimers();
    const { room, monitor, app } = setup();
    const detach = attachTwilio(room, monitor);
    room.emit('dominantSpeakerChanged', new FakeParticipant('PAdan', 'dan'));
    expect(app()).toEqual([]);
    room.addPc('pc1');
    vi.advanceTimersByTime(1000);
    expect(app().map((e) => [e.event, e.data?.userID])).toEqual([['dominantSpeaker', 'dan']]);
    detach();
  });
});

describe('Twilio error codes', () => {
  it.each([
    [20104, 'signalingError'],
    [53000, 'signalingError'],
    [53001, 'signalingError'],
    [53002, 'signalingError'],
    [53006, 'signalingError'],
    [53105, 'signalingError'],
    [53118, 'applicationLog'],
    [53205, 'signalingError'],
    [53304, 'applicationError'],
    [53400, 'setLocalDescription'],
    [53401, 'signalingError'],
    [53402, 'setRemoteDescription'],
    [53403, 'signalingError'],
    [53404, 'setRemoteDescription'],
    [53405, 'iceConnectionFailure'],
    [53407, 'iceConnectionFailure'],
    [53500, 'signalingError'],
    [53501, 'iceConnectionFailure'],
    [99999, 'applicationLog'],
  ])('%i -> %s', (code, fn) => {
    expect(twilioErrorFunction({ code, name: 'TwilioError', message: 'x' })).toBe(fn);
  });

  it('getUserMedia failures (DOMException names) -> getUserMedia; anything else -> applicationLog', () => {
    expect(twilioErrorFunction({ name: 'NotAllowedError', message: 'Permission denied' })).toBe('getUserMedia');
    expect(twilioErrorFunction({ name: 'NotFoundError' })).toBe('getUserMedia');
    expect(twilioErrorFunction(new Error('boom'))).toBe('applicationLog');
    expect(twilioErrorFunction(undefined)).toBe('applicationLog');
  });
});

describe('stats shim', () => {
  it("synthesizes spec-shaped entries in the spec's units", () => {
    const entries = entriesFromTwilioReport(
      report(
        'pc1',
        { audio: [trackStats('MTr', '42', { bytesReceived: 1000, packetsReceived: 10, jitter: 20, audioLevel: 32767, packetsLost: 1 })] },
        { video: [trackStats('MTl', '7', { bytesSent: 5000, packetsSent: 50, roundTripTime: 120, frameRate: 30, dimensions: { width: 640, height: null } })] },
      ),
      5,
    );
    expect(entries).toEqual([
      {
        id: 'pc1-out-7',
        type: 'outbound-rtp',
        timestamp: 1000,
        ssrc: 7,
        kind: 'video',
        mediaType: 'video',
        bytesSent: 5000,
        packetsSent: 50,
        trackIdentifier: 'id-MTl',
        framesPerSecond: 30,
        frameWidth: 640,
        remoteId: 'pc1-rin-7',
      },
      { id: 'pc1-rin-7', type: 'remote-inbound-rtp', timestamp: 1000, ssrc: 7, kind: 'video', localId: 'pc1-out-7', roundTripTime: 0.12, packetsLost: 0 },
      {
        id: 'pc1-in-42',
        type: 'inbound-rtp',
        timestamp: 1000,
        ssrc: 42,
        kind: 'audio',
        mediaType: 'audio',
        bytesReceived: 1000,
        packetsReceived: 10,
        packetsLost: 1,
        jitter: 0.02,
        audioLevel: 1,
        trackIdentifier: 'id-MTr',
      },
    ]);
  });

  it("follows the Room's state with events", () => {
    const room = new FakeRoom();
    const shim = new RoomStatsPeerConnection(room);
    const seen: string[] = [];
    const l = (e: unknown) => void seen.push(`${(e as { type: string }).type}:${shim.connectionState}`);
    shim.addEventListener('connectionstatechange', l);
    shim.follow('reconnecting');
    shim.follow('connected');
    shim.follow('disconnected');
    shim.removeEventListener('connectionstatechange', l);
    shim.follow('connected');
    expect(seen).toEqual(['connectionstatechange:disconnected', 'connectionstatechange:connected', 'connectionstatechange:closed']);
    expect(shim.signalingState).toBe('stable');
  });
});
