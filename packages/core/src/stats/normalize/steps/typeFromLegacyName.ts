/**
 * Browser difference: pre-standard type names. Firefox before 55 and legacy Edge named stats
 * `inboundrtp`, `outboundrtp`, `candidatepair`, `localcandidate`, `remotecandidate`.
 */
const LEGACY_TYPES: Readonly<Record<string, string>> = {
  inboundrtp: 'inbound-rtp',
  outboundrtp: 'outbound-rtp',
  candidatepair: 'candidate-pair',
  localcandidate: 'local-candidate',
  remotecandidate: 'remote-candidate',
};

export function typeFromLegacyName(type: string): string {
  return LEGACY_TYPES[type] ?? type;
}
