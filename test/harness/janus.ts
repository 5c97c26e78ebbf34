// Real Janus Gateway for the Janus adapter tests.
//
// startJanus({iface}) writes a minimal config folder into a fresh temp dir, starts the system's
// `janus` binary (Debian package `janus`, 1.1.x) in the foreground with it, waits until its
// WebSockets and HTTP transports are listening (as reported by *this* process's log, then a TCP
// accept and an HTTP `info` request that lists the plugins) and returns the URLs plus stop().
//
// What the generated config contains (see buildConfigs):
//   - janus.jcfg: configs_folder = the temp dir, nat.ice_enforce_list = iface (libnice ignores
//     loopback interfaces, so inside the test namespace Janus needs the veth with 127.0.0.2),
//     IPv6 off, every plugin but echotest and videoroom disabled, every transport but http and
//     websockets disabled (rabbitmq, mqtt, nanomsg, pfunix: Debian's mqtt config does not even
//     parse), loggers disabled, event handlers off.
//   - websockets on ws_ip 127.0.0.1, http on ip 127.0.0.1 (base path /janus), admin APIs off.
//   - videoroom: room 1234 "Demo Room" as in Debian's janus.plugin.videoroom.jcfg
//     (publishers = 6, bitrate 128000, fir_freq 10, secret "adminpwd"), publishers configurable.
//
// Missing binary, missing module folders or an interface without an IPv4 address throw with a
// clear message: tests using this never skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface StartJanusOptions {
  /** Network interface Janus may gather ICE candidates on (nat.ice_enforce_list). Required. */
  iface: string;
  /** WebSockets port on 127.0.0.1. Default: a free port picked at start. */
  wsPort?: number;
  /** HTTP (REST) port on 127.0.0.1. Default: a free port picked at start. */
  httpPort?: number;
  /** Janus debug_level 0-7 (default 4 = info). */
  debugLevel?: number;
  /** Max publishers in videoroom 1234 (default 6, as Debian's config). */
  roomPublishers?: number;
  /** Lost packets per second that trigger a 'slowlink' event (media.slowlink_threshold); default off. */
  slowlinkThreshold?: number;
  /** Path of the janus binary. Default: $JANUS_BIN, else `janus` on PATH, else /usr/bin/janus. */
  binary?: string;
  /** How long to wait for the transports before giving up (default 20000 ms). */
  startTimeoutMs?: number;
  /** Called for each line Janus writes (stdout and stderr), e.g. to forward to a test log. */
  onLog?: (line: string) => void;
}

export interface JanusServer {
  /** ws://127.0.0.1:<wsPort> (janus.js `server` option; protocol 'janus-protocol'). */
  wsUrl: string;
  /** http://127.0.0.1:<httpPort>/janus */
  httpUrl: string;
  wsPort: number;
  httpPort: number;
  /** PID of the janus process. */
  pid: number;
  /** The generated config folder (removed by stop()). */
  configDir: string;
  /** Everything Janus logged so far (stdout + stderr, colours off). */
  logs(): string;
  /** SIGTERM that PID, SIGKILL after 5 s, then remove the config folder. Idempotent. */
  stop(): Promise<void>;
}

/** Plugins and transports this harness keeps; everything else found is disabled. */
const KEEP_PLUGINS = ['libjanus_echotest.so', 'libjanus_videoroom.so'];
const KEEP_TRANSPORTS = ['libjanus_http.so', 'libjanus_websockets.so'];
/** Used only if a module folder cannot be listed. */
const FALLBACK_DISABLED_PLUGINS = [
  'libjanus_audiobridge.so', 'libjanus_duktape.so', 'libjanus_lua.so', 'libjanus_nosip.so',
  'libjanus_recordplay.so', 'libjanus_sip.so', 'libjanus_streaming.so', 'libjanus_textroom.so',
  'libjanus_videocall.so', 'libjanus_voicemail.so',
];
const FALLBACK_DISABLED_TRANSPORTS = [
  'libjanus_mqtt.so', 'libjanus_nanomsg.so', 'libjanus_pfunix.so', 'libjanus_rabbitmq.so',
];

const LOG_LIMIT = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------

function findBinary(explicit?: string): string {
  const tried: string[] = [];
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  else {
    if (process.env.JANUS_BIN) candidates.push(process.env.JANUS_BIN);
    for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'janus'));
    candidates.push('/usr/bin/janus', '/usr/local/bin/janus', '/opt/janus/bin/janus');
  }
  for (const c of candidates) {
    tried.push(c);
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  throw new Error(
    `Janus Gateway binary not found (tried ${[...new Set(tried)].join(', ')}). ` +
      'The Janus adapter tests need a real Janus: install Debian\'s package `janus` ' +
      '(apt-get install -y janus) or set JANUS_BIN to the binary.',
  );
}

interface ModuleFolders {
  plugins: string;
  transports: string;
  events: string;
  loggers: string;
}

