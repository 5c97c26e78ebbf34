// Page entry for test/servers/kamailio.browser.test.ts (bundled with esbuild by the harness).
// One SIP user per page, on SIP.js 0.21 or JsSIP 3.13, behind one small uniform driver
// (`window.sipTest`) so the test can run the same call scenarios for every pairing.
// Every library event is recorded in plain data (`calls[i].events`) for assertions and traces.
import * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { Invitation, Inviter, Registerer, Session, SessionState, UserAgent, Web, type Core } from 'sip.js';
import { playRemoteTracks } from '../../harness/pages/common';
import { jssipUA, startRegistered } from '../../harness/pages/jssip';
import { registered, sipjsUserAgent } from '../../harness/pages/sipjs';

type IncomingResponse = Core.IncomingResponse;

export type Lib = 'sipjs' | 'jssip';

export interface UserConfig {
  lib: Lib;
  user: string;
  domain: string;
  wsUrl: string;
  /** Ask for video too (default true: audio + the fake camera). */
  video?: boolean;
}

/** What the callee does with the next incoming INVITE. */
export type IncomingPolicy = { action: 'answer' } | { action: 'reject'; status: number } | { action: 'ring' };

/**
 * Normalized event types (both libraries):
 *   incoming  - an INVITE arrived (callee)
 *   progress  - 1xx received (caller), {status}
 *   accepted  - 2xx sent/received
 *   confirmed - dialog confirmed (ACK sent/received)
 *   failed    - the call never got established: {originator, status?, cause?}
 *   ended     - an established call ended: {originator, cause?}
 *   hold / unhold - re-INVITE for hold done: {originator: 'local' | 'remote'}
 *   pc        - the call's RTCPeerConnection became available: {via}
 * Everything else is raw library detail: `sipjs:state:<State>`, `sipjs:delegate:<hook>`,
 * `sipjs:request:<hook>`, `jssip:<event>`, with what was observable at that moment.
 */
export interface CallEvent {
  type: string;
  /** ms since the call was created in this page. */
  t: number;
  originator?: string;
  status?: number;
  reason?: string;
  cause?: string;
  /** Whether the library exposed a PC at that moment, and its state. */
  pc?: string;
  [k: string]: unknown;
}

export interface CallRecord {
  index: number;
  direction: 'outgoing' | 'incoming';
  /** Call-ID as the library exposes it (SIP.js: session.request.callId, JsSIP: request.call_id). */
  callId?: string;
  /** Remote identity as the library exposes it (URI string, display name). */
  remoteUri?: string;
  remoteDisplayName?: string;
  events: CallEvent[];
}

export interface MediaSnapshot {
  hasPc: boolean;
  connectionState?: RTCPeerConnectionState;
  iceConnectionState?: RTCIceConnectionState;
  signalingState?: RTCSignalingState;
  inboundPackets: Record<string, number>;
  outboundPackets: Record<string, number>;
  transceivers: { kind: string; direction: string; currentDirection: string | null }[];
  candidateAddresses: string[];
}

export interface SipTestApi {
  config?: UserConfig;
  calls: CallRecord[];
  start(cfg: UserConfig): Promise<{ registeredInMs: number }>;
  setPolicy(p: IncomingPolicy): void;
  /** Start a call to sip:<target>@<domain>; returns the call index (events follow). */
  call(target: string): number;
  answer(): void;
  /** Hang up whatever the current call is: CANCEL, reject (480/486/603...), or BYE. */
  hangup(status?: number): void;
  /** Send a hold/unhold re-INVITE; resolves when it was answered (true: 2xx). */
  hold(on: boolean): Promise<boolean>;
  media(): Promise<MediaSnapshot>;
  last(): CallRecord | undefined;
  /** First event of `type` in call `index` (default: last call). */
  find(type: string, index?: number): CallEvent | undefined;
  stop(): Promise<void>;
}

declare global {
  interface Window {
    sipTest: SipTestApi;
  }
}

// ---------------------------------------------------------------------------------------------

interface Live {
  rec: CallRecord;
  created: number;
  pc?: RTCPeerConnection;
  sipjs?: Session;
  jssip?: RTCSession;
  established: boolean;
  endedOrFailed: boolean;
  localHangup: boolean;
}

