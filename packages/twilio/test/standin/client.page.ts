// Page entry (bundled by the harness): the app side of the Twilio test. The real twilio-video
// 2.32.1 connects to the signaling stand-in (./standin.ts) and the Room is monitored by the real
// core through `attachTwilio`. Exposes `window.client` returning plain data for assertions.
import * as Video from 'twilio-video';
import { createMonitor, type CustomEventRecord, type ErrorRecord, type FabricEventRecord, type Monitor } from '@callmetry/core';
// Relative import: the root tsconfig maps only @callmetry/core to source (esbuild maps both).
import { attachTwilio, type PeerConnectionAccess } from '../../src/index';

export interface ConnectArgs {
  wsServer: string;
  token: string;
  roomName: string;
  localUserID: string;
  access?: PeerConnectionAccess;
}

export interface StreamSummary {
  fabricID: string;
  ssrc: string;
  statsType: string;
  mediaType: string;
  userID: string;
  usageLabel?: string;
  trackIdentifier?: string;
  bitrate?: number;
  packetRate?: number;
  rtt?: number;
  jitter?: number;
}

export interface Snapshot {
  roomState: string | null;
  roomSid: string | null;
  localIdentity: string | null;
  participants: {
    identity: string;
    sid: string;
    tracks: { trackSid: string; kind: string; isSubscribed: boolean; isTrackEnabled: boolean; mediaStreamTrackId: string | null }[];
  }[];
  dominantSpeaker: string | null;
  roomEvents: { event: string; detail?: unknown }[];
  fabricEvents: FabricEventRecord[];
  errors: ErrorRecord[];
  customEvents: CustomEventRecord[];
  fabrics: { id: string; remoteUserID: string; remoteEndpointType: string; conferenceID: string; state: string }[];
  internalPcCount: number;
  streams: StreamSummary[];
}

type Emitter = { on(event: string, listener: (...args: unknown[]) => void): unknown };

let room: Video.Room | undefined;
let monitor: Monitor | undefined;
let detach: (() => void) | undefined;
let localTracks: Video.LocalTrack[] = [];
let countsBeforeAttach: Record<string, number> = {};
const roomEvents: { event: string; detail?: unknown }[] = [];
const fabricEvents: FabricEventRecord[] = [];
const errors: ErrorRecord[] = [];
const customEvents: CustomEventRecord[] = [];
const ROOM_EVENTS = [
  'participantConnected',
  'participantDisconnected',
  'trackSubscribed',
  'trackEnabled',
  'trackDisabled',
  'trackPublished',
  'trackUnpublished',
  'dominantSpeakerChanged',
  'reconnecting',
  'reconnected',
  'disconnected',
] as const;

function errorInfo(e: unknown): unknown {
  if (!e || typeof e !== 'object') return e;
  const x = e as { code?: unknown; name?: unknown; message?: unknown };
  return { code: x.code, name: x.name, message: x.message };
}

function internalPcCount(r: Video.Room): number {
  const pcs = (r as unknown as { _signaling?: { _peerConnectionManager?: { _peerConnections?: Map<string, unknown> } } })._signaling
    ?._peerConnectionManager?._peerConnections;
  return pcs?.size ?? -1;
}

