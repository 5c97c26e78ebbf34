/**
 * Which user a stream belongs to. The app (or an adapter) attributes streams by SSRC, by
 * transceiver mid, or by track id; a more specific selector wins: SSRC beats mid beats track id.
 * Mappings also apply to streams that appear later. Without a mapping the processor uses the
 * default: outbound streams belong to the local user, inbound ones to the fabric's remote user.
 */
import type { StreamMapping, StreamSelector } from '../types';
import { isPlainObject, isString } from '../util/values';
import { ssrcString } from './normalize/fields';

export interface StreamIds {
  ssrc: string | number;
  mid?: string;
  trackId?: string;
}

/**
 * `<decimal ssrc>` (bare: resolve() looks the stream's SSRC up as it is), `mid:<mid>` or
 * `trackId:<id>`; undefined for a malformed selector.
 */
function keyOf(selector: Partial<Record<keyof StreamIds, unknown>>): string | undefined {
  if (!isPlainObject(selector)) return undefined;
  if ('ssrc' in selector) return ssrcString(selector.ssrc);
  for (const kind of ['mid', 'trackId'] as const) if (isString(selector[kind])) return `${kind}:${selector[kind]}`;
  return undefined;
}

export class StreamMappings {
  private readonly byKey = new Map<string, StreamMapping>();

  /**
   * Adds or replaces a mapping. Returns false (and changes nothing) for a malformed selector or
   * a mapping without a userID.
   */
  set(selector: StreamSelector, mapping: StreamMapping): boolean {
    const key = keyOf(selector);
    if (!key || !isString(mapping?.userID)) return false;
    this.byKey.set(key, { ...mapping });
    return true;
  }

  /** Removes the mapping of exactly this selector, if any. Returns false for a malformed selector. */
  delete(selector: StreamSelector): boolean {
    const key = keyOf(selector);
    if (key) this.byKey.delete(key);
    return !!key;
  }

  clear(): void {
    this.byKey.clear();
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The mapping for a stream: by SSRC, else by mid, else by track id. */
  resolve({ ssrc, mid, trackId }: StreamIds): StreamMapping | undefined {
    const { byKey } = this;
    if (!byKey.size) return undefined;
    // Runs per stream per poll: the SSRC the processor passes is canonical and found as is, other
    // spellings ('042', ' 42') once normalized; the other keys are only built when needed.
    return (
      byKey.get(String(ssrc)) ??
      byKey.get(ssrcString(ssrc) ?? '') ??
      (isString(mid) ? byKey.get(`mid:${mid}`) : undefined) ??
      (isString(trackId) ? byKey.get(`trackId:${trackId}`) : undefined)
    );
  }
}
