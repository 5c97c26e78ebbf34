/**
 * A MonitoredPeerConnection made only of a mediasoup-client Transport's public API, for when the
 * transport's own RTCPeerConnection cannot be used (custom handlers, unknown versions, or
 * `peerConnection: 'public'`):
 * - getStats() is `transport.getStats()` (the handler returns its RTCPeerConnection's report);
 * - connectionState is `transport.connectionState` ('closed' once the transport is closed);
 *   iceConnectionState is derived from it; iceGatheringState is the transport's;
 * - state events come from the transport's 'connectionstatechange' / 'icegatheringstatechange';
 * - no SDP is available (localDescription/remoteDescription are null), so core sees no
 *   ICE restarts; streams are attributed by SSRC and mid from the RTP parameters instead.
 * One shim per transport, shared by every monitor.
 */
import type { MonitoredPeerConnection, StatsReportLike } from '@callmetry/core';
import type { MediasoupListener, TransportLike } from './types';

const shims = new WeakMap<TransportLike, MonitoredPeerConnection>();

const ICE_STATE: Record<string, string> = {
  new: 'new',
  connecting: 'checking',
  connected: 'connected',
  disconnected: 'disconnected',
  failed: 'failed',
  closed: 'closed',
};

/** Which transport event feeds which RTCPeerConnection event. */
function sourceEvent(type: string): 'connectionstatechange' | 'icegatheringstatechange' | undefined {
  if (type === 'connectionstatechange' || type === 'iceconnectionstatechange') return 'connectionstatechange';
  if (type === 'icegatheringstatechange') return 'icegatheringstatechange';
  return undefined;
}

export function transportShim(transport: TransportLike): MonitoredPeerConnection {
  let shim = shims.get(transport);
  if (shim) return shim;
  const wrappers = new Map<string, Map<(event: unknown) => void, MediasoupListener>>();
  const connectionState = (): string => (transport.closed ? 'closed' : String(transport.connectionState));
  shim = {
    get connectionState() {
      return connectionState();
    },
    get iceConnectionState() {
      return ICE_STATE[connectionState()] ?? 'new';
    },
    get iceGatheringState() {
      return String(transport.iceGatheringState);
    },
    get signalingState() {
      return transport.closed ? 'closed' : 'stable';
    },
    localDescription: null,
    remoteDescription: null,
    getStats(): Promise<StatsReportLike> {
      return transport.getStats();
    },
    addEventListener(type: string, listener: (event: unknown) => void): void {
      const source = sourceEvent(type);
      if (!source || typeof listener !== 'function') return;
      let byListener = wrappers.get(type);
      if (!byListener) wrappers.set(type, (byListener = new Map()));
      if (byListener.has(listener)) return;
      const wrapper = (): void => listener({ type });
      byListener.set(listener, wrapper);
      transport.on(source, wrapper);
    },
    removeEventListener(type: string, listener: (event: unknown) => void): void {
      const source = sourceEvent(type);
      const wrapper = wrappers.get(type)?.get(listener);
      if (!source || !wrapper) return;
      wrappers.get(type)?.delete(listener);
      transport.off(source, wrapper);
    },
  };
  shims.set(transport, shim);
  return shim;
}
