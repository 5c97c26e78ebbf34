// The demo page examples/mediasoup/index.html runs in Chromium as the collector would serve it
// (--serve-examples: /examples/... and /packages/...): built by its own build script, loading
// the core browser build (global Callmetry) and the adapter's ESM build. Both builds are made
// here in memory from source, so this test does not depend on an earlier `npm run build`.
// `?local=1`: no collector is running; the page keeps its data.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { bundle, REPO_ROOT, startHttpServer, useBrowser, type HttpServer } from '../../../test/harness/browser';

const browser = useBrowser();

describe('examples/mediasoup demo page', () => {
  let server: HttpServer;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [join(REPO_ROOT, 'examples/mediasoup/build.mjs')], { stdio: 'pipe' });
    const core = await bundle('packages/core/src/browser.ts', { minify: true });
    const adapter = await esbuild.build({
      entryPoints: [join(REPO_ROOT, 'packages/mediasoup/src/index.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      logLevel: 'silent',
    });
    server = await startHttpServer({
      root: REPO_ROOT,
      routes: {
        '/packages/core/dist/callstats.min.js': core,
        '/packages/mediasoup/dist/index.mjs': { body: adapter.outputFiles[0]!.text, type: 'text/javascript; charset=utf-8' },
      },
    });
    context = await browser().newContext();
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));
    await page.goto(server.url('/examples/mediasoup/?local=1'));
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  const logText = () => page.locator('#log').textContent().then((t) => t ?? '');
  const count = (text: string, needle: string) => text.split(needle).length - 1;

  it('starts a monitored call over the loopback stand-in, mutes, and hangs up', async () => {
    await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('ready'));
    await page.click('#start');
    await page.waitForFunction(() => (document.getElementById('log')?.textContent?.split('fabricSetup').length ?? 0) - 1 >= 2, undefined, {
      timeout: 20_000,
    });
    // The stats table shows the local user's and the remote user's streams.
    await page.waitForFunction(
      () => {
        const cells = [...document.querySelectorAll('tbody td')].map((td) => td.textContent);
        return cells.includes('demo-user') && cells.includes('remote-user');
      },
      undefined,
      { timeout: 20_000 },
    );
    await page.click('#mute');
    await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('audioMute'));
    await page.click('#hangup');
    await page.waitForFunction(() => (document.getElementById('log')?.textContent?.split('fabricTerminated').length ?? 0) - 1 >= 2);
    const text = await logText();
    expect(count(text, 'fabricSetup')).toBe(2);
    expect(count(text, 'fabricTerminated')).toBe(2);
    expect(text).not.toContain('demo error');
    expect(problems).toEqual([]);
  });
});
