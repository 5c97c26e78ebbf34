/**
 * Browser difference: some stacks give neither `kind` nor `mediaType` on RTP stats; the codec
 * (`codecId` -> codec stats `mimeType`, e.g. 'audio/opus') still tells.
 */
import type { MediaKind, StatsEntry } from '../../../types';

export function kindFromCodecMimeType(codec: StatsEntry | undefined): MediaKind | undefined {
  const mime = codec?.mimeType;
  if (typeof mime !== 'string') return undefined;
  const slash = mime.indexOf('/');
  const major = (slash < 0 ? mime : mime.slice(0, slash)).toLowerCase();
  return major === 'audio' || major === 'video' ? major : undefined;
}
