/**
 * `attachTwilio(room, monitor, options?) => detach`: monitors a connected twilio-video 2.x Room.
 *
 *  - The Room's peer connections become fabrics (./internals.ts; fallback ./statsShim.ts). Group
 *    Room: remote endpoint `server`, remote user `twilio-sfu`. Peer-to-peer Room: one fabric per
 *    remote participant, remote user = its identity (found from the Room's stats reports).
 *  - Remote streams are attributed to their participant's identity: by MediaStreamTrack id on
 *    `trackSubscribed`, and by SSRC from the trackSid + ssrc pairs of `room.getStats()`.
 *  - Track enable/disable and (un)publication give audioMute/audioUnmute and
 *    videoPause/videoResume; `dominantSpeakerChanged` gives dominantSpeaker.
 *  - 'reconnecting'/'reconnected' are sent as custom events `twilioReconnecting` and
 *    `twilioReconnected` (core derives connectionDisruptionStart/End from the peer connection).
 *  - 'disconnected' reports Twilio's error (./errors.ts), terminates the fabrics and detaches.
 */
import type { Fabric, FabricEvent, Logger, Monitor, MonitoredPeerConnection, StreamMapping, StreamSelector } from '@callmetry/core';
import { describeTwilioError, twilioErrorFunction } from './errors';
import { checkTwilioVersion, globalTwilioVersion, probeInternals, TESTED_TWILIO_VIDEO_VERSION } from './internals';
import { RoomStatsPeerConnection } from './statsShim';
import type {
  AttachTwilioOptions,
  PeerConnectionAccess,
  RoomPeerConnection,
  TwilioEmitterLike,
  TwilioErrorLike,
  TwilioLocalParticipantLike,
  TwilioParticipantLike,
  TwilioRoomLike,
  TwilioStatsReportLike,
  TwilioTrackLike,
  TwilioTrackPublicationLike,
} from './types';

type Detach = () => void;
type MediaKind = 'audio' | 'video';

/** Remote user ID of the fabric of a peer-to-peer connection whose participant is not known. */
export const UNKNOWN_PEER_USER_ID = 'twilio-unknown-peer';
const SHIM_KEY = '\0room-stats-shim';
/** How often the Room's peer connections are looked up (they come and go) and mappings refreshed. */
const TICK_MS = 1000;
const MAPPING_REFRESH_MS = 10_000;
const MAPPING_RETRY_MS = 1000;
const MAPPING_RETRIES = 10;
/** P2P: how long a peer connection may stay unattributed before fallbacks apply. */
const P2P_IDENTIFY_GRACE_MS = 3000;
const P2P_IDENTIFY_GIVE_UP_MS = 10_000;
const MAX_QUEUED_EVENTS = 100;

const attachments = new WeakMap<object, Map<Monitor, Attachment>>();

function consoleLogger(): Logger {
  const c = typeof console !== 'undefined' ? console : undefined;
  const prefix = '[callmetry/twilio]';
  return {
    debug: () => undefined,
    info: (m, ...d) => c?.info?.(prefix, m, ...d),
    warn: (m, ...d) => c?.warn?.(prefix, m, ...d),
    error: (m, ...d) => c?.error?.(prefix, m, ...d),
  };
}

/** The monitor's own logger when it exposes one (core's monitor does, outside the public type). */
function loggerOf(monitor: Monitor, options: AttachTwilioOptions): Logger {
  const candidate = options.logger ?? (monitor as unknown as { logger?: unknown }).logger;
  if (candidate && typeof candidate === 'object' && typeof (candidate as Logger).warn === 'function') {
    const l = candidate as Logger;
    const guard =
      (level: keyof Logger) =>
      (message: string, ...details: unknown[]): void => {
        try {
          l[level](`[twilio] ${message}`, ...details);
        } catch {
          // a broken logger must not break the call
        }
      };
    return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
  }
  return consoleLogger();
}

function isEmitter(x: unknown): x is TwilioEmitterLike {
  return !!x && typeof x === 'object' && typeof (x as TwilioEmitterLike).on === 'function' && typeof (x as TwilioEmitterLike).removeListener === 'function';
}

function isMediaKind(kind: unknown): kind is MediaKind {
  return kind === 'audio' || kind === 'video';
}

