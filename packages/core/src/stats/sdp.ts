/**
 * The SDP facts the stats engine needs: for every SSRC its m-section (media type, mid), cname and
 * msid, and how SSRCs are grouped (RTX and FEC with their primary stream, simulcast layers).
 *
 * Handles Unified Plan (one m-section per transceiver: a=mid, media-level a=msid, a=ssrc lines),
 * Plan B / legacy (per-SSRC `a=ssrc:N msid:` lines), `a=ssrc-group:FID|FEC-FR|FEC|SIM`, and
 * rid-based simulcast (`a=rid`, `a=simulcast`), which names layers without SSRCs.
 *
 * Parsing is cached by SDP string (bounded): parsing the same SDP again returns the same object.
 */

export type SsrcRole = 'primary' | 'rtx' | 'fec';

export interface SdpSsrcInfo {
  ssrc: string;
  /** The m-line's media: 'audio', 'video' (or 'application'...). */
  mediaType: string;
  mid?: string;
  cname?: string;
  /** `<stream id> <track id>` as in the SDP. */
  msid?: string;
  streamId?: string;
  trackId?: string;
  role: SsrcRole;
  /** RTX/FEC SSRCs: the SSRC they repair. */
  primarySsrc?: string;
  /** Primary SSRCs: the RTX/FEC SSRCs grouped with it (FID, FEC-FR, FEC groups). */
  associatedSsrcs: string[];
  /** Simulcast layers (a=ssrc-group:SIM): every layer's primary SSRC, lowest first. */
  simulcastSsrcs?: string[];
}

export interface SdpRid {
  id: string;
  direction: 'send' | 'recv';
}

export interface SdpMediaSection {
  index: number;
  mediaType: string;
  mid?: string;
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Media-level a=msid (Unified Plan). */
  msid?: string;
  streamId?: string;
  trackId?: string;
  /** SSRCs of a=ssrc lines, in order of appearance. */
  ssrcs: string[];
  ssrcGroups: Array<{ semantics: string; ssrcs: string[] }>;
  rids: SdpRid[];
  /** a=simulcast: rid ids per direction (alternatives flattened, `~` paused marker removed). */
  simulcast?: { send?: string[]; recv?: string[] };
}

export interface SdpInfo {
  media: SdpMediaSection[];
  ssrcs: ReadonlyMap<string, SdpSsrcInfo>;
  /** RTX/FEC SSRC -> the primary SSRC it belongs to. */
  secondaryToPrimary: ReadonlyMap<string, string>;
  /** m-sections by mid. */
  sectionsByMid: ReadonlyMap<string, SdpMediaSection>;
}

const EMPTY: SdpInfo = Object.freeze({
  media: [],
  ssrcs: new Map(),
  secondaryToPrimary: new Map(),
  sectionsByMid: new Map(),
});
const CACHE_SIZE = 32;
const cache = new Map<string, SdpInfo>();

/** Parses an SDP (cached: the same string gives the same object). Never throws. */
export function parseSdp(sdp: string | undefined | null): SdpInfo {
  if (!sdp) return EMPTY;
  const hit = cache.get(sdp);
  if (hit) {
    // refresh LRU position
    cache.delete(sdp);
    cache.set(sdp, hit);
    return hit;
  }
  let info: SdpInfo;
  try {
    info = parseSdpUncached(sdp);
  } catch {
    info = EMPTY;
  }
  cache.set(sdp, info);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return info;
}

/** Number of cached parses (for tests). */
export function sdpCacheSize(): number {
  return cache.size;
}

const SECONDARY_SEMANTICS: Record<string, SsrcRole> = { FID: 'rtx', 'FEC-FR': 'fec', FEC: 'fec' };
const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function splitMsid(value: string): { msid: string; streamId?: string; trackId?: string } {
  const [streamId, trackId] = value.trim().split(/\s+/);
  return {
    msid: value.trim(),
    ...(streamId && streamId !== '-' ? { streamId } : {}),
    ...(trackId ? { trackId } : {}),
  };
}