const calls: CallRecord[] = [];
let current: Live | undefined;
let policy: IncomingPolicy = { action: 'answer' };
let config: UserConfig | undefined;
let sipUa: UserAgent | undefined;
let sipRegisterer: Registerer | undefined;
let jsUa: JsSIP.UA | undefined;

function pcState(pc: RTCPeerConnection | undefined): string {
  return pc ? `${pc.signalingState}/${pc.connectionState}` : 'none';
}

function push(live: Live, type: string, extra: Partial<CallEvent> = {}): void {
  live.rec.events.push({ type, t: Math.round(performance.now() - live.created), ...extra });
}

function newLive(direction: 'outgoing' | 'incoming'): Live {
  const rec: CallRecord = { index: calls.length, direction, events: [] };
  calls.push(rec);
  const live: Live = { rec, created: performance.now(), established: false, endedOrFailed: false, localHangup: false };
  current = live;
  return live;
}

function setPc(live: Live, pc: RTCPeerConnection | undefined, via: string): void {
  if (!pc || live.pc === pc) return;
  live.pc = pc;
  push(live, 'pc', { via });
  // Play what arrives (inbound audio is only decoded once rendered; see field notes).
  playRemoteTracks(pc);
}

/**
 * Try a last getStats() on the call's PC at the moment the library reports the end, and record
 * whether it worked (`final-stats`): tells adapter authors if a final report is still possible.
 */
function finalStats(live: Live, pc: RTCPeerConnection | undefined, at: string): void {
  if (!pc) {
    push(live, 'final-stats', { at, result: 'no pc' });
    return;
  }
  const state = pcState(pc);
  try {
    pc.getStats().then(
      (r) => {
        let rtp = 0;
        r.forEach((x: { type: string }) => {
          if (x.type === 'inbound-rtp' || x.type === 'outbound-rtp') rtp++;
        });
        push(live, 'final-stats', { at, pc: state, result: `ok ${r.size} reports, ${rtp} rtp` });
      },
      (e: unknown) => push(live, 'final-stats', { at, pc: state, result: `rejected ${String(e)}` }),
    );
  } catch (e) {
    push(live, 'final-stats', { at, pc: state, result: `threw ${String(e)}` });
  }
}

function mediaConstraints(): MediaStreamConstraints {
  return { audio: true, video: config?.video ?? true };
}

// ---------------------------------------------------------------------------------------------
// SIP.js 0.21

function sipjsPc(session: Session): RTCPeerConnection | undefined {
  const sdh = session.sessionDescriptionHandler;
  return sdh instanceof Web.SessionDescriptionHandler ? sdh.peerConnection : undefined;
}

function sipjsObserve(live: Live, session: Session): void {
  live.sipjs = session;
  session.stateChange.addListener((state: SessionState) => {
    const pc = sipjsPc(session);
    push(live, `sipjs:state:${state}`, { pc: pcState(pc) });
    setPc(live, pc, `stateChange ${state}`);
    if (state === SessionState.Establishing && !pc) {
      // Invitation: the SDH (and PC) is made right after this synchronous emit, inside accept().
      queueMicrotask(() => {
        const later = sipjsPc(session);
        push(live, 'sipjs:microtask-after-Establishing', { pc: pcState(later) });
        setPc(live, later, 'microtask after Establishing');
      });
    }
    if (state === SessionState.Established) {
      live.established = true;
      push(live, 'confirmed');
    }
    if (state === SessionState.Terminated) finalStats(live, pc, 'sipjs stateChange Terminated');
    if (state === SessionState.Terminated && !live.endedOrFailed) {
      live.endedOrFailed = true;
      if (live.established) push(live, 'ended', { originator: live.localHangup ? 'local' : 'remote' });
      else push(live, 'failed', { originator: live.localHangup ? 'local' : 'remote' });
    }
  });
  session.delegate = {
    onBye: () => push(live, 'sipjs:delegate:onBye'),
    onCancel: () => push(live, 'sipjs:delegate:onCancel'),
    onAck: () => push(live, 'sipjs:delegate:onAck'),
    onInvite: (request, _response, statusCode) => {
      const sdp = request.body;
      const dir = /a=(sendonly|recvonly|inactive|sendrecv)/.exec(sdp)?.[1] ?? 'sendrecv';
      push(live, 'sipjs:delegate:onInvite', { status: statusCode, offeredDirection: dir });
      push(live, dir === 'sendrecv' ? 'unhold' : 'hold', { originator: 'remote' });
    },
    onSessionDescriptionHandler: (sdh, provisional) => {
      const pc = sdh instanceof Web.SessionDescriptionHandler ? sdh.peerConnection : undefined;
      push(live, 'sipjs:delegate:onSessionDescriptionHandler', { provisional, pc: pcState(pc) });
      setPc(live, pc, 'delegate.onSessionDescriptionHandler');
    },
  };
}

