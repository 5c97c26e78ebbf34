/** The little SDP reading the adapter needs: is a remote (re-)offer putting us on hold? */

const DIRECTION = /^a=(sendrecv|sendonly|recvonly|inactive)/m;

/**
 * A remote offer puts us on hold when every active (port not 0) audio/video section is sendonly
 * or inactive (RFC 3264 section 8.4; SIP.js offers sendonly, or inactive when it only received).
 * A section without a direction takes the session-level one, else sendrecv.
 */
export function isHoldOffer(sdp: string): boolean {
  const [session = '', ...sections] = `${sdp}`.split(/\r?\nm=/);
  const dirs = sections.filter((m) => /^(audio|video) [1-9]/.test(m)).map((m) => (DIRECTION.exec(m) ?? DIRECTION.exec(session))?.[1]);
  return dirs.length > 0 && dirs.every((d) => d == 'sendonly' || d == 'inactive');
}
