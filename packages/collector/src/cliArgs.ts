// Command line and environment of `callmetry-collector` (flags win over environment variables).
import { parseArgs } from 'node:util';
import { DEFAULT_READER_HEAP_MB } from './storage/readerPool';
import type { AppCredentials, CliParse, LogLevel } from './types';

/** The least --reader-heap-mb accepted: below it a large-ish read fails at once for no good reason. */
const MIN_READER_HEAP_MB = 64;

export const DEMO_APP: AppCredentials = { appID: 'demo-app', secret: 'demo-secret' };

export const HELP = `Usage: callmetry-collector [options]

Self-hosted Callmetry collector: token endpoint, ingest (WebSocket + HTTP), SQLite storage,
query API and dashboard.

Options (environment variable in brackets; flags win):
  -p, --port <n>           TCP port (default 8080; 0 = any free port)        [CALLMETRY_PORT]
      --host <addr>        interface to listen on (default 127.0.0.1)         [CALLMETRY_HOST]
      --db <path>          SQLite file, or :memory: (default ./callmetry.sqlite) [CALLMETRY_DB]
      --app <id:secret>    an app allowed to send and read data; repeatable   [CALLMETRY_APPS="id:secret,id2:secret2"]
                           (none given: the demo app demo-app:demo-secret, with a warning)
      --serve-examples     also serve <repo>/examples at /examples/ and <repo>/packages at
                           /packages/ (read-only)                             [CALLMETRY_SERVE_EXAMPLES=1]
      --repo-root <dir>    the repo for --serve-examples (default: two folders above the package)
                                                                              [CALLMETRY_REPO_ROOT]
      --summary-delay <s>  summarize a conference this many seconds after its last data
                           (default 30)                                       [CALLMETRY_SUMMARY_DELAY]
      --auth-failures <n>  failed authentications (wrong secret, forged signature, unknown
                           app) per client address per minute before it gets 429 for the
                           rest of the minute (default 20; 0 = no limit)      [CALLMETRY_AUTH_FAILURES]
      --trust-proxy        client address = last X-Forwarded-For entry (behind a reverse
                           proxy that always sets it)                         [CALLMETRY_TRUST_PROXY=1]
      --max-connections <n>
                           WebSocket ingest connections open at once, in all; one more
                           upgrade gets 503 too_many_connections with Retry-After
                           (default 10000; HTTP ingest is not counted)        [CALLMETRY_MAX_CONNECTIONS]
      --max-connections-per-address <n>
                           the same from one client address (default 1000: many SDK
                           clients can share an office NAT; see --trust-proxy)
                                                                              [CALLMETRY_MAX_CONNECTIONS_PER_ADDRESS]
      --reader-workers <n> worker threads that read whole conferences (the query API's
                           conference view, summaries) off the main thread, from a SQLite
                           file (default 1; 0 = in the main thread; a :memory: database is
                           always read in the main thread)                    [CALLMETRY_READER_WORKERS]
      --reader-queue <n>   conference reads that may wait for a reader; one more gets
                           503 busy with Retry-After (default 8)              [CALLMETRY_READER_QUEUE]
      --reader-timeout <s> a conference read not done after this many seconds gets
                           503 timeout (default 60)                           [CALLMETRY_READER_TIMEOUT]
      --reader-heap-mb <n> JavaScript heap limit of each reader thread, in MB; a read that
                           needs more gets 500 reader_failed and its thread is replaced
                           (default 3072)                                     [CALLMETRY_READER_HEAP_MB]
      --log-level <level>  debug, info, warn or error (default info)          [CALLMETRY_LOG_LEVEL]
  -h, --help               this help
      --version            print the version
`;

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function parseApp(spec: string, where: string): AppCredentials | string {
  const s = spec.trim();
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) return `${where}: expected appID:secret, got ${JSON.stringify(spec)}`;
  const appID = s.slice(0, colon);
  if (appID.length > 256 || /[\s,]/.test(appID)) return `${where}: bad appID ${JSON.stringify(appID)}`;
  return { appID, secret: s.slice(colon + 1) };
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliParse {
  let values: {
    port?: string;
    host?: string;
    db?: string;
    app?: string[];
    'serve-examples'?: boolean;
    'repo-root'?: string;
    'summary-delay'?: string;
    'auth-failures'?: string;
    'trust-proxy'?: boolean;
    'max-connections'?: string;
    'max-connections-per-address'?: string;
    'reader-workers'?: string;
    'reader-queue'?: string;
    'reader-timeout'?: string;
    'reader-heap-mb'?: string;
    'log-level'?: string;
    help?: boolean;
    version?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        db: { type: 'string' },
        app: { type: 'string', multiple: true },
        'serve-examples': { type: 'boolean' },
        'repo-root': { type: 'string' },
        'summary-delay': { type: 'string' },
        'auth-failures': { type: 'string' },
        'trust-proxy': { type: 'boolean' },
        'max-connections': { type: 'string' },
        'max-connections-per-address': { type: 'string' },
        'reader-workers': { type: 'string' },
        'reader-queue': { type: 'string' },
        'reader-timeout': { type: 'string' },
        'reader-heap-mb': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return { kind: 'error', message: `${e instanceof Error ? e.message : String(e)} (see --help)` };
  }
  if (values.help) return { kind: 'help', text: HELP };
  if (values.version) return { kind: 'version' };

  const portText = values.port ?? env.CALLMETRY_PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText.trim()) || port > 65535) return { kind: 'error', message: `bad port ${JSON.stringify(portText)}` };

  const apps: AppCredentials[] = [];
  if (values.app && values.app.length > 0) {
    for (const spec of values.app) {
      const a = parseApp(spec, '--app');
      if (typeof a === 'string') return { kind: 'error', message: a };
      apps.push(a);
    }
  } else if (env.CALLMETRY_APPS && env.CALLMETRY_APPS.trim() !== '') {
    for (const spec of env.CALLMETRY_APPS.split(',')) {
      if (spec.trim() === '') continue;
      const a = parseApp(spec, 'CALLMETRY_APPS');
      if (typeof a === 'string') return { kind: 'error', message: a };
      apps.push(a);
    }
  }
  const seen = new Set<string>();
  for (const a of apps) {
    if (seen.has(a.appID)) return { kind: 'error', message: `app ${a.appID} is given twice` };
    seen.add(a.appID);
  }
  const demoApp = apps.length === 0;
  if (demoApp) apps.push({ ...DEMO_APP });

  const delayText = values['summary-delay'] ?? env.CALLMETRY_SUMMARY_DELAY ?? '30';
  const delay = Number(delayText);
  if (!Number.isFinite(delay) || delay < 0) return { kind: 'error', message: `bad summary delay ${JSON.stringify(delayText)} (seconds)` };

  const failuresText = values['auth-failures'] ?? env.CALLMETRY_AUTH_FAILURES ?? '20';
  if (!/^\d+$/.test(failuresText.trim())) return { kind: 'error', message: `bad auth failure limit ${JSON.stringify(failuresText)} (a whole number; 0 = no limit)` };

  const connectionsText = values['max-connections'] ?? env.CALLMETRY_MAX_CONNECTIONS ?? '10000';
  const perAddressText = values['max-connections-per-address'] ?? env.CALLMETRY_MAX_CONNECTIONS_PER_ADDRESS ?? '1000';
  for (const [text, what] of [
    [connectionsText, 'connection limit'],
    [perAddressText, 'per-address connection limit'],
  ] as const) {
    if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < 1) return { kind: 'error', message: `bad ${what} ${JSON.stringify(text)} (a whole number >= 1)` };
  }

  const workersText = values['reader-workers'] ?? env.CALLMETRY_READER_WORKERS ?? '1';
  if (!/^\d{1,2}$/.test(workersText.trim()) || Number(workersText) > 64) {
    return { kind: 'error', message: `bad reader worker count ${JSON.stringify(workersText)} (0 to 64)` };
  }
  const queueText = values['reader-queue'] ?? env.CALLMETRY_READER_QUEUE ?? '8';
  if (!/^\d{1,5}$/.test(queueText.trim())) return { kind: 'error', message: `bad reader queue ${JSON.stringify(queueText)} (a whole number)` };
  const timeoutText = values['reader-timeout'] ?? env.CALLMETRY_READER_TIMEOUT ?? '60';
  const timeout = Number(timeoutText);
  if (timeoutText.trim() === '' || !Number.isFinite(timeout) || timeout <= 0) {
    return { kind: 'error', message: `bad reader timeout ${JSON.stringify(timeoutText)} (seconds, > 0)` };
  }

  const heapText = values['reader-heap-mb'] ?? env.CALLMETRY_READER_HEAP_MB ?? String(DEFAULT_READER_HEAP_MB);
  if (!/^\d{1,7}$/.test(heapText.trim()) || Number(heapText) < MIN_READER_HEAP_MB) {
    return { kind: 'error', message: `bad reader heap limit ${JSON.stringify(heapText)} (MB, a whole number >= ${MIN_READER_HEAP_MB})` };
  }

  const level = (values['log-level'] ?? env.CALLMETRY_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) return { kind: 'error', message: `bad log level ${JSON.stringify(level)}` };

  return {
    kind: 'run',
    config: {
      port,
      host: values.host ?? env.CALLMETRY_HOST ?? '127.0.0.1',
      db: values.db ?? env.CALLMETRY_DB ?? './callmetry.sqlite',
      apps,
      demoApp,
      serveExamples: values['serve-examples'] ?? truthy(env.CALLMETRY_SERVE_EXAMPLES),
      repoRoot: values['repo-root'] ?? env.CALLMETRY_REPO_ROOT,
      summaryDelayMs: Math.round(delay * 1000),
      authFailuresPerMinute: Number(failuresText),
      trustProxy: values['trust-proxy'] ?? truthy(env.CALLMETRY_TRUST_PROXY),
      maxConnections: Number(connectionsText),
      maxConnectionsPerAddress: Number(perAddressText),
      readerWorkers: Number(workersText),
      readerQueue: Number(queueText),
      readerTimeoutMs: Math.max(1, Math.round(timeout * 1000)),
      readerHeapMb: Number(heapText),
      logLevel: level as LogLevel,
    },
  };
}
