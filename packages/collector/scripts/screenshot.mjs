// Starts a collector (built dist), seeds demo data, and screenshots the dashboard with Chromium.
//   npm run build -w @callmetry/collector && node packages/collector/scripts/screenshot.mjs [outDir]
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startCollector } from '../dist/index.mjs';
import { seedDemo } from './demo-data.mjs';

const out = process.argv[2] || '/tmp/callmetry-shots';
mkdirSync(out, { recursive: true });
const collector = await startCollector({ apps: [{ appID: 'demo-app', secret: 'demo-secret' }], port: 0, summaryDelayMs: 60_000, logger: { debug() {}, info() {}, warn() {}, error: console.error } });
const base = collector.url.replace(/\/$/, '');
await seedDemo(base, 'demo-app', 'demo-secret');
await collector.summarizeNow();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${base}/`);
  await page.screenshot({ path: `${out}/1-login.png` });
  await page.fill('#login-app', 'demo-app');
  await page.fill('#login-secret', 'demo-secret');
  await page.click('button[type=submit]');
  await page.waitForSelector('table.data tbody tr');
  await page.screenshot({ path: `${out}/2-list.png` });
  await page.click('text=weekly-standup');
  await page.waitForSelector('.lane-bar');
  await page.waitForFunction(() => document.querySelectorAll('canvas').length === 4);
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${out}/3-conference.png`, fullPage: true });
  await page.screenshot({ path: `${out}/3-conference-top.png` });
  await page.goto(`${base}/#/conference/support-ticket-4711`);
  await page.waitForSelector('.lane-bar');
  await page.screenshot({ path: `${out}/4-failed.png`, fullPage: true });
  if (problems.length) console.error('page problems:', problems);
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await collector.close();
}
