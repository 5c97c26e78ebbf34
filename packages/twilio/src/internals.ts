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
 * `id` is the `peerConnectionId` of the Room's public `getStats()` reports. Everything is checked
 * structurally before use; anything unexpected and the adapter falls back to the stats shim over
 * the public `room.getStats()` (./statsShim.ts).
 */
import type { MonitoredPeerConnection } from '@callmetry/core';
import type { RoomPeerConnection, TwilioRoomLike } from './types';

type Loose = { [key: string]: Loose } | undefined;

const isPc = (x: Loose): x is Loose & MonitoredPeerConnection =>
  typeof x?.getStats == 'function' && typeof x.addEventListener == 'function' && typeof x.signalingState == 'string';

/**
 * A function listing the Room's peer connections (read afresh each time: they come and go), each
 * the browser's RTCPeerConnection (twilio's wrapper when there is none underneath); undefined when
 * the internals are not as expected (every entry present now must have a peer connection).
 */
export function probeInternals(room: TwilioRoomLike): (() => RoomPeerConnection[]) | undefined {
  try {
    let ok = true;
    const manager = (room as unknown as Loose)!._signaling!._peerConnectionManager!;
    const list = (): RoomPeerConnection[] => {
      const out: RoomPeerConnection[] = [];
      (manager._peerConnections as unknown as Map<string, Loose> | undefined)?.forEach?.((pcv2, key) => {
        const wrapper = pcv2?._peerConnection;
        const pc = isPc(wrapper?._peerConnection) ? wrapper!._peerConnection : isPc(wrapper) ? wrapper : undefined;
        if (pc) out.push({ id: typeof pcv2!.id == 'string' ? (pcv2!.id as unknown as string) : key, pc });
        else ok = false;
      });
      return out;
    };
    return typeof manager._peerConnections!.forEach == 'function' && list() && ok ? list : undefined;
  } catch {
    return undefined;
  }
}
