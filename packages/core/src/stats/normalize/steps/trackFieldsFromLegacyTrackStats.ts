/**
 * Browser difference: Safari (before 16.4 / WebKit 258835) and older Chromium (before ~M112) put
 * frame sizes, frame rate, audio level and the track identifier on separate `track` stats that
 * the RTP entry references by `trackId` (legacy Edge: `mediaTrackId`). Fields the RTP entry has
 * itself win. Safari quirk: for remote tracks its `trackIdentifier` does not match the
 * MediaStreamTrack's id (WebKit bug 174519), so the processor also tries the SDP's msid track id
 * when it maps streams by track id.
 */
import type { StatsEntry } from '../../../types';
import { num, str } from '../fields';

export interface LegacyTrackFields {
  trackIdentifier?: string;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
  /** Inbound framesDecoded / outbound framesSent on the track. */
  frames?: number;
  audioLevel?: number;
  jitterBufferDelay?: number;
  jitterBufferEmittedCount?: number;
}

/** The legacy track stats an RTP entry points to, if any. */
export function legacyTrackOf(rtp: StatsEntry, byId: ReadonlyMap<string, StatsEntry>): StatsEntry | undefined {
  const id = str(rtp, 'trackId') ?? str(rtp, 'mediaTrackId');
  const track = id ? byId.get(id) : undefined;
  return track && track.type === 'track' ? track : undefined;
}

export function trackFieldsFromLegacyTrackStats(rtp: StatsEntry, track: StatsEntry | undefined): LegacyTrackFields {
  if (!track) return {};
  const out: LegacyTrackFields = {};
  const take = <K extends keyof LegacyTrackFields>(key: K, value: LegacyTrackFields[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  if (str(rtp, 'trackIdentifier') === undefined) take('trackIdentifier', str(track, 'trackIdentifier'));
  if (num(rtp, 'frameWidth') === undefined) take('frameWidth', num(track, 'frameWidth'));
  if (num(rtp, 'frameHeight') === undefined) take('frameHeight', num(track, 'frameHeight'));
  if (num(rtp, 'framesPerSecond') === undefined) take('framesPerSecond', num(track, 'framesPerSecond'));
  if (num(rtp, 'framesDecoded') === undefined && num(rtp, 'framesEncoded') === undefined) {
    take('frames', num(track, 'framesDecoded') ?? num(track, 'framesSent'));
  }
  if (num(rtp, 'audioLevel') === undefined) take('audioLevel', num(track, 'audioLevel'));
  if (num(rtp, 'jitterBufferDelay') === undefined) {
    take('jitterBufferDelay', num(track, 'jitterBufferDelay'));
    take('jitterBufferEmittedCount', num(track, 'jitterBufferEmittedCount'));
  }
  return out;
}
