// Every example page, served by the real collector from the real builds (as `npm start` serves
// them), loads without script errors; the loopback example runs a monitored call end to end, in Chromium and in Firefox ESR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '@callmetry/collector';
import { REPO_ROOT, useBrowser } from './harness/browser';
import { openFirefoxUrl, useFirefox } from './harness/firefoxPage';

const browser = useBrowser();
const firefox = useFirefox();
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
type Collector = Awaited<ReturnType<typeof startCollector>>;

/** Errors that mean the page itself is broken (not a server it needs being absent). */
const isScriptError = (text: string) =>
  /Failed to resolve module specifier|SyntaxError|is not defined|is not a function|Cannot read prop|HTTP 404: .*\.(m?js)$/.test(text);

describe('example pages', () => {
  let collector: Collector;
  beforeAll(async () => {
    collector = await startCollector({ apps: [{ appID: 'demo-app', secret: 'demo-secret' }], port: 0, db: ':memory:', serveExamples: true, repoRoot: REPO_ROOT, logger: silent });
  });
  afterAll(async () => collector?.close());

  it.each(['', 'loopback/', 'sipjs/', 'jssip/', 'janus/', 'mediasoup/', 'twilio/'])('/examples/%s loads without script errors', async (path) => {
    const page = await browser().newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
    try {
      const response = await page.goto(new URL(`/examples/${path}`, collector.url).href, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      await page.waitForTimeout(1000);
      expect(errors.filter(isScriptError)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  /** The events of the conference's first fabric, from the query API, once it shows fabricTerminated (10 s at most). */
  async function firstFabricEvents(conferenceID: string): Promise<string[]> {
    // The SDK flushes on its batch interval; the query API shows the conference soon after.
    const auth = `Basic ${Buffer.from('demo-app:demo-secret').toString('base64')}`;
    let detail: { fabrics?: Array<{ events: Array<{ event: string }> }> } = {};
    for (let i = 0; i < 50 && !detail.fabrics?.[0]?.events.some((e) => e.event === 'fabricTerminated'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(new URL(`/v1/apps/demo-app/conferences/${conferenceID}`, collector.url), { headers: { authorization: auth } });
      if (res.ok) detail = (await res.json()) as typeof detail;
    }
    return detail.fabrics?.[0]?.events.map((e) => e.event) ?? [];
  }

  it('the loopback example (a callstats.js page with the script swapped) reaches the dashboard API', async () => {
    const page = await browser().newPage();
    try {
      await page.goto(new URL('/examples/loopback/', collector.url).href);
      await page.click('#start');
      await page.waitForFunction(() => document.getElementById('stats')?.textContent?.includes('"fabricState"'), undefined, { timeout: 30_000 });
      await page.click('#hangup');
      const log = await page.locator('#log').innerText();
      expect(log).toContain('csInitCallback: success');
      const events = await firstFabricEvents(await page.locator('#conf').innerText());
      expect(events[0]).toBe('fabricSetup');
      expect(events).toContain('fabricTerminated');
    } finally {
      await page.close();
    }
  });

  it('the same loopback example in Firefox ESR reaches the dashboard API', async () => {
    const page = await openFirefoxUrl(firefox(), new URL('/examples/loopback/', collector.url).href, 'loopback-firefox');
    try {
      await page.run(() => document.getElementById('start')!.click());
      await page.run(
        () =>
          new Promise<void>((resolve, reject) => {
            const end = Date.now() + 30_000;
            const look = (): unknown =>
              document.getElementById('stats')?.textContent?.includes('"fabricState"')
                ? resolve()
                : Date.now() > end
                  ? reject(new Error('no stats callback within 30 s'))
                  : setTimeout(look, 100);
            look();
          }),
      );
      await page.run(() => document.getElementById('hangup')!.click());
      const { log, conferenceID } = await page.run(() => ({
        log: document.getElementById('log')!.innerText,
        conferenceID: document.getElementById('conf')!.innerText,
      }));
      expect(log).toContain('csInitCallback: success');
      const events = await firstFabricEvents(conferenceID);
      expect(events[0]).toBe('fabricSetup');
      expect(events).toContain('fabricTerminated');
      expect(page.errors.filter(isScriptError)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
