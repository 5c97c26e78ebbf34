/** The per-poll shape the normalization chain produces. Built fresh each poll from references into
 * the report (entries are never copied or mutated); only the fields the metrics need. */
import type { MediaKind } from '../../types';

/** remote-inbound-rtp (for an outbound stream) or remote-outbound-rtp (for an inbound stream). */
export interface NormalizedRemote {
  timestamp: number;
  packetsLost?: number;
  packetsReceived?: number;
  /** 0..1, from the latest RTCP receiver report. */
  fractionLost?: number;
  jitterMs?: number;
  roundTripTimeMs?: number;
}

export interface NormalizedRtpStream {
  /** The stats object's id. */
  id: string;
  direction: 'inbound' | 'outbound';
  ssrc: string;
  kind?: MediaKind;
  /** Milliseconds (the entry's own timestamp). */
  timestamp: number;
  mid?: string;
  trackIdentifier?: string;
  /** e.g. 'audio/opus' */
  codecMimeType?: string;
  /** bytesReceived / bytesSent (payload bytes, retransmissions included). */
  bytes?: number;
  /** packetsReceived / packetsSent */
  packets?: number;
  /** Inbound: cumulative packets lost as seen by this receiver. */
  packetsLost?: number;
  /** Inbound: interarrival jitter. */
  jitterMs?: number;
  /** framesDecoded / framesEncoded */
  frames?: number;
  framesPerSecond?: number;
  frameWidth?: number;
  frameHeight?: number;
  /** 0..1: inbound playout level, outbound capture (media-source) level. */
  audioLevel?: number;
  qualityLimitationReason?: string;
  /** Inbound: cumulative jitter buffer delay (seconds) and emitted samples/frames. */
  jitterBufferDelay?: number;
  jitterBufferEmittedCount?: number;
  /** RTX / FEC SSRCs that belong to this stream. */
  associatedSsrcs?: string[];
  remote?: NormalizedRemote;
}

export interface NormalizedConnection {
  currentRoundTripTimeMs?: number;
  /** bits per second, as reported. */
  availableOutgoingBitrate?: number;
  availableIncomingBitrate?: number;
  localCandidateType?: string;
  remoteCandidateType?: string;
  protocol?: string;
  localAddress?: string;
  remoteAddress?: string;
}

export interface NormalizedReport {
  /** Latest entry timestamp of the report (ms), 0 if none. */
  timestamp: number;
  inbound: NormalizedRtpStream[];
  outbound: NormalizedRtpStream[];
  connection: NormalizedConnection;
}
