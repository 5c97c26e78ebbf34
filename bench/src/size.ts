// 1. Size: minified + gzipped bytes, one bundler (esbuild: bundle, minify, platform browser, ES2020)
// for everything, gzip level 9.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { coreSourcePlugin, jitsiUtilsPlugin } from './bundle';
import { BENCH_DIR, REPO_ROOT, log } from './util';

export interface SizeRow {
  name: string;
  what: string;
  minBytes: number;
  gzipBytes: number;
}

export interface AdapterSize extends SizeRow {
  adapter: string;
  /** gzip(core + adapter) - gzip(core), both re-bundled the same way. */
  overCoreGzip: number;
  /** What an app ships that imports only createMonitor and the adapter's attach function (tree-shaken). */
  appGzipBytes: number;
}

export interface SizeResult {
  ours: SizeRow[];
  adapters: AdapterSize[];
  missingAdapters: string[];
  peers: SizeRow[];
  /** The core figure the budget applies to (the larger of the built file and the esbuild re-bundle). */
  coreGzip: number;
  notes: string[];
  /** What is big (minified bytes by folder/file, from esbuild's metafile). */
  breakdown: string[];
}

const gz = (text: string | Uint8Array): number => gzipSync(text, { level: 9 }).length;

async function bundleMin(opts: {
  entry?: string;
  contents?: string;
  resolveDir?: string;
  format: 'esm' | 'iife';
  externalBare?: boolean;
  nodeModules?: string[];
}): Promise<{ text: string; inputs: Record<string, number> }> {
  const plugins: esbuild.Plugin[] = [coreSourcePlugin, jitsiUtilsPlugin];
  if (opts.externalBare) {
    plugins.push({
      name: 'external-libs',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path === '@callmetry/core' ? undefined : { path: args.path, external: true },
        );
      },
    });
  }
  const r = await esbuild.build({
    ...(opts.entry ? { entryPoints: [opts.entry] } : {}),
    ...(opts.contents !== undefined
      ? { stdin: { contents: opts.contents, resolveDir: opts.resolveDir ?? REPO_ROOT, loader: 'ts', sourcefile: 'entry.ts' } }
      : {}),
    bundle: true,
    write: false,
    minify: true,
    format: opts.format,
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: REPO_ROOT,
    ...(opts.nodeModules ? { nodePaths: opts.nodeModules } : {}),
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins,
  });
  const out = r.outputFiles?.[0];
  if (!out) throw new Error(`esbuild produced nothing for ${opts.entry ?? 'stdin'}`);
  const inputs: Record<string, number> = {};
  for (const o of Object.values(r.metafile?.outputs ?? {})) {
    for (const [path, info] of Object.entries(o.inputs)) inputs[path] = (inputs[path] ?? 0) + info.bytesInOutput;
  }
  return { text: out.text, inputs };
}

const ADAPTERS = ['sipjs', 'jssip', 'janus', 'mediasoup', 'twilio'] as const;
/** Each adapter's one-line entry point (what an app calls). */
const ATTACH: Record<(typeof ADAPTERS)[number], string> = {
  sipjs: 'attachSipJs',
  jssip: 'attachJsSip',
  janus: 'attachJanus',
  mediasoup: 'attachMediasoup',
  twilio: 'attachTwilio',
};

/** The peers' entries (package main/module, as a bundler resolves the package name). */
const PEERS: Array<{ name: string; contents: string; what: string }> = [
  { name: 'callstats-js 3.73.16', contents: "export * from 'callstats-js';\nexport { default } from 'callstats-js';", what: "package main (callstats.min.js, the original)" },
  { name: '@testrtc/watchrtc-sdk', contents: "export * from '@testrtc/watchrtc-sdk';", what: 'package main (lib/index.js, dependencies inlined by its build)' },
  { name: '@observertc/client-monitor-js', contents: "export * from '@observertc/client-monitor-js';", what: 'package module (dist/index.js) + eventemitter3, ua-parser-js' },
  { name: '@peermetrics/webrtc-stats', contents: "export * from '@peermetrics/webrtc-stats';", what: 'package main (dist/index.js) + events, uuid' },
  { name: '@jitsi/rtcstats', contents: "export { default as rtcstats } from '@jitsi/rtcstats/rtcstats';\nexport { default as traceWs } from '@jitsi/rtcstats/trace-ws';", what: 'rtcstats.js (main) + trace-ws.js (its sender) + js-utils, logger, sdp, uuid' },
];