/** Parses without the cache. */
export function parseSdpUncached(sdp: string): SdpInfo {
  const media: SdpMediaSection[] = [];
  const ssrcs = new Map<string, SdpSsrcInfo>();
  let section: SdpMediaSection | undefined;
  /** Per-ssrc attributes seen in the current section (Plan B msid / cname). */
  const attrs = new Map<string, { cname?: string; msid?: string }>();

  const flush = (): void => {
    if (!section) return;
    for (const ssrc of section.ssrcs) {
      const a = attrs.get(ssrc);
      const msidSource = a?.msid ?? section.msid;
      const msid = msidSource ? splitMsid(msidSource) : undefined;
      ssrcs.set(ssrc, {
        ssrc,
        mediaType: section.mediaType,
        ...(section.mid !== undefined ? { mid: section.mid } : {}),
        ...(a?.cname !== undefined ? { cname: a.cname } : {}),
        ...(msid ?? {}),
        role: 'primary',
        associatedSsrcs: [],
      });
    }
    attrs.clear();
  };

  for (const rawLine of sdp.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith('m=')) {
      flush();
      const mediaType = line.slice(2).split(' ', 1)[0] ?? '';
      section = { index: media.length, mediaType, ssrcs: [], ssrcGroups: [], rids: [] };
      media.push(section);
      continue;
    }
    if (!section || !line.startsWith('a=')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line.slice(2) : line.slice(2, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (name) {
      case 'mid':
        section.mid = value.trim();
        break;
      case 'msid': {
        const m = splitMsid(value);
        section.msid = m.msid;
        if (m.streamId) section.streamId = m.streamId;
        if (m.trackId) section.trackId = m.trackId;
        break;
      }
      case 'ssrc': {
        const space = value.indexOf(' ');
        const ssrc = space < 0 ? value.trim() : value.slice(0, space);
        if (!/^\d+$/.test(ssrc)) break;
        if (!section.ssrcs.includes(ssrc)) section.ssrcs.push(ssrc);
        if (space < 0) break;
        const attr = value.slice(space + 1);
        const c = attr.indexOf(':');
        const key = c < 0 ? attr : attr.slice(0, c);
        const val = c < 0 ? '' : attr.slice(c + 1);
        const a = attrs.get(ssrc) ?? {};
        if (key === 'cname') a.cname = val.trim();
        else if (key === 'msid') a.msid = val.trim();
        attrs.set(ssrc, a);
        break;
      }
      case 'ssrc-group': {
        const [semantics, ...members] = value.trim().split(/\s+/);
        if (semantics && members.length) section.ssrcGroups.push({ semantics, ssrcs: members });
        break;
      }
      case 'rid': {
        const [id, dir] = value.trim().split(/\s+/);
        if (id && (dir === 'send' || dir === 'recv')) section.rids.push({ id, direction: dir });
        break;
      }
      case 'simulcast': {
        // a=simulcast:send q;h;f recv a,b  ("~" marks a paused stream; "," separates alternatives)
        const parts = value.trim().split(/\s+/);
        const sim: { send?: string[]; recv?: string[] } = {};
        for (let i = 0; i + 1 < parts.length; i += 2) {
          const dir = parts[i];
          const list = (parts[i + 1] ?? '').split(/[;,]/).map((r) => r.replace(/^~/, '')).filter(Boolean);
          if (dir === 'send' || dir === 'recv') sim[dir] = list;
        }
        section.simulcast = sim;
        break;
      }
      default:
        if (DIRECTIONS.has(name)) section.direction = name as SdpMediaSection['direction'];
    }
  }
  flush();

  // Groups: RTX / FEC SSRCs join their primary; SIM groups list the layers.
  const secondaryToPrimary = new Map<string, string>();
  for (const m of media) {
    for (const group of m.ssrcGroups) {
      const role = SECONDARY_SEMANTICS[group.semantics];
      if (role) {
        const [primary, ...secondaries] = group.ssrcs;
        const p = primary ? ssrcs.get(primary) : undefined;
        if (!primary || !p) continue;
        for (const s of secondaries) {
          const info = ssrcs.get(s);
          if (info) {
            info.role = role;
            info.primarySsrc = primary;
          }
          secondaryToPrimary.set(s, primary);
          if (!p.associatedSsrcs.includes(s)) p.associatedSsrcs.push(s);
        }
      } else if (group.semantics === 'SIM') {
        for (const s of group.ssrcs) {
          const info = ssrcs.get(s);
          if (info) info.simulcastSsrcs = group.ssrcs;
        }
      }
    }
  }
  const sectionsByMid = new Map<string, SdpMediaSection>();
  for (const m of media) if (m.mid !== undefined && !sectionsByMid.has(m.mid)) sectionsByMid.set(m.mid, m);
  return { media, ssrcs, secondaryToPrimary, sectionsByMid };
}

/**
 * The mid of the only m-section of this media type, if there is exactly one (Safari reports no
 * `mid` in its stats; with one audio and one video section the SDP alone tells).
 */
export function midOfOnlySection(info: SdpInfo, mediaType: string): string | undefined {
  let found: string | undefined;
  let count = 0;
  for (const m of info.media) {
    if (m.mediaType !== mediaType) continue;
    count++;
    found = m.mid;
  }
  return count === 1 ? found : undefined;
}

