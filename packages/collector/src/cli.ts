#!/usr/bin/env node
// `callmetry-collector`: see --help and packages/collector/README.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Api from './index';

// The CLI loads the library entry at run time (index.mjs, index.cjs, or index.ts from source)
// instead of importing it, so the build makes two self-contained entries and no shared chunk.
function libraryUrl(): string {
  const self = fileURLToPath(import.meta.url);
  const ext = self.endsWith('.cjs') ? '.cjs' : self.endsWith('.mjs') ? '.mjs' : '.ts';
  return new URL(`./index${ext}`, import.meta.url).href;
}

async function main(): Promise<number> {
  const { parseCliArgs, createConsoleLogger, startCollector } = (await import(libraryUrl())) as typeof Api;
  const parsed = parseCliArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`callmetry-collector: ${parsed.message}\n`);
    return 2;
  }
  const c = parsed.config;
  const logger = createConsoleLogger(c.logLevel);
  if (c.demoApp) {
    logger.warn('no app configured (--app id:secret or CALLMETRY_APPS): using the demo app demo-app:demo-secret; do not use it in production');
  }
  if (c.db === ':memory:') logger.warn('database is :memory: : data is lost when the collector stops');
  const collector = await startCollector({
    apps: c.apps,
    port: c.port,
    host: c.host,
    db: c.db,
    serveExamples: c.serveExamples,
    ...(c.repoRoot !== undefined ? { repoRoot: c.repoRoot } : {}),
    summaryDelayMs: c.summaryDelayMs,
    authFailuresPerMinute: c.authFailuresPerMinute,
    trustProxy: c.trustProxy,
    maxConnections: c.maxConnections,
    maxConnectionsPerAddress: c.maxConnectionsPerAddress,
    readerWorkers: c.readerWorkers,
    readerQueue: c.readerQueue,
    readerTimeoutMs: c.readerTimeoutMs,
    readerHeapMb: c.readerHeapMb,
    logger,
  });
  process.stdout.write(`Callmetry collector: dashboard at ${collector.url}\n`);
  if (c.serveExamples) process.stdout.write(`Examples at ${collector.url}examples/\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    collector.close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error('stop failed', { error: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`callmetry-collector: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
