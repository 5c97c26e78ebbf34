/**
 * `attachTwilio(room, monitor, options?) => detach`: monitors a connected twilio-video 2.x Room.
 * Built on core's `attachAdapter` (idempotent attach, safe handlers, listener and wrapper
 * bookkeeping, detach on monitor close).
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
 *  - 'disconnected' reports Twilio's error (./errors.ts), terminates the fabrics (with the error's
 *    code, name and message as data) and detaches.
 */
import { attachAdapter, type Fabric, type FabricEvent, type Monitor, type MonitoredPeerConnection, type StreamSelector } from '@callmetry/core';
import { describeTwilioError, errorInfo, twilioErrorFunction } from './errors';
import { probeInternals } from './internals';
import { RoomStatsPeerConnection } from './statsShim';
import type {
  AttachTwilioOptions,
  TwilioParticipantLike,
  TwilioRoomLike,
  TwilioStatsReportLike,
  TwilioTrackLike,
  TwilioTrackPublicationLike,
} from './types';

type Data = Record<string, unknown>;
/** A publication or a track: what triggered a mute evaluation. */
type Trigger = Partial<TwilioTrackPublicationLike & TwilioTrackLike>;
type Publication = TwilioTrackPublicationLike;

const isMedia = (kind: unknown): kind is 'audio' | 'video' => kind == 'audio' || kind == 'video';
/** [mute, unmute] per kind. */
const MUTE_EVENTS: Record<string, [FabricEvent, FabricEvent]> = { audio: ['audioMute', 'audioUnmute'], video: ['videoPause', 'videoResume'] };

/**
 * Monitors a connected twilio-video 2.x Room with `monitor`. Returns `detach()`, which removes
 * every listener and terminates the fabrics it created (the call goes on). Attaching the same Room
 * to the same monitor again returns the same detach. Never throws.
 */