function responseFields(r: IncomingResponse): Partial<CallEvent> {
  return { status: r.message.statusCode, reason: r.message.reasonPhrase };
}

async function sipjsStart(cfg: UserConfig): Promise<void> {
  const ua = sipjsUserAgent(cfg, {
    onInvite: (invitation: Invitation) => {
      const live = newLive('incoming');
      live.rec.callId = invitation.request.callId;
      live.rec.remoteUri = invitation.remoteIdentity.uri.toString();
      live.rec.remoteDisplayName = invitation.remoteIdentity.displayName;
      sipjsObserve(live, invitation);
      push(live, 'incoming', { pc: pcState(sipjsPc(invitation)) });
      applyPolicy();
    },
  });
  sipUa = ua;
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  sipRegisterer = registerer;
  await registered(registerer);
}

function sipjsCall(target: string): number {
  if (!sipUa || !config) throw new Error('not started');
  const uri = UserAgent.makeURI(`sip:${target}@${config.domain}`);
  if (!uri) throw new Error(`bad target ${target}`);
  const live = newLive('outgoing');
  const inviter = new Inviter(sipUa, uri, {
    sessionDescriptionHandlerOptions: { constraints: mediaConstraints() },
  });
  live.rec.callId = inviter.request.callId;
  live.rec.remoteUri = inviter.remoteIdentity.uri.toString();
  sipjsObserve(live, inviter);
  push(live, 'sipjs:new-Inviter', { pc: pcState(sipjsPc(inviter)) });
  inviter
    .invite({
      requestDelegate: {
        onTrying: (r) => push(live, 'sipjs:request:onTrying', responseFields(r)),
        onProgress: (r) => push(live, 'progress', responseFields(r)),
        onAccept: (r) => push(live, 'accepted', responseFields(r)),
        onRedirect: (r) => push(live, 'sipjs:request:onRedirect', responseFields(r)),
        onReject: (r) => push(live, 'sipjs:request:onReject', { ...responseFields(r), pc: pcState(sipjsPc(inviter)) }),
      },
    })
    .then(() => push(live, 'sipjs:invite()-resolved', { pc: pcState(sipjsPc(inviter)) }))
    .catch((e: unknown) => push(live, 'sipjs:invite()-rejected', { error: String(e) }));
  push(live, 'sipjs:after-invite()-call', { pc: pcState(sipjsPc(inviter)) });
  return live.rec.index;
}

// ---------------------------------------------------------------------------------------------
// JsSIP 3.13

interface JsEventData {
  originator?: string;
  cause?: string;
  message?: { status_code?: number; reason_phrase?: string; method?: string } | null;
  response?: { status_code?: number; reason_phrase?: string; method?: string } | null;
  peerconnection?: RTCPeerConnection;
}

const JSSIP_EVENTS = [
  'peerconnection',
  'connecting',
  'sending',
  'progress',
  'accepted',
  'confirmed',
  'ended',
  'failed',
  'hold',
  'unhold',
  'muted',
  'unmuted',
  'reinvite',
  'update',
  'sdp',
  'getusermediafailed',
  'peerconnection:createofferfailed',
  'peerconnection:createanswerfailed',
  'peerconnection:setlocaldescriptionfailed',
  'peerconnection:setremotedescriptionfailed',
] as const;