function errorData(error: unknown): Record<string, unknown> {
  const e = (error && typeof error === 'object' ? error : {}) as TwilioErrorLike;
  return {
    ...(typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.name === 'string' ? { name: e.name } : {}),
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
  };
}

interface FabricEntry {
  key: string;
  fabric: Fabric;
  pc: MonitoredPeerConnection;
  pcId: string | undefined;
  remoteUserID: string;
}

/** Where an event goes: the Room's (primary) fabric, one remote user's fabric, or all fabrics. */
type Target = { to: 'primary' } | { to: 'user'; userID: string } | { to: 'all' };

interface MappingRecord {
  selector: StreamSelector;
  mapping: StreamMapping;
  /** SSRC mappings belong to one peer connection; track-id mappings apply everywhere. */
  pcId?: string;
}

class Attachment {
  readonly detach: Detach = () => this.stop('detach');
  private readonly log: Logger;
  private readonly conferenceID: string;
  private readonly roomType: 'group' | 'peer-to-peer';
  private readonly serverUserID: string;
  private access: PeerConnectionAccess = 'internal';
  private listPeerConnections: (() => RoomPeerConnection[]) | undefined;
  private shim: RoomStatsPeerConnection | undefined;
  private detached = false;
  private readonly listeners: Array<{ emitter: TwilioEmitterLike; event: string; fn: (...args: unknown[]) => void }> = [];
  private readonly restorers: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly fabrics = new Map<string, FabricEntry>();
  private readonly refused = new Set<string>();
  private readonly pending = new Map<string, { pc: MonitoredPeerConnection; since: number }>();
  private readonly pcOwners = new Map<string, string>();
  private readonly queue: Array<{ target: Target; event: FabricEvent; data: Record<string, unknown> }> = [];
  private readonly mappings = new Map<string, MappingRecord>();
  private readonly muted = new Map<string, Partial<Record<MediaKind, boolean>>>();
  private mappingDueAt = 0;
  private mappingRetries = 0;
  private mappingInFlight = false;
  private reconnectingSince: number | undefined;
  private readonly attributes: Record<string, unknown>;

  constructor(
    private readonly room: TwilioRoomLike,
    private readonly monitor: Monitor,
    private readonly options: AttachTwilioOptions,
  ) {
    this.log = loggerOf(monitor, options);
    this.conferenceID = this.computeConferenceID();
    this.serverUserID = typeof options.serverUserID === 'string' && options.serverUserID ? options.serverUserID : 'twilio-sfu';
    const type = options.roomType ?? 'auto';
    this.roomType = type === 'auto' ? (typeof room.mediaRegion === 'string' && room.mediaRegion ? 'group' : 'peer-to-peer') : type;

    const local = room.localParticipant;
    const identity = typeof local?.identity === 'string' ? local.identity : undefined;
    this.attributes = {
      twilioRoomSid: room.sid,
      twilioRoomName: room.name,
      twilioRoomType: this.roomType,
      ...(identity !== undefined ? { twilioIdentity: identity } : {}),
      ...(typeof local?.sid === 'string' ? { twilioParticipantSid: local.sid } : {}),
    };
    if (identity !== undefined && identity !== monitor.localUserID) {
      this.attributes.twilioIdentityMismatch = true;
      this.log.warn(
        `the Room's local participant identity '${identity}' is not the monitor's localUserID '${monitor.localUserID}'; ` +
          'streams are attributed to the monitor user, the Twilio identity is sent as the fabric attribute twilioIdentity',
      );
    }
  }

