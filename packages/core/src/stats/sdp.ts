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

const CACHE_SIZE = 32;
const cache = new Map<string, SdpInfo>();

/** Parses an SDP (cached, LRU: the same string gives the same object). Never throws. */
export function parseSdp(sdp: string | undefined | null): SdpInfo {
  if (!sdp) return EMPTY;
  let info = cache.get(sdp);
  cache.delete(sdp);
  if (!info) {
    try {
      info = parseSdpUncached(sdp);
    } catch {
      info = EMPTY;
    }
  }
  cache.set(sdp, info);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return info;
}

/** Number of cached parses (for tests). */
export const sdpCacheSize = (): number => cache.size;

const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

const splitMsid = (value: string): { msid: string; streamId?: string; trackId?: string } => {
  const msid = value.trim();
  const [streamId, trackId] = msid.split(/\s+/);
  return { msid, streamId: streamId != '-' ? streamId : undefined, trackId };
};

/** Parses without the cache. */
export function parseSdpUncached(sdp: string): SdpInfo {
  const media: SdpMediaSection[] = [];
  const ssrcs = new Map<string, SdpSsrcInfo>();
  const secondaryToPrimary = new Map<string, string>();
  const sectionsByMid = new Map<string, SdpMediaSection>();
  /**
   * Per section, its SSRCs in order of appearance with their own cname and msid (Plan B): a lookup,
   * not a scan, as SDPs can have 10^5 a=ssrc lines.
   */
  const attrs: Array<Map<string, { cname?: string; msid?: string }>> = [];
  let section: SdpMediaSection | undefined;

  for (const line of sdp.split(/\r?\n/)) {
    // m=<media> <port> ... | a=<name>[:<value>]
    const [, type, name = '', value = ''] = /^([am])=([^:]*):?(.*)/.exec(line) ?? [];
    if (type == 'm') {
      attrs.push(new Map());
      media.push((section = { index: media.length, mediaType: name.split(' ')[0]!, ssrcs: [], ssrcGroups: [], rids: [] }));
      continue;
    }
    if (!section) continue;
    const words = value.trim().split(/\s+/);
    const [first = '', second] = words;
    if (name == 'mid') section.mid = first;
    else if (name == 'msid') Object.assign(section, splitMsid(value));
    else if (name == 'ssrc') {
      // a=ssrc:<ssrc> [cname:<cname> | msid:<stream> <track> | ...]
      const [, ssrc, key, val = ''] = /^(\d+)(?:\s+([^:\s]+):?(.*))?$/.exec(value.trim()) ?? [];
      if (!ssrc) continue;
      const bySsrc = attrs[section.index]!;
      let a = bySsrc.get(ssrc);
      if (!a) {
        section.ssrcs.push(ssrc);
        bySsrc.set(ssrc, (a = {}));
      }
      if (key == 'cname' || key == 'msid') a[key] = val.trim();
    } else if (name == 'ssrc-group') {
      if (first && second) section.ssrcGroups.push({ semantics: first, ssrcs: words.slice(1) });
    } else if (name == 'rid') {
      if (first && (second == 'send' || second == 'recv')) section.rids.push({ id: first, direction: second });
    } else if (name == 'simulcast') {
      // a=simulcast:send q;h;f recv a,b  ("~" marks a paused stream; "," separates alternatives)
      const sim: { send?: string[]; recv?: string[] } = {};
      for (let i = 0; i + 1 < words.length; i += 2) {
        const dir = words[i];
        if (dir == 'send' || dir == 'recv') sim[dir] = words[i + 1]!.split(/[;,]/).map((r) => r.replace(/^~/, '')).filter(Boolean);
      }
      section.simulcast = sim;
    } else if (DIRECTIONS.includes(name)) section.direction = name as SdpMediaSection['direction'];
  }

  for (const m of media) {
    // In section order: an SSRC listed again in a later section gets that section's facts.
    for (const [ssrc, a] of attrs[m.index]!) {
      const msid = a.msid ?? m.msid;
      ssrcs.set(ssrc, { ssrc, mediaType: m.mediaType, mid: m.mid, cname: a.cname, ...(msid ? splitMsid(msid) : {}), role: 'primary', associatedSsrcs: [] });
    }
    if (m.mid !== undefined && !sectionsByMid.has(m.mid)) sectionsByMid.set(m.mid, m);
  }
  // Groups: RTX / FEC SSRCs join their primary; SIM groups list the layers.
  /** `<primary> <secondary>` pairs already listed (a group line can name 10^5 SSRCs). */
  const associated = new Set<string>();
  for (const m of media) {
    for (const { semantics, ssrcs: group } of m.ssrcGroups) {
      const role: SsrcRole | undefined = semantics == 'FID' ? 'rtx' : semantics == 'FEC' || semantics == 'FEC-FR' ? 'fec' : undefined;
      const [primarySsrc = '', ...secondaries] = group;
      const primary = ssrcs.get(primarySsrc);
      if (role && primary) {
        for (const s of secondaries) {
          const info = ssrcs.get(s);
          if (info) Object.assign(info, { role, primarySsrc });
          secondaryToPrimary.set(s, primarySsrc);
          const pair = `${primarySsrc} ${s}`;
          if (!associated.has(pair)) {
            associated.add(pair);
            primary.associatedSsrcs.push(s);
          }
        }
      } else if (semantics == 'SIM') {
        for (const s of group) {
          const info = ssrcs.get(s);
          if (info) info.simulcastSsrcs = group;
        }
      }
    }
  }
  return { media, ssrcs, secondaryToPrimary, sectionsByMid };
}

const EMPTY: SdpInfo = Object.freeze(parseSdpUncached(''));

/**
 * The mid of the only m-section of this media type, if there is exactly one (Safari reports no
 * `mid` in its stats; with one audio and one video section the SDP alone tells).
 */
export function midOfOnlySection(info: SdpInfo, mediaType: string): string | undefined {
  const sections = info.media.filter((m) => m.mediaType == mediaType);
  return sections.length == 1 ? sections[0]!.mid : undefined;
}
