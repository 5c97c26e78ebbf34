/**
 * Browser difference: before the spec's `remote-inbound-rtp` / `remote-outbound-rtp` types, Firefox
 * (and legacy Edge) reported what the remote side said in RTCP as `inbound-rtp` / `outbound-rtp`
 * entries flagged `isRemote: true`. An `inbound-rtp` with isRemote is the remote receiver's report
 * about our outbound stream (remote-inbound-rtp), and vice versa.
 */
export const remoteTypeFromIsRemote = (type: string, isRemote: unknown): string =>
  isRemote === true && (type == 'inbound-rtp' || type == 'outbound-rtp') ? `remote-${type}` : type;