const client = {
  version: Video.version,

  async connect(args: ConnectArgs): Promise<{ roomSid: string; roomName: string; participants: number }> {
    localTracks = await Video.createLocalTracks({ audio: true, video: { width: 320, height: 240 } });
    const m = createMonitor({ appID: 'twilio-standin-test', localUserID: args.localUserID, statsIntervalMs: 1000 });
    monitor = m;
    m.on('fabricEvent', (r) => void fabricEvents.push(r));
    m.on('error', (r) => void errors.push(r));
    m.on('customEvent', (r) => void customEvents.push(r));

    const options = {
      name: args.roomName,
      tracks: localTracks,
      wsServer: args.wsServer,
      insights: false,
      dominantSpeaker: true,
      networkQuality: false,
      preferredVideoCodecs: [{ codec: 'VP8' as const, simulcast: false }],
    };
    const r = await Video.connect(args.token, options as Video.ConnectOptions);
    room = r;
    for (const event of ROOM_EVENTS) {
      (r as unknown as Emitter).on(event, (...a: unknown[]) => {
        const detail =
          event === 'reconnecting' || event === 'disconnected'
            ? errorInfo(event === 'disconnected' ? a[1] : a[0])
            : event === 'dominantSpeakerChanged'
              ? ((a[0] as Video.RemoteParticipant | null)?.identity ?? null)
              : undefined;
        roomEvents.push({ event, ...(detail !== undefined ? { detail } : {}) });
      });
    }
    // Remote audio must play for inbound audio stats to count samples.
    (r as unknown as Emitter).on('trackSubscribed', (track: unknown) => {
      const t = track as Video.RemoteAudioTrack | Video.RemoteVideoTrack | Video.RemoteDataTrack;
      if (t.kind === 'audio' || t.kind === 'video') document.body.appendChild(t.attach());
    });

    countsBeforeAttach = client.listenerCounts();
    // The one-line attach.
    detach = attachTwilio(r, m, { twilioVersion: Video.version, ...(args.access ? { peerConnections: args.access } : {}) });
    return { roomSid: r.sid, roomName: r.name, participants: r.participants.size };
  },

  /** Polls every fabric now and returns the snapshot. */
  async snapshot(poll = true): Promise<Snapshot> {
    if (poll) await Promise.all((monitor?.fabrics() ?? []).map((f) => f.pollNow().catch(() => undefined)));
    // Read after the polls: a fabric may have ended while they were pending.
    const fabrics = monitor?.fabrics() ?? [];
    const streams: StreamSummary[] = [];
    for (const f of fabrics) {
      for (const s of f.latestStats()?.mediaStreamTracks ?? []) {
        streams.push({
          fabricID: f.id,
          ssrc: s.ssrc,
          statsType: s.statsType,
          mediaType: s.mediaType,
          userID: s.userID,
          ...(s.usageLabel !== undefined ? { usageLabel: s.usageLabel } : {}),
          ...(s.trackIdentifier !== undefined ? { trackIdentifier: s.trackIdentifier } : {}),
          ...(s.bitrate !== undefined ? { bitrate: s.bitrate } : {}),
          ...(s.packetRate !== undefined ? { packetRate: s.packetRate } : {}),
          ...(s.rtt !== undefined ? { rtt: s.rtt } : {}),
          ...(s.jitter !== undefined ? { jitter: s.jitter } : {}),
        });
      }
    }
    return {
      roomState: room?.state ?? null,
      roomSid: room?.sid ?? null,
      localIdentity: room?.localParticipant.identity ?? null,
      participants: [...(room?.participants.values() ?? [])].map((p) => ({
        identity: p.identity,
        sid: p.sid,
        tracks: [...p.tracks.values()].map((t) => ({
          trackSid: t.trackSid,
          kind: t.kind,
          isSubscribed: t.isSubscribed,
          isTrackEnabled: t.isTrackEnabled,
          mediaStreamTrackId: t.track && 'mediaStreamTrack' in t.track ? t.track.mediaStreamTrack.id : null,
        })),
      })),
      dominantSpeaker: room?.dominantSpeaker?.identity ?? null,
      roomEvents: roomEvents.slice(),
      fabricEvents: fabricEvents.slice(),
      errors: errors.slice(),
      customEvents: customEvents.slice(),
      fabrics: fabrics.map((f) => ({
        id: f.id,
        remoteUserID: f.remoteUserID,
        remoteEndpointType: f.remoteEndpointType,
        conferenceID: f.conferenceID,
        state: f.state,
      })),
      internalPcCount: room ? internalPcCount(room) : -1,
      streams,
    };
  },

  /** Local track enable/disable (LocalParticipant 'trackDisabled'/'trackEnabled'). */
  setLocalEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    for (const t of localTracks) if (t.kind === kind) (t as Video.LocalAudioTrack | Video.LocalVideoTrack).enable(enabled);
  },

  /** Listener counts on the Room and the LocalParticipant, by event (for the detach check). */
  listenerCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    if (!room) return out;
    const emitters: Array<[string, { eventNames(): (string | symbol)[]; listenerCount(e: string): number }]> = [
      ['room', room as unknown as { eventNames(): (string | symbol)[]; listenerCount(e: string): number }],
      ['local', room.localParticipant as unknown as { eventNames(): (string | symbol)[]; listenerCount(e: string): number }],
    ];
    for (const [name, e] of emitters) for (const ev of e.eventNames()) out[`${name}:${String(ev)}`] = e.listenerCount(String(ev));
    return out;
  },

  listenerCountsBeforeAttach(): Record<string, number> {
    return { ...countsBeforeAttach };
  },

  hasOwnUnpublishWrapper(): boolean {
    return !!room && Object.prototype.hasOwnProperty.call(room.localParticipant, 'unpublishTrack');
  },

  attachAgain(): boolean {
    if (!room || !monitor) return false;
    return attachTwilio(room, monitor, { twilioVersion: Video.version }) === detach;
  },

  detach(): void {
    detach?.();
  },

  disconnect(): void {
    room?.disconnect();
  },

  /** Ends everything (between tests). */
  async reset(): Promise<void> {
    detach?.();
    room?.disconnect();
    for (const t of localTracks) if (t.kind !== 'data') t.stop();
    await monitor?.close();
    room = undefined;
    monitor = undefined;
    detach = undefined;
    localTracks = [];
    roomEvents.length = 0;
    fabricEvents.length = 0;
    errors.length = 0;
    customEvents.length = 0;
  },
};

declare global {
  interface Window {
    client: typeof client;
  }
}
window.client = client;
