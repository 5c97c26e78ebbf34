/**
 * Browser difference: since ~M88 Chromium (and Safari) report what a sender captures on
 * `media-source` stats (`outbound-rtp.mediaSourceId`): the capture audio level, and for video
 * width/height/framesPerSecond, which older outbound entries lack. Fields on the RTP entry win
 * (they describe what is encoded, e.g. after scaling).
 */
import type { StatsEntry } from '../../../types';
import { num, str } from '../fields';

export interface MediaSourceFields {
  trackIdentifier?: string;
  audioLevel?: number;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
}

export function mediaSourceOf(rtp: StatsEntry, byId: ReadonlyMap<string, StatsEntry>): StatsEntry | undefined {
  const id = str(rtp, 'mediaSourceId');
  const source = id ? byId.get(id) : undefined;
  return source && source.type === 'media-source' ? source : undefined;
}

export function mediaSourceFields(rtp: StatsEntry, source: StatsEntry | undefined): MediaSourceFields {
  if (!source) return {};
  const out: MediaSourceFields = {};
  const trackIdentifier = str(source, 'trackIdentifier');
  if (trackIdentifier !== undefined && str(rtp, 'trackIdentifier') === undefined) out.trackIdentifier = trackIdentifier;
  const audioLevel = num(source, 'audioLevel');
  if (audioLevel !== undefined) out.audioLevel = audioLevel;
  const width = num(source, 'width');
  if (width !== undefined && num(rtp, 'frameWidth') === undefined) out.frameWidth = width;
  const height = num(source, 'height');
  if (height !== undefined && num(rtp, 'frameHeight') === undefined) out.frameHeight = height;
  const fps = num(source, 'framesPerSecond');
  if (fps !== undefined && num(rtp, 'framesPerSecond') === undefined) out.framesPerSecond = fps;
  return out;
}
