/** The little SDP reading the adapter needs: is a remote (re-)offer putting us on hold? */

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTION = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m;

/**
 * The direction of every audio/video m= section that is not disabled (port 0), with the
 * session-level attribute as the default and sendrecv when neither is given.
 */
export function mediaDirections(sdp: string): SdpDirection[] {
  if (typeof sdp !== 'string') return [];
  const parts = sdp.split(/\r?\n(?=m=)/);
  const sessionLevel = (DIRECTION.exec(parts[0] ?? '')?.[1] as SdpDirection | undefined) ?? 'sendrecv';
  const out: SdpDirection[] = [];
  for (const section of parts.slice(1)) {
    const m = /^m=(\w+) (\d+)/.exec(section);
    if (!m || (m[1] !== 'audio' && m[1] !== 'video') || m[2] === '0') continue;
    out.push((DIRECTION.exec(section)?.[1] as SdpDirection | undefined) ?? sessionLevel);
  }
  return out;
}

/**
 * A remote offer puts us on hold when every active audio/video section is sendonly or inactive
 * (RFC 3264 section 8.4; SIP.js offers sendonly, or inactive when it only received).
 */
export function isHoldOffer(sdp: string): boolean {
  const dirs = mediaDirections(sdp);
  return dirs.length > 0 && dirs.every((d) => d === 'sendonly' || d === 'inactive');
}
