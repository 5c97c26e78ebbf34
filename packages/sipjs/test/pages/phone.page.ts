// Page entry for packages/sipjs/test/sipjs.browser.test.ts (bundled by the harness with esbuild):
// one SIP user per page on the real sip.js 0.21.1 from npm, monitored by a real Callmetry monitor
// through attachSipJs. Two flavours of app code:
//   'core'   - UserAgent + Registerer + Inviter/Invitation (the app replaces session.delegate, as
//              apps do), hold via sessionDescriptionHandlerOptionsReInvite + session.invite(),
//              mute via sdh.enableSenderTracks();
//   'simple' - Web.SimpleUser (which replaces the UA delegate and hides its UserAgent), attached
//              with attachSipJs(simpleUser, monitor); hold/mute/answer/decline through SimpleUser.
// Everything the monitor emits is recorded in one ordered log (`window.sipjsPhone.log`).
import { createMonitor, type ErrorRecord, type FabricStats, type Logger, type Monitor } from '@callmetry/core';
import { attachSipJs } from '@callmetry/sipjs';
import { Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent, Web, type Session } from 'sip.js';
import { isHookedRegistry } from '../../src/internals';

export type Mode = 'core' | 'simple';

export interface PhoneConfig {
  mode: Mode;
  user: string;
  domain: string;
  wsUrl: string;
  /** How many times attachSipJs is called (same UA, same monitor). Default 1. */
  attachTimes?: number;
}

export type Policy = { action: 'answer' } | { action: 'reject'; status: number } | { action: 'ring' };

export interface CallOptions {
  /** getUserMedia constraints (default audio + video). */
  constraints?: MediaStreamConstraints;
  /** SDP modifier that strips the fingerprint from the remote answer: setRemoteDescription fails. */
  breakAnswer?: boolean;
  /** SDP modifier that strips the fingerprint from the local offer: setLocalDescription fails. */
  breakOffer?: boolean;
}

export interface StreamSummary {
  statsType: string;
  mediaType: string;
  userID: string;
  remoteUserID: string;
}

export type LogEntry =
  | { kind: 'event'; fabricID: string; conferenceID: string; event: string; data?: Record<string, unknown> }
  | { kind: 'error'; record: ErrorRecord }
  | { kind: 'sample'; fabricID: string; conferenceID: string; streams: StreamSummary[] }
  /** monitor.sendCustomEvent, from the monitor's `customEvent` event. */
  | { kind: 'custom'; conferenceID: string; name: string; data?: Record<string, unknown> };

export interface CallInfo {
  direction: 'outgoing' | 'incoming';
  callId: string;
  states: string[];
  /** Final status of an outgoing call (from the app's own requestDelegate). */
  status?: number;
}

export interface HookState {
  registryHooked: boolean;
  factoryOriginal: boolean;
  fabrics: number;
}

export interface PhoneApi {
  log: LogEntry[];
  sipLog: string[];
  calls: CallInfo[];
  sameDetach: boolean;
  start(cfg: PhoneConfig): Promise<void>;
  setPolicy(p: Policy): void;
  call(target: string, options?: CallOptions): number;
  hold(on: boolean): Promise<boolean>;
  mute(on: boolean): void;
  hangup(): Promise<void>;
  detach(): void;
  hooks(): HookState;
  stop(): Promise<void>;
}

declare global {
  interface Window {
    sipjsPhone: PhoneApi;
  }
}

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m, ...d) => console.warn(m, ...d),
  error: (m, ...d) => console.error(m, ...d),
};

const log: LogEntry[] = [];
/** SIP.js's own log lines (not printed: failures are provoked on purpose). */
const sipLog: string[] = [];
const sipLogOptions = {
  logLevel: 'warn' as const,
  logBuiltinEnabled: false,
  logConnector: (level: string, category: string, _label: string | undefined, content: string) => sipLog.push(`${level} ${category} ${content}`),
};
const calls: CallInfo[] = [];
let monitor: Monitor | undefined;
let config: PhoneConfig | undefined;
let policy: Policy = { action: 'answer' };
let ua: UserAgent | undefined;
let registerer: Registerer | undefined;
let simple: Web.SimpleUser | undefined;
let current: Session | undefined;
let detach: () => void = () => undefined;
let originalFactory: unknown;

