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
import { attachAdapter, type Fabric, type FabricEvent, type Monitor, type StreamMapping, type StreamSelector } from '@callmetry/core';
import { describeTwilioError, errorInfo, twilioErrorFunction } from './errors';
import { probeInternals } from './internals';
import { RoomStatsPeerConnection } from './statsShim';
import type { AttachTwilioOptions, TwilioParticipantLike, TwilioRoomLike, TwilioStatsReportLike, TwilioTrackLike, TwilioTrackPublicationLike, TwilioTrackStatsLike } from './types';

type Data = Record<string, unknown>;
type Participant = TwilioParticipantLike;
type Publication = TwilioTrackPublicationLike;
/** A publication or a track: what triggered a mute evaluation. */
type Trigger = Partial<Publication & TwilioTrackLike>;

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
    const local = room.localParticipant;
    if (!local?.tracks || room.state == 'disconnected') {
      logger.warn('twilio: not a connected Room');
      return scope.detach();
    }
    const on = (emitter: object, event: string, fn: (...args: never[]) => unknown): unknown => scope.listen(emitter, event, fn);
    const { localUserID } = monitor;
    const userOf = (participant: Participant): string => (participant == local ? localUserID : participant.identity);

    // ---- configuration ------------------------------------------------------------------------
    const { conferenceID: given, roomType } = options;
    let fromOption: unknown = given;
    if (typeof given == 'function')
      try {
        fromOption = given(room);
      } catch (error) {
        logger.error('twilio: options.conferenceID threw; using the default', error);
      }
    const conferenceID =
      (typeof fromOption == 'string' && fromOption) || (options.conferenceIDFrom == 'sid' ? room.sid || room.name : room.name || room.sid) || 'twilio-room';
    const p2p = roomType == 'peer-to-peer' || (roomType != 'group' && !room.mediaRegion);
    const serverUserID = options.serverUserID || 'twilio-sfu';
    const { identity } = local;
    // The peer connections: twilio-video's internals (version-gated), else the shim over room.getStats().
    const version = options.twilioVersion ?? (globalThis as { Twilio?: { Video?: { version?: string } } }).Twilio?.Video?.version;
    const shimOnly = options.peerConnections == 'stats-shim';
    const internals = shimOnly ? undefined : probeInternals(room, version, logger);
    if (!internals && !shimOnly) logger.warn(`twilio: twilio-video ${version ?? ''} internals not usable; using room.getStats()`);
    const attributes: Data = {
      twilioRoomSid: room.sid,
      twilioRoomName: room.name,
      twilioRoomType: p2p ? 'peer-to-peer' : 'group',
      twilioIdentity: identity,
      twilioParticipantSid: local.sid,
      twilioVideoVersion: version,
      twilioPeerConnectionAccess: internals ? 'internal' : 'stats-shim',
    };
    if (identity != localUserID) {
      attributes.twilioIdentityMismatch = true;
      logger.warn(`twilio: identity '${identity}' is not the monitor's localUserID '${localUserID}'`);
    }
    /** One fabric per participant (P2P over internals), else one for the Room: where remote events go. */
    const perParticipant = p2p && internals;

    // ---- fabrics ------------------------------------------------------------------------------
    /** By twilio's peer connection id ('' for the shim). */
    const fabrics = new Map<string, Fabric>();
    /** P2P: peer connection id -> remote identity, and since when unattributed ones wait. */
    const owners = new Map<string, string>();
    let pending = new Map<string, number>();
    /** Events sent while there was no fabric for them. */
    const queue: Array<[FabricEvent, Data, string?]> = [];
    /** Stream mappings by selector, applied to every fabric (also the ones created later). */
    const mappings = new Map<string, [StreamSelector, StreamMapping]>();
    /** Per participant and kind: true when muted/paused, false when not, absent when unknown. */
    const muted = new WeakMap<Participant, Data>();
    /** Seconds until room.getStats() is fetched again (internal access), and quick retries made. */
    let refreshIn = 0;
    let retries = 0;
    let reconnectingSince = 0;
    /** fabricTerminated data: Twilio's error, when the Room disconnected with one. */
    let ended: Data | undefined;

    const participants = (): Participant[] => [...room.participants.values()];
    const live = (): Fabric[] => [...fabrics.values()].filter((f) => f.state != 'terminated');
    const fabricOf = (userID: string): Fabric | undefined => live().find((f) => f.remoteUserID == userID);

    /** Looks up the Room's peer connections: new ones become fabrics, vanished ones end theirs. */
    const scan = (): void => {
      const t = now();
      const current = peerConnections();
      const waiting = new Map<string, number>();
      // A fabric ended while its pc is still listed (its participant left first) stays ended.
      for (const [id, f] of fabrics) if (current.get(id) != f.pc) fabrics.delete(id), owners.delete(id), f.terminate();
      for (const [id, pc] of current) {
        if (fabrics.has(id) || pc.signalingState == 'closed') continue;
        let owner = !p2p ? serverUserID : internals ? owners.get(id) : 'twilio-peers';
        if (!owner) {
          const since = pending.get(id) ?? t;
          const [only, ...others] = participants();
          // No remote track seen: after 3 s the only participant, after 10 s an unknown peer.
          if (t - since >= 3000 && only && !others.length && !fabricOf(only.identity)) owners.set(id, (owner = only.identity));
          else if (t - since >= 10_000) owner = 'twilio-unknown-peer';
          else waiting.set(id, since) && requestMapping();
        }
        const fabric =
          owner &&
          monitor.addFabric(pc, {
            remoteUserID: owner,
            conferenceID,
            remoteEndpointType: p2p ? 'peer' : 'server',
            attributes: id ? { ...attributes, twilioPeerConnectionId: id } : attributes,
          });
        if (fabric) {
          fabrics.set(id, fabric);
          mappings.forEach((m) => fabric.mapStream(...m));
          for (const q of queue.splice(0)) send(...q);
        }
      }
      pending = waiting;
    };

    /** Sends to every fabric (`to` undefined), or to `to`'s fabric (P2P) / the Room's fabric; queued while there is none. */
    const send = (event: FabricEvent, data: Data, to?: string): void => {
      const all = live();
      const targets = to == null ? all : perParticipant ? all.filter((f) => f.remoteUserID == to) : all.slice(0, 1);
      if (!targets.length) queue.push([event, data, to]) > 100 && queue.shift();
      for (const f of targets) f.sendEvent(event, data);
    };

    // ---- stream mappings ----------------------------------------------------------------------
    const map = (selector: StreamSelector, participant: Participant, publication: Publication): void => {
      const m: [StreamSelector, StreamMapping] = [selector, { userID: userOf(participant), usageLabel: options.usageLabel?.(publication) || publication.kind }];
      mappings.set(JSON.stringify(selector), m);
      for (const f of live()) f.mapStream(...m);
    };
    const mapTrack = (track: TwilioTrackLike | null | undefined, publication: Publication, participant: Participant): void => {
      const trackId = track?.mediaStreamTrack?.id;
      if (trackId) map({ trackId }, participant, publication);
    };
    /** Fetches the Room's stats at the next tick (and retries while something is missing). */
    const requestMapping = (): void => {
      refreshIn = retries = 0;
    };

    /** SSRC mappings (and P2P peer-connection owners) from the trackSid + ssrc of each track's stats. */
    const onReports = (reports: ReadonlyArray<TwilioStatsReportLike>): void => {
      const tracks = new Map<string, [Participant, Publication]>();
      /** Subscribed remote media tracks whose SSRC is not known yet. */
      const wanted = new Set<string>();
      for (const p of [local, ...participants()])
        for (const pub of p.tracks.values()) {
          tracks.set(pub.trackSid, [p, pub]);
          if (p != local && pub.track?.mediaStreamTrack) wanted.add(pub.trackSid);
        }
      let identified;
      for (const r of reports)
        for (const s of Object.values(r).flat() as TwilioTrackStatsLike[]) {
          const [p, pub] = tracks.get(s.trackSid) ?? [];
          if (p && s.ssrc) {
            wanted.delete(s.trackSid);
            if (p2p && p != local && !owners.has(r.peerConnectionId)) identified = owners.set(r.peerConnectionId, p.identity);
            map({ ssrc: s.ssrc }, p, pub!);
          }
        }
      if (identified) scan();
      // Retry soon while a subscribed remote track (or a peer connection's owner) is not known yet.
      if ((wanted.size || pending.size) && retries++ < 10) refreshIn = 0;
    };

    // ---- mute / pause -------------------------------------------------------------------------
    /**
     * Recomputes whether `participant` sends audio / video (a published track of that kind that is
     * enabled) and sends the transitions. Unmute and resume only follow a mute or pause; a
     * participant first seen with all tracks of a kind disabled is reported muted/paused.
     */
    const evaluate = (participant: Participant, reason: string, trigger?: Trigger): void => {
      const isLocal = participant == local;
      const userID = userOf(participant);
      const state = muted.get(participant) ?? {};
      muted.set(participant, state);
      /**
       * Per kind: true when a track of it is enabled, falsy when all its tracks are disabled, absent
       * when there is none (twilio-video removes a publication before emitting trackUnpublished).
       */
      const sending: Data = {};
      for (const pub of participant.tracks.values()) sending[pub.kind] ||= isLocal ? pub.track?.isEnabled && !pub.track.isStopped : pub.isTrackEnabled;
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
              ...(trigger?.kind == kind && { trackSid: trigger.trackSid, trackName: trigger.trackName ?? trigger.name }),
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
        on(room, 'track' + what, (publication: Publication, participant: Participant) => evaluate(participant, reason, publication));
      // LocalParticipant: trackEnabled/Disabled/Stopped (track), trackPublished (publication).
      if (what != 'Unpublished')
        on(local, 'track' + what, (trigger: Trigger) => {
          if (what == 'Published') {
            mapTrack(trigger.track, trigger as Publication, local);
            requestMapping();
          }
          evaluate(local, reason, trigger);
        });
    }
    on(room, 'trackSubscribed', (track: TwilioTrackLike, publication: Publication, participant: Participant) => {
      requestMapping();
      mapTrack(track, publication, participant);
    });
    on(room, 'participantConnected', (participant: Participant) => {
      requestMapping();
      evaluate(participant, 'connected');
    });
    on(room, 'participantDisconnected', (participant: Participant) => {
      // Its streams are gone: forgotten by the live fabrics and by those added from now on.
      mappings.forEach((m, key) => {
        if (m[1].userID != participant.identity) return;
        mappings.delete(key);
        for (const f of live()) f.unmapStream(m[0]);
      });
      if (perParticipant) fabricOf(participant.identity)?.terminate();
    });
    on(room, 'dominantSpeakerChanged', (participant: Participant | null) => {
      // Nobody speaking (null): nothing in callstats' vocabulary.
      if (participant) send('dominantSpeaker', { userID: participant.identity, participantSid: participant.sid }, participant.identity);
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
      // The error is reported, then detach ends the fabrics with its data; detached whatever
      // reading the error does (a failure here is logged).
      safe(() => {
        if (error) {
          const [primary] = live();
          primary ? primary.reportError(twilioErrorFunction(error), describeTwilioError(error)) : reportTwilioError(monitor, conferenceID, error);
          ended = errorInfo(error);
        }
      })();
      scope.detach();
    });

    // LocalParticipant emits nothing when a track is unpublished: its unpublish methods are
    // wrapped while attached (the scope restores them on detach).
    const unpublished = safe(() => evaluate(local, 'unpublished'));
    for (const name of ['unpublishTrack', 'unpublishTracks'] as const)
      if (local[name])
        scope.wrap(local, name, (original) =>
          function (this: unknown, ...args: never[]) {
            const result = original!.apply(this, args as [never]);
            unpublished();
            return result;
          },
        );

    // ---- the current state --------------------------------------------------------------------
    const shim = internals ? undefined : new RoomStatsPeerConnection(room, safe(onReports));
    const peerConnections = internals ?? (() => new Map([['', shim!]]));
    /** Fetches the Room's stats (internal access; the shim feeds onReports from its own polls). */
    const refresh = (): void => {
      refreshIn = 10;
      // A synchronous throw is caught by the caller (the timer's safe wrapper, or attachAdapter).
      room.getStats().then(safe(onReports), (e) => logger.debug('twilio: room.getStats() failed', e));
    };
    const timer = setInterval(
      safe(() => {
        scan();
        if (internals && --refreshIn <= 0) refresh();
      }),
      1000,
    );
    scope.onDetach(() => {
      clearInterval(timer);
      fabrics.forEach((f) => f.terminate(ended));
    });
    scan();
    for (const p of [...participants(), local]) {
      for (const pub of p.tracks.values()) if (pub.isSubscribed !== false) mapTrack(pub.track, pub, p);
      evaluate(p, 'initial');
    }
    if (internals) refresh();
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
