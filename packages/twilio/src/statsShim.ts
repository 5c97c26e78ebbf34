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

type Listener = (event: unknown) => void;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function ssrcNumber(ssrc: unknown): number | undefined {
  const n = typeof ssrc === 'number' ? ssrc : typeof ssrc === 'string' && /^\d+$/.test(ssrc) ? Number(ssrc) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Copies the finite numbers of `fields` into `entry` (missing/null values are left out). */
function put(entry: StatsEntry, fields: Record<string, unknown>): StatsEntry {
  for (const [k, v] of Object.entries(fields)) if (finite(v) || (typeof v === 'string' && v)) entry[k] = v;
  return entry;
}

/** Spec-shaped entries for one StatsReport (exported for unit tests). */
export function entriesFromTwilioReport(report: TwilioStatsReportLike, now: number): StatsEntry[] {
  const out: StatsEntry[] = [];
  const pcId = String(report.peerConnectionId);
  const outbound = (stats: ReadonlyArray<TwilioTrackStatsLike> | undefined, kind: 'audio' | 'video'): void => {
    for (const s of stats ?? []) {
      const ssrc = ssrcNumber(s.ssrc);
      if (ssrc === undefined) continue;
      const timestamp = finite(s.timestamp) ? s.timestamp : now;
      const id = `${pcId}-out-${ssrc}`;
      const remoteId = `${pcId}-rin-${ssrc}`;
      const hasRemote = finite(s.roundTripTime) || finite(s.packetsLost);
      out.push(
        put({ id, type: 'outbound-rtp', timestamp, ssrc, kind, mediaType: kind }, {
          bytesSent: s.bytesSent,
          packetsSent: s.packetsSent,
          trackIdentifier: s.trackId,
          framesPerSecond: s.frameRate,
          frameWidth: s.dimensions?.width,
          frameHeight: s.dimensions?.height,
          remoteId: hasRemote ? remoteId : undefined,
        }),
      );
      if (hasRemote) {
        out.push(
          put({ id: remoteId, type: 'remote-inbound-rtp', timestamp, ssrc, kind, localId: id }, {
            roundTripTime: finite(s.roundTripTime) ? s.roundTripTime / 1000 : undefined,
            packetsLost: s.packetsLost,
            jitter: finite(s.jitter) ? s.jitter / 1000 : undefined,
          }),
        );
      }
    }
  };
  const inbound = (stats: ReadonlyArray<TwilioTrackStatsLike> | undefined, kind: 'audio' | 'video'): void => {
    for (const s of stats ?? []) {
      const ssrc = ssrcNumber(s.ssrc);
      if (ssrc === undefined) continue;
      out.push(
        put({ id: `${pcId}-in-${ssrc}`, type: 'inbound-rtp', timestamp: finite(s.timestamp) ? s.timestamp : now, ssrc, kind, mediaType: kind }, {
          bytesReceived: s.bytesReceived,
          packetsReceived: s.packetsReceived,
          packetsLost: s.packetsLost,
          jitter: finite(s.jitter) ? s.jitter / 1000 : undefined,
          audioLevel: finite(s.audioLevel) ? Math.min(1, Math.max(0, s.audioLevel / 32767)) : undefined,
          trackIdentifier: s.trackId,
          framesPerSecond: s.frameRate,
          frameWidth: s.dimensions?.width,
          frameHeight: s.dimensions?.height,
        }),
      );
    }
  };
  outbound(report.localAudioTrackStats, 'audio');
  outbound(report.localVideoTrackStats, 'video');
  inbound(report.remoteAudioTrackStats, 'audio');
  inbound(report.remoteVideoTrackStats, 'video');
  return out;
}

/** A MonitoredPeerConnection over `room.getStats()`. */
export class RoomStatsPeerConnection implements MonitoredPeerConnection {
  connectionState = 'connected';
  iceConnectionState = 'connected';
  iceGatheringState = 'complete';
  signalingState = 'stable';
  readonly localDescription = null;
  readonly remoteDescription = null;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly room: TwilioRoomLike,
    /** Sees every report fetched (the adapter maps SSRCs from them). */
    private readonly onReports?: (reports: ReadonlyArray<TwilioStatsReportLike>) => void,
  ) {
    this.follow(room.state);
  }

  async getStats(): Promise<StatsReportLike> {
    const reports = await this.room.getStats();
    try {
      this.onReports?.(reports);
    } catch {
      // the observer's failure is not a stats failure
    }
    const now = Date.now();
    const map = new Map<string, StatsEntry>();
    for (const report of reports) for (const e of entriesFromTwilioReport(report, now)) map.set(e.id, e);
    return map;
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  /** Moves to the states matching the Room's state and fires the change events. */
  follow(roomState: string): void {
    const next =
      roomState === 'disconnected'
        ? { connection: 'closed', ice: 'closed', signaling: 'closed' }
        : roomState === 'reconnecting'
          ? { connection: 'disconnected', ice: 'disconnected', signaling: 'stable' }
          : { connection: 'connected', ice: 'connected', signaling: 'stable' };
    const fire: string[] = [];
    if (next.ice !== this.iceConnectionState) {
      this.iceConnectionState = next.ice;
      fire.push('iceconnectionstatechange');
    }
    if (next.connection !== this.connectionState) {
      this.connectionState = next.connection;
      fire.push('connectionstatechange');
    }
    if (next.signaling !== this.signalingState) {
      this.signalingState = next.signaling;
      fire.push('signalingstatechange');
    }
    for (const type of fire) {
      for (const l of [...(this.listeners.get(type) ?? [])]) {
        try {
          l({ type, target: this });
        } catch {
          // a listener's failure must not stop the others
        }
      }
    }
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
