/**
 * Browser difference: Safari (before 16.4 / WebKit 258835) and older Chromium (before ~M112) put
 * frame sizes, frame rate, audio level and the track identifier on separate `track` stats that
 * the RTP entry references by `trackId` (legacy Edge: `mediaTrackId`). Fields the RTP entry has
 * itself win. Safari quirk: for remote tracks its `trackIdentifier` does not match the
 * MediaStreamTrack's id (WebKit bug 174519), so the processor also tries the SDP's msid track id
 * when it maps streams by track id.
 */
import type { StatsEntry } from '../../../types';
import { fillMissing, linked, num } from '../fields';

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
export const legacyTrackOf = (rtp: StatsEntry, byId: ReadonlyMap<string, StatsEntry>): StatsEntry | undefined =>
  linked(rtp, byId, 'track', 'trackId', 'mediaTrackId');

/** Fields of the same name on both. */
const FIELDS = Object.fromEntries(
  ['trackIdentifier', 'frameWidth', 'frameHeight', 'framesPerSecond', 'audioLevel', 'jitterBufferDelay', 'jitterBufferEmittedCount'].map((f) => [f, f]),
);

export function trackFieldsFromLegacyTrackStats(rtp: StatsEntry, track: StatsEntry | undefined): LegacyTrackFields {
  if (!track) return {};
  const out: LegacyTrackFields = fillMissing(rtp, track, FIELDS);
  const frames = num(track, 'framesDecoded') ?? num(track, 'framesSent');
  if (frames !== undefined && num(rtp, 'framesDecoded') === undefined && num(rtp, 'framesEncoded') === undefined) out.frames = frames;
  return out;
}
