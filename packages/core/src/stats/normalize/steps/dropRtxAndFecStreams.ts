/**
 * RTX and FEC SSRCs are part of their primary stream, not streams of their own. Chromium reports
 * them as `rtxSsrc` / `fecSsrc` on the primary entry; other stacks (and older versions) can report
 * them as RTP entries of their own, which the SDP's a=ssrc-group:FID / FEC-FR groups identify.
 * Such entries are dropped and their SSRC is listed in the primary's `associatedSsrcs`.
 */
import { ssrcString } from '../fields';
import type { NormalizedRtpStream } from '../types';

/** `primaryOf(ssrc)` answers the primary SSRC for an RTX/FEC SSRC (from the SDP), else undefined. */
export function dropRtxAndFecStreams(
  streams: NormalizedRtpStream[],
  primaryOf: (ssrc: string) => string | undefined,
): NormalizedRtpStream[] {
  const secondary = streams.filter((s) => (primaryOf(s.ssrc) ?? s.ssrc) != s.ssrc);
  if (!secondary.length) return streams;
  return streams
    .filter((s) => !secondary.includes(s))
    .map((s) => {
      const extra = secondary.filter((x) => primaryOf(x.ssrc) == s.ssrc && !s.associatedSsrcs?.includes(x.ssrc)).map((x) => x.ssrc);
      return extra.length ? { ...s, associatedSsrcs: [...(s.associatedSsrcs ?? []), ...extra] } : s;
    });
}

/** Chromium's own grouping: `rtxSsrc` / `fecSsrc` on the primary RTP entry. */
export function associatedSsrcsFromEntry(rtx: unknown, fec: unknown): string[] | undefined {
  if (rtx === undefined && fec === undefined) return undefined;
  const out = [rtx, fec].map(ssrcString).filter((s): s is string => s !== undefined);
  return out.length ? out : undefined;
}