/** Module folders: from the system janus.jcfg if there is one, else the usual install places. */
function findModuleFolders(binary: string): ModuleFolders {
  const fromSystemConfig: Partial<ModuleFolders> = {};
  for (const cfg of ['/etc/janus/janus.jcfg', '/usr/local/etc/janus/janus.jcfg', '/opt/janus/etc/janus/janus.jcfg']) {
    let text: string;
    try {
      text = readFileSync(cfg, 'utf8');
    } catch {
      continue;
    }
    for (const key of ['plugins', 'transports', 'events', 'loggers'] as const) {
      const m = new RegExp(`^\\s*${key}_folder\\s*=\\s*"([^"]+)"`, 'm').exec(text);
      if (m?.[1] && existsSync(m[1])) fromSystemConfig[key] = m[1];
    }
    if (fromSystemConfig.plugins && fromSystemConfig.transports) break;
  }
  const roots = [
    '/usr/lib/x86_64-linux-gnu/janus',
    '/usr/lib/aarch64-linux-gnu/janus',
    '/usr/lib/janus',
    '/usr/local/lib/janus',
    '/opt/janus/lib/janus',
  ];
  const pick = (key: keyof ModuleFolders): string => {
    const found = fromSystemConfig[key] ?? roots.map((r) => join(r, key)).find((d) => existsSync(d));
    if (!found) {
      throw new Error(
        `Janus ${key} folder not found (looked in /etc/janus/janus.jcfg and ${roots.join(', ')}) ` +
          `for binary ${binary}: is the Debian package \`janus\` fully installed?`,
      );
    }
    return found;
  };
  return { plugins: pick('plugins'), transports: pick('transports'), events: pick('events'), loggers: pick('loggers') };
}

/** The `.so` modules in `folder` not in `keep` (Janus only loads files ending in `.so`). */
function toDisable(folder: string, keep: string[], fallback: string[]): string[] {
  let files: string[];
  try {
    files = readdirSync(folder).filter((f) => f.endsWith('.so'));
  } catch {
    return fallback;
  }
  for (const k of keep) {
    if (!files.includes(k)) throw new Error(`Janus module ${k} missing from ${folder}: the harness needs it.`);
  }
  return files.filter((f) => !keep.includes(f)).sort();
}

function assertInterface(iface: string): void {
  if (!iface) {
    throw new Error(
      'startJanus: no interface given. Janus (libnice) ignores loopback, so it needs the veth ' +
        'interface test/run.mjs creates (env CALLMETRY_JANUS_IFACE): run the tests through `npm test`.',
    );
  }
  if (iface === 'lo') {
    throw new Error('startJanus: iface "lo" cannot work: libnice skips loopback interfaces. Use the veth from test/run.mjs (CALLMETRY_JANUS_IFACE).');
  }
  const addrs = networkInterfaces()[iface]?.filter((a) => a.family === 'IPv4') ?? [];
  if (addrs.length === 0) {
    const seen = Object.keys(networkInterfaces()).join(', ') || 'none';
    throw new Error(
      `startJanus: interface "${iface}" has no IPv4 address in this network namespace (interfaces with ` +
        `addresses: ${seen}). Without it Janus gathers no ICE candidates. Run the tests through ` +
        '`npm test` (test/run.mjs creates the namespace and the veth with 127.0.0.2).',
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1000, () => done(false));
  });
}

const q = (s: string) => JSON.stringify(s); // jcfg strings use double quotes like JSON

interface ConfigInput {
  dir: string;
  iface: string;
  wsPort: number;
  httpPort: number;
  debugLevel: number;
  roomPublishers: number;
  slowlinkThreshold?: number;
  serverName: string;
  folders: ModuleFolders;
}

/** The files of the config folder, by name. */
export function buildConfigs(c: ConfigInput): Record<string, string> {
  const disabledPlugins = toDisable(c.folders.plugins, KEEP_PLUGINS, FALLBACK_DISABLED_PLUGINS);
  const disabledTransports = toDisable(c.folders.transports, KEEP_TRANSPORTS, FALLBACK_DISABLED_TRANSPORTS);
  let loggers: string[] = [];
  try {
    loggers = readdirSync(c.folders.loggers).filter((f) => f.endsWith('.so')).sort();
  } catch {
    /* no loggers folder content: nothing to disable */
  }
  const janus = `# Generated by test/harness/janus.ts for one test run.
general: {
	configs_folder = ${q(c.dir)}
	plugins_folder = ${q(c.folders.plugins)}
	transports_folder = ${q(c.folders.transports)}
	events_folder = ${q(c.folders.events)}
	loggers_folder = ${q(c.folders.loggers)}
	debug_level = ${c.debugLevel}
	server_name = ${q(c.serverName)}
	session_timeout = 60
}
certificates: {
}
media: {
	ipv6 = false
${c.slowlinkThreshold !== undefined ? `	slowlink_threshold = ${c.slowlinkThreshold}\n` : ''}}
nat: {
	nice_debug = false
	ice_enforce_list = ${q(c.iface)}
}
plugins: {
	disable = ${q(disabledPlugins.join(','))}
}
transports: {
	disable = ${q(disabledTransports.join(','))}
}
loggers: {
${loggers.length ? `	disable = ${q(loggers.join(','))}\n` : ''}}
events: {
	broadcast = false
}
`;
  const websockets = `general: {
	json = "compact"
	ws = true
	ws_port = ${c.wsPort}
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
`;
  const http = `general: {
	json = "compact"
	base_path = "/janus"
	http = true
	port = ${c.httpPort}
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
`;
  const echotest = `general: {
}
`;
  // Same room as Debian's janus.plugin.videoroom.jcfg (room-1234, "Demo Room"), publishers >= 3.
  const videoroom = `general: {
}
room-1234: {
	description = "Demo Room"
	secret = "adminpwd"
	publishers = ${c.roomPublishers}
	bitrate = 128000
	fir_freq = 10
	record = false
}
`;
  return {
    'janus.jcfg': janus,
    'janus.transport.websockets.jcfg': websockets,
    'janus.transport.http.jcfg': http,
    'janus.plugin.echotest.jcfg': echotest,
    'janus.plugin.videoroom.jcfg': videoroom,
  };
}

