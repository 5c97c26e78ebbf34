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
 * `id` is the `peerConnectionId` of the Room's public `getStats()` reports. Everything here is
 * checked structurally before use; anything unexpected answers `{ok: false, reason}` and the adapter
 * falls back to the stats shim over the public `room.getStats()` (./statsShim.ts).
 */
import type { MonitoredPeerConnection } from '@callmetry/core';
import type { RoomPeerConnection, TwilioRoomLike } from './types';

/** The twilio-video release the internals were read from and are tested against. */
export const TESTED_TWILIO_VIDEO_VERSION = '2.32.1';

export type VersionVerdict =
  | { usable: true; tested: boolean; version: string | undefined }
  | { usable: false; reason: string; version: string };

/**
 * Whether twilio-video `version` may be probed for internals: any 2.x (the layout above has been
 * stable across 2.x; only 2.32.x is tested). Unknown version: probe (the structure check decides).
 */
export function checkTwilioVersion(version: string | undefined): VersionVerdict {
  if (version === undefined || version === '') return { usable: true, tested: false, version: undefined };
  const match = /^(\d+)\.(\d+)\./.exec(version);
  if (!match) return { usable: false, reason: `unrecognised twilio-video version '${version}'`, version };
  if (match[1] !== '2') return { usable: false, reason: `twilio-video ${version} is not 2.x`, version };
  return { usable: true, tested: version.startsWith('2.32.'), version };
}

/** `Twilio.Video.version` of the script-tag build (twilio-video.min.js), if loaded. */
export function globalTwilioVersion(): string | undefined {
  try {
    const g = globalThis as { Twilio?: { Video?: { version?: unknown } } };
    const v = g.Twilio?.Video?.version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function isPeerConnectionLike(x: unknown): x is MonitoredPeerConnection {
  if (!x || typeof x !== 'object') return false;
  const p = x as Record<string, unknown>;
  return (
    typeof p.getStats === 'function' &&
    typeof p.addEventListener === 'function' &&
    typeof p.removeEventListener === 'function' &&
    typeof p.signalingState === 'string' &&
    typeof p.iceConnectionState === 'string'
  );
}

interface PeerConnectionMapLike {
  forEach(callback: (value: unknown, key: unknown) => void): void;
}

function isMapLike(x: unknown): x is PeerConnectionMapLike {
  return !!x && typeof x === 'object' && typeof (x as { forEach?: unknown }).forEach === 'function';
}

/** Reads a property without letting a throwing getter escape. */
function read(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

export type InternalsProbe = { ok: true; list: () => RoomPeerConnection[] } | { ok: false; reason: string };

/**
 * Finds the Room's peer-connection map. `list()` reads it afresh each time (peer connections come
 * and go) and returns the browser's RTCPeerConnection of each entry (twilio's wrapper when there is
 * no native one underneath).
 */
export function probeInternals(room: TwilioRoomLike): InternalsProbe {
  const signaling = read(room, '_signaling');
  if (!signaling || typeof signaling !== 'object') return { ok: false, reason: 'room._signaling is missing' };
  const manager = read(signaling, '_peerConnectionManager');
  if (!manager || typeof manager !== 'object') return { ok: false, reason: 'room._signaling._peerConnectionManager is missing' };
  const map = read(manager, '_peerConnections');
  if (!isMapLike(map)) return { ok: false, reason: 'room._signaling._peerConnectionManager._peerConnections is not a Map' };

  const list = (): RoomPeerConnection[] => {
    const out: RoomPeerConnection[] = [];
    const current = read(manager, '_peerConnections');
    if (!isMapLike(current)) return out;
    current.forEach((pcv2, key) => {
      const id = read(pcv2, 'id');
      const wrapper = read(pcv2, '_peerConnection');
      const native = read(wrapper, '_peerConnection');
      const pc = isPeerConnectionLike(native) ? native : isPeerConnectionLike(wrapper) ? wrapper : undefined;
      const pcId = typeof id === 'string' ? id : typeof key === 'string' ? key : undefined;
      if (pc && pcId) out.push({ id: pcId, pc });
    });
    return out;
  };

  // Every entry present now must have the expected shape; an empty map is fine (P2P room alone).
  let malformed = 0;
  map.forEach((pcv2) => {
    const wrapper = read(pcv2, '_peerConnection');
    if (!isPeerConnectionLike(wrapper) && !isPeerConnectionLike(read(wrapper, '_peerConnection'))) malformed++;
  });
  if (malformed > 0) return { ok: false, reason: `${malformed} entr${malformed === 1 ? 'y' : 'ies'} of _peerConnections without an RTCPeerConnection` };
  return { ok: true, list };
}
