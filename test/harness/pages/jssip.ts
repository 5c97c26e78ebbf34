// JsSIP 3.13 user-agent plumbing shared by the SIP page entries that use JsSIP
// (test/servers/kamailio/sip-page.ts, packages/jssip/test/pages/phone.page.ts).
import * as JsSIP from 'jssip';

export interface SipUserConfig {
  user: string;
  domain: string;
  wsUrl: string;
}

/** A UA for SIP user `user` of `domain` over the WebSocket `wsUrl` (display name = user, registers for 300 s); JsSIP's debug log off. */
export function jssipUA(cfg: SipUserConfig): JsSIP.UA {
  JsSIP.debug.disable();
  return new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(cfg.wsUrl)],
    uri: `sip:${cfg.user}@${cfg.domain}`,
    display_name: cfg.user,
    register: true,
    register_expires: 300,
  });
}

/** ua.start(); resolves once registered, rejects if the REGISTER fails. */
export function startRegistered(ua: JsSIP.UA): Promise<void> {
  return new Promise<void>((ok, ko) => {
    ua.on('registered', () => ok());
    ua.on('registrationFailed', (e: { cause?: unknown }) => ko(new Error(`REGISTER failed: ${String(e.cause)}`)));
    ua.start();
  });
}