export async function measureSize(): Promise<SizeResult> {
  const notes: string[] = [];
  const ours: SizeRow[] = [];

  const built = new Uint8Array(readFileSync(join(REPO_ROOT, 'packages', 'core', 'dist', 'callstats.min.js')));
  ours.push({ name: 'core dist/callstats.min.js', what: 'as built (rollup + terser, IIFE, global callstats + Callmetry)', minBytes: built.length, gzipBytes: gz(built) });

  const { text: browserIife } = await bundleMin({ entry: join(REPO_ROOT, 'packages', 'core', 'src', 'browser.ts'), format: 'iife' });
  ours.push({ name: 'core src/browser.ts (esbuild)', what: 'same entry as the built file, re-bundled with esbuild (IIFE)', minBytes: browserIife.length, gzipBytes: gz(browserIife) });

  const { text: coreEsm, inputs: coreInputs } = await bundleMin({ contents: "export * from '@callmetry/core';", format: 'esm' });
  const coreEsmGzip = gz(coreEsm);
  ours.push({ name: 'core src/index.ts (esbuild)', what: 'every export of @callmetry/core (ESM, nothing tree-shaken)', minBytes: coreEsm.length, gzipBytes: coreEsmGzip });

  // What is big: core's minified bytes by folder and by file (esbuild metafile, before gzip).
  const breakdown: string[] = [];
  const byDir = new Map<string, number>();
  const coreFiles: Array<[string, number]> = [];
  for (const [p, b] of Object.entries(coreInputs)) {
    if (!p.startsWith('packages/core/src/')) continue;
    const rel = p.slice('packages/core/src/'.length);
    const dir = rel.includes('/') ? `${rel.split('/')[0]}/` : rel;
    byDir.set(dir, (byDir.get(dir) ?? 0) + b);
    coreFiles.push([rel, b]);
  }
  breakdown.push(`core minified KB by folder: ${[...byDir].sort((x, y) => y[1] - x[1]).map(([d, b]) => `${d} ${(b / 1024).toFixed(1)}`).join(', ')}`);
  breakdown.push(`core largest files (minified KB): ${coreFiles.sort((x, y) => y[1] - x[1]).slice(0, 10).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)}`).join(', ')}`);

  const adapters: AdapterSize[] = [];
  const missingAdapters: string[] = [];
  const pkgDirs = new Set(readdirSync(join(REPO_ROOT, 'packages')));
  for (const a of ADAPTERS) {
    const entry = join(REPO_ROOT, 'packages', a, 'src', 'index.ts');
    if (!pkgDirs.has(a) || !existsSync(entry)) {
      missingAdapters.push(a);
      continue;
    }
    try {
      const { text, inputs } = await bundleMin({
        contents: `export * from '@callmetry/core';\nexport * from ${JSON.stringify(entry)};`,
        format: 'esm',
        externalBare: true,
      });
      const g = gz(text);
      // The typed API only (no callstats.js facade): what tree-shaking leaves for such an app.
      const { text: app } = await bundleMin({
        contents: `export { createMonitor } from '@callmetry/core';\nexport { ${ATTACH[a]} } from ${JSON.stringify(entry)};`,
        format: 'esm',
        externalBare: true,
      });
      const own = Object.entries(inputs)
        .filter(([p]) => p.startsWith(`packages/${a}/`))
        .sort((x, y) => y[1] - x[1])
        .map(([p, b]) => `${p.slice(`packages/${a}/src/`.length)} ${(b / 1024).toFixed(1)}`);
      breakdown.push(`@callmetry/${a} minified KB by file: ${own.join(', ')}`);
      adapters.push({ adapter: a, name: `core + @callmetry/${a}`, what: 'core (all exports) + adapter; the wrapped library external', minBytes: text.length, gzipBytes: g, overCoreGzip: g - coreEsmGzip, appGzipBytes: gz(app) });
    } catch (e) {
      log(`size: @callmetry/${a} does not bundle: ${String(e).split('\n')[0]}`);
      missingAdapters.push(`${a} (does not bundle)`);
    }
  }
  if (missingAdapters.length) notes.push(`Adapters not measured (no bundlable packages/<x>/src/index.ts yet): ${missingAdapters.join(', ')}.`);

  const peers: SizeRow[] = [];
  for (const p of PEERS) {
    const { text } = await bundleMin({ contents: p.contents, resolveDir: BENCH_DIR, format: 'esm', nodeModules: [join(BENCH_DIR, 'node_modules')] });
    peers.push({ name: p.name, what: p.what, minBytes: text.length, gzipBytes: gz(text) });
  }

  const coreGzip = Math.max(...ours.slice(0, 3).map((r) => r.gzipBytes));
  notes.push('Size: esbuild (bundle, minify, platform browser, target es2020, NODE_ENV=production), gzip -9; adapters: gzip(core + adapter) minus gzip(core), both as ESM with every core export kept. Info, an app on the typed API: an ESM entry that re-exports only createMonitor and the adapter\'s attach function, bundled the same way (tree-shaking drops the callstats.js facade and the unused exports).');
  return { ours, adapters, missingAdapters, peers, coreGzip, notes, breakdown };
}
