/**
 * RTX and FEC SSRCs are part of their primary stream, not streams of their own. Chromium reports
 * them as `rtxSsrc` / `fecSsrc` on the primary entry; other stacks (and older versions) can report
 * them as RTP entries of their own, which the SDP's a=ssrc-group:FID / FEC-FR groups identify.
 * Such entries are dropped and their SSRC is listed in the primary's `associatedSsrcs`.
 */
import type { NormalizedRtpStream } from '../types';

/** `primaryOf(ssrc)` answers the primary SSRC for an RTX/FEC SSRC (from the SDP), else undefined. */
export function dropRtxAndFecStreams(
  streams: NormalizedRtpStream[],
  primaryOf: (ssrc: string) => string | undefined,
): NormalizedRtpStream[] {
  let secondary: Map<string, string> | undefined; // secondary ssrc -> primary ssrc
  for (const s of streams) {
    const primary = primaryOf(s.ssrc);
    if (primary !== undefined && primary !== s.ssrc) (secondary ??= new Map()).set(s.ssrc, primary);
  }
  if (!secondary) return streams;
  const kept: NormalizedRtpStream[] = [];
  for (const s of streams) if (!secondary.has(s.ssrc)) kept.push(s);
  return kept.map((s) => {
    let extra: string[] | undefined;
    for (const [sec, primary] of secondary) {
      if (primary === s.ssrc && !s.associatedSsrcs?.includes(sec)) (extra ??= []).push(sec);
    }
    return extra ? { ...s, associatedSsrcs: [...(s.associatedSsrcs ?? []), ...extra] } : s;
  });
}

/** Chromium's own grouping: `rtxSsrc` / `fecSsrc` on the primary RTP entry. */
export function associatedSsrcsFromEntry(rtx: unknown, fec: unknown): string[] | undefined {
  let out: string[] | undefined;
  for (const v of [rtx, fec]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) (out ??= []).push(String(v));
    else if (typeof v === 'string' && /^\d+$/.test(v)) (out ??= []).push(String(Number(v)));
  }
  return out;
}