export function attachTwilio(room: TwilioRoomLike, monitor: Monitor, options: AttachTwilioOptions = {}): () => void {
  return attachAdapter('twilio', room, monitor, (scope) => {
    const { logger, safe } = scope;
    const warn = (message: string, ...details: unknown[]): void => logger.warn(`twilio: ${message}`, ...details);
    if (typeof room.on != 'function' || room.state == 'disconnected') {
      warn('not a connected Room; nothing to monitor');
      return scope.detach();
    }
    const on = (emitter: object, event: string, fn: (...args: never[]) => unknown): unknown => scope.listen(emitter, event, fn);
    const { localUserID } = monitor;
    const local = room.localParticipant;

    // ---- configuration ------------------------------------------------------------------------
    let conferenceID: unknown;
    try {
      conferenceID = typeof options.conferenceID == 'function' ? options.conferenceID(room) : options.conferenceID;
    } catch (e) {
      warn('options.conferenceID threw', e);
    }
    const cid: string =
      (typeof conferenceID == 'string' && conferenceID) ||
      (options.conferenceIDFrom == 'sid' ? room.sid || room.name : room.name || room.sid) ||
      'twilio-room';
    const type = options.roomType;
    const p2p = type && type != 'auto' ? type == 'peer-to-peer' : !room.mediaRegion;
    const serverUserID = options.serverUserID || 'twilio-sfu';
    const identity = local?.identity;
    const attributes: Data = {
      twilioRoomSid: room.sid,
      twilioRoomName: room.name,
      twilioRoomType: p2p ? 'peer-to-peer' : 'group',
      twilioIdentity: identity,
      twilioParticipantSid: local?.sid,
    };
    if (identity != null && identity != localUserID) {
      attributes.twilioIdentityMismatch = true;
      warn(`identity '${identity}' is not the monitor's localUserID '${localUserID}'`);
    }

    // The peer connections: twilio-video's internals (any 2.x), else the shim over room.getStats().
    const version = options.twilioVersion ?? (globalThis as { Twilio?: { Video?: { version?: string } } }).Twilio?.Video?.version;
    let why = '';
    let list: ReturnType<typeof probeInternals>;
    let shim: RoomStatsPeerConnection | undefined;
    if (options.peerConnections != 'stats-shim') {
      if (version && !/^2\.\d+\./.test(version)) why = `twilio-video ${version} is not 2.x`;
      else {
        attributes.twilioVideoVersion = version;
        if (version && !version.startsWith('2.32.')) logger.info(`twilio: twilio-video ${version} is untested (tested: 2.32.1)`);
        list = probeInternals(room);
        why = 'twilio-video internals are not as expected';
      }
    }
    attributes.twilioPeerConnectionAccess = list ? 'internal' : 'stats-shim';

    // ---- fabrics ------------------------------------------------------------------------------
    /** By twilio's peer connection id ('' for the shim). */
    const fabrics = new Map<string, Fabric>();
    const refused = new Set<string>();
    /** P2P: peer connection id -> remote identity, and since when unattributed ones wait. */
    const owners = new Map<string, string>();
    const pending = new Map<string, number>();
    const queue: Array<[FabricEvent, Data, string | undefined]> = [];
    const mappings = new Map<string, [StreamSelector, { userID: string; usageLabel: string }, string | undefined]>();
    const muted = new Map<string, Data>();
    let dueAt = 0;
    let retries = 0;
    let inFlight = false;
    let reconnectingSince: number | undefined;

    const participants = (): TwilioParticipantLike[] => [...(room.participants?.values() ?? [])];
    const live = (): Fabric[] => {
      const out: Fabric[] = [];
      for (const [key, f] of fabrics) f.state == 'terminated' ? fabrics.delete(key) : out.push(f);
      return out;
    };
    const fabricOf = (userID: string): Fabric | undefined => live().find((f) => f.remoteUserID == userID);
    const apply = (f: Fabric, [selector, mapping, pcId]: [StreamSelector, { userID: string; usageLabel: string }, string | undefined]): unknown => {
      const own = f.attributes?.twilioPeerConnectionId;
      return (!pcId || !own || own == pcId) && f.mapStream(selector, mapping);
    };

    const addFabric = (key: string, pc: MonitoredPeerConnection, remoteUserID: string): void => {
      if (refused.has(key)) return;
      const { fabric, result } = monitor.tryAddFabric(pc, {
        remoteUserID,
        conferenceID: cid,
        remoteEndpointType: p2p ? 'peer' : 'server',
        attributes: key ? { ...attributes, twilioPeerConnectionId: key } : attributes,
      });
      if (!fabric) {
        refused.add(key);
        return warn(`the monitor refused peer connection ${key}: ${result.message}`);
      }
      fabrics.set(key, fabric);
      for (const m of mappings.values()) apply(fabric, m);
      for (const [event, data, to] of queue.splice(0)) send(event, data, to);
    };

    /** Looks up the Room's peer connections: new ones become fabrics, vanished ones end theirs. */
    const scan = (): void => {
      if (!list) return;
      const now = Date.now();
      const ids = new Set<string>();
      for (const { id, pc } of list()) {
        ids.add(id);
        const f = fabrics.get(id);
        if (f?.pc == pc && f.state != 'terminated') continue;
        fabrics.delete(id);
        if (pc.signalingState == 'closed') continue;
        let owner = p2p ? owners.get(id) : serverUserID;
        if (!owner) {
          const since = pending.get(id) ?? now;
          pending.set(id, since);
          const [only, ...others] = participants();
          // No remote track seen: after 3 s the only participant, after 10 s an unknown peer.
          if (now - since >= 3000 && only && !others.length && !fabricOf(only.identity)) owners.set(id, (owner = only.identity));
          else if (now - since >= 10_000) owner = 'twilio-unknown-peer';
          else requestMapping();
        }
        if (owner) {
          pending.delete(id);
          addFabric(id, pc, owner);
        }
      }
      for (const [key, f] of fabrics)
        if (key && (!ids.has(key) || f.state == 'terminated')) {
          fabrics.delete(key);
          f.terminate();
        }
      for (const id of pending.keys()) ids.has(id) || pending.delete(id);
    };

    /** Sends to every fabric (`to` undefined), or to `to`'s fabric (P2P) / the Room's fabric; queued while there is none. */
    const send = (event: FabricEvent, data: Data, to?: string): void => {
      const all = live();
      const targets = to == null ? all : p2p && list ? all.filter((f) => f.remoteUserID == to) : all.slice(0, 1);
      if (!targets.length) queue.push([event, data, to]) > 100 && queue.shift();
      for (const f of targets) f.sendEvent(event, data);
    };

    // ---- stream mappings ----------------------------------------------------------------------
    const label = (publication: Publication): string => {
      let l: unknown;
      try {
        l = options.usageLabel?.(publication);
      } catch (e) {
        warn('options.usageLabel threw', e);
      }
      return typeof l == 'string' && l ? l : String(publication.kind);
    };
    const addMapping = (key: string, selector: StreamSelector, userID: string, usageLabel: string, pcId?: string): void => {
      const previous = mappings.get(key)?.[1];
      if (previous?.userID == userID && previous.usageLabel == usageLabel) return;
      const m: [StreamSelector, { userID: string; usageLabel: string }, string | undefined] = [selector, { userID, usageLabel }, pcId];
      mappings.set(key, m);
      for (const f of live()) apply(f, m);
    };
    const mapTrack = (track: TwilioTrackLike | null | undefined, publication: Publication, userID: string): void => {
      const trackId = track?.mediaStreamTrack?.id;
      if (trackId && isMedia(track.kind)) addMapping(`t${trackId}`, { trackId }, userID, label(publication));
    };
    const requestMapping = (): void => {
      const at = Date.now() + 1000;
      if (!dueAt || at < dueAt) dueAt = at;
      retries = 0;
    };

    /** SSRC mappings (and P2P peer-connection owners) from the trackSid + ssrc of each track's stats. */
    const onReports = (reports: ReadonlyArray<TwilioStatsReportLike>): void => {
      const tracks = new Map<string, [string, Publication, boolean]>();
      const wanted = new Set<string>();
      for (const p of participants())
        for (const pub of p.tracks.values()) {
          tracks.set(pub.trackSid, [p.identity, pub, true]);
          if (pub.isSubscribed && isMedia(pub.kind)) wanted.add(pub.trackSid);
        }
      for (const pub of local?.tracks?.values() ?? []) tracks.set(pub.trackSid, [localUserID, pub, false]);
      let identified = false;
      for (const r of reports ?? []) {
        const pcId = r?.peerConnectionId;
        if (pcId)
          for (const s of [...r.remoteAudioTrackStats, ...r.remoteVideoTrackStats, ...r.localAudioTrackStats, ...r.localVideoTrackStats]) {
            const t = tracks.get(s.trackSid);
            if (!t || !s.ssrc) continue;
            wanted.delete(s.trackSid);
            if (p2p && t[2] && !owners.has(pcId)) identified = !!owners.set(pcId, t[0]);
            addMapping(`s${pcId}:${s.ssrc}`, { ssrc: s.ssrc }, t[0], label(t[1]), pcId);
          }
      }
      if (identified) scan();
      // Retry soon while a subscribed remote track (or a peer connection's owner) is not known yet.
      if ((wanted.size || pending.size) && retries < 10) {
        retries++;
        dueAt = Date.now() + 1000;
      }
    };
    /** Fetches the Room's stats (internal access; the shim feeds onReports from its own polls). */
    const refreshMappings = (): void => {
      if (!list || inFlight) return;
      inFlight = true;
      dueAt = Date.now() + 10_000;
      new Promise<ReadonlyArray<TwilioStatsReportLike>>((resolve) => resolve(room.getStats()))
        .then(safe(onReports), (e) => logger.debug('twilio: room.getStats() failed', e))
        .finally(() => (inFlight = false));
    };

    // ---- mute / pause -------------------------------------------------------------------------
    /**
     * Recomputes whether `participant` sends audio / video (a published track of that kind that is
     * enabled) and sends the transitions. Unmute and resume only follow a mute or pause; a
     * participant first seen with all tracks of a kind disabled is reported muted/paused.
     */
    const evaluate = (participant: TwilioParticipantLike, isLocal: boolean, reason: string, trigger?: Trigger, removed?: boolean): void => {
      if (!participant?.tracks) return;
      const userID = isLocal ? localUserID : participant.identity;
      const key = `${isLocal}${participant.sid ?? participant.identity}`;
      const state = muted.get(key) ?? {};
      muted.set(key, state);
      const has: Data = {};
      const active: Data = {};
      for (const pub of participant.tracks.values())
        if (isMedia(pub.kind) && !(removed && pub.trackSid == trigger?.trackSid)) {
          has[pub.kind] = true;
          if (isLocal ? pub.track?.isEnabled !== false && !pub.track?.isStopped : pub.isTrackEnabled !== false) active[pub.kind] = true;
        }
      for (const kind in MUTE_EVENTS) {
        const was = state[kind];
        let event: FabricEvent | undefined;
        if (active[kind]) {
          if (was) event = MUTE_EVENTS[kind]![1];
          state[kind] = false;
        } else if (has[kind] || was === false) {
          if (!was) event = MUTE_EVENTS[kind]![0];
          state[kind] = true;
        }
        if (!event) continue;
        const data: Data = { userID, local: isLocal, reason };
        if (trigger?.kind == kind) {
          const sid = trigger.trackSid ?? trigger.sid;
          const name = trigger.trackName ?? trigger.name;
          if (sid) data.trackSid = sid;
          if (name) data.trackName = name;
        }
        if (!isLocal) data.participantSid = participant.sid;
        send(event, data, isLocal ? undefined : userID);
      }
    };

    // ---- Room and LocalParticipant events -----------------------------------------------------
    const custom = (name: string, data: Data): unknown => monitor.sendCustomEvent(cid, name, data, live()[0]?.pc);
    const onTrackSubscribed = (track: TwilioTrackLike, publication: Publication, participant: TwilioParticipantLike): void =>
      mapTrack(track, publication ?? track, participant.identity);

    for (const what of ['Enabled', 'Disabled', 'Published', 'Unpublished', 'Stopped']) {
      const reason = what.toLowerCase();
      if (what != 'Stopped')
        on(room, `track${what}`, (publication: Publication, participant: TwilioParticipantLike) =>
          evaluate(participant, false, reason, publication, what == 'Unpublished'),
        );
      // LocalParticipant: trackEnabled/Disabled/Stopped (track), trackPublished (publication).
      if (local && what != 'Unpublished')
        on(local, `track${what}`, (trigger: Trigger) => {
          if (what == 'Published') {
            mapTrack(trigger.track, trigger as Publication, localUserID);
            requestMapping();
          }
          evaluate(local, true, reason, trigger);
        });
    }
    on(room, 'trackSubscribed', (track: TwilioTrackLike, publication: Publication, participant: TwilioParticipantLike) => {
      if (track) onTrackSubscribed(track, publication, participant);
      requestMapping();
    });
    on(room, 'participantConnected', (participant: TwilioParticipantLike) => {
      evaluate(participant, false, 'connected');
      requestMapping();
    });
    on(room, 'participantDisconnected', (participant: TwilioParticipantLike) => {
      muted.delete(`false${participant.sid ?? participant.identity}`);
      if (p2p && list) fabricOf(participant.identity)?.terminate();
    });
    on(room, 'dominantSpeakerChanged', (participant: TwilioParticipantLike | null) => {
      // Nobody speaking (null): nothing in callstats' vocabulary.
      const userID = participant?.identity;
      if (typeof userID == 'string') send('dominantSpeaker', { userID, participantSid: participant!.sid }, userID);
    });
    on(room, 'reconnecting', (error: unknown) => {
      reconnectingSince = Date.now();
      shim?.follow('reconnecting');
      const info = errorInfo(error);
      // 53001: the signaling connection dropped; 53405: the media connection failed.
      custom('twilioReconnecting', { ...info, cause: info.code == 53405 ? 'media' : info.code == 53001 ? 'signaling' : 'unknown' });
    });
    on(room, 'reconnected', () => {
      shim?.follow('connected');
      custom('twilioReconnected', reconnectingSince ? { durationMs: Date.now() - reconnectingSince } : {});
      reconnectingSince = undefined;
      scan();
      requestMapping();
    });
    on(room, 'disconnected', (_room: unknown, error: unknown) => {
      const [primary] = live();
      if (error) {
        const fn = twilioErrorFunction(error);
        const described = describeTwilioError(error);
        if (primary) primary.reportError(fn, described);
        else monitor.reportError(cid, fn, described);
      }
      for (const f of live()) f.terminate(error ? errorInfo(error) : undefined);
      shim?.follow('disconnected');
      scope.detach();
    });

    // LocalParticipant emits nothing when a track is unpublished: its unpublish methods are
    // wrapped (an own property shadowing the prototype's, removed again on detach).
    const unpublished = safe(() => evaluate(local, true, 'unpublished'));
    for (const name of ['unpublishTrack', 'unpublishTracks'] as const) {
      const original = local?.[name] as ((...args: unknown[]) => unknown) | undefined;
      if (typeof original != 'function') continue;
      const target = local as unknown as Data;
      // Registered before the wrapper: runs after the scope restored the original.
      if (!Object.prototype.hasOwnProperty.call(local, name)) scope.onDetach(() => target[name] === original && delete target[name]);
      scope.wrap(target, name, () =>
        function (this: unknown, ...args: unknown[]) {
          const result = original.apply(this, args);
          unpublished();
          return result;
        },
      );
    }

    // ---- the current state --------------------------------------------------------------------
    scope.onDetach(() => {
      for (const f of fabrics.values()) f.terminate();
    });
    const timer = setInterval(
      safe(() => {
        scan();
        if (dueAt && Date.now() >= dueAt) refreshMappings();
      }),
      1000,
    );
    scope.onDetach(() => clearInterval(timer));
    if (!list) {
      if (why) warn(`${why}: monitoring through room.getStats() (thinner stats)`);
      shim = new RoomStatsPeerConnection(room, safe(onReports));
      addFabric('', shim, p2p ? 'twilio-peers' : serverUserID);
    }
    scan();
    for (const p of participants()) {
      for (const pub of p.tracks.values()) if (pub.track && pub.isSubscribed !== false) onTrackSubscribed(pub.track, pub, p);
      evaluate(p, false, 'initial');
    }
    if (local) {
      for (const pub of local.tracks?.values() ?? []) mapTrack(pub.track, pub, localUserID);
      evaluate(local, true, 'initial');
    }
    refreshMappings();
  });
}

/**
 * Reports a twilio-video failure that happened outside a Room, e.g. a rejected `Video.connect()`
 * or `createLocalTracks()`, with the same code mapping as the adapter. Never throws.
 */
export function reportTwilioError(monitor: Monitor, conferenceID: string, error: unknown): void {
  try {
    monitor.reportError(conferenceID, twilioErrorFunction(error as never), describeTwilioError(error));
  } catch {
    // never throw into the app
  }
}