function recordMonitor(m: Monitor): void {
  m.on('customEvent', ({ conferenceID, name, data }) => log.push({ kind: 'custom', conferenceID, name, ...(data ? { data } : {}) }));
  m.on('fabricEvent', (r) => log.push({ kind: 'event', fabricID: r.fabricID, conferenceID: r.conferenceID, event: r.event, ...(r.data ? { data: r.data } : {}) }));
  m.on('error', (r) => log.push({ kind: 'error', record: r }));
  m.on('sample', (s: FabricStats) =>
    log.push({
      kind: 'sample',
      fabricID: s.fabricID,
      conferenceID: s.conferenceID,
      streams: s.mediaStreamTracks.map((t) => ({ statsType: t.statsType, mediaType: t.mediaType, userID: t.userID, remoteUserID: t.remoteUserID })),
    }),
  );
}

/** Inbound media is only decoded when rendered: play every remote track, muted. */
function render(pc: RTCPeerConnection | undefined): void {
  pc?.addEventListener('track', (e) => {
    const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
    el.autoplay = true;
    el.muted = true;
    el.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    document.body.appendChild(el);
  });
}

function sdhOf(session: Session | undefined): Web.SessionDescriptionHandler | undefined {
  const sdh = session?.sessionDescriptionHandler;
  return sdh instanceof Web.SessionDescriptionHandler ? sdh : undefined;
}

function track(session: Session, info: CallInfo): void {
  current = session;
  calls.push(info);
  session.stateChange.addListener((s: SessionState) => info.states.push(s));
  // Apps set their own delegate after construction: the adapter must not depend on it.
  session.delegate = {
    onSessionDescriptionHandler: (sdh) => {
      if (sdh instanceof Web.SessionDescriptionHandler) render(sdh.peerConnection);
    },
  };
}

const noFingerprint = (type: RTCSdpType) => (d: RTCSessionDescriptionInit) =>
  Promise.resolve(d.type === type && d.sdp ? { type: d.type, sdp: d.sdp.replace(/a=fingerprint:[^\r\n]*\r\n/g, '') } : d);

async function startCore(cfg: PhoneConfig): Promise<void> {
  const uri = UserAgent.makeURI(`sip:${cfg.user}@${cfg.domain}`);
  if (!uri) throw new Error('bad uri');
  ua = new UserAgent({
    uri,
    displayName: cfg.user,
    transportOptions: { server: cfg.wsUrl },
    ...sipLogOptions,
    sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 500 },
    delegate: {
      onInvite: (invitation: Invitation) => {
        track(invitation, { direction: 'incoming', callId: invitation.request.callId, states: [] });
        const p = policy;
        if (p.action === 'answer') {
          void invitation.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: true } } }).catch((e: unknown) => console.warn('accept failed', e));
        } else if (p.action === 'reject') {
          void invitation.reject({ statusCode: p.status });
        }
      },
    },
  });
  originalFactory = ua.configuration.sessionDescriptionHandlerFactory;
  const times = cfg.attachTimes ?? 1;
  const detachers: Array<() => void> = [];
  for (let i = 0; i < times; i++) detachers.push(attachSipJs(ua, monitor!));
  detach = detachers[0]!;
  window.sipjsPhone.sameDetach = detachers.every((d) => d === detach);
  await ua.start();
  registerer = new Registerer(ua, { expires: 300 });
  const reg = registerer;
  await new Promise<void>((ok, ko) => {
    reg.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) ok();
    });
    reg.register({ requestDelegate: { onReject: (r) => ko(new Error(`REGISTER rejected ${r.message.statusCode}`)) } }).catch(ko);
  });
}

async function startSimple(cfg: PhoneConfig): Promise<void> {
  const audio = document.createElement('audio');
  const video = document.createElement('video');
  audio.autoplay = video.autoplay = true;
  audio.muted = video.muted = true;
  document.body.append(audio, video);
  const su = new Web.SimpleUser(cfg.wsUrl, {
    aor: `sip:${cfg.user}@${cfg.domain}`,
    media: { constraints: { audio: true, video: true }, remote: { audio, video } },
    userAgentOptions: {
      displayName: cfg.user,
      ...sipLogOptions,
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 500 },
    },
    delegate: {
      onCallReceived: () => {
        calls.push({ direction: 'incoming', callId: '', states: ['received'] });
        const p = policy;
        if (p.action === 'answer') void su.answer().catch((e: unknown) => console.warn('answer failed', e));
        else if (p.action === 'reject') void su.decline();
      },
      onCallAnswered: () => calls[calls.length - 1]?.states.push('answered'),
      onCallHangup: () => calls[calls.length - 1]?.states.push('hangup'),
    },
  });
  simple = su;
  originalFactory = userAgent()?.configuration.sessionDescriptionHandlerFactory;
  // The adapter finds SimpleUser's (private) UserAgent itself.
  const detachers = [attachSipJs(su, monitor!)];
  for (let i = 1; i < (cfg.attachTimes ?? 1); i++) detachers.push(attachSipJs(su, monitor!));
  detach = detachers[0]!;
  window.sipjsPhone.sameDetach = detachers.every((d) => d === detach);
  await su.connect();
  await su.register();
}

