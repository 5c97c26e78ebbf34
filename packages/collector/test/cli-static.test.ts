import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../src/index';
import { start, type TestCollector } from './helpers';
import { DEFAULT_READER_HEAP_MB } from '../src/storage/readerPool';
import { getHeapStatistics } from 'node:v8';

describe('parseCliArgs', () => {
  it('has defaults and a demo app when none is given', () => {
    const r = parseCliArgs([], {});
    expect(r).toEqual({
      kind: 'run',
      config: {
        port: 8080,
        host: '127.0.0.1',
        db: './callmetry.sqlite',
        apps: [{ appID: 'demo-app', secret: 'demo-secret' }],
        demoApp: true,
        serveExamples: false,
        repoRoot: undefined,
        summaryDelayMs: 30_000,
        authFailuresPerMinute: 20,
        trustProxy: false,
        maxConnections: 10_000,
        maxConnectionsPerAddress: 1000,
        readerWorkers: 1,
        readerQueue: 8,
        readerTimeoutMs: 60_000,
        readerHeapMb: DEFAULT_READER_HEAP_MB,
        logLevel: 'info',
      },
    });
  });

  it('reads flags, repeatable --app, and lets flags win over the environment', () => {
    const env = { CALLMETRY_PORT: '9000', CALLMETRY_HOST: '0.0.0.0', CALLMETRY_APPS: 'e1:s1,e2:s:2', CALLMETRY_DB: ':memory:' };
    const fromEnv = parseCliArgs([], env);
    expect(fromEnv.kind === 'run' && fromEnv.config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      db: ':memory:',
      apps: [
        { appID: 'e1', secret: 's1' },
        { appID: 'e2', secret: 's:2' },
      ],
      demoApp: false,
    });
    const flags = parseCliArgs(
      ['--port', '0', '--host', '::1', '--db', '/tmp/x.sqlite', '--app', 'a:1', '--app', 'b:2', '--serve-examples', '--summary-delay', '0.5'],
      env,
    );
    expect(flags.kind === 'run' && flags.config).toMatchObject({
      port: 0,
      host: '::1',
      db: '/tmp/x.sqlite',
      apps: [
        { appID: 'a', secret: '1' },
        { appID: 'b', secret: '2' },
      ],
      serveExamples: true,
      summaryDelayMs: 500,
    });
    expect(parseCliArgs([], { CALLMETRY_SERVE_EXAMPLES: 'true' })).toMatchObject({ config: { serveExamples: true } });
    expect(parseCliArgs(['--auth-failures', '5', '--trust-proxy'], { CALLMETRY_AUTH_FAILURES: '9' })).toMatchObject({ config: { authFailuresPerMinute: 5, trustProxy: true } });
    expect(parseCliArgs([], { CALLMETRY_AUTH_FAILURES: '0', CALLMETRY_TRUST_PROXY: '1' })).toMatchObject({ config: { authFailuresPerMinute: 0, trustProxy: true } });
    const readerEnv = { CALLMETRY_READER_WORKERS: '0', CALLMETRY_READER_QUEUE: '3', CALLMETRY_READER_TIMEOUT: '2.5' };
    expect(parseCliArgs([], readerEnv)).toMatchObject({ config: { readerWorkers: 0, readerQueue: 3, readerTimeoutMs: 2500 } });
    expect(parseCliArgs(['--reader-workers', '2', '--reader-queue', '0', '--reader-timeout', '90'], readerEnv)).toMatchObject({
      config: { readerWorkers: 2, readerQueue: 0, readerTimeoutMs: 90_000 },
    });
    // The default: 3072 MB, never more than this process's own heap limit (small containers).
    expect(DEFAULT_READER_HEAP_MB).toBe(Math.min(3072, Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20)));
    expect(parseCliArgs([], { CALLMETRY_READER_HEAP_MB: '512' })).toMatchObject({ config: { readerHeapMb: 512 } });
    expect(parseCliArgs(['--reader-heap-mb', '4096'], { CALLMETRY_READER_HEAP_MB: '512' })).toMatchObject({ config: { readerHeapMb: 4096 } });
    const connectionEnv = { CALLMETRY_MAX_CONNECTIONS: '500', CALLMETRY_MAX_CONNECTIONS_PER_ADDRESS: '50' };
    expect(parseCliArgs([], connectionEnv)).toMatchObject({ config: { maxConnections: 500, maxConnectionsPerAddress: 50 } });
    expect(parseCliArgs(['--max-connections', '3', '--max-connections-per-address=2'], connectionEnv)).toMatchObject({
      config: { maxConnections: 3, maxConnectionsPerAddress: 2 },
    });
  });

  it('explains bad input', () => {
    expect(parseCliArgs(['--port', 'http'], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('port') });
    expect(parseCliArgs(['--app', 'nosecret'], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('appID:secret') });
    expect(parseCliArgs(['--app', 'a:1', '--app', 'a:2'], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('twice') });
    expect(parseCliArgs(['--bogus'], {})).toMatchObject({ kind: 'error' });
    expect(parseCliArgs(['--auth-failures=-1'], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('auth failure limit') });
    expect(parseCliArgs([], { CALLMETRY_AUTH_FAILURES: 'many' })).toMatchObject({ kind: 'error', message: expect.stringContaining('auth failure limit') });
    expect(parseCliArgs(['--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('--serve-examples') });
    expect(parseCliArgs(['--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('--auth-failures') });
    for (const [flag, value, what] of [
      ['--reader-workers', '-1', 'reader worker count'],
      ['--reader-workers', '65', 'reader worker count'],
      ['--reader-workers', '1.5', 'reader worker count'],
      ['--reader-queue', 'lots', 'reader queue'],
      ['--reader-timeout', '0', 'reader timeout'],
      ['--reader-timeout', 'soon', 'reader timeout'],
      ['--reader-heap-mb', '32', 'reader heap limit'],
      ['--reader-heap-mb', '1.5', 'reader heap limit'],
      ['--reader-heap-mb', '2GB', 'reader heap limit'],
      ['--reader-heap-mb', '', 'reader heap limit'],
      ['--max-connections', '0', 'connection limit'],
      ['--max-connections', '1e3', 'connection limit'],
      ['--max-connections-per-address', '-5', 'per-address connection limit'],
      ['--max-connections-per-address', '', 'per-address connection limit'],
    ] as const) {
      expect(parseCliArgs([`${flag}=${value}`], {}), `${flag}=${value}`).toMatchObject({ kind: 'error', message: expect.stringContaining(what) });
    }
    expect(parseCliArgs(['--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('--reader-workers') });
    expect(parseCliArgs(['--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('--reader-heap-mb') });
    expect(parseCliArgs(['--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('--max-connections-per-address') });
    expect(parseCliArgs([], { CALLMETRY_MAX_CONNECTIONS: 'lots' })).toMatchObject({ kind: 'error', message: expect.stringContaining('connection limit') });
  });
});

/** GET with the path sent as is (fetch would normalize "..") */
function rawGet(base: string, path: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files', () => {
  const repo = mkdtempSync(join(tmpdir(), 'callmetry-repo-'));
  let c: TestCollector;
  let plain: TestCollector;

  beforeAll(async () => {
    mkdirSync(join(repo, 'examples', 'demo'), { recursive: true });
    mkdirSync(join(repo, 'packages', 'core', 'dist'), { recursive: true });
    mkdirSync(join(repo, 'packages', 'core', 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(repo, 'examples', 'demo', 'index.html'), '<!doctype html><title>demo</title>');
    writeFileSync(join(repo, 'examples', '.env'), 'SECRET=1');
    writeFileSync(join(repo, 'packages', 'core', 'dist', 'callstats.min.js'), 'window.callstats = 1;');
    writeFileSync(join(repo, 'packages', 'core', 'node_modules', 'x', 'index.js'), 'x');
    writeFileSync(join(repo, 'secret.txt'), 'top secret');
    c = await start({ serveExamples: true, repoRoot: repo });
    plain = await start({ repoRoot: repo });
  });
  afterAll(async () => {
    await c.close();
    await plain.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('serves the dashboard and chart.js', async () => {
    const index = await rawGet(c.base, '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    expect(index.body).toContain('app.js');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    for (const f of ['/app.js', '/style.css']) expect((await rawGet(c.base, f)).status).toBe(200);
    const chart = await rawGet(c.base, '/vendor/chart.umd.js');
    expect(chart.status).toBe(200);
    expect(chart.headers['content-type']).toContain('javascript');
    expect(chart.body.length).toBeGreaterThan(100_000);
  });

  it('serves examples and packages read-only with --serve-examples', async () => {
    const page = await rawGet(c.base, '/examples/demo/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>demo</title>');
    expect((await rawGet(c.base, '/examples/demo')).status).toBe(301);
    expect((await rawGet(c.base, '/examples/')).body).toContain('demo/');
    const bundle = await rawGet(c.base, '/packages/core/dist/callstats.min.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toContain('javascript');
    expect(bundle.body).toBe('window.callstats = 1;');
    const put = await fetch(`${c.base}/packages/core/dist/callstats.min.js`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect((await rawGet(plain.base, '/examples/demo/')).status).toBe(404);
  });

  it('refuses directory traversal, dot-files and node_modules', async () => {
    for (const p of [
      '/examples/../secret.txt',
      '/examples/%2e%2e/secret.txt',
      '/examples/..%2fsecret.txt',
      '/packages/core/../../secret.txt',
      '/examples/.env',
      '/packages/core/node_modules/x/index.js',
      '/examples/%2e%2e%5csecret.txt',
      '/../secret.txt',
      '/examples/demo%00/index.html',
    ]) {
      const r = await rawGet(c.base, p);
      expect([400, 403, 404], p).toContain(r.status);
      expect(r.body, p).not.toContain('top secret');
      expect(r.body, p).not.toContain('SECRET=1');
    }
  });
});
