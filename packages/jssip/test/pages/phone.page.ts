// Page entry for the JsSIP adapter's browser tests (bundled by test/harness/browser.ts): one SIP
// user per page on the real JsSIP 3.13.8, monitored by a local-only core monitor with ONE line,
// `attachJsSip(ua, monitor)`. The page drives calls (`window.phone`) and records, in plain data,
// everything the monitor reports (fabric events, errors, samples, custom events).
import type * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { playRemoteTracks } from '../../../../test/harness/pages/common';
import { jssipUA, startRegistered } from '../../../../test/harness/pages/jssip';
import { attachJsSip } from '../../src/index';
import { SESSION_EVENTS, UA_EVENTS } from '../events';
import { recordedMonitor, type CallRow, type Recorder, type Snapshot } from './recorder';

export type { CallRow, CustomRow, ErrorRow, EventRow, FabricRow, Snapshot, StreamRow } from './recorder';

export interface PhoneConfig {
  user: string;
  domain: string;
  wsUrl: string;
  /** Attach the adapter (default true); attached twice to check idempotence. */
  attach?: boolean;
}

export type Policy =
  | { action: 'answer'; mangleOffer?: 'drop-fingerprint' }
  | { action: 'reject'; status: number }
  | { action: 'ring' };

export interface Media {
  connectionState?: string;
  inboundPackets: number;
}

export interface PhoneApi {
  start(cfg: PhoneConfig): Promise<{ sameDetach: boolean }>;
  setPolicy(p: Policy): void;
  call(target: string, opts?: { badCamera?: boolean }): number;
  answer(): void;
  hangup(status?: number): void;
  hold(on: boolean): boolean;
  mute(audio: boolean, video: boolean): void;
  unmute(audio: boolean, video: boolean): void;
  snapshot(): Snapshot;
  /** Listeners the adapter has on the UA and on every session seen (the page's own excluded). */
  adapterListeners(): { ua: number; sessions: number; ownStop: boolean };
  detach(): void;
  media(): Promise<Media>;
  stopUa(): Promise<void>;
}

declare global {
  interface Window {
    phone: PhoneApi;
    Callmetry: unknown;
  }
}

let recorder: Recorder | undefined;
let ua: JsSIP.UA | undefined;
let detachFn: (() => void) | undefined;
let domain = '';
let policy: Policy = { action: 'answer' };
let current: RTCSession | undefined;
const calls: CallRow[] = [];
const sessions: RTCSession[] = [];
/** Listeners the page itself put on each session, per event. */
const ownSessionListeners = new Map<RTCSession, Record<string, number>>();
let uaBaseline: Record<string, number> = {};

const mediaConstraints = (badCamera = false): MediaStreamConstraints => ({
  audio: true,
  video: badCamera ? { deviceId: { exact: 'no-such-camera' } } : true,
});
const pcConfig: RTCConfiguration = { iceServers: [] };

/** The page's own session listener (counted, so that the adapter's can be told apart). */
function pageOn(session: RTCSession, event: string, fn: (d: never) => void): void {
  const counts = ownSessionListeners.get(session) ?? {};
  counts[event] = (counts[event] ?? 0) + 1;
  ownSessionListeners.set(session, counts);
  (session.on as (e: string, f: (d: never) => void) => void)(event, fn);
}

function track(session: RTCSession, direction: 'outgoing' | 'incoming', callId: string): void {
  current = session;
  sessions.push(session);
  const row: CallRow = { callId, direction, jssip: [] };
  calls.push(row);
  for (const ev of ['progress', 'confirmed', 'ended', 'failed', 'hold', 'unhold']) {
    pageOn(session, ev, (d: { originator?: string; cause?: string; message?: { status_code?: number } | null; response?: { status_code?: number } | null }) => {
      row.jssip.push({
        type: ev,
        ...(d?.originator ? { originator: d.originator } : {}),
        ...(d?.cause ? { cause: d.cause } : {}),
        ...(typeof d?.message?.status_code === 'number' ? { status: d.message.status_code } : {}),
        ...(typeof d?.response?.status_code === 'number' ? { status: d.response.status_code } : {}),
      });
    });
  }
  pageOn(session, 'peerconnection', (d: { peerconnection: RTCPeerConnection }) => playRemoteTracks(d.peerconnection));
  if (direction === 'outgoing') {
    // ua.call()'s eventHandlers.peerconnection (the page's too) is a session listener as well.
    const own = ownSessionListeners.get(session) ?? {};
    own.peerconnection = (own.peerconnection ?? 0) + 1;
  }
}