function userAgent(): UserAgent | undefined {
  return ua ?? (simple as unknown as { sessionManager?: { userAgent?: UserAgent } } | undefined)?.sessionManager?.userAgent;
}

window.sipjsPhone = {
  log,
  sipLog,
  calls,
  sameDetach: false,
  async start(cfg) {
    config = cfg;
    monitor = createMonitor({ appID: 'sipjs-test', localUserID: cfg.user, statsIntervalMs: 1000, logger: quiet });
    recordMonitor(monitor);
    if (cfg.mode === 'core') await startCore(cfg);
    else await startSimple(cfg);
  },
  setPolicy(p) {
    policy = p;
  },
  call(target, options = {}) {
    if (!config) throw new Error('not started');
    const dest = `sip:${target}@${config.domain}`;
    if (simple) {
      calls.push({ direction: 'outgoing', callId: '', states: [] });
      void simple.call(dest).catch((e: unknown) => console.warn('call failed', e));
      return calls.length - 1;
    }
    const uri = UserAgent.makeURI(dest);
    if (!ua || !uri) throw new Error('not started');
    const modifiers = [...(options.breakAnswer ? [noFingerprint('answer')] : []), ...(options.breakOffer ? [noFingerprint('offer')] : [])];
    const inviter = new Inviter(ua, uri, {
      sessionDescriptionHandlerOptions: { constraints: options.constraints ?? { audio: true, video: true } },
      ...(modifiers.length ? { sessionDescriptionHandlerModifiers: modifiers } : {}),
    });
    const info: CallInfo = { direction: 'outgoing', callId: inviter.request.callId, states: [] };
    track(inviter, info);
    inviter
      .invite({ requestDelegate: { onReject: (r) => (info.status = r.message.statusCode), onAccept: (r) => (info.status = r.message.statusCode) } })
      .catch(() => info.states.push('invite() rejected'));
    return calls.length - 1;
  },
  hold(on) {
    if (simple) return (on ? simple.hold() : simple.unhold()).then(() => true, () => false);
    const s = current;
    if (!s) return Promise.reject(new Error('no call'));
    return new Promise<boolean>((ok) => {
      s.sessionDescriptionHandlerOptionsReInvite = {
        ...(s.sessionDescriptionHandlerOptionsReInvite as Web.SessionDescriptionHandlerOptions),
        hold: on,
      } as Web.SessionDescriptionHandlerOptions;
      s.invite({ requestDelegate: { onAccept: () => ok(true), onReject: () => ok(false) } }).catch(() => ok(false));
    });
  },
  mute(on) {
    if (simple) {
      if (on) simple.mute();
      else simple.unmute();
      return;
    }
    const sdh = sdhOf(current);
    if (!sdh) throw new Error('no sdh');
    sdh.enableSenderTracks(!on);
  },
  async hangup() {
    if (simple) return simple.hangup();
    const s = current;
    if (!s) throw new Error('no call');
    if (s.state === SessionState.Established) await s.bye();
    else if (s instanceof Inviter) await s.cancel();
    else if (s instanceof Invitation) await s.reject();
  },
  detach() {
    detach();
  },
  hooks() {
    const u = userAgent() as unknown as { _sessions?: unknown; configuration: { sessionDescriptionHandlerFactory: unknown } } | undefined;
    return {
      registryHooked: isHookedRegistry(u?._sessions),
      factoryOriginal: !!u && originalFactory !== undefined && u.configuration.sessionDescriptionHandlerFactory === originalFactory,
      fabrics: monitor?.fabrics().length ?? 0,
    };
  },
  async stop() {
    if (simple) {
      await simple.unregister().catch(() => undefined);
      await simple.disconnect().catch(() => undefined);
      return;
    }
    if (registerer) await registerer.unregister().catch(() => undefined);
    if (ua) await ua.stop().catch(() => undefined);
  },
};
