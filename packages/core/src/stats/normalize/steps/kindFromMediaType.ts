/**
 * Browser difference: the media kind is `kind` in the spec and Chromium, `mediaType` in Firefox
 * and older Safari (Chromium gives both).
 */
import type { MediaKind, StatsEntry } from '../../../types';

export function kindFromMediaType(entry: StatsEntry | undefined): MediaKind | undefined {
  const v = entry?.kind ?? entry?.mediaType;
  return v === 'audio' || v === 'video' ? v : undefined;
}