function applyPolicy(session: RTCSession): void {
  const p = policy;
  if (p.action === 'reject') session.terminate({ status_code: p.status });
  else if (p.action === 'answer') {
    if (p.mangleOffer === 'drop-fingerprint') {
      pageOn(session, 'sdp', (d: { originator: string; type: string; sdp: string }) => {
        if (d.originator === 'remote' && d.type === 'offer') d.sdp = d.sdp.replace(/a=fingerprint:[^\r\n]*\r\n/g, '');
      });
    }
    session.answer({ mediaConstraints: mediaConstraints(), pcConfig });
  }
}

const api: PhoneApi = {
  async start(cfg) {
    domain = cfg.domain;
    const r = recordedMonitor(cfg.user);
    recorder = r;
    const m = r.monitor;

    const u = jssipUA(cfg);
    ua = u;
    u.on('newRTCSession', (data: { originator: string; session: RTCSession; request: { call_id: string } }) => {
      if (data.originator === 'local') {
        track(data.session, 'outgoing', data.request.call_id);
        return;
      }
      track(data.session, 'incoming', data.request.call_id);
      applyPolicy(data.session);
    });
    uaBaseline = Object.fromEntries(UA_EVENTS.map((e) => [e, u.listenerCount(e)]));

    let sameDetach = false;
    if (cfg.attach !== false) {
      detachFn = attachJsSip(u, m); // <- the one line an app adds
      sameDetach = attachJsSip(u, m) === detachFn;
    }

    await startRegistered(u);
    return { sameDetach };
  },
  setPolicy(p) {
    policy = p;
  },
  call(target, opts) {
    if (!ua) throw new Error('not started');
    const u = ua;
    u.call(`sip:${target}@${domain}`, {
      mediaConstraints: mediaConstraints(opts?.badCamera),
      pcConfig,
      eventHandlers: {
        peerconnection: (d: { peerconnection: RTCPeerConnection }) => playRemoteTracks(d.peerconnection),
      },
    });
    // newRTCSession (local) fired inside ua.call(): the call is tracked.
    return calls.length - 1;
  },
  answer() {
    current?.answer({ mediaConstraints: mediaConstraints(), pcConfig });
  },
  hangup(status) {
    current?.terminate(status ? { status_code: status } : {});
  },
  hold(on) {
    if (!current) return false;
    return on ? current.hold() : current.unhold();
  },
  mute(audio, video) {
    current?.mute({ audio, video });
  },
  unmute(audio, video) {
    current?.unmute({ audio, video });
  },
  snapshot() {
    if (!recorder) throw new Error('not started');
    return recorder.snapshot(calls);
  },
  adapterListeners() {
    const u = ua;
    if (!u) throw new Error('not started');
    const uaCount = UA_EVENTS.reduce((n: number, e: string) => n + u.listenerCount(e) - (uaBaseline[e] ?? 0), 0);
    let sessionCount = 0;
    for (const s of sessions) {
      const own = ownSessionListeners.get(s) ?? {};
      for (const e of SESSION_EVENTS) sessionCount += s.listenerCount(e) - (own[e] ?? 0);
    }
    return { ua: uaCount, sessions: sessionCount, ownStop: Object.prototype.hasOwnProperty.call(u, 'stop') };
  },
  detach() {
    detachFn?.();
  },
  async media() {
    const pc = current?.connection as RTCPeerConnection | undefined;
    if (!pc) return { inboundPackets: 0 };
    if (pc.signalingState === 'closed') return { connectionState: 'closed', inboundPackets: 0 };
    let inbound = 0;
    (await pc.getStats()).forEach((s: { type: string; packetsReceived?: number }) => {
      if (s.type === 'inbound-rtp') inbound += s.packetsReceived ?? 0;
    });
    return { connectionState: pc.connectionState, inboundPackets: inbound };
  },
  async stopUa() {
    const u = ua;
    if (!u) return;
    u.stop();
  },
};

window.phone = api;
