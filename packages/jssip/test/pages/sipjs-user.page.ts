// Page entry for mixed.browser.test.ts: one SIP user on the real sip.js 0.21.1 (UserAgent +
// Registerer + Inviter/Invitation, auto-answer), monitored with the SIP.js adapter's one line,
// `attachSipJs(userAgent, monitor)`, and recorded like the JsSIP page (./recorder.ts).
import { Invitation, Inviter, Registerer, SessionState, UserAgent, type Session } from 'sip.js';
import { playTrack } from '../../../../test/harness/pages/common';
import { registered, sipjsUserAgent } from '../../../../test/harness/pages/sipjs';
import { attachSipJs } from '../../../sipjs/src/index';
import { recordedMonitor, type CallRow, type Recorder, type Snapshot } from './recorder';

export interface SipJsUserConfig {
  user: string;
  domain: string;
  wsUrl: string;
}

export interface SipJsUserApi {
  start(cfg: SipJsUserConfig): Promise<void>;
  call(target: string): number;
  hangup(): void;
  snapshot(): Snapshot;
  stop(): Promise<void>;
}

declare global {
  interface Window {
    sipjsUser: SipJsUserApi;
  }
}

let recorder: Recorder | undefined;
let ua: UserAgent | undefined;
let registerer: Registerer | undefined;
let domain = '';
let current: Session | undefined;
const calls: CallRow[] = [];
const constraints: MediaStreamConstraints = { audio: true, video: true };

function track(session: Session, direction: 'outgoing' | 'incoming', callId: string): void {
  current = session;
  const row: CallRow = { callId, direction, jssip: [] };
  calls.push(row);
  session.stateChange.addListener((state: SessionState) => {
    row.jssip.push({ type: `sipjs:${state}` });
    if (state === SessionState.Established) {
      // Inbound media is only decoded once rendered.
      const pc = (session.sessionDescriptionHandler as { peerConnection?: RTCPeerConnection } | undefined)?.peerConnection;
      pc?.getReceivers().forEach((r) => playTrack(r.track));
    }
  });
}

const api: SipJsUserApi = {
  async start(cfg) {
    domain = cfg.domain;
    const r = recordedMonitor(cfg.user);
    recorder = r;
    const u = sipjsUserAgent(cfg, {
      onInvite: (invitation: Invitation) => {
        track(invitation, 'incoming', invitation.request.callId);
        void invitation.accept({ sessionDescriptionHandlerOptions: { constraints } });
      },
    });
    ua = u;
    attachSipJs(u, r.monitor); // <- the SIP.js adapter's one line
    await u.start();
    const reg = new Registerer(u, { expires: 300 });
    registerer = reg;
    await registered(reg);
  },
  call(target) {
    if (!ua) throw new Error('not started');
    const uri = UserAgent.makeURI(`sip:${target}@${domain}`);
    if (!uri) throw new Error(`bad target ${target}`);
    const inviter = new Inviter(ua, uri, { sessionDescriptionHandlerOptions: { constraints } });
    track(inviter, 'outgoing', inviter.request.callId);
    void inviter.invite();
    return calls.length - 1;
  },
  hangup() {
    const s = current;
    if (s && s.state === SessionState.Established) void s.bye();
  },
  snapshot() {
    if (!recorder) throw new Error('not started');
    return recorder.snapshot(calls);
  },
  async stop() {
    await registerer?.unregister().catch(() => undefined);
    await ua?.stop().catch(() => undefined);
  },
};

window.sipjsUser = api;
