/**
 * Local structural types for the parts of twilio-video 2.x that the adapter uses. twilio-video is
 * never imported (not even its types): a real `Video.Room` is assignable to `TwilioRoomLike`.
 */

/** Node-style emitter, as twilio-video's objects are (`on` / `removeListener`). */
export interface TwilioEmitterLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

export type TwilioTrackKind = 'audio' | 'video' | 'data';

/** A local or remote media track (`LocalAudioTrack`, `RemoteVideoTrack`, ...). */
export interface TwilioTrackLike {
  readonly kind: string;
  readonly name?: string;
  /** Local tracks: the MediaStreamTrack id; remote tracks: the signaled id. */
  readonly id?: string;
  readonly sid?: string;
  readonly isEnabled?: boolean;
  readonly isStopped?: boolean;
  readonly mediaStreamTrack?: { readonly id: string; readonly kind: string } | null;
}

/** `LocalTrackPublication` / `RemoteTrackPublication`. */
export interface TwilioTrackPublicationLike {
  readonly trackSid: string;
  readonly trackName: string;
  readonly kind: string;
  /** Remote publications: whether the publisher has the track enabled. */
  readonly isTrackEnabled?: boolean;
  readonly isSubscribed?: boolean;
  readonly track: TwilioTrackLike | null;
}

export interface TwilioParticipantLike extends TwilioEmitterLike {
  readonly sid: string;
  readonly identity: string;
  readonly state?: string;
  readonly tracks: ReadonlyMap<string, TwilioTrackPublicationLike>;
}

export interface TwilioLocalParticipantLike extends TwilioParticipantLike {
  /** Wrapped by the adapter (while attached) to see unpublished local tracks. */
  unpublishTrack?(track: never): unknown;
  unpublishTracks?(tracks: never): unknown;
}

export type TwilioRemoteParticipantLike = TwilioParticipantLike;

/** One track's entry in `room.getStats()` (LocalAudioTrackStats, RemoteVideoTrackStats, ...). */
export interface TwilioTrackStatsLike {
  readonly trackId: string;
  readonly trackSid: string;
  readonly timestamp: number;
  readonly ssrc: string;
  readonly packetsLost?: number | null;
  readonly codec?: string | null;
  readonly bytesSent?: number | null;
  readonly packetsSent?: number | null;
  /** Milliseconds (twilio-video converts the spec's seconds). */
  readonly roundTripTime?: number | null;
  readonly bytesReceived?: number | null;
  readonly packetsReceived?: number | null;
  /** Milliseconds. */
  readonly jitter?: number | null;
  /** 0..32767 (twilio-video's scale). */
  readonly audioLevel?: number | null;
  readonly frameRate?: number | null;
  readonly dimensions?: { readonly width: number | null; readonly height: number | null } | null;
}

/** One peer connection's `StatsReport` from `room.getStats()`. */
export interface TwilioStatsReportLike {
  readonly peerConnectionId: string;
  readonly localAudioTrackStats: ReadonlyArray<TwilioTrackStatsLike>;
  readonly localVideoTrackStats: ReadonlyArray<TwilioTrackStatsLike>;
  readonly remoteAudioTrackStats: ReadonlyArray<TwilioTrackStatsLike>;
  readonly remoteVideoTrackStats: ReadonlyArray<TwilioTrackStatsLike>;
}

/** A connected `Room` (what `Video.connect()` resolves with). */
export interface TwilioRoomLike extends TwilioEmitterLike {
  readonly sid: string;
  readonly name: string;
  /** 'connected' | 'reconnecting' | 'disconnected' */
  readonly state: string;
  /** Set in Group Rooms, null in Peer-to-Peer Rooms. */
  readonly mediaRegion?: string | null;
  readonly localParticipant: TwilioLocalParticipantLike;
  readonly participants: ReadonlyMap<string, TwilioRemoteParticipantLike>;
  readonly dominantSpeaker?: TwilioRemoteParticipantLike | null;
  getStats(): Promise<ReadonlyArray<TwilioStatsReportLike>>;
}

/** A twilio-video error (`TwilioError`: a numeric `code`) or any other error (e.g. a DOMException). */
export interface TwilioErrorLike {
  readonly code?: number;
  readonly name?: string;
  readonly message?: string;
}

/** How the Room's peer connections are reached. */
export type PeerConnectionAccess =
  /** twilio-video's internal RTCPeerConnections (see README): full stats. Falls back to 'stats-shim'. */
  | 'internal'
  /** A peer-connection-shaped shim over the public `room.getStats()`: thinner stats. */
  | 'stats-shim';

export interface AttachTwilioOptions {
  /** The conference ID: a fixed string or a function of the Room. Default: per `conferenceIDFrom`. */
  conferenceID?: string | ((room: TwilioRoomLike) => string);
  /** Which Room property is the conference ID when `conferenceID` is not given. Default 'name'. */
  conferenceIDFrom?: 'name' | 'sid';
  /** 'group' (one fabric per media-server connection) or 'peer-to-peer' (one per remote participant). Default 'auto': 'group' when `room.mediaRegion` is set. */
  roomType?: 'auto' | 'group' | 'peer-to-peer';
  /** The remote user ID of fabrics to Twilio's media server. Default 'twilio-sfu'. */
  serverUserID?: string;
  /** Preferred access to the peer connections. Default 'internal' (with automatic fallback). */
  peerConnections?: PeerConnectionAccess;
  /** twilio-video's version (`Video.version`), checked before internals are used. Default: `Twilio.Video.version` of the script-tag build, when present. */
  twilioVersion?: string;
  /** The stream usage label of a track. Default: its kind ('audio', 'video'). Must not throw (an exception is logged and the track is not mapped). */
  usageLabel?: (publication: TwilioTrackPublicationLike) => string;
}
