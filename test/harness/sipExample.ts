// A SIP softphone example (examples/sipjs/, examples/jssip/) end to end, for the adapters'
// example.browser.test.ts: the example is served at /examples/<name>/ by the real collector with
// serveExamples (from source, in the test process), next to a real Kamailio; phones are Chromium
// pages driving the example's own form.
// The files the page loads from /packages/.../dist and ./dist are built from source into a
// temporary repo root (next to copies of index.html and app.js), as `npm run build` would build
// them: the test needs no prior build and writes nothing into the repo.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startCollector, silentLogger, type Collector } from '../../packages/collector/src/index';
import { bundle, REPO_ROOT, requireNamespace, useBrowser } from './browser';
import { startKamailio, type KamailioServer } from './kamailio';

const WAIT_MS = 20_000;

export interface SipExampleOptions {
  /** The example's folder under examples/, also the adapter's under packages/ ('sipjs', 'jssip'). */
  name: string;
  /** The SIP library as a browser global: the esbuild stdin of examples/<name>/build.mjs and its output under dist/. */
  library: { contents: string; sourcefile: string; outfile: string };
  /** Also build core's ESM build, packages/core/dist/index.mjs (the example's import map points @callmetry/core at it). */
  coreEsm?: boolean;
  /** Called with the adapter's ESM build before it is written, to check it (in beforeAll). */
  checkAdapter?: (code: string) => void;
  /** Query parameters every phone page gets (before the per-phone ones). */
  params?: Record<string, string>;
}

function write(root: string, rel: string, text: string): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** An ESM browser build of a repo source file, as rollup builds a package (`external` left as imports). */
async function esm(entry: string, external: string[] = []): Promise<string> {
  const r = await esbuild.build({ entryPoints: [join(REPO_ROOT, entry)], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2020', logLevel: 'silent', external });
  return r.outputFiles[0]!.text;
}

async function buildRepoRoot(o: SipExampleOptions): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), `callmetry-${o.name}-example-`));
  const example = `examples/${o.name}`;
  mkdirSync(join(root, example), { recursive: true });
  for (const f of ['index.html', 'app.js']) copyFileSync(join(REPO_ROOT, example, f), join(root, example, f));
  // What `npm run build` produces, from source: core's browser global (and, if the page imports it,
  // core's ESM build), the adapter's ESM build (@callmetry/core external, as rollup leaves the peer
  // dependency), and the example's dist/ copy of the SIP library (the esbuild input of its build.mjs).
  write(root, 'packages/core/dist/callstats.min.js', await bundle('packages/core/src/browser.ts', { sourcemap: false }));
  if (o.coreEsm) write(root, 'packages/core/dist/index.mjs', await esm('packages/core/src/index.ts'));
  const adapter = await esm(`packages/${o.name}/src/index.ts`, ['@callmetry/core']);
  o.checkAdapter?.(adapter);
  write(root, `packages/${o.name}/dist/index.mjs`, adapter);
  const lib = await esbuild.build({
    stdin: { contents: o.library.contents, resolveDir: join(REPO_ROOT, example), sourcefile: o.library.sourcefile },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
  });
  write(root, `${example}/dist/${o.library.outfile}`, lib.outputFiles[0]!.text);
  return root;
}

export interface Phone {
  page: Page;
  /** Page errors, console errors and HTTP errors (status >= 400) of the page. */
  errors: string[];
}

export interface SipExample {
  /** Opens the example as SIP user `user` (query `extra` added) and registers it through the form. */
  openPhone(user: string, extra: Record<string, string>): Promise<Phone>;
  /** Waits until the page's log shows `text` at least `count` times. */
  logHas(page: Page, text: string, count?: number): Promise<unknown>;
  /** Opens alice (calling bob) and bob (auto-answer); alice calls: both pages report fabricSetup. */
  startCall(): Promise<{ alice: Phone; bob: Phone }>;
  /**
   * alice hangs up: both pages report fabricTerminated and a connected collector; the collector
   * stores both ends (terminated) in the conference named by the Call-ID alice's log shows, and
   * neither page had an error.
   */
  endCall(alice: Phone, bob: Phone): Promise<void>;
}

/** vitest: builds and serves the example (beforeAll) with Kamailio and Chromium; stops all in afterAll. */
export function useSipExample(o: SipExampleOptions): SipExample {
  const getBrowser = useBrowser();
  let kam: KamailioServer | undefined;
  let collector: Collector | undefined;
  let root: string | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    requireNamespace();
    root = await buildRepoRoot(o);
    [kam, collector] = await Promise.all([
      startKamailio(),
      startCollector({ apps: { 'demo-app': 'demo-secret' }, port: 0, serveExamples: true, repoRoot: root, logger: silentLogger }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
    await collector?.close();
    await kam?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function openPhone(user: string, extra: Record<string, string>): Promise<Phone> {
    const context = await getBrowser().newContext();
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
    });
    const q = new URLSearchParams({ ws: kam!.wsUrl, domain: kam!.domain, user, ...o.params, ...extra });
    await page.goto(`${collector!.url}examples/${o.name}/?${q}`, { waitUntil: 'load' });
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('registered as'), undefined, { timeout: WAIT_MS });
    return { page, errors };
  }

  const logHas = (page: Page, text: string, count = 1): Promise<unknown> =>
    page.waitForFunction(
      ({ t, n }) => (document.getElementById('log')?.textContent ?? '').split(t).length - 1 >= n,
      { t: text, n: count },
      { timeout: WAIT_MS, polling: 100 },
    );

  async function startCall(): Promise<{ alice: Phone; bob: Phone }> {
    const [alice, bob] = await Promise.all([openPhone('alice', { target: 'bob' }), openPhone('bob', { autoanswer: '1' })]);
    await alice.page.click('#call');
    await Promise.all([logHas(alice.page, 'event fabricSetup'), logHas(bob.page, 'event fabricSetup')]);
    return { alice, bob };
  }

  async function endCall(alice: Phone, bob: Phone): Promise<void> {
    await alice.page.click('#hangup');
    await Promise.all([logHas(alice.page, 'event fabricTerminated'), logHas(bob.page, 'event fabricTerminated')]);
    await Promise.all([logHas(alice.page, 'collector connected'), logHas(bob.page, 'collector connected')]);

    // The collector got both ends of the call, in the conference named by the Call-ID.
    const storage = collector!.storage;
    const deadline = Date.now() + WAIT_MS;
    let fabrics: Array<{ localUserID: string | null; remoteUserID: string | null; state: string }> = [];
    let conferenceID = '';
    while (Date.now() < deadline) {
      const list = await storage.listConferences('demo-app');
      conferenceID = list[0]?.conferenceID ?? '';
      const data = conferenceID ? await storage.getConference('demo-app', conferenceID) : null;
      fabrics = (data?.fabrics ?? []).map((f) => ({ localUserID: f.localUserID, remoteUserID: f.remoteUserID, state: f.state }));
      if (fabrics.length === 2 && fabrics.every((f) => f.state === 'terminated')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(fabrics.sort((a, b) => String(a.localUserID).localeCompare(String(b.localUserID)))).toEqual([
      { localUserID: 'alice', remoteUserID: 'bob', state: 'terminated' },
      { localUserID: 'bob', remoteUserID: 'alice', state: 'terminated' },
    ]);
    const log = await alice.page.evaluate(() => document.getElementById('log')?.textContent ?? '');
    expect(log).toContain('outgoing call to sip:bob@');
    expect(conferenceID).toBe(/Call-ID (\S+): the conference/.exec(log)?.[1]);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }

  return { openPhone, logHas, startCall, endCall };
}
