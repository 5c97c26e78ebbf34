// The SIP.js softphone example (examples/sipjs/) end to end: served at /examples/sipjs/ by the real
// collector with serveExamples (from source, in this process). Two Chromium pages register with
// Kamailio through the page's own form; alice calls bob (auto-answer), holds, mutes, hangs up; the
// collector stores both users' fabrics in the conference named by the Call-ID.
// The files the page loads from /packages/.../dist and ./dist are built here from source into a
// temporary repo root (next to copies of index.html and app.js), so the test needs no prior build
// and writes nothing into the repo.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCollector, silentLogger, type Collector } from '../../collector/src/index';
import { bundle, REPO_ROOT, requireNamespace, useBrowser } from '../../../test/harness/browser';
import { startKamailio, type KamailioServer } from '../../../test/harness/kamailio';

const WAIT_MS = 20_000;

function write(root: string, rel: string, text: string): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

async function buildRepoRoot(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'callmetry-sipjs-example-'));
  mkdirSync(join(root, 'examples/sipjs'), { recursive: true });
  for (const f of ['index.html', 'app.js']) copyFileSync(join(REPO_ROOT, 'examples/sipjs', f), join(root, 'examples/sipjs', f));
  // What `npm run build` produces, from source: core's browser global, the adapter's ESM build
  // (core external, as rollup builds it: the page's import map resolves '@callmetry/core' to the
  // global), and examples/sipjs/dist/sip.js (the esbuild input of examples/sipjs/build.mjs).
  write(root, 'packages/core/dist/callstats.min.js', await bundle('packages/core/src/browser.ts', { sourcemap: false }));
  const adapter = await esbuild.build({
    entryPoints: [join(REPO_ROOT, 'packages/sipjs/src/index.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    external: ['@callmetry/core'],
    logLevel: 'silent',
  });
  const adapterText = adapter.outputFiles[0]!.text;
  // Like the rollup build: the only runtime import is the peer dependency.
  expect(adapterText.match(/^import .*$/gm)).toEqual([expect.stringMatching(/from "@callmetry\/core";$/)]);
  write(root, 'packages/sipjs/dist/index.mjs', adapterText);
  const sip = await esbuild.build({
    stdin: { contents: "import * as SIP from 'sip.js'; globalThis.SIP = SIP;", resolveDir: join(REPO_ROOT, 'examples/sipjs'), sourcefile: 'sip-global.js' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
  });
  write(root, 'examples/sipjs/dist/sip.js', sip.outputFiles[0]!.text);
  return root;
}

describe('examples/sipjs served by the collector', () => {
  const getBrowser = useBrowser();
  let kam: KamailioServer | undefined;
  let collector: Collector | undefined;
  let root: string | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    requireNamespace();
    root = await buildRepoRoot();
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

  async function openPhone(user: string, extra: Record<string, string>): Promise<{ page: Page; errors: string[] }> {
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
    const q = new URLSearchParams({ ws: kam!.wsUrl, domain: kam!.domain, user, ice: 'none', ...extra });
    await page.goto(`${collector!.url}examples/sipjs/?${q}`, { waitUntil: 'load' });
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

  test('register, call (auto-answer), hold, mute, hang up: both fabrics reach the collector', async () => {
    const [alice, bob] = await Promise.all([openPhone('alice', { target: 'bob' }), openPhone('bob', { autoanswer: '1' })]);
    await alice.page.click('#call');
    await Promise.all([logHas(alice.page, 'event fabricSetup'), logHas(bob.page, 'event fabricSetup')]);
    await alice.page.click('#hold');
    await Promise.all([logHas(alice.page, 'event fabricHold {"originator":"local"}'), logHas(bob.page, 'event fabricHold {"originator":"remote"}')]);
    await logHas(alice.page, 'on hold');
    await alice.page.click('#hold'); // now "Unhold"
    await Promise.all([logHas(alice.page, 'event fabricResume {"originator":"local"}'), logHas(bob.page, 'event fabricResume {"originator":"remote"}')]);
    await alice.page.click('#mute');
    await Promise.all([logHas(alice.page, 'event audioMute'), logHas(alice.page, 'event videoPause')]);
    await alice.page.click('#mute'); // now "Unmute"
    await Promise.all([logHas(alice.page, 'event audioUnmute'), logHas(alice.page, 'event videoResume')]);
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
  });

  test('a declined call shows callUnAnswered with the SIP status', async () => {
    const [carol, dave] = await Promise.all([openPhone('carol', { target: 'dave' }), openPhone('dave', {})]);
    await carol.page.click('#call');
    await logHas(dave.page, 'incoming call');
    await dave.page.click('#decline');
    await logHas(carol.page, 'event callUnAnswered {"cause":"noAnswer","originator":"remote","statusCode":480,"reasonPhrase":"Temporarily Unavailable"}');
    await logHas(carol.page, 'error applicationLog (applicationLog): 480 Temporarily Unavailable (INVITE to sip:dave@');
    await logHas(dave.page, 'error applicationLog (applicationLog): incoming call from sip:carol@');
    await logHas(carol.page, 'event fabricTerminated');
  });
});
