// Shared harness for browser tests (`*.browser.test.ts`): real Debian Chromium driven by
// playwright-core, page bundles built with esbuild from source, and a tiny static HTTP server on
// 127.0.0.1. Everything here expects to run inside the network namespace made by test/run.mjs.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { MIME, startHttpServer, type HttpServer } from './http';

// The HTTP server lives in ./http (no vitest import: usable from bench/examples scripts too).
export { serveStatic, startHttpServer } from './http';
export type { HttpServer, HttpServerOptions, Route, RouteHandler } from './http';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export { CHROMIUM_ARGS, CHROMIUM_PATH };

// ---------------------------------------------------------------------------------------------
// Network namespace
// ---------------------------------------------------------------------------------------------

export interface NetnsInfo {
  /** Namespace name (`callmetry-<pid>`). */
  netns: string;
  /** Non-loopback interface for Janus' `ice_enforce_list` (veth with 127.0.0.2/32). */
  janusIface: string;
  /** Address on `janusIface`. */
  janusIp: string;
}

/**
 * Throws unless this process runs inside the namespace created by test/run.mjs: checks the env
 * and that /proc/self/ns/net really is that namespace, so WebRTC never gathers real addresses.
 */
export function requireNamespace(): NetnsInfo {
  const netns = process.env.CALLMETRY_NETNS;
  if (!netns) {
    throw new Error(
      'Browser/network tests must run inside the test network namespace (CALLMETRY_NETNS is not set). ' +
        'Run them through `npm test` or `node test/run.mjs <path>` as root, not plain `vitest`.',
    );
  }
  const self = statSync('/proc/self/ns/net');
  const named = statSync(`/run/netns/${netns}`, { throwIfNoEntry: false });
  if (!named || named.ino !== self.ino || named.dev !== self.dev) {
    throw new Error(`CALLMETRY_NETNS=${netns} is set but this process is not inside that network namespace.`);
  }
  return {
    netns,
    janusIface: process.env.CALLMETRY_JANUS_IFACE ?? 'cmjanus0',
    janusIp: process.env.CALLMETRY_JANUS_IP ?? '127.0.0.2',
  };
}

// ---------------------------------------------------------------------------------------------
// Chromium
// ---------------------------------------------------------------------------------------------

export interface LaunchBrowserOptions {
  /** Extra Chromium flags, appended to CHROMIUM_ARGS. */
  args?: string[];
  /** Default true. */
  headless?: boolean;
}

/** Launch Debian's Chromium (inside the namespace only). Close it in afterAll, or use `useBrowser()`. */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  requireNamespace();
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (browser tests never skip).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

/**
 * vitest helper: `launch()` in beforeAll (within `timeoutMs`, vitest's default when omitted),
 * `close()` in afterAll; returns a getter that throws "`what` not launched yet" outside them.
 */
export function useLaunched<T>(what: string, launch: () => Promise<T>, close: (launched: T) => Promise<void>, timeoutMs?: number): () => T {
  let launched: T | undefined;
  beforeAll(async () => {
    launched = await launch();
  }, timeoutMs);
  afterAll(async () => {
    if (launched !== undefined) await close(launched);
    launched = undefined;
  });
  return () => {
    if (launched === undefined) throw new Error(`${what} not launched yet (use it inside tests/hooks)`);
    return launched;
  };
}

/** vitest helper: launches one browser in beforeAll, closes it in afterAll; returns a getter. */
export function useBrowser(options?: LaunchBrowserOptions): () => Browser {
  return useLaunched('useBrowser(): browser', () => launchBrowser(options), (browser) => browser.close());
}

// ---------------------------------------------------------------------------------------------
// esbuild page bundles
// ---------------------------------------------------------------------------------------------

export interface BundleOptions {
  /** IIFE global name for the entry's exports (e.g. 'page' -> window.page). */
  globalName?: string;
  /** esbuild `define` (values are JS expressions, e.g. '"x"'). */
  define?: Record<string, string>;
  minify?: boolean;
  /** Inline source map (default true): page errors show source positions. */
  sourcemap?: boolean;
}

