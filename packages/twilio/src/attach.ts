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
import type { AttachTwilioOptions, TwilioParticipantLike, TwilioRoomLike, TwilioStatsReportLike, TwilioTrackLike, TwilioTrackPublicationLike, TwilioTrackStatsLike } from './types';

type Data = Record<string, unknown>;
type Participant = TwilioParticipantLike;
type Publication = TwilioTrackPublicationLike;
/** A publication or a track: what triggered a mute evaluation. */
type Trigger = Partial<Publication & TwilioTrackLike>;

const isMedia = (kind: unknown): kind is 'audio' | 'video' => kind == 'audio' || kind == 'video';
/** [mute, unmute] per kind. */
const MUTE_EVENTS: Record<string, FabricEvent[]> = { audio: ['audioMute', 'audioUnmute'], video: ['videoPause', 'videoResume'] };

/**
 * Monitors a connected twilio-video 2.x Room with `monitor`. Returns `detach()`, which removes
 * every listener and terminates the fabrics it created (the call goes on). Attaching the same Room
 * to the same monitor again returns the same detach. Never throws.
 */
export function attachTwilio(room: TwilioRoomLike, monitor: Monitor, options: AttachTwilioOptions = {}): () => void {
  return attachAdapter('twilio', room, monitor, (scope) => {
    const { logger, safe } = scope;
    const now = Date.now;
    if (typeof room.on != 'function' || room.state == 'disconnected') {
      logger.warn('twilio: not a connected Room');
      return scope.detach();
    }
    const on = (emitter: object, event: string, fn: (...args: never[]) => unknown): unknown => scope.listen(emitter, event, fn);
    const { localUserID } = monitor;
    const local = room.localParticipant;

    // ---- configuration ------------------------------------------------------------------------
    const given = typeof options.conferenceID == 'function' ? options.conferenceID(room) : options.conferenceID;
    const conferenceID = given || (options.conferenceIDFrom == 'sid' ? room.sid || room.name : room.name || room.sid) || 'twilio-room';
    const p2p = options.roomType && options.roomType != 'auto' ? options.roomType == 'peer-to-peer' : !room.mediaRegion;
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
      logger.warn(`twilio: identity '${identity}' is not the monitor's localUserID '${localUserID}'`);
    }

    // The peer connections: twilio-video's internals (any 2.x), else the shim over room.getStats().
    const version = options.twilioVersion ?? (globalThis as { Twilio?: { Video?: { version?: string } } }).Twilio?.Video?.version;
    const usable = options.peerConnections != 'stats-shim' && !(version && !/^2\.\d+\./.test(version));
    if (usable && version && !version.startsWith('2.32.')) logger.info(`twilio: untested twilio-video ${version}`);
    const list = usable ? probeInternals(room) : undefined;
    attributes.twilioVideoVersion = version;
    attributes.twilioPeerConnectionAccess = list ? 'internal' : 'stats-shim';
    let shim: RoomStatsPeerConnection | undefined;

    // ---- fabrics ------------------------------------------------------------------------------
    /** By twilio's peer connection id ('' for the shim). */
    const fabrics = new Map<string, Fabric>();
    /** P2P: peer connection id -> remote identity, and since when unattributed ones wait. */
    const owners = new Map<string, string>();
    const pending = new Map<string, number>();
    const queue: Array<[FabricEvent, Data, string | undefined]> = [];
    /** Stream mappings, applied to every fabric (also the ones created later). */
    const mappings = new Map<string, (f: Fabric) => unknown>();
    const muted = new Map<string, Data>();
    let dueAt = 0;
    let retries = 0;
    let reconnectingSince = 0;

    const participants = (): Participant[] => [...(room.participants?.values() ?? [])];
    const live = (): Fabric[] => [...fabrics.values()].filter((f) => f.state != 'terminated');
    const fabricOf = (userID: string): Fabric | undefined => live().find((f) => f.remoteUserID == userID);

    const addFabric = (key: string, pc: MonitoredPeerConnection, remoteUserID: string): void => {
      const fabric = monitor.addFabric(pc, {
        remoteUserID,
        conferenceID,
        remoteEndpointType: p2p ? 'peer' : 'server',
        attributes: key ? { ...attributes, twilioPeerConnectionId: key } : attributes,
      });
      if (fabric) {
        fabrics.set(key, fabric);
        mappings.forEach((m) => m(fabric));
        for (const q of queue.splice(0)) send(...q);
      }
    };

    /** Looks up the Room's peer connections: new ones become fabrics, vanished ones end theirs. */
    const scan = (): void => {
      if (!list) return;
      const t = now();
      const ids = new Set<string>();
      for (const { id, pc } of list()) {
        ids.add(id);
        const f = fabrics.get(id);
        if ((f?.pc == pc && f.state != 'terminated') || pc.signalingState == 'closed') continue;
        let owner = p2p ? owners.get(id) : serverUserID;
        if (!owner) {
          const since = pending.get(id) ?? t;
          pending.set(id, since);
          const [only, ...others] = participants();
          // No remote track seen: after 3 s the only participant, after 10 s an unknown peer.
          if (t - since >= 3000 && only && !others.length && !fabricOf(only.identity)) owners.set(id, (owner = only.identity));
          else if (t - since >= 10_000) owner = 'twilio-unknown-peer';
          else requestMapping();
        }
        if (owner) {
          pending.delete(id);
          addFabric(id, pc, owner);
        }
      }
      for (const [key, f] of fabrics) if (key && !ids.has(key)) fabrics.delete(key) && f.terminate();
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
    const map = (selector: StreamSelector, userID: string, publication: Publication): void => {
      const mapping = { userID, usageLabel: options.usageLabel?.(publication) || String(publication.kind) };
      const m = (f: Fabric): unknown => f.mapStream(selector, mapping);
      mappings.set(JSON.stringify(selector), m);
      live().forEach(m);
    };
    const mapTrack = (track: TwilioTrackLike | null | undefined, publication: Publication, userID: string): void => {
      const trackId = track?.mediaStreamTrack?.id;
      if (trackId && isMedia(track.kind)) map({ trackId }, userID, publication);
    };
    const requestMapping = (): void => {
      const at = now() + 1000;
      if (!dueAt || at < dueAt) dueAt = at;
      retries = 0;
    };

    /** SSRC mappings (and P2P peer-connection owners) from the trackSid + ssrc of each track's stats. */
    const onReports = (reports: ReadonlyArray<TwilioStatsReportLike>): void => {
      const tracks = new Map<string, [string, Publication, boolean?]>();
      const wanted = new Set<string>();
      for (const p of participants())
        for (const pub of p.tracks.values()) {
          tracks.set(pub.trackSid, [p.identity, pub, true]);
          if (pub.isSubscribed && isMedia(pub.kind)) wanted.add(pub.trackSid);
        }
      for (const pub of local?.tracks?.values() ?? []) tracks.set(pub.trackSid, [localUserID, pub]);
      let identified;
      for (const r of reports)
        for (const s of Object.values(r).flat() as TwilioTrackStatsLike[]) {
          const [userID, pub, remote] = tracks.get(s.trackSid) ?? [];
          if (pub && s.ssrc) {
            wanted.delete(s.trackSid);
            if (p2p && remote && !owners.has(r.peerConnectionId)) identified = owners.set(r.peerConnectionId, userID!);
            map({ ssrc: s.ssrc }, userID!, pub);
          }
        }
      if (identified) scan();
      // Retry soon while a subscribed remote track (or a peer connection's owner) is not known yet.
      if ((wanted.size || pending.size) && retries++ < 10) dueAt = now() + 1000;
    };

    // ---- mute / pause -------------------------------------------------------------------------
    /**
     * Recomputes whether `participant` sends audio / video (a published track of that kind that is
     * enabled) and sends the transitions. Unmute and resume only follow a mute or pause; a
     * participant first seen with all tracks of a kind disabled is reported muted/paused.
     */
    const evaluate = (participant: Participant, isLocal: boolean, reason: string, trigger?: Trigger, removed?: boolean): void => {
      if (!participant?.tracks) return;
      const userID = isLocal ? localUserID : participant.identity;
      const key = isLocal + (participant.sid ?? participant.identity);
      const state = muted.get(key) ?? {};
      muted.set(key, state);
      /** Per kind: true when a track of it is enabled, false when all its tracks are disabled. */
      const sending: Data = {};
      for (const pub of participant.tracks.values())
        if (isMedia(pub.kind) && !(removed && pub.trackSid == trigger?.trackSid))
          sending[pub.kind] ||= isLocal ? pub.track?.isEnabled !== false && !pub.track?.isStopped : pub.isTrackEnabled !== false;
      for (const kind in MUTE_EVENTS) {
        const was = state[kind];
        const is = sending[kind];
        if (is == null && was !== false) continue;
        state[kind] = !is;
        if (is ? was : !was)
          send(
            MUTE_EVENTS[kind]![+!!is]!,
            {
              userID,
              local: isLocal,
              reason,
              participantSid: participant.sid,
              ...(trigger?.kind == kind && { trackSid: trigger.trackSid ?? trigger.sid, trackName: trigger.trackName ?? trigger.name }),
            },
            isLocal ? undefined : userID,
          );
      }
    };

    // ---- Room and LocalParticipant events -----------------------------------------------------
    const custom = (name: string, data: Data): unknown => monitor.sendCustomEvent(conferenceID, name, data, live()[0]?.pc);

    for (const what of ['Enabled', 'Disabled', 'Published', 'Unpublished', 'Stopped']) {
      const reason = what.toLowerCase();
      if (what != 'Stopped')
        on(room, 'track' + what, (publication: Publication, participant: Participant) => evaluate(participant, false, reason, publication, what == 'Unpublished'));
      // LocalParticipant: trackEnabled/Disabled/Stopped (track), trackPublished (publication).
      if (local && what != 'Unpublished')
        on(local, 'track' + what, (trigger: Trigger) => {
          if (what == 'Published') {
            mapTrack(trigger.track, trigger as Publication, localUserID);
            requestMapping();
          }
          evaluate(local, true, reason, trigger);
        });
    }
    on(room, 'trackSubscribed', (track: TwilioTrackLike, publication: Publication, participant: Participant) => {
      requestMapping();
      mapTrack(track, publication, participant.identity);
    });
    on(room, 'participantConnected', (participant: Participant) => {
      requestMapping();
      evaluate(participant, false, 'connected');
    });
    on(room, 'participantDisconnected', (participant: Participant) => {
      muted.delete(false + (participant.sid ?? participant.identity));
      if (p2p && list) fabricOf(participant.identity)?.terminate();
    });
    on(room, 'dominantSpeakerChanged', (participant: Participant | null) => {
      // Nobody speaking (null): nothing in callstats' vocabulary.
      const userID = participant?.identity;
      if (typeof userID == 'string') send('dominantSpeaker', { userID, participantSid: participant!.sid }, userID);
    });
    on(room, 'reconnecting', (error: unknown) => {
      reconnectingSince = now();
      shim?.follow('reconnecting');
      const info = errorInfo(error);
      // 53001: the signaling connection dropped; 53405: the media connection failed.
      custom('twilioReconnecting', { ...info, cause: info.code == 53405 ? 'media' : info.code == 53001 ? 'signaling' : 'unknown' });
    });
    on(room, 'reconnected', () => {
      shim?.follow('connected');
      custom('twilioReconnected', reconnectingSince ? { durationMs: now() - reconnectingSince } : {});
      reconnectingSince = 0;
      scan();
      requestMapping();
    });
    on(room, 'disconnected', (_room: unknown, error: unknown) => {
      const [primary] = live();
      if (error) {
        const fn = twilioErrorFunction(error);
        if (primary) primary.reportError(fn, describeTwilioError(error));
        else monitor.reportError(conferenceID, fn, describeTwilioError(error));
      }
      for (const f of live()) f.terminate(error ? errorInfo(error) : undefined);
      shim?.follow('disconnected');
      scope.detach();
    });

    // LocalParticipant emits nothing when a track is unpublished: its unpublish methods are
    // wrapped (an own property shadowing the prototype's, removed again on detach).
    const unpublished = safe(() => evaluate(local, true, 'unpublished'));
    for (const name of ['unpublishTrack', 'unpublishTracks'] as const) {
      const target = local as unknown as Data;
      const original = target?.[name] as ((...args: unknown[]) => unknown) | undefined;
      if (!original) continue;
      // Registered before the wrapper: runs after the scope restored the original.
      if (!Object.prototype.hasOwnProperty.call(target, name)) scope.onDetach(() => target[name] == original && delete target[name]);
      scope.wrap(target, name, () =>
        function (this: unknown, ...args: unknown[]) {
          const result = original.apply(this, args);
          unpublished();
          return result;
        },
      );
    }

    // ---- the current state --------------------------------------------------------------------
    /** Fetches the Room's stats (internal access; the shim feeds onReports from its own polls). */
    const refresh = (): void => {
      if (list) {
        dueAt = now() + 10_000;
        new Promise<ReadonlyArray<TwilioStatsReportLike>>((resolve) => resolve(room.getStats())).then(safe(onReports), (e) =>
          logger.debug('twilio: room.getStats() failed', e),
        );
      }
    };
    const timer = setInterval(
      safe(() => {
        scan();
        if (dueAt && now() >= dueAt) refresh();
      }),
      1000,
    );
    scope.onDetach(() => {
      clearInterval(timer);
      fabrics.forEach((f) => f.terminate());
    });
    if (!list) {
      if (options.peerConnections != 'stats-shim') logger.warn(`twilio: twilio-video ${version ?? ''} internals not usable; using room.getStats()`);
      addFabric('', (shim = new RoomStatsPeerConnection(room, safe(onReports))), p2p ? 'twilio-peers' : serverUserID);
    }
    scan();
    for (const p of participants()) {
      for (const pub of p.tracks.values()) if (pub.isSubscribed !== false) mapTrack(pub.track, pub, p.identity);
      evaluate(p, false, 'initial');
    }
    if (local) {
      for (const pub of local.tracks?.values() ?? []) mapTrack(pub.track, pub, localUserID);
      evaluate(local, true, 'initial');
    }
    refresh();
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
