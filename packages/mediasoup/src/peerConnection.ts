/**
 * Which RTCPeerConnection core monitors for a mediasoup-client transport.
 *
 * THE ONLY MODULE THAT TOUCHES mediasoup-client INTERNALS. mediasoup-client 3.x has no public
 * getter for a transport's RTCPeerConnection: the public `transport.handler` (HandlerInterface)
 * of the built-in browser handlers keeps it in the TypeScript-private field `_pc`. Using it gives
 * core the real thing (SDP, ICE/DTLS states, transceivers, ICE-restart detection), so the adapter
 * uses it only when all of these hold, and otherwise falls back to the public-API shim
 * (./transportShim):
 * - `peerConnection` option is 'auto' (the default);
 * - the handler is one of the built-in handlers whose `_pc` was checked (mediasoup-client 3.18.7:
 *   Chrome111, Chrome74, Firefox120, Safari12, ReactNative106) — the handler name is mediasoup's
 *   own version marker: handlers are renamed when their implementation changes;
 * - `_pc` looks like an RTCPeerConnection (getStats, add/removeEventListener, signalingState,
 *   getTransceivers) and is not closed.
 */
import type { MonitoredPeerConnection } from '@callmetry/core';
import type { TransportLike } from './types';
import { transportShim } from './transportShim';

/** Built-in handlers of mediasoup-client 3.x whose RTCPeerConnection lives in `_pc` (checked on 3.18.7). */
export const HANDLERS_WITH_PRIVATE_PC: ReadonlySet<string> = new Set([
  'Chrome111',
  'Chrome74',
  'Firefox120',
  'Safari12',
  'ReactNative106',
]);

export interface PeerConnectionChoice {
  pc: MonitoredPeerConnection;
  /** 'handler': the handler's own RTCPeerConnection; 'public': the public-API shim. */
  source: 'handler' | 'public';
  /** The handler's name when known (e.g. 'Chrome111', 'FakeHandler'). */
  handlerName?: string;
  /** Why the shim was used, when it was. */
  reason?: string;
}

/**
 * In the built-in handlers a producer's or consumer's `localId` is its transceiver's mid (true for
 * every handler of HANDLERS_WITH_PRIVATE_PC in 3.18.7); FakeHandler and custom handlers use
 * other ids.
 */
export function localIdIsMid(handlerName: string | undefined): boolean {
  return handlerName !== undefined && HANDLERS_WITH_PRIVATE_PC.has(handlerName);
}

function isPeerConnectionLike(value: unknown): value is MonitoredPeerConnection {
  if (!value || typeof value !== 'object') return false;
  const pc = value as Record<string, unknown>;
  return (
    typeof pc.getStats === 'function' &&
    typeof pc.addEventListener === 'function' &&
    typeof pc.removeEventListener === 'function' &&
    typeof pc.getTransceivers === 'function' &&
    typeof pc.signalingState === 'string' &&
    pc.signalingState !== 'closed'
  );
}

function handlerOf(transport: TransportLike): { name?: string; pc?: unknown } {
  // `handler` is a public getter of Transport (3.x); `name` is public on HandlerInterface.
  const handler = (transport as unknown as { handler?: unknown }).handler;
  if (!handler || typeof handler !== 'object') return {};
  const h = handler as { name?: unknown; _pc?: unknown };
  return { ...(typeof h.name === 'string' ? { name: h.name } : {}), pc: h._pc };
}

/** Never throws: any surprise (a throwing getter, another shape) gives the public shim. */
export function peerConnectionFor(transport: TransportLike, mode: 'auto' | 'public' = 'auto'): PeerConnectionChoice {
  let handlerName: string | undefined;
  let reason: string;
  try {
    const handler = handlerOf(transport);
    handlerName = handler.name;
    if (mode === 'public') reason = "peerConnection: 'public'";
    else if (!handlerName || !HANDLERS_WITH_PRIVATE_PC.has(handlerName))
      reason = `handler ${handlerName ?? '(unknown)'} is not a built-in browser handler checked by this adapter`;
    else if (!isPeerConnectionLike(handler.pc)) reason = `handler ${handlerName} has no usable RTCPeerConnection`;
    else return { pc: handler.pc, source: 'handler', handlerName };
  } catch (error) {
    reason = `reading the handler failed: ${String(error)}`;
  }
  return { pc: transportShim(transport), source: 'public', ...(handlerName ? { handlerName } : {}), reason };
}
