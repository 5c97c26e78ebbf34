/**
 * THE ONLY MODULE THAT TOUCHES twilio-video's PRIVATE INTERNALS.
 *
 * twilio-video does not expose a Room's RTCPeerConnections. In 2.x (read in 2.32.1's source,
 * lib/room.js, lib/signaling/v2/room.js, peerconnectionmanager.js, peerconnection.js and
 * lib/webrtc/rtcpeerconnection/{chrome,firefox,safari}.js) they are reached as:
 *
 *   room._signaling                          RoomV2 (the Room's signaling)
 *     ._peerConnectionManager                PeerConnectionManager
 *       ._peerConnections                    Map<id, PeerConnectionV2>
 *         .get(id)._peerConnection           twilio's RTCPeerConnection wrapper (Chrome/Firefox/Safari shim)
 *           ._peerConnection                 the browser's RTCPeerConnection (used when present)
 *
 * `id` is the `peerConnectionId` of the Room's public `getStats()` reports. The version is checked
 * first (any 2.x), then everything structurally before use; anything unexpected and the adapter
 * falls back to the stats shim over the public `room.getStats()` (./statsShim.ts).
 */
import type { Logger, MonitoredPeerConnection } from '@callmetry/core';
import type { TwilioRoomLike } from './types';

type Loose = { [key: string]: Loose } | undefined;

const isPc = (x: Loose): x is Loose & MonitoredPeerConnection =>
  typeof x?.getStats == 'function' && typeof x.addEventListener == 'function' && typeof x.signalingState == 'string';

/**
 * A function listing the Room's peer connections by id (read afresh each time: they come and go),
 * each the browser's RTCPeerConnection (twilio's wrapper when there is none underneath); undefined
 * when `version` (when known) is not 2.x or the internals are not as expected (every entry present
 * now must have a peer connection). Any 2.x is probed; versions other than 2.32.x are logged as untested.
 */
export function probeInternals(room: TwilioRoomLike, version: string | undefined, logger: Logger): (() => Map<string, MonitoredPeerConnection>) | undefined {
  if (version && !/^2\.\d+\./.test(version)) return;
  if (version && !version.startsWith('2.32.')) logger.info(`twilio: untested twilio-video ${version}`);
  try {
    const peerConnections = (room as unknown as Loose)!._signaling!._peerConnectionManager!._peerConnections as unknown as Map<string, Loose>;
    const list = (): Map<string, MonitoredPeerConnection> => {
      const out = new Map<string, MonitoredPeerConnection>();
      peerConnections.forEach((pcv2, id) => {
        const wrapper = pcv2?._peerConnection;
        const pc = isPc(wrapper?._peerConnection) ? wrapper!._peerConnection : wrapper;
        if (isPc(pc)) out.set(id, pc);
      });
      return out;
    };
    return list().size == peerConnections.size ? list : undefined;
  } catch {
    return undefined;
  }
}
