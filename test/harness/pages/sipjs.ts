// SIP.js 0.21 user-agent plumbing shared by the SIP page entries that use SIP.js
// (test/servers/kamailio/sip-page.ts, packages/jssip/test/pages/sipjs-user.page.ts).
import { RegistererState, UserAgent, type Registerer, type UserAgentDelegate } from 'sip.js';
import type { SipUserConfig } from './jssip';

/** A UserAgent for SIP user `user` of `domain` over the WebSocket `wsUrl` (display name = user, no ICE servers, 500 ms gathering). */
export function sipjsUserAgent(cfg: SipUserConfig, delegate: UserAgentDelegate): UserAgent {
  const uri = UserAgent.makeURI(`sip:${cfg.user}@${cfg.domain}`);
  if (!uri) throw new Error(`bad uri for ${cfg.user}`);
  return new UserAgent({
    uri,
    displayName: cfg.user,
    transportOptions: { server: cfg.wsUrl },
    logLevel: 'warn',
    sessionDescriptionHandlerFactoryOptions: {
      peerConnectionConfiguration: { iceServers: [] },
      iceGatheringTimeout: 500,
    },
    delegate,
  });
}

/** registerer.register(); resolves once registered, rejects if the REGISTER is rejected. */
export function registered(registerer: Registerer): Promise<void> {
  return new Promise<void>((ok, ko) => {
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) ok();
    });
    registerer
      .register({ requestDelegate: { onReject: (r) => ko(new Error(`REGISTER rejected ${r.message.statusCode}`)) } })
      .catch(ko);
  });
}
