// vitest fixture for the browser tests against the real Janus Gateway (test/servers/janus.browser.test.ts,
// packages/janus/test/janus.browser.test.ts): Janus on the veth test/run.mjs creates, Chromium
// (and Firefox, when asked), and one HTTP server that serves every Chromium test page of the file.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { openPage, requireNamespace, startHttpServer, useBrowser, type BrowserPage, type HttpServer, type TestPage } from './browser';
import { openFirefoxPage, useFirefoxIf } from './firefoxPage';
import { startJanus, type JanusServer, type StartJanusOptions } from './janus';

/**
 * The veth Janus gathers candidates on: set by test/run.mjs. Missing = a loud failure that says
 * which tests need it (`tests`) and how to run them (`run`).
 */
export function janusIface(tests: string, run: string): string {
  const iface = process.env.CALLMETRY_JANUS_IFACE;
  if (!iface) {
    throw new Error(
      `CALLMETRY_JANUS_IFACE is not set. The ${tests} need the veth interface (127.0.0.2) that ` +
        `test/run.mjs creates in the test network namespace: run ${run} as root.`,
    );
  }
  return iface;
}

export interface JanusPagesOptions {
  /** The page entry every page loads. */
  page: URL;
  /** For the message when the veth is missing: which tests, and how to run them (see janusIface). */
  tests: string;
  run: string;
  /** Options for startJanus besides the interface. */
  janus?: Omit<StartJanusOptions, 'iface'>;
  /** Also launch Firefox ESR, for openInFirefox. */
  firefox?: boolean;
}

export interface JanusPages {
  browser: () => Browser;
  /** The veth Janus uses (CALLMETRY_JANUS_IFACE). */
  iface: () => string;
  janus: () => JanusServer;
  /** Opens a page with the page entry, labelled `label` (closed after the file's tests). */
  open(label: string): Promise<TestPage>;
  /** The same in Firefox (useJanusPages({ firefox: true }) only). */
  openInFirefox(label: string): Promise<BrowserPage>;
}

/** vitest: Janus, Chromium and the page server for the file's tests (beforeAll), all stopped in afterAll. */
export function useJanusPages(o: JanusPagesOptions): JanusPages {
  let iface: string | undefined;
  beforeAll(() => {
    iface = janusIface(o.tests, o.run);
    requireNamespace();
  });
  const browser = useBrowser();
  const firefox = useFirefoxIf(o.firefox, 'useJanusPages');
  let janus: JanusServer | undefined;
  let http: HttpServer | undefined;
  const pages: BrowserPage[] = [];

  beforeAll(async () => {
    janus = await startJanus({ ...o.janus, iface: iface! });
    http = await startHttpServer();
    // Chromium asks every new origin for /favicon.ico; a 404 would land in page.errors.
    http.route('/favicon.ico', { body: new Uint8Array(0), type: 'image/x-icon' });
  });
  afterAll(async () => {
    for (const p of pages.splice(0)) await p.close();
    await http?.close();
    await janus?.stop();
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useJanusPages(): ${what} not started yet (use it inside tests/hooks)`);
    return value;
  };
  return {
    browser,
    iface: () => started(iface, 'the veth check'),
    janus: () => started(janus, 'Janus'),
    async open(label) {
      const p = await openPage(browser(), { scripts: [o.page], server: started(http, 'the page server'), label });
      pages.push(p);
      return p;
    },
    async openInFirefox(label) {
      const p = await openFirefoxPage(firefox(), { scripts: [o.page], label });
      pages.push(p);
      return p;
    },
  };
}
