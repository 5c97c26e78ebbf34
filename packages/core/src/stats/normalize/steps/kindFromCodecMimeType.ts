/**
 * Browser difference: some stacks give neither `kind` nor `mediaType` on RTP stats; the codec
 * (`codecId` -> codec stats `mimeType`, e.g. 'audio/opus') still tells.
 */
import type { MediaKind, StatsEntry } from '../../../types';
import { asMediaKind } from './kindFromMediaType';

export const kindFromCodecMimeType = (codec: StatsEntry | undefined): MediaKind | undefined =>
  typeof codec?.mimeType == 'string' ? asMediaKind(codec.mimeType.split('/')[0]!.toLowerCase()) : undefined;
