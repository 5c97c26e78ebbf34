/**
 * Which user a stream belongs to. The app (or an adapter) attributes streams by SSRC, by
 * transceiver mid, or by track id; a more specific selector wins: SSRC beats mid beats track id.
 * Mappings also apply to streams that appear later. Without a mapping the processor uses the
 * default: outbound streams belong to the local user, inbound ones to the fabric's remote user.
 */
import type { StreamMapping, StreamSelector } from '../types';

export interface StreamIds {
  ssrc: string | number;
  mid?: string;
  trackId?: string;
}

export class StreamMappings {
  private readonly bySsrc = new Map<string, StreamMapping>();
  private readonly byMid = new Map<string, StreamMapping>();
  private readonly byTrackId = new Map<string, StreamMapping>();

  /**
   * Adds or replaces a mapping. Returns false (and changes nothing) for a malformed selector or
   * a mapping without a userID.
   */
  set(selector: StreamSelector, mapping: StreamMapping): boolean {
    if (!selector || typeof selector !== 'object' || !mapping || typeof mapping.userID !== 'string') return false;
    const stored: StreamMapping = { ...mapping };
    if ('ssrc' in selector) {
      const key = normalizeSsrc(selector.ssrc);
      if (key === undefined) return false;
      this.bySsrc.set(key, stored);
      return true;
    }
    if ('mid' in selector && typeof selector.mid === 'string') {
      this.byMid.set(selector.mid, stored);
      return true;
    }
    if ('trackId' in selector && typeof selector.trackId === 'string') {
      this.byTrackId.set(selector.trackId, stored);
      return true;
    }
    return false;
  }

  /** Removes the mapping of exactly this selector. */
  delete(selector: StreamSelector): boolean {
    if ('ssrc' in selector) {
      const key = normalizeSsrc(selector.ssrc);
      return key !== undefined && this.bySsrc.delete(key);
    }
    if ('mid' in selector) return this.byMid.delete(selector.mid);
    if ('trackId' in selector) return this.byTrackId.delete(selector.trackId);
    return false;
  }

  clear(): void {
    this.bySsrc.clear();
    this.byMid.clear();
    this.byTrackId.clear();
  }

  get size(): number {
    return this.bySsrc.size + this.byMid.size + this.byTrackId.size;
  }

  /** The mapping for a stream: by SSRC, else by mid, else by track id. */
  resolve(ids: StreamIds): StreamMapping | undefined {
    if (this.bySsrc.size) {
      const key = normalizeSsrc(ids.ssrc);
      const m = key === undefined ? undefined : this.bySsrc.get(key);
      if (m) return m;
    }
    if (ids.mid !== undefined && this.byMid.size) {
      const m = this.byMid.get(ids.mid);
      if (m) return m;
    }
    if (ids.trackId !== undefined && this.byTrackId.size) return this.byTrackId.get(ids.trackId);
    return undefined;
  }
}

/** SSRCs are unsigned 32-bit integers; stats give numbers, SDP and apps give strings. */
function normalizeSsrc(ssrc: unknown): string | undefined {
  if (typeof ssrc === 'number') return Number.isInteger(ssrc) && ssrc >= 0 ? String(ssrc) : undefined;
  if (typeof ssrc === 'string') {
    const t = ssrc.trim();
    return /^\d+$/.test(t) ? String(Number(t)) : undefined;
  }
  return undefined;
}
