// vitest fixture for the browser tests that call through the real Kamailio (test/servers/
// kamailio.browser.test.ts, the JsSIP adapter's browser tests): one Kamailio and one Chromium for
// the file (and Firefox, when asked), and pages that each hold one SIP user of that Kamailio.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { openPage, requireNamespace, useBrowser, type BrowserPage, type TestPage } from './browser';
import { openFirefoxPage, useFirefoxIf } from './firefoxPage';
import { startKamailio, type KamailioServer } from './kamailio';

/** What a page needs to register SIP user `user` with the test's Kamailio. */
export interface SipAccount {
  user: string;
  domain: string;
  wsUrl: string;
}

export interface SipPages {
  browser: () => Browser;
  kamailio: () => KamailioServer;
  /**
   * Opens a page with the entry `page`, labelled `name`, and gives the account of SIP user `name`
   * (for the page's start()) on `server` (default: the file's Kamailio).
   */
  openUser(page: URL, name: string, server?: () => KamailioServer): Promise<{ tp: TestPage; account: SipAccount }>;
  /** openUser in Firefox (useKamailio({ firefox: true }) only). */
  openFirefoxUser(page: URL, name: string): Promise<{ tp: BrowserPage; account: SipAccount }>;
}

/**
 * vitest: Chromium (and with `firefox`, Firefox ESR), and Kamailio started in beforeAll (inside
 * the test namespace only), stopped in afterAll.
 */
export function useKamailio(options: { firefox?: boolean } = {}): SipPages {
  let kam: KamailioServer | undefined;
  const browser = useBrowser();
  const firefox = useFirefoxIf(options.firefox, 'useKamailio');

  beforeAll(async () => {
    requireNamespace();
    kam = await startKamailio();
  });
  afterAll(async () => {
    await kam?.stop();
  });

  function kamailio(): KamailioServer {
    if (!kam) throw new Error('kamailio not started');
    return kam;
  }
  const accountOf = (name: string, k: KamailioServer): SipAccount => ({ user: name, domain: k.domain, wsUrl: k.wsUrl });
  return {
    browser,
    kamailio,
    async openUser(page, name, server = kamailio) {
      const tp = await openPage(browser(), { scripts: [page], label: name });
      return { tp, account: accountOf(name, server()) };
    },
    async openFirefoxUser(page, name) {
      const tp = await openFirefoxPage(firefox(), { scripts: [page], label: name });
      return { tp, account: accountOf(name, kamailio()) };
    },
  };
}
