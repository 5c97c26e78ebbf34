/**
 * Linking what the remote side reported (remote-inbound-rtp for our outbound streams,
 * remote-outbound-rtp for our inbound streams) to the local RTP entry.
 *
 * - Spec / Chromium / Safari / Firefox 66+: the remote entry's `localId` names the local entry.
 * - Firefox (isRemote era) and Chromium: the local entry's `remoteId` names the remote entry.
 * - Otherwise: the remote entry with the same SSRC (and kind, when both tell).
 */
import type { StatsEntry } from '../../../types';
import { linked, ssrcOf, str } from '../fields';
import { kindFromMediaType } from './kindFromMediaType';

/** remote entries by the id of the local entry they describe (`localId`). */
export function remoteInboundFromLocalId(remotes: readonly StatsEntry[]): Map<string, StatsEntry> {
  const byLocalId = new Map<string, StatsEntry>();
  for (const r of remotes) {
    const localId = str(r, 'localId');
    if (localId) byLocalId.set(localId, r);
  }
  return byLocalId;
}

export const remoteFromRemoteId = (
  rtp: StatsEntry,
  byId: ReadonlyMap<string, StatsEntry>,
  remoteType: 'remote-inbound-rtp' | 'remote-outbound-rtp',
): StatsEntry | undefined => linked(rtp, byId, remoteType, 'remoteId');

export function remoteFromSsrc(rtp: StatsEntry, remotes: readonly StatsEntry[]): StatsEntry | undefined {
  const ssrc = ssrcOf(rtp);
  const kind = kindFromMediaType(rtp);
  return ssrc === undefined
    ? undefined
    : remotes.find((r) => {
        const rk = kindFromMediaType(r);
        return ssrcOf(r) == ssrc && !(kind && rk && kind != rk);
      });
}
