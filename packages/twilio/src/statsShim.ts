/**
 * A peer-connection-shaped view of a whole Room built on the public `room.getStats()`, for when
 * twilio-video's internal RTCPeerConnections cannot be reached (./internals.ts). Core's Fabric only
 * needs `getStats()` returning a report-like plus the states and their change events, so this
 * synthesizes spec-shaped entries from Twilio's StatsReports:
 *
 *   local*TrackStats  -> outbound-rtp (ssrc, kind, bytesSent, packetsSent, trackIdentifier,
 *                        frameWidth/Height, framesPerSecond) + remote-inbound-rtp (roundTripTime,
 *                        packetsLost, jitter: what the receiver reported)
 *   remote*TrackStats -> inbound-rtp (ssrc, kind, bytesReceived, packetsReceived, packetsLost,
 *                        jitter, audioLevel, trackIdentifier, frame size and rate)
 *
 * Twilio gives round-trip time and jitter in milliseconds and audio levels on 0..32767; the
 * entries carry the spec's units (seconds, 0..1). There are no candidate-pair, codec or transport
 * entries and no SDP, so connection-level stats stay empty. States follow the Room: connected ->
 * 'connected', reconnecting -> 'disconnected', disconnected -> 'closed'.
 */
import type { MonitoredPeerConnection, StatsEntry, StatsReportLike } from '@callmetry/core';
import type { TwilioRoomLike, TwilioStatsReportLike, TwilioTrackStatsLike } from './types';

/** Spec-shaped entries for one StatsReport (exported for unit tests). */
export function entriesFromTwilioReport(report: TwilioStatsReportLike, now: number): StatsEntry[] {
  const out: StatsEntry[] = [];
  // localAudioTrackStats, localVideoTrackStats, remoteAudioTrackStats, remoteVideoTrackStats
  for (const [name, list] of Object.entries(report))
    for (const s of (name.endsWith('TrackStats') && (list as TwilioTrackStatsLike[])) || []) {
      if (!/^\d+$/.test(s.ssrc)) continue;
      const ssrc = +s.ssrc;
      const kind = name.includes('Audio') ? 'audio' : 'video';
      const local = name[0] == 'l';
      const id = `${report.peerConnectionId}-${local ? 'out' : 'in'}-${ssrc}`;
      const remoteId = `${report.peerConnectionId}-rin-${ssrc}`;
      /** Adds an entry with the finite numbers and non-empty strings of `fields` (missing/null left out). */
      const add = (id: string, type: string, fields: Record<string, unknown>): void => {
        const e: StatsEntry = { id, type, timestamp: s.timestamp || now, ssrc, kind };
        for (const k in fields) {
          const v = fields[k];
          if (typeof v == 'number' ? isFinite(v) : typeof v == 'string' && v) e[k] = v;
        }
        out.push(e);
      };
      // Milliseconds -> seconds; null -> NaN (left out).
      const jitter = (s.jitter ?? NaN) / 1000;
      const roundTripTime = (s.roundTripTime ?? NaN) / 1000;
      const { packetsLost } = s;
      const hasRemote = local && (isFinite(roundTripTime) || isFinite(packetsLost ?? NaN));
      const common = {
        mediaType: kind,
        trackIdentifier: s.trackId,
        framesPerSecond: s.frameRate,
        frameWidth: s.dimensions?.width,
        frameHeight: s.dimensions?.height,
      };
      add(id, local ? 'outbound-rtp' : 'inbound-rtp', local
        ? { ...common, bytesSent: s.bytesSent, packetsSent: s.packetsSent, remoteId: hasRemote && remoteId }
        : { ...common, bytesReceived: s.bytesReceived, packetsReceived: s.packetsReceived, packetsLost, jitter, audioLevel: Math.min(1, Math.max(0, (s.audioLevel ?? NaN) / 32767)) });
      if (hasRemote) add(remoteId, 'remote-inbound-rtp', { localId: id, roundTripTime, packetsLost, jitter });
    }
  return out;
}

/** A MonitoredPeerConnection over `room.getStats()`; its states follow the Room (`follow`). */
export class RoomStatsPeerConnection extends EventTarget implements MonitoredPeerConnection {
  // Set by follow() (from the constructor on).
  declare connectionState: string;
  declare iceConnectionState: string;
  declare signalingState: string;
  iceGatheringState = 'complete';
  readonly localDescription = null;
  readonly remoteDescription = null;

  /**
   * `room.getStats()` as one spec-shaped report. A closure over the constructor's arguments (no
   * members for them). `onReports` sees every report fetched (the adapter maps SSRCs from them); must not throw.
   */
  readonly getStats: () => Promise<StatsReportLike>;

  constructor(room: TwilioRoomLike, onReports?: (reports: ReadonlyArray<TwilioStatsReportLike>) => void) {
    super();
    this.getStats = async () => {
      const reports = await room.getStats();
      onReports?.(reports);
      const map = new Map<string, StatsEntry>();
      for (const report of reports) for (const e of entriesFromTwilioReport(report, Date.now())) map.set(e.id, e);
      return map;
    };
    this.follow(room.state);
  }

  /** Moves to the states matching the Room's state, then fires their change events. */
  follow(roomState: string): void {
    const state = roomState == 'disconnected' ? 'closed' : roomState == 'reconnecting' ? 'disconnected' : 'connected';
    const self = this as unknown as Record<string, string>;
    const changed = ['iceConnection', 'connection', 'signaling'].filter((k) => {
      const next = k == 'signaling' && state != 'closed' ? 'stable' : state;
      return self[k + 'State'] != next && (self[k + 'State'] = next);
    });
    for (const k of changed) this.dispatchEvent(new Event(k.toLowerCase() + 'statechange'));
  }
}
