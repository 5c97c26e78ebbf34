/**
 * Which RTCPeerConnection core monitors for a mediasoup-client transport.
 *
 * THE ONLY MODULE THAT TOUCHES mediasoup-client INTERNALS. mediasoup-client 3.x has no public
 * getter for a transport's RTCPeerConnection: the public `transport.handler` (HandlerInterface)
 * of the built-in browser handlers keeps it in the TypeScript-private field `_pc`. Using it gives
 * core the real thing (SDP, ICE/DTLS states, transceivers, ICE-restart detection), so the adapter
 * uses it only when all of these hold, and otherwise falls back to a stand-in made of the
 * transport's public API (`shim` below):
 * - the `peerConnection` option is not 'public' (default 'auto');
 * - the handler is one of the built-in handlers whose `_pc` was checked (mediasoup-client 3.18.7:
 *   Chrome111, Chrome74, Firefox120, Safari12, ReactNative106) — the handler name is mediasoup's
 *   own version marker: handlers are renamed when their implementation changes;
 * - `_pc` looks like an RTCPeerConnection (getStats, add/removeEventListener, getTransceivers)
 *   and is not closed.
 */
import type { MonitoredPeerConnection } from '@callmetry/core';
import type { TransportLike } from './types';

/**
 * Built-in handlers of mediasoup-client 3.x whose RTCPeerConnection lives in `_pc` (checked on
 * 3.18.7). In them a consumer's `localId` is also its transceiver's mid; FakeHandler and custom
 * handlers use other ids.
 */
export const BUILT_IN_HANDLER = /^(Chrome111|Chrome74|Firefox120|Safari12|ReactNative106)$/;

export interface PeerConnectionChoice {
  pc: MonitoredPeerConnection;
  /** 'handler': the handler's own RTCPeerConnection; 'public': the public-API stand-in. */
  source: 'handler' | 'public';
  /** The handler's name when known (e.g. 'Chrome111', 'FakeHandler'). */
  handlerName: string | undefined;
}

export function peerConnectionFor(transport: TransportLike, mode?: 'auto' | 'public'): PeerConnectionChoice {
  // `handler` is a public getter of Transport (3.x); `name` is public on HandlerInterface.
  const handler = (transport as { handler?: { name?: unknown; _pc?: Record<string, unknown> } }).handler;
  const handlerName = typeof handler?.name == 'string' ? handler.name : undefined;
  const pc = handler?._pc;
  return mode != 'public' &&
    BUILT_IN_HANDLER.test(handlerName!) &&
    pc &&
    ['getStats', 'addEventListener', 'removeEventListener', 'getTransceivers'].every((m) => typeof pc[m] == 'function') &&
    pc.signalingState != 'closed'
    ? { pc: pc as unknown as MonitoredPeerConnection, source: 'handler', handlerName }
    : { pc: shim(transport), source: 'public', handlerName };
}

/**
 * A MonitoredPeerConnection made only of the transport's public API:
 * - getStats() is `transport.getStats()` (the handler returns its RTCPeerConnection's report);
 * - connectionState is `transport.connectionState` ('closed' once the transport is closed);
 *   iceConnectionState is derived from it ('connecting' is ICE's 'checking'); iceGatheringState
 *   is the transport's;
 * - core's state listeners are put on the transport's 'connectionstatechange' (for connection
 *   and ICE connection state) and 'icegatheringstatechange' events; they get mediasoup's
 *   arguments instead of an Event (core reads the states from the pc, not from the event);
 * - no SDP (localDescription/remoteDescription are null), so core sees no ICE restarts; streams
 *   are attributed by SSRC and mid from the RTP parameters instead.
 */
function shim(transport: TransportLike): MonitoredPeerConnection {
  const state = (): string => (transport.closed ? 'closed' : transport.connectionState);
  const listener =
    (method: 'on' | 'off') =>
    (type: string, listener: (event: unknown) => void): void => {
      const source = type == 'icegatheringstatechange' ? type : /^(ice)?connectionstatechange$/.test(type) && 'connectionstatechange';
      if (source) transport[method](source, listener);
    };
  return {
    get connectionState() {
      return state();
    },
    get iceConnectionState() {
      return state() == 'connecting' ? 'checking' : state();
    },
    get iceGatheringState() {
      return transport.iceGatheringState;
    },
    get signalingState() {
      return transport.closed ? 'closed' : 'stable';
    },
    localDescription: null,
    remoteDescription: null,
    getStats: () => transport.getStats(),
    addEventListener: listener('on'),
    removeEventListener: listener('off'),
  };
}
