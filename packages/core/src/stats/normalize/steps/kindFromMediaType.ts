/**
 * Browser difference: the media kind is `kind` in the spec and Chromium, `mediaType` in Firefox
 * and older Safari (Chromium gives both).
 */
import type { MediaKind, StatsEntry } from '../../../types';

export const asMediaKind = (v: unknown): MediaKind | undefined => (v === 'audio' || v === 'video' ? v : undefined);

export const kindFromMediaType = (entry: StatsEntry | undefined): MediaKind | undefined => asMediaKind(entry?.kind ?? entry?.mediaType);