  start(): void {
    this.chooseAccess();
    this.attributes.twilioPeerConnectionAccess = this.access;
    const room = this.room;
    this.listen(room, 'trackSubscribed', (track, publication, participant) =>
      this.onTrackSubscribed(track as TwilioTrackLike, publication as TwilioTrackPublicationLike, participant as TwilioParticipantLike),
    );
    this.listen(room, 'trackEnabled', (publication, participant) => this.evaluate(participant as TwilioParticipantLike, false, 'enabled', publication as TwilioTrackPublicationLike));
    this.listen(room, 'trackDisabled', (publication, participant) => this.evaluate(participant as TwilioParticipantLike, false, 'disabled', publication as TwilioTrackPublicationLike));
    this.listen(room, 'trackPublished', (publication, participant) => this.evaluate(participant as TwilioParticipantLike, false, 'published', publication as TwilioTrackPublicationLike));
    this.listen(room, 'trackUnpublished', (publication, participant) =>
      this.evaluate(participant as TwilioParticipantLike, false, 'unpublished', publication as TwilioTrackPublicationLike, true),
    );
    this.listen(room, 'participantConnected', (participant) => {
      this.evaluate(participant as TwilioParticipantLike, false, 'connected');
      this.requestMapping(MAPPING_RETRY_MS);
    });
    this.listen(room, 'participantDisconnected', (participant) => this.onParticipantDisconnected(participant as TwilioParticipantLike));
    this.listen(room, 'dominantSpeakerChanged', (participant) => this.onDominantSpeaker(participant as TwilioParticipantLike | null));
    this.listen(room, 'reconnecting', (error) => this.onReconnecting(error));
    this.listen(room, 'reconnected', () => this.onReconnected());
    this.listen(room, 'disconnected', (_room, error) => this.onDisconnected(error));

    const local = room.localParticipant;
    if (isEmitter(local)) {
      this.listen(local, 'trackEnabled', (track) => this.evaluate(local, true, 'enabled', undefined, false, track as TwilioTrackLike));
      this.listen(local, 'trackDisabled', (track) => this.evaluate(local, true, 'disabled', undefined, false, track as TwilioTrackLike));
      this.listen(local, 'trackStopped', (track) => this.evaluate(local, true, 'stopped', undefined, false, track as TwilioTrackLike));
      this.listen(local, 'trackPublished', (publication) => {
        this.mapLocalPublication(publication as TwilioTrackPublicationLike);
        this.evaluate(local, true, 'published', publication as TwilioTrackPublicationLike);
        this.requestMapping(MAPPING_RETRY_MS);
      });
      this.wrapUnpublish(local);
    }

    // The current state: peer connections, subscribed tracks, muted tracks.
    if (this.access === 'internal') this.scan();
    else this.addShimFabric();
    this.forEachParticipant((p) => {
      for (const publication of p.tracks.values()) {
        if (publication.track && publication.isSubscribed !== false) this.onTrackSubscribed(publication.track, publication, p, false);
      }
      this.evaluate(p, false, 'initial');
    });
    if (local) {
      for (const publication of local.tracks?.values() ?? []) this.mapLocalPublication(publication);
      this.evaluate(local, true, 'initial');
    }
    this.refreshMappings();
    this.timer = setInterval(this.safe(() => this.tick()), TICK_MS);
    this.log.debug(`attached to Room ${room.sid} (${this.roomType}, ${this.access}), conference '${this.conferenceID}'`);
  }

  // ---- setup ----------------------------------------------------------------------------------

  private computeConferenceID(): string {
    const { conferenceID, conferenceIDFrom } = this.options;
    try {
      const id = typeof conferenceID === 'function' ? conferenceID(this.room) : conferenceID;
      if (typeof id === 'string' && id) return id;
    } catch (e) {
      this.log.warn('options.conferenceID threw; using the Room name/SID', e);
    }
    const byName = typeof this.room.name === 'string' && this.room.name ? this.room.name : undefined;
    const bySid = typeof this.room.sid === 'string' && this.room.sid ? this.room.sid : undefined;
    return (conferenceIDFrom === 'sid' ? (bySid ?? byName) : (byName ?? bySid)) ?? 'twilio-room';
  }

  private chooseAccess(): void {
    if (this.options.peerConnections === 'stats-shim') {
      this.access = 'stats-shim';
      return;
    }
    const version = this.options.twilioVersion ?? globalTwilioVersion();
    const verdict = checkTwilioVersion(version);
    if (!verdict.usable) {
      this.log.warn(`${verdict.reason}: monitoring through room.getStats() (thinner stats)`);
      this.access = 'stats-shim';
      return;
    }
    if (verdict.version) this.attributes.twilioVideoVersion = verdict.version;
    if (verdict.version && !verdict.tested)
      this.log.info(`twilio-video ${verdict.version} is untested (tested: ${TESTED_TWILIO_VIDEO_VERSION}); probing its internals`);
    const probe = probeInternals(this.room);
    if (!probe.ok) {
      this.log.warn(`twilio-video internals are not as expected (${probe.reason}): monitoring through room.getStats() (thinner stats)`);
      this.access = 'stats-shim';
      return;
    }
    this.access = 'internal';
    this.listPeerConnections = probe.list;
  }