function jssipObserve(live: Live, session: RTCSession): void {
  live.jssip = session;
  const on = session.on.bind(session) as (ev: string, fn: (d: JsEventData) => void) => void;
  for (const ev of JSSIP_EVENTS) {
    on(ev, (d: JsEventData) => {
      const msg = d?.message ?? d?.response ?? undefined;
      const pc = session.connection as RTCPeerConnection | undefined;
      const raw: Partial<CallEvent> = { pc: pcState(pc) };
      if (d?.originator) raw.originator = d.originator;
      if (d?.cause) raw.cause = d.cause;
      if (msg?.status_code) raw.status = msg.status_code;
      if (msg?.reason_phrase) raw.reason = msg.reason_phrase;
      if (msg?.method) raw.method = msg.method;
      if (ev === 'sdp') return; // noisy; not needed in traces
      push(live, `jssip:${ev}`, raw);
      if (ev === 'peerconnection') setPc(live, d.peerconnection, 'jssip peerconnection event');
      if (ev === 'progress' && live.rec.direction === 'outgoing') push(live, 'progress', { status: raw.status });
      if (ev === 'accepted') {
        setPc(live, pc, 'jssip accepted');
        push(live, 'accepted', raw.status ? { status: raw.status } : {});
      }
      if (ev === 'confirmed') {
        live.established = true;
        push(live, 'confirmed');
      }
      if (ev === 'ended' || ev === 'failed') {
        finalStats(live, pc ?? live.pc, `jssip ${ev}`);
        live.endedOrFailed = true;
        push(live, ev, raw);
      }
      if (ev === 'hold' || ev === 'unhold') push(live, ev, { originator: d.originator });
    });
  }
}

async function jssipStart(cfg: UserConfig): Promise<void> {
  const ua = jssipUA(cfg);
  jsUa = ua;
  ua.on('newRTCSession', (data: unknown) => {
    const { originator, session, request } = data as {
      originator: 'local' | 'remote';
      session: RTCSession;
      request: { call_id: string };
    };
    if (originator === 'local') {
      // The outgoing session's Live was made in call(); its PC already exists (and its
      // 'peerconnection' event already fired, before newRTCSession).
      const live = current!;
      live.rec.callId = request.call_id;
      push(live, 'jssip:ua:newRTCSession', { originator, pc: pcState(session.connection as RTCPeerConnection | undefined) });
      return;
    }
    const live = newLive('incoming');
    live.rec.callId = request.call_id;
    live.rec.remoteUri = session.remote_identity.uri.toString();
    live.rec.remoteDisplayName = session.remote_identity.display_name;
    jssipObserve(live, session);
    push(live, 'jssip:ua:newRTCSession', { originator, pc: pcState(session.connection as RTCPeerConnection | undefined) });
    push(live, 'incoming');
    applyPolicy();
  });
  await startRegistered(ua);
}

function jssipCall(target: string): number {
  if (!jsUa || !config) throw new Error('not started');
  const live = newLive('outgoing');
  const session = jsUa.call(`sip:${target}@${config.domain}`, {
    mediaConstraints: mediaConstraints(),
    pcConfig: { iceServers: [] },
    eventHandlers: {
      // Only handlers given here see the outgoing session's 'peerconnection' event.
      peerconnection: (d: { peerconnection: RTCPeerConnection }) => {
        push(live, 'jssip:eventHandlers.peerconnection', { pc: pcState(d.peerconnection) });
        setPc(live, d.peerconnection, 'jssip eventHandlers.peerconnection');
      },
    },
  });
  jssipObserve(live, session);
  live.rec.remoteUri = session.remote_identity.uri.toString();
  push(live, 'jssip:after-ua.call()', { pc: pcState(session.connection as RTCPeerConnection | undefined) });
  return live.rec.index;
}

// ---------------------------------------------------------------------------------------------
// Uniform driver

function applyPolicy(): void {
  const p = policy;
  if (p.action === 'answer') api.answer();
  else if (p.action === 'reject') api.hangup(p.status);
}

async function snapshot(pc: RTCPeerConnection | undefined): Promise<MediaSnapshot> {
  const snap: MediaSnapshot = {
    hasPc: !!pc,
    inboundPackets: {},
    outboundPackets: {},
    transceivers: [],
    candidateAddresses: [],
  };
  if (!pc) return snap;
  snap.connectionState = pc.connectionState;
  snap.iceConnectionState = pc.iceConnectionState;
  snap.signalingState = pc.signalingState;
  if (pc.signalingState === 'closed') return snap;
  snap.transceivers = pc.getTransceivers().map((t) => ({
    kind: t.receiver.track.kind,
    direction: t.direction,
    currentDirection: t.currentDirection,
  }));
  const report = await pc.getStats();
  const addrs = new Set<string>();
  report.forEach((s: { type: string; kind?: string; packetsReceived?: number; packetsSent?: number; address?: string }) => {
    if (s.type === 'inbound-rtp' && s.kind) snap.inboundPackets[s.kind] = (snap.inboundPackets[s.kind] ?? 0) + (s.packetsReceived ?? 0);
    if (s.type === 'outbound-rtp' && s.kind) snap.outboundPackets[s.kind] = (snap.outboundPackets[s.kind] ?? 0) + (s.packetsSent ?? 0);
    if ((s.type === 'local-candidate' || s.type === 'remote-candidate') && s.address) addrs.add(s.address);
  });
  snap.candidateAddresses = [...addrs].sort();
  return snap;
}

