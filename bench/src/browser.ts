// Chromium for the benchmark, outside vitest: Debian's /usr/bin/chromium through playwright-core,
// pages served by the test harness' tiny HTTP server (test/harness/http.ts) on 127.0.0.1 with
// COOP/COEP headers, so that the pages are cross-origin isolated and performance.now() has its
// fine (5 us) resolution instead of 100 us. Must run inside the benchmark's network namespace.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { CHROMIUM_ARGS as HARNESS_CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/harness/chromium';
import { startHttpServer, type HttpServer } from '../../test/harness/http';
import { coreSourcePlugin, jitsiUtilsPlugin, BENCH_NODE_MODULES } from './bundle';
import { BENCH_DIR, REPO_ROOT, log } from './util';

export { CHROMIUM_PATH };
const CHROMIUM_ARGS = [
  ...HARNESS_CHROMIUM_ARGS,
  // Timers of a page in a headless tab must not be throttled while we measure at 1 s.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Refuses to start Chromium outside the namespace run.mjs made (no real interface may be used). */
function requireNamespace(): void {
  const ns = process.env.CALLMETRY_BENCH_NETNS;
  if (!ns) throw new Error('the browser parts of the benchmark run inside the namespace made by bench/run.mjs (npm run bench)');
  const self = statSync('/proc/self/ns/net');
  const named = statSync(`/run/netns/${ns}`, { throwIfNoEntry: false });
  if (!named || named.ino !== self.ino || named.dev !== self.dev) throw new Error(`not inside network namespace ${ns}`);
}

export interface Bench {
  browser: Browser;
  server: HttpServer;
  open(entry: string, options?: OpenOptions): Promise<BenchPage>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Extra scripts loaded before the page bundle (path on the server). */
  preScripts?: string[];
  html?: string;
  label?: string;
}

export interface BenchPage {
  page: Page;
  context: BrowserContext;
  url: string;
  errors: string[];
  cdp(): Promise<CDPSession>;
  /** Calls `window.bench[fn](arg)` in the page and returns its JSON result. */
  call<R>(fn: string, arg?: unknown): Promise<R>;
  close(): Promise<void>;
}

const bundles = new Map<string, Promise<string>>();

/** A page entry of bench/src/pages bundled into one IIFE (core from source, peers from bench/node_modules). */
export function bundlePage(entry: string): Promise<string> {
  let p = bundles.get(entry);
  if (!p) {
    p = esbuild
      .build({
        entryPoints: [join(BENCH_DIR, 'src', 'pages', entry)],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        minify: false,
        sourcemap: 'inline',
        absWorkingDir: REPO_ROOT,
        nodePaths: [BENCH_NODE_MODULES],
        define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
        logLevel: 'silent',
        plugins: [coreSourcePlugin, jitsiUtilsPlugin],
      })
      .then((r) => {
        const out = r.outputFiles[0];
        if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
        return out.text;
      });
    bundles.set(entry, p);
  }
  return p;
}

let pageCounter = 0;

export async function startBench(fixtures: Record<string, unknown>): Promise<Bench> {
  requireNamespace();
  const server = await startHttpServer();
  // Same-origin resources the pages load: fixtures, the built SDK, peers' files read as text.
  for (const [name, data] of Object.entries(fixtures)) {
    server.route(`/fx/${name}.json`, { body: JSON.stringify(data), type: 'application/json', headers: ISOLATION_HEADERS });
  }
  server.route('/sdk/callstats.min.js', {
    body: new Uint8Array(readFileSync(join(REPO_ROOT, 'packages', 'core', 'dist', 'callstats.min.js'))),
    type: 'text/javascript; charset=utf-8',
    headers: ISOLATION_HEADERS,
  });
  server.route('/peer/callstats.min.js.txt', {
    body: new Uint8Array(readFileSync(join(BENCH_NODE_MODULES, 'callstats-js', 'callstats.min.js'))),
    type: 'text/plain; charset=utf-8',
    headers: ISOLATION_HEADERS,
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  log(`Chromium ${browser.version()} (namespace ${process.env.CALLMETRY_BENCH_NETNS})`);

  async function open(entry: string, options: OpenOptions = {}): Promise<BenchPage> {
    const n = ++pageCounter;
    const label = options.label ?? entry.replace(/\.ts$/, '');
    const base = `/p${n}/`;
    const code = await bundlePage(entry);
    server.route(`${base}page.js`, { body: code, type: 'text/javascript; charset=utf-8', headers: ISOLATION_HEADERS });
    const scripts = [...(options.preScripts ?? []), `${base}page.js`];
    server.route(base, {
      body:
        `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${label}</title></head><body>\n` +
        `${options.html ?? ''}\n${scripts.map((s) => `<script src="${s}"></script>`).join('\n')}\n</body></html>`,
      type: 'text/html; charset=utf-8',
      headers: ISOLATION_HEADERS,
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => {
      errors.push(e.message);
      log(`[${label} pageerror] ${e.message}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
      if (process.env.CALLMETRY_BENCH_VERBOSE || m.type() === 'error') log(`[${label} ${m.type()}] ${m.text().slice(0, 300)}`);
    });
    page.on('crash', () => errors.push('page crashed'));
    await page.goto(server.url(base), { waitUntil: 'load' });
    const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    if (!isolated) log(`[${label}] WARNING: page is not cross-origin isolated: performance.now() is coarse (100 us)`);
    let session: CDPSession | undefined;
    return {
      page,
      context,
      url: server.url(base),
      errors,
      async cdp() {
        session ??= await context.newCDPSession(page);
        return session;
      },
      async call<R>(fn: string, arg?: unknown): Promise<R> {
        const json = await page.evaluate(
          async ({ f, a }) => {
            const api = (globalThis as unknown as { bench?: Record<string, (x: unknown) => unknown> }).bench;
            const target = api?.[f];
            if (typeof target !== 'function') throw new Error(`window.bench.${f} is not defined`);
            return JSON.stringify(await target(a));
          },
          { f: fn, a: arg as unknown },
        );
        return (json === undefined ? undefined : JSON.parse(json)) as R;
      },
      async close() {
        await session?.detach().catch(() => {});
        await page.close().catch(() => {});
        await context.close().catch(() => {});
      },
    };
  }

  return {
    browser,
    server,
    open,
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}