let workspacePackages: Map<string, string> | undefined;
/** `@callmetry/<x>` package name -> absolute path of packages/<folder>/src/index.ts. */
export function workspaceSourceEntries(): Map<string, string> {
  if (!workspacePackages) {
    workspacePackages = new Map();
    const dir = join(REPO_ROOT, 'packages');
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const pj = join(dir, d.name, 'package.json');
      if (!d.isDirectory() || !existsSync(pj)) continue;
      const { name } = JSON.parse(readFileSync(pj, 'utf8')) as { name: string };
      workspacePackages.set(name, join(dir, d.name, 'src', 'index.ts'));
    }
  }
  return workspacePackages;
}

const workspaceSourcePlugin: esbuild.Plugin = {
  name: 'callmetry-workspace-src',
  setup(build) {
    build.onResolve({ filter: /^@callmetry\/[\w.-]+$/ }, (args) => {
      const path = workspaceSourceEntries().get(args.path);
      return path ? { path } : undefined;
    });
  },
};

const bundleCache = new Map<string, Promise<string>>();

/**
 * Bundle a TS/JS page entry into one browser IIFE script (platform browser, @callmetry/* from
 * source). Relative paths resolve from the repo root; a file URL (`new URL('./p.ts',
 * import.meta.url)`) works too. Cached per entry + options for the life of the test process.
 */
export function bundle(entryFile: string | URL, options: BundleOptions = {}): Promise<string> {
  const entry = entryFile instanceof URL ? fileURLToPath(entryFile) : resolve(REPO_ROOT, entryFile);
  const key = `${entry}\0${JSON.stringify(options)}`;
  let cached = bundleCache.get(key);
  if (!cached) {
    cached = esbuild
      .build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        absWorkingDir: REPO_ROOT,
        sourcemap: options.sourcemap === false ? false : 'inline',
        minify: options.minify ?? false,
        logLevel: 'silent',
        plugins: [workspaceSourcePlugin],
        ...(options.globalName ? { globalName: options.globalName } : {}),
        ...(options.define ? { define: options.define } : {}),
      })
      .then((r) => {
        const out = r.outputFiles[0];
        if (!out) throw new Error(`esbuild produced no output for ${entry}`);
        return out.text;
      })
      .catch((e: unknown) => {
        bundleCache.delete(key);
        const errors = (e as { errors?: esbuild.Message[] }).errors;
        const detail = errors?.length
          ? esbuild.formatMessagesSync(errors, { kind: 'error', color: false }).join('\n')
          : String(e);
        throw new Error(`bundle(${entry}) failed:\n${detail}`);
      });
    bundleCache.set(key, cached);
  }
  return cached;
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

export interface OpenPageOptions {
  /** Page entries (TS/JS files) bundled with `bundle()` and loaded in order. */
  scripts?: Array<string | URL>;
  /** Raw JS loaded after `scripts`. */
  inlineScripts?: string[];
  /** Body markup, placed before the scripts. */
  html?: string;
  /** Options for every bundle of `scripts`. */
  bundleOptions?: BundleOptions;
  /** Context to open the page in (not closed by `close()`); default: a fresh context per page. */
  context?: BrowserContext;
  /** Server to mount the page on (not closed by `close()`); default: a new one per page. */
  server?: HttpServer;
  /** Which console messages are printed to the test output: default 'errors' (errors + warnings). */
  console?: 'all' | 'errors' | 'none';
  /** Prefix for forwarded messages; default `page<n>`. */
  label?: string;
}

/** What a test needs of a page, in any browser (Chromium: openPage; Firefox: ./firefoxPage). */
export type BrowserPage = Pick<TestPage, 'url' | 'errors' | 'run' | 'close'>;

export interface TestPage {
  page: Page;
  context: BrowserContext;
  server: HttpServer;
  /** URL the page was loaded from. */
  url: string;
  /** Uncaught page errors, console.error messages, failed/4xx/5xx requests, crashes. */
  errors: string[];
  /** `runInPage(page, fn, arg)`. */
  run<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  /** Closes the page, and the context/server if openPage created them. */
  close(): Promise<void>;
}