const api: SipTestApi = {
  calls,
  async start(cfg) {
    config = cfg;
    api.config = cfg;
    const t0 = performance.now();
    if (cfg.lib === 'sipjs') await sipjsStart(cfg);
    else await jssipStart(cfg);
    return { registeredInMs: Math.round(performance.now() - t0) };
  },
  setPolicy(p) {
    policy = p;
  },
  call(target) {
    return config?.lib === 'sipjs' ? sipjsCall(target) : jssipCall(target);
  },
  answer() {
    const live = current;
    if (!live) throw new Error('no call');
    if (live.sipjs instanceof Invitation) {
      live.sipjs
        .accept({ sessionDescriptionHandlerOptions: { constraints: mediaConstraints() } })
        .then(() => push(live, 'accepted', { pc: pcState(sipjsPc(live.sipjs!)) }))
        .catch((e: unknown) => push(live, 'sipjs:accept()-rejected', { error: String(e) }));
    } else if (live.jssip) {
      live.jssip.answer({ mediaConstraints: mediaConstraints(), pcConfig: { iceServers: [] } });
    }
  },
  hangup(status) {
    const live = current;
    if (!live) throw new Error('no call');
    live.localHangup = true;
    const s = live.sipjs;
    if (s) {
      if (s.state === SessionState.Established) void s.bye().catch((e: unknown) => push(live, 'sipjs:bye()-rejected', { error: String(e) }));
      else if (s instanceof Inviter) void s.cancel().catch((e: unknown) => push(live, 'sipjs:cancel()-rejected', { error: String(e) }));
      else if (s instanceof Invitation) {
        void s
          .reject(status ? { statusCode: status } : undefined)
          .catch((e: unknown) => push(live, 'sipjs:reject()-rejected', { error: String(e) }));
      }
    } else if (live.jssip) {
      live.jssip.terminate(status ? { status_code: status } : {});
    }
  },
  hold(on) {
    const live = current;
    if (!live) return Promise.reject(new Error('no call'));
    const s = live.sipjs;
    if (s) {
      return new Promise<boolean>((ok) => {
        // SIP.js 0.21 hold without SimpleUser/SessionManager: SDH option `hold` for re-INVITEs.
        s.sessionDescriptionHandlerOptionsReInvite = {
          ...(s.sessionDescriptionHandlerOptionsReInvite as Web.SessionDescriptionHandlerOptions),
          hold: on,
        } as Web.SessionDescriptionHandlerOptions;
        s.invite({
          requestDelegate: {
            onAccept: () => {
              push(live, on ? 'hold' : 'unhold', { originator: 'local' });
              ok(true);
            },
            onReject: (r) => {
              push(live, 'sipjs:reinvite-rejected', responseFields(r));
              ok(false);
            },
          },
        }).catch((e: unknown) => {
          push(live, 'sipjs:invite()-rejected', { error: String(e) });
          ok(false);
        });
      });
    }
    const j = live.jssip;
    if (!j) return Promise.reject(new Error('no session'));
    return new Promise<boolean>((ok) => {
      const done = on ? j.hold({}, () => ok(true)) : j.unhold({}, () => ok(true));
      if (!done) ok(false);
    });
  },
  media() {
    return snapshot(current?.pc);
  },
  last() {
    return calls[calls.length - 1];
  },
  find(type, index) {
    const rec = index === undefined ? calls[calls.length - 1] : calls[index];
    return rec?.events.find((e) => e.type === type);
  },
  async stop() {
    if (sipRegisterer) await sipRegisterer.unregister().catch(() => undefined);
    if (sipUa) await sipUa.stop().catch(() => undefined);
    if (jsUa) {
      const ua = jsUa;
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, 2000);
        ua.on('unregistered', () => {
          clearTimeout(timer);
          ok();
        });
        ua.unregister();
      });
      ua.stop();
    }
  },
};

window.sipTest = api;