  private listen(emitter: TwilioEmitterLike, event: string, handler: (...args: unknown[]) => void): void {
    const fn = this.safe(handler);
    emitter.on(event, fn);
    this.listeners.push({ emitter, event, fn });
  }

  private safe<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.detached) return;
      try {
        fn(...args);
      } catch (e) {
        this.log.error('a Twilio event handler failed (the call is not affected)', e);
      }
    };
  }

  /** LocalParticipant emits nothing when a track is unpublished: its unpublish methods are wrapped. */
  private wrapUnpublish(local: TwilioLocalParticipantLike): void {
    const target = local as unknown as Record<string, unknown>;
    for (const name of ['unpublishTrack', 'unpublishTracks'] as const) {
      const original = target[name];
      if (typeof original !== 'function') continue;
      const hadOwn = Object.prototype.hasOwnProperty.call(target, name);
      const self = this;
      const wrapper = function (this: unknown, ...args: unknown[]): unknown {
        const result: unknown = (original as (...a: unknown[]) => unknown).apply(this, args);
        if (!self.detached) self.safe(() => self.evaluate(local, true, 'unpublished'))();
        return result;
      };
      try {
        target[name] = wrapper;
      } catch {
        continue;
      }
      this.restorers.push(() => {
        if (target[name] !== wrapper) return; // someone wrapped it after us: leave theirs in place
        if (hadOwn) target[name] = original;
        else delete target[name];
      });
    }
  }

  // ---- fabrics --------------------------------------------------------------------------------

  private addFabric(key: string, pc: MonitoredPeerConnection, pcId: string | undefined, remoteUserID: string, endpoint: 'server' | 'peer'): void {
    if (this.refused.has(key)) return;
    const { fabric, result } = this.monitor.tryAddFabric(pc, {
      remoteUserID,
      conferenceID: this.conferenceID,
      remoteEndpointType: endpoint,
      usage: 'multiplex',
      attributes: { ...this.attributes, ...(pcId ? { twilioPeerConnectionId: pcId } : {}) },
    });
    if (!fabric) {
      this.refused.add(key);
      this.log.warn(`the monitor refused the Room's peer connection ${pcId ?? ''}: ${result.message ?? 'unknown reason'}`);
      return;
    }
    const entry: FabricEntry = { key, fabric, pc, pcId, remoteUserID };
    this.fabrics.set(key, entry);
    for (const record of this.mappings.values()) this.applyMapping(entry, record);
    this.flushQueue();
  }

  private addShimFabric(): void {
    this.shim = new RoomStatsPeerConnection(this.room, (reports) => {
      if (!this.detached) this.safe(() => this.onReports(reports))();
    });
    const p2p = this.roomType === 'peer-to-peer';
    this.addFabric(SHIM_KEY, this.shim, undefined, p2p ? 'twilio-peers' : this.serverUserID, p2p ? 'peer' : 'server');
  }

  /** Looks up the Room's peer connections: new ones become fabrics, vanished ones end theirs. */
  private scan(): void {
    if (!this.listPeerConnections) return;
    const now = Date.now();
    const current = this.listPeerConnections();
    const ids = new Set(current.map((c) => c.id));
    for (const { id, pc } of current) {
      const existing = this.fabrics.get(id);
      if (existing && existing.pc === pc && existing.fabric.state !== 'terminated') continue;
      if (existing) this.fabrics.delete(id);
      if (pc.signalingState === 'closed') continue;
      if (this.roomType === 'group') {
        this.addFabric(id, pc, id, this.serverUserID, 'server');
        continue;
      }
      const owner = this.pcOwners.get(id);
      if (owner) {
        this.pending.delete(id);
        this.addFabric(id, pc, id, owner, 'peer');
        continue;
      }
      const waiting = this.pending.get(id) ?? { pc, since: now };
      this.pending.set(id, waiting);
      const age = now - waiting.since;
      const participants = [...this.room.participants.values()];
      const only = participants.length === 1 ? participants[0] : undefined;
      if (age >= P2P_IDENTIFY_GRACE_MS && only && !this.fabricOfUser(only.identity)) {
        this.pending.delete(id);
        this.pcOwners.set(id, only.identity);
        this.addFabric(id, pc, id, only.identity, 'peer');
      } else if (age >= P2P_IDENTIFY_GIVE_UP_MS) {
        this.pending.delete(id);
        this.log.info(`peer connection ${id} could not be attributed to a participant`);
        this.addFabric(id, pc, id, UNKNOWN_PEER_USER_ID, 'peer');
      } else {
        this.requestMapping(MAPPING_RETRY_MS);
      }
    }
    for (const [key, entry] of [...this.fabrics]) {
      if (key === SHIM_KEY) continue;
      if (!ids.has(key) || entry.fabric.state === 'terminated') {
        this.fabrics.delete(key);
        entry.fabric.terminate();
      }
    }
    for (const id of [...this.pending.keys()]) if (!ids.has(id)) this.pending.delete(id);
  }

  private liveFabrics(): FabricEntry[] {
    const out: FabricEntry[] = [];
    for (const [key, entry] of [...this.fabrics]) {
      if (entry.fabric.state === 'terminated') this.fabrics.delete(key);
      else out.push(entry);
    }
    return out;
  }

  private fabricOfUser(userID: string): FabricEntry | undefined {
    return this.liveFabrics().find((e) => e.remoteUserID === userID);
  }

  private targets(target: Target): FabricEntry[] {
    const live = this.liveFabrics();
    if (target.to === 'all') return live;
    if (target.to === 'user' && this.roomType === 'peer-to-peer' && this.access === 'internal') {
      const own = live.find((e) => e.remoteUserID === target.userID);
      return own ? [own] : [];
    }
    return live.slice(0, 1); // the Room's (first) fabric
  }

  private send(target: Target, event: FabricEvent, data: Record<string, unknown>): void {
    const entries = this.targets(target);
    if (entries.length === 0) {
      if (this.queue.length >= MAX_QUEUED_EVENTS) this.queue.shift();
      this.queue.push({ target, event, data });
      return;
    }
    for (const e of entries) {
      const r = e.fabric.sendEvent(event, data);
      if (r.status !== 'success') this.log.warn(`${event} was refused: ${r.message ?? ''}`);
    }
  }

  private flushQueue(): void {
    const waiting = this.queue.splice(0);
    for (const item of waiting) this.send(item.target, item.event, item.data);
  }

  // ---- stream mappings ------------------------------------------------------------------------

  private usageLabel(publication: TwilioTrackPublicationLike): string {
    if (this.options.usageLabel) {
      try {
        const label = this.options.usageLabel(publication);
        if (typeof label === 'string' && label) return label;
      } catch (e) {
        this.log.warn('options.usageLabel threw', e);
      }
    }
    return String(publication.kind);
  }

  private addMapping(key: string, record: MappingRecord): void {
    const previous = this.mappings.get(key);
    if (previous && previous.mapping.userID === record.mapping.userID && previous.mapping.usageLabel === record.mapping.usageLabel) return;
    this.mappings.set(key, record);
    for (const entry of this.liveFabrics()) this.applyMapping(entry, record);
  }

  private applyMapping(entry: FabricEntry, record: MappingRecord): void {
    if (record.pcId !== undefined && entry.key !== SHIM_KEY && entry.pcId !== record.pcId) return;
    const r = entry.fabric.mapStream(record.selector, record.mapping);
    if (r.status !== 'success') this.log.debug(`mapStream refused: ${r.message ?? ''}`);
  }

  private onTrackSubscribed(track: TwilioTrackLike, publication: TwilioTrackPublicationLike, participant: TwilioParticipantLike, refresh = true): void {
    if (!track || !participant || !isMediaKind(track.kind)) return;
    const trackId = track.mediaStreamTrack?.id;
    if (typeof trackId === 'string' && trackId) {
      this.addMapping(`track:${trackId}`, {
        selector: { trackId },
        mapping: { userID: participant.identity, usageLabel: this.usageLabel(publication ?? { kind: track.kind, trackName: '', trackSid: '', track }) },
      });
    }
    if (refresh) this.requestMapping(MAPPING_RETRY_MS);
  }

  private mapLocalPublication(publication: TwilioTrackPublicationLike): void {
    const trackId = publication?.track?.mediaStreamTrack?.id;
    if (!isMediaKind(publication?.kind) || typeof trackId !== 'string' || !trackId) return;
    this.addMapping(`track:${trackId}`, { selector: { trackId }, mapping: { userID: this.monitor.localUserID, usageLabel: this.usageLabel(publication) } });
  }

  private requestMapping(inMs: number): void {
    const at = Date.now() + inMs;
    if (this.mappingDueAt === 0 || at < this.mappingDueAt) this.mappingDueAt = at;
    this.mappingRetries = 0;
  }

  /** Fetches the Room's stats (internal access; the shim feeds onReports from its own polls). */
  private refreshMappings(): void {
    if (this.access !== 'internal' || this.mappingInFlight) return;
    this.mappingInFlight = true;
    this.mappingDueAt = Date.now() + MAPPING_REFRESH_MS;
    let stats: Promise<ReadonlyArray<TwilioStatsReportLike>>;
    try {
      stats = Promise.resolve(this.room.getStats());
    } catch (e) {
      this.mappingInFlight = false;
      this.log.debug('room.getStats() threw', e);
      return;
    }
    stats.then(
      (reports) => {
        this.mappingInFlight = false;
        if (!this.detached) this.safe(() => this.onReports(reports))();
      },
      (e: unknown) => {
        this.mappingInFlight = false;
        this.log.debug('room.getStats() failed', e);
      },
    );
  }

  /** SSRC mappings (and P2P peer-connection owners) from the trackSid + ssrc of each track's stats. */
  private onReports(reports: ReadonlyArray<TwilioStatsReportLike>): void {
    const owners = new Map<string, { identity: string; publication: TwilioTrackPublicationLike }>();
    this.forEachParticipant((p) => {
      for (const publication of p.tracks.values()) owners.set(publication.trackSid, { identity: p.identity, publication });
    });
    const localTracks = new Map<string, TwilioTrackPublicationLike>();
    for (const publication of this.room.localParticipant?.tracks?.values() ?? []) localTracks.set(publication.trackSid, publication);

    const mappedSids = new Set<string>();
    let identified = false;
    for (const report of reports ?? []) {
      const pcId = typeof report?.peerConnectionId === 'string' ? report.peerConnectionId : undefined;
      if (!pcId) continue;
      for (const s of [...(report.remoteAudioTrackStats ?? []), ...(report.remoteVideoTrackStats ?? [])]) {
        const owner = owners.get(s.trackSid);
        if (!owner || !s.ssrc) continue;
        mappedSids.add(s.trackSid);
        if (this.roomType === 'peer-to-peer' && !this.pcOwners.has(pcId)) {
          this.pcOwners.set(pcId, owner.identity);
          identified = true;
        }
        this.addMapping(`ssrc:${pcId}:${s.ssrc}`, {
          selector: { ssrc: s.ssrc },
          mapping: { userID: owner.identity, usageLabel: this.usageLabel(owner.publication) },
          pcId,
        });
      }
      for (const s of [...(report.localAudioTrackStats ?? []), ...(report.localVideoTrackStats ?? [])]) {
        const publication = localTracks.get(s.trackSid);
        if (!publication || !s.ssrc) continue;
        this.addMapping(`ssrc:${pcId}:${s.ssrc}`, {
          selector: { ssrc: s.ssrc },
          mapping: { userID: this.monitor.localUserID, usageLabel: this.usageLabel(publication) },
          pcId,
        });
      }
    }
    if (identified) this.scan();
    // Retry soon while a subscribed remote track has no SSRC in the stats yet.
    let missing = false;
    this.forEachParticipant((p) => {
      for (const publication of p.tracks.values())
        if (publication.isSubscribed && isMediaKind(publication.kind) && !mappedSids.has(publication.trackSid)) missing = true;
    });
    if ((missing || this.pending.size > 0) && this.mappingRetries < MAPPING_RETRIES) {
      this.mappingRetries++;
      this.mappingDueAt = Date.now() + MAPPING_RETRY_MS;
    }
  }

  private tick(): void {
    if (this.access === 'internal') this.scan();
    if (this.mappingDueAt !== 0 && Date.now() >= this.mappingDueAt) this.refreshMappings();
  }

  // ---- mute / pause ---------------------------------------------------------------------------

  /**
   * Recomputes whether `participant` sends audio / video (a published track of that kind that is
   * enabled) and sends the transitions: audioMute/audioUnmute, videoPause/videoResume. Unmute and
   * resume are only sent after a mute or pause; a participant first seen with all tracks of a kind
   * disabled is reported muted/paused.
   */
  private evaluate(
    participant: TwilioParticipantLike,
    local: boolean,
    reason: string,
    publication?: TwilioTrackPublicationLike,
    removed = false,
    track?: TwilioTrackLike,
  ): void {
    if (!participant || !participant.tracks) return;
    const userID = local ? this.monitor.localUserID : participant.identity;
    const key = `${local ? 'local' : 'remote'}:${participant.sid ?? participant.identity}`;
    const state = this.muted.get(key) ?? {};
    this.muted.set(key, state);
    const seen: Record<MediaKind, { has: boolean; active: boolean }> = { audio: { has: false, active: false }, video: { has: false, active: false } };
    for (const pub of participant.tracks.values()) {
      if (!isMediaKind(pub.kind)) continue;
      if (removed && publication && pub.trackSid === publication.trackSid) continue;
      seen[pub.kind].has = true;
      const enabled = local ? pub.track?.isEnabled !== false && pub.track?.isStopped !== true : pub.isTrackEnabled !== false;
      if (enabled) seen[pub.kind].active = true;
    }
    const trigger = publication ?? undefined;
    const triggerKind = trigger?.kind ?? track?.kind;
    for (const kind of ['audio', 'video'] as const) {
      const now = seen[kind];
      const wasMuted = state[kind];
      let event: FabricEvent | undefined;
      if (now.has && now.active) {
        if (wasMuted === true) event = kind === 'audio' ? 'audioUnmute' : 'videoResume';
        state[kind] = false;
      } else if (now.has || wasMuted === false) {
        if (wasMuted !== true) event = kind === 'audio' ? 'audioMute' : 'videoPause';
        state[kind] = true;
      }
      if (!event) continue;
      const data: Record<string, unknown> = { userID, local, reason };
      if (triggerKind === kind) {
        const sid = trigger?.trackSid ?? track?.sid;
        const name = trigger?.trackName ?? track?.name;
        if (sid) data.trackSid = sid;
        if (name) data.trackName = name;
      }
      if (!local) data.participantSid = participant.sid;
      this.send(local ? { to: 'all' } : { to: 'user', userID }, event, data);
    }
  }

  // ---- Room events ----------------------------------------------------------------------------

  private onDominantSpeaker(participant: TwilioParticipantLike | null): void {
    if (!participant || typeof participant.identity !== 'string') return; // no one speaking: nothing in callstats' vocabulary
    this.send({ to: 'user', userID: participant.identity }, 'dominantSpeaker', {
      userID: participant.identity,
      participantSid: participant.sid,
    });
  }

  private onParticipantDisconnected(participant: TwilioParticipantLike): void {
    if (!participant) return;
    this.muted.delete(`remote:${participant.sid ?? participant.identity}`);
    if (this.roomType !== 'peer-to-peer' || this.access !== 'internal') return;
    const entry = this.fabricOfUser(participant.identity);
    if (entry) {
      this.fabrics.delete(entry.key);
      entry.fabric.terminate();
    }
  }

  private customEvent(name: string, data: Record<string, unknown>): void {
    const primary = this.liveFabrics()[0];
    const r = this.monitor.sendCustomEvent(this.conferenceID, name, data, primary?.pc);
    if (r.status !== 'success') this.log.warn(`custom event ${name} was refused: ${r.message ?? ''}`);
  }

  private onReconnecting(error: unknown): void {
    this.reconnectingSince = Date.now();
    this.shim?.follow('reconnecting');
    const info = errorData(error);
    const code = typeof info.code === 'number' ? info.code : undefined;
    // 53001: the signaling connection dropped; 53405: the media connection failed.
    this.customEvent('twilioReconnecting', { ...info, cause: code === 53405 ? 'media' : code === 53001 ? 'signaling' : 'unknown' });
  }

  private onReconnected(): void {
    const since = this.reconnectingSince;
    this.reconnectingSince = undefined;
    this.shim?.follow('connected');
    this.customEvent('twilioReconnected', since !== undefined ? { durationMs: Date.now() - since } : {});
    if (this.access === 'internal') this.scan();
    this.requestMapping(MAPPING_RETRY_MS);
  }

  private onDisconnected(error: unknown): void {
    if (error) {
      const fn = twilioErrorFunction(error as TwilioErrorLike);
      const described = describeTwilioError(error as TwilioErrorLike);
      const primary = this.liveFabrics()[0];
      const r = primary ? primary.fabric.reportError(fn, described) : this.monitor.reportError(this.conferenceID, fn, described);
      if (r.status !== 'success') this.log.warn(`the disconnect error could not be reported: ${r.message ?? ''}`);
    }
    this.shim?.follow('disconnected');
    this.stop('disconnected');
  }

  private forEachParticipant(fn: (p: TwilioParticipantLike) => void): void {
    const participants = this.room.participants;
    if (!participants || typeof participants.forEach !== 'function') return;
    for (const p of [...participants.values()]) {
      try {
        fn(p);
      } catch (e) {
        this.log.debug('participant iteration failed', e);
      }
    }
  }

  // ---- teardown -------------------------------------------------------------------------------

  private stop(why: 'detach' | 'disconnected'): void {
    if (this.detached) return;
    this.detached = true;
    try {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      for (const { emitter, event, fn } of this.listeners.splice(0)) {
        try {
          emitter.removeListener(event, fn);
        } catch (e) {
          this.log.debug(`removeListener(${event}) threw`, e);
        }
      }
      for (const restore of this.restorers.splice(0)) {
        try {
          restore();
        } catch (e) {
          this.log.debug('restoring a wrapped method failed', e);
        }
      }
      for (const entry of this.fabrics.values()) {
        try {
          entry.fabric.terminate();
        } catch (e) {
          this.log.debug('terminating a fabric failed', e);
        }
      }
      this.fabrics.clear();
      this.pending.clear();
      this.queue.length = 0;
    } finally {
      const byMonitor = attachments.get(this.room);
      if (byMonitor?.get(this.monitor) === this) byMonitor.delete(this.monitor);
      this.log.debug(`detached from Room ${this.room.sid} (${why})`);
    }
  }

  /** For tests: listeners currently registered by this attachment. */
  listenerCount(): number {
    return this.listeners.length;
  }
}

