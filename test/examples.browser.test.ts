// Every example page, served by the real collector from the real builds (as `npm start` serves
// them), loads without script errors; the loopback example runs a monitored call end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '@callmetry/collector';
import { REPO_ROOT, useBrowser } from './harness/browser';

const browser = useBrowser();
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

  it('the loopback example (a callstats.js page with the script swapped) reaches the dashboard API', async () => {
    const page = await browser().newPage();
    try {
      await page.goto(new URL('/examples/loopback/', collector.url).href);
      await page.click('#start');
      await page.waitForFunction(() => document.getElementById('stats')?.textContent?.includes('"fabricState"'), undefined, { timeout: 30_000 });
      await page.click('#hangup');
      const log = await page.locator('#log').innerText();
      expect(log).toContain('csInitCallback: success');
      const conferenceID = await page.locator('#conf').innerText();
      // The SDK flushes on its batch interval; the query API shows the conference soon after.
      const auth = `Basic ${Buffer.from('demo-app:demo-secret').toString('base64')}`;
      let detail: { fabrics?: Array<{ events: Array<{ event: string }> }> } = {};
      for (let i = 0; i < 50 && !detail.fabrics?.[0]?.events.some((e) => e.event === 'fabricTerminated'); i++) {
        await page.waitForTimeout(200);
        const res = await fetch(new URL(`/v1/apps/demo-app/conferences/${conferenceID}`, collector.url), { headers: { authorization: auth } });
        if (res.ok) detail = (await res.json()) as typeof detail;
      }
      const events = detail.fabrics?.[0]?.events.map((e) => e.event) ?? [];
      expect(events[0]).toBe('fabricSetup');
      expect(events).toContain('fabricTerminated');
    } finally {
      await page.close();
    }
  });
});
