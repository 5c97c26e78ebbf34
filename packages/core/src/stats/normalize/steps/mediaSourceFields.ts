/**
 * Browser difference: since ~M88 Chromium (and Safari) report what a sender captures on
 * `media-source` stats (`outbound-rtp.mediaSourceId`): the capture audio level, and for video
 * width/height/framesPerSecond, which older outbound entries lack. Fields on the RTP entry win
 * (they describe what is encoded, e.g. after scaling).
 */
import type { StatsEntry } from '../../../types';
import { fillMissing, linked } from '../fields';

export interface MediaSourceFields {
  trackIdentifier?: string;
  audioLevel?: number;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
}

export const mediaSourceOf = (rtp: StatsEntry, byId: ReadonlyMap<string, StatsEntry>): StatsEntry | undefined =>
  linked(rtp, byId, 'media-source', 'mediaSourceId');

export const mediaSourceFields = (rtp: StatsEntry, source: StatsEntry | undefined): MediaSourceFields =>
  fillMissing(rtp, source, {
    trackIdentifier: 'trackIdentifier',
    audioLevel: 'audioLevel',
    frameWidth: 'width',
    frameHeight: 'height',
    framesPerSecond: 'framesPerSecond',
  });
