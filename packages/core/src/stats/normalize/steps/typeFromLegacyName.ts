/**
 * Browser difference: pre-standard type names. Firefox before 55 and legacy Edge named stats
 * `inboundrtp`, `outboundrtp`, `candidatepair`, `localcandidate`, `remotecandidate`.
 */
const LEGACY = /^(inbound|outbound|candidate|local|remote)(rtp|pair|candidate)$/;

export const typeFromLegacyName = (type: string): string =>
  // Spec names have a hyphen (most entries, every poll): no regex for them.
  !type.includes('-') && LEGACY.test(type) ? type.replace(LEGACY, '$1-$2') : type;