// ---------------------------------------------------------------------------------------------

export async function startJanus(options: StartJanusOptions): Promise<JanusServer> {
  const iface = options.iface;
  assertInterface(iface);
  const binary = findBinary(options.binary);
  const folders = findModuleFolders(binary);
  const roomPublishers = options.roomPublishers ?? 6;
  if (roomPublishers < 3) throw new Error('startJanus: roomPublishers must be >= 3');
  const wsPort = options.wsPort ?? (await freePort());
  let httpPort = options.httpPort ?? (await freePort());
  while (httpPort === wsPort) httpPort = await freePort();
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const serverName = `callmetry-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  const dir = await mkdtemp(join(tmpdir(), 'callmetry-janus-'));
  try {
    const files = buildConfigs({
      dir,
      iface,
      wsPort,
      httpPort,
      debugLevel: options.debugLevel ?? 4,
      roomPublishers,
      ...(options.slowlinkThreshold !== undefined ? { slowlinkThreshold: options.slowlinkThreshold } : {}),
      serverName,
      folders,
    });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  let log = '';
  let partial = '';
  const onChunk = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (log.length < LOG_LIMIT) log += text;
    if (options.onLog) {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.onLog(l);
    }
  };

  const args = ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'];
  const child: ChildProcess = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      exited = exited ?? { code: null, signal: null };
      resolve();
    });
  });

  // A test runner that dies without calling stop() must not leave this Janus behind.
  const killOnExit = () => {
    if (!exited && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const pid = child.pid;
      if (!exited && pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const killTimer = setTimeout(() => {
          if (!exited) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
        }, 5000);
        await exitPromise;
        clearTimeout(killTimer);
      }
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const failStart = async (why: string): Promise<never> => {
    await stop();
    throw new Error(
      `startJanus: ${why}\n  command: ${binary} ${args.join(' ')}\n  --- janus log ---\n${log.slice(-8000)}`,
    );
  };

  // Readiness: this process's log says both transports listen on our ports, the WS port accepts,
  // and the HTTP info (with our server name) lists the plugins we need.
  const wsStarted = new RegExp(`WebSockets server started \\(port ${wsPort}\\b`, 'i');
  const httpStarted = new RegExp(`HTTP webserver started \\(port ${httpPort}\\b`, 'i');
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (spawnError) return failStart(`could not run ${binary}: ${(spawnError as Error).message}`);
    if (exited) {
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      return failStart(`janus exited during start (code ${e.code}, signal ${e.signal})`);
    }
    if (/No WebSockets server started|Error creating vhost|Couldn't start webserver/.test(log)) {
      return failStart(`a transport could not listen (ws ${wsPort}, http ${httpPort}: port in use?)`);
    }
    if (wsStarted.test(log) && httpStarted.test(log) && (await tcpAccepts(wsPort))) break;
    if (Date.now() > deadline) return failStart(`transports not up after ${startTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const httpUrl = `http://127.0.0.1:${httpPort}/janus`;
  try {
    const res = await fetch(`${httpUrl}/info`);
    const info = (await res.json()) as { 'server-name'?: string; plugins?: Record<string, unknown> };
    if (info['server-name'] !== serverName) {
      return failStart(`port ${httpPort} is answered by another Janus (server-name ${String(info['server-name'])})`);
    }
    for (const p of ['janus.plugin.echotest', 'janus.plugin.videoroom']) {
      if (!info.plugins || !(p in info.plugins)) return failStart(`plugin ${p} not loaded`);
    }
  } catch (e) {
    return failStart(`HTTP info request failed: ${(e as Error).message}`);
  }

  return {
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    httpUrl,
    wsPort,
    httpPort,
    pid: child.pid as number,
    configDir: dir,
    logs: () => log,
    stop,
  };
}