const noop: Detach = () => undefined;

/**
 * Monitors a connected twilio-video 2.x Room with `monitor`. Returns `detach()`, which removes
 * every listener and terminates the fabrics it created (the call goes on). Attaching the same Room
 * to the same monitor again returns the same detach. Never throws.
 */
export function attachTwilio(room: TwilioRoomLike, monitor: Monitor, options: AttachTwilioOptions = {}): Detach {
  try {
    if (!room || typeof room !== 'object' || !isEmitter(room)) {
      consoleLogger().error('attachTwilio: the first argument is not a twilio-video Room');
      return noop;
    }
    if (!monitor || typeof monitor !== 'object' || typeof monitor.tryAddFabric !== 'function') {
      consoleLogger().error('attachTwilio: the second argument is not a Callmetry Monitor');
      return noop;
    }
    const opts = options && typeof options === 'object' ? options : {};
    let byMonitor = attachments.get(room);
    const existing = byMonitor?.get(monitor);
    if (existing) return existing.detach;
    if (room.state === 'disconnected') {
      loggerOf(monitor, opts).warn(`attachTwilio: Room ${String(room.sid)} is already disconnected; nothing to monitor`);
      return noop;
    }
    const attachment = new Attachment(room, monitor, opts);
    if (!byMonitor) attachments.set(room, (byMonitor = new Map()));
    byMonitor.set(monitor, attachment);
    try {
      attachment.start();
    } catch (e) {
      attachment.detach();
      throw e;
    }
    return attachment.detach;
  } catch (e) {
    try {
      loggerOf(monitor, options ?? {}).error('attachTwilio failed; the Room is not monitored', e);
    } catch {
      // nothing left to log with
    }
    return noop;
  }
}

/**
 * Reports a twilio-video failure that happened outside a Room, e.g. a rejected `Video.connect()`
 * or `createLocalTracks()`, with the same code mapping as the adapter. Never throws.
 */
export function reportTwilioError(monitor: Monitor, conferenceID: string, error: unknown): void {
  try {
    const fn = twilioErrorFunction(error as TwilioErrorLike);
    monitor.reportError(conferenceID, fn, describeTwilioError(error as TwilioErrorLike));
  } catch {
    // never throw into the app
  }
}