let pageCounter = 0;
/** A new page path and label: `/p<n>/`, `page<n>` unless labelled. */
export function nextPageSlot(label?: string): { base: string; label: string } {
  const n = ++pageCounter;
  return { base: `/p${n}/`, label: label ?? `page${n}` };
}
const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Serves the page at `base` on `server`: its markup, then its bundled scripts and inline scripts, in order. */
export async function mountPage(
  server: HttpServer,
  base: string,
  label: string,
  options: Pick<OpenPageOptions, 'scripts' | 'inlineScripts' | 'html' | 'bundleOptions'>,
): Promise<void> {
  const scriptUrls: string[] = [];
  const codes = [
    ...(await Promise.all((options.scripts ?? []).map((s) => bundle(s, options.bundleOptions)))),
    ...(options.inlineScripts ?? []),
  ];
  codes.forEach((code, i) => {
    const path = `${base}script-${i}.js`;
    server.route(path, { body: code, type: MIME['.js'] });
    scriptUrls.push(path);
  });
  server.route(base, {
    body:
      `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(label)}</title></head><body>\n` +
      `${options.html ?? ''}\n` +
      scriptUrls.map((u) => `<script src="${u}"></script>`).join('\n') +
      '\n</body></html>',
    type: MIME['.html'],
  });
}

/**
 * Open a page served from http://127.0.0.1:<port>/ with the given bundles loaded (after `load`),
 * console errors and page errors forwarded to the test output and collected in `errors`.
 */
export async function openPage(browser: Browser, options: OpenPageOptions = {}): Promise<TestPage> {
  const { base, label } = nextPageSlot(options.label);
  const ownServer = !options.server;
  const server = options.server ?? (await startHttpServer());
  const ownContext = !options.context;
  const context = options.context ?? (await browser.newContext());

  await mountPage(server, base, label, options);

  const errors: string[] = [];
  const mode = options.console ?? 'errors';
  const page = await context.newPage();
  page.on('console', (m) => {
    const type = m.type();
    const loc = m.location();
    const text = `${m.text()}${loc.url ? ` (${loc.url.replace(server.origin, '')}:${loc.lineNumber})` : ''}`;
    if (type === 'error') errors.push(`console.error: ${text}`);
    if (mode === 'all' || (mode === 'errors' && (type === 'error' || type === 'warning'))) {
      console.error(`[${label} ${type}] ${text}`);
    }
  });
  page.on('pageerror', (e) => {
    errors.push(`pageerror: ${e.stack ?? e.message}`);
    if (mode !== 'none') console.error(`[${label} pageerror] ${e.stack ?? e.message}`);
  });
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('crash', () => errors.push('page crashed'));

  const url = server.url(base);
  try {
    await page.goto(url, { waitUntil: 'load' });
  } catch (e) {
    await page.close().catch(() => {});
    if (ownContext) await context.close().catch(() => {});
    if (ownServer) await server.close();
    throw e;
  }

  return {
    page,
    context,
    server,
    url,
    errors,
    run: (fn, arg) => runInPage(page, fn, arg),
    close: async () => {
      await page.close().catch(() => {});
      if (ownContext) await context.close().catch(() => {});
      if (ownServer) await server.close();
    },
  };
}

/**
 * Run `fn(arg)` in the page and return its (awaited) result through JSON.stringify/parse, so
 * what comes back is exactly what is JSON-serializable (Maps/RTCStatsReport: convert first).
 * `fn` is sent as source text: it must not close over Node-side variables; pass them as `arg`.
 */
export async function runInPage<R, A = undefined>(
  page: Page,
  fn: (arg: A) => R | Promise<R>,
  arg?: A,
): Promise<Awaited<R>> {
  const json = await page.evaluate(
    async ({ src, a }: { src: string; a: unknown }) => {
      // Indirect eval: evaluates the function source in the page's global scope.
      const f = (0, eval)(`(${src})`) as (x: unknown) => unknown;
      const r = await f(a);
      return r === undefined ? undefined : JSON.stringify(r);
    },
    { src: fn.toString(), a: arg as unknown },
  );
  return (json === undefined ? undefined : JSON.parse(json)) as Awaited<R>;
}
