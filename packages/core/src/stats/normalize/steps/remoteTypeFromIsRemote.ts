/**
 * Browser difference: before the spec's `remote-inbound-rtp` / `remote-outbound-rtp` types, Firefox
 * (and legacy Edge) reported what the remote side said in RTCP as `inbound-rtp` / `outbound-rtp`
 * entries flagged `isRemote: true`. An `inbound-rtp` with isRemote is the remote receiver's report
 * about our outbound stream (remote-inbound-rtp), and vice versa.
 */
export function remoteTypeFromIsRemote(type: string, isRemote: unknown): string {
  if (isRemote !== true) return type;
  if (type === 'inbound-rtp') return 'remote-inbound-rtp';
  if (type === 'outbound-rtp') return 'remote-outbound-rtp';
  return type;
}
