// Kamailio (SIP registrar/proxy with SIP over WebSocket) for the SIP.js and JsSIP adapter tests.
//
//   const kam = await startKamailio();          // random free ports on 127.0.0.1
//   new JsSIP.WebSocketInterface(kam.wsUrl);    // ws://127.0.0.1:<wsPort>, users sip:<u>@<kam.domain>
//   await kam.stop();
//
// The config is rendered from test/servers/kamailio/kamailio.cfg.tmpl into a temp folder; Kamailio
// runs in the foreground (`-DD -E`) as the leader of its own process group, so stop() ends it and
// every worker it forked. Missing Kamailio fails loudly: tests never skip. Start it inside the
// test network namespace (test/run.mjs): it only listens on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { accessSync, constants, readFileSync, writeFileSync, mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAMAILIO_TEMPLATE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'servers',
  'kamailio',
  'kamailio.cfg.tmpl',
);

export interface KamailioOptions {
  /** UDP+TCP port for plain SIP on 127.0.0.1. Default: a free port. */
  sipPort?: number;
  /** TCP port for the WebSocket upgrade on 127.0.0.1. Default: a free port. */
  wsPort?: number;
  /** SIP domain users register in (an alias of the proxy; never resolved). Default 'callmetry.test'. */
  domain?: string;
  /**
   * tm fr_inv_timer: how long an INVITE may ring before the proxy CANCELs the callee and
   * answers the caller 408. Default 60000 ms. Set it short to test 408.
   */
  inviteTimeoutMs?: number;
  /** Kamailio `debug` level (1 errors .. 3 info .. 4 debug). Default 2 (warnings), or env CALLMETRY_KAMAILIO_DEBUG. */
  debugLevel?: number;
  /** How long to wait for the WebSocket port to answer an upgrade. Default 15000 ms. */
  startTimeoutMs?: number;
  /** Kamailio binary. Default: `kamailio` on PATH, /usr/sbin, /usr/local/sbin. */
  binary?: string;
  /** Also copy Kamailio's log lines to this process' stderr (or env CALLMETRY_KAMAILIO_ECHO=1). */
  echo?: boolean;
}

export interface KamailioServer {
  /** `ws://127.0.0.1:<wsPort>` for SIP.js `transportOptions.server` / JsSIP `WebSocketInterface`. */
  readonly wsUrl: string;
  /** SIP domain: register as `sip:<user>@<domain>`. */
  readonly domain: string;
  readonly sipPort: number;
  readonly wsPort: number;
  /** PID of the main Kamailio process (also its process group id). */
  readonly pid: number;
  /** Rendered config (inside the temp dir; gone after stop()). */
  readonly configPath: string;
  /** Everything Kamailio wrote to stdout/stderr so far (the last ~4 MB). */
  logs(): string;
  /** The last `lines` lines of logs(). */
  logTail(lines?: number): string;
  /** SIGTERM to the process group, SIGKILL after `timeoutMs` (default 5000); removes the temp dir. */
  stop(timeoutMs?: number): Promise<void>;
}

const DEFAULT_DOMAIN = 'callmetry.test';
const LOG_CAP = 4 * 1024 * 1024;

/** Absolute path of the kamailio binary; throws a clear error when it is not installed. */
export function findKamailio(binary?: string): string {
  const candidates = binary
    ? [binary]
    : [
        ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'kamailio')),
        '/usr/sbin/kamailio',
        '/usr/local/sbin/kamailio',
      ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  throw new Error(
    `Kamailio not found (looked for ${candidates.join(', ')}). The SIP.js/JsSIP tests need a real ` +
      'SIP registrar: apt-get install -y kamailio kamailio-websocket-modules (tests never skip).',
  );
}

export interface KamailioConfigValues {
  sipPort: number;
  wsPort: number;
  domain: string;
  inviteTimeoutMs: number;
  debugLevel: number;
  /** Answered on GET /callmetry-instance of the WS port: tells this instance from any other. */
  instanceId?: string;
}

/** The config template with its {{PLACEHOLDERS}} filled in. */
export function renderKamailioConfig(v: KamailioConfigValues, template = readFileSync(KAMAILIO_TEMPLATE, 'utf8')): string {
  if (!/^[A-Za-z0-9.-]+$/.test(v.domain)) throw new Error(`invalid SIP domain: ${v.domain}`);
  if (v.instanceId !== undefined && !/^[A-Za-z0-9-]+$/.test(v.instanceId)) throw new Error(`invalid instanceId: ${v.instanceId}`);
  for (const [k, n] of Object.entries({ sipPort: v.sipPort, wsPort: v.wsPort, inviteTimeoutMs: v.inviteTimeoutMs, debugLevel: v.debugLevel })) {
    if (!Number.isInteger(n) || n < (k === 'debugLevel' ? -5 : 1)) throw new Error(`invalid ${k}: ${n}`);
  }
  const values: Record<string, string> = {
    SIP_PORT: String(v.sipPort),
    WS_PORT: String(v.wsPort),
    DOMAIN: v.domain,
    FR_INV_TIMER: String(v.inviteTimeoutMs),
    // Over TCP/WS a branch's timer only wakes at fr_timer, so a short fr_inv_timer needs an
    // fr_timer no longer than it (see the template).
    FR_TIMER: String(Math.min(10_000, v.inviteTimeoutMs)),
    DEBUG: String(v.debugLevel),
    INSTANCE_ID: v.instanceId ?? 'callmetry',
  };
  const out = template.replace(/\{\{([A-Z_]+)\}\}/g, (m, key: string) => {
    const val = values[key];
    if (val === undefined) throw new Error(`kamailio.cfg.tmpl: unknown placeholder ${m}`);
    return val;
  });
  return out;
}

/** A TCP port free on 127.0.0.1 (and, with `udpToo`, free for UDP as well). */
export async function freePort(udpToo = false): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((ok, ko) => {
      const srv = createServer();
      srv.once('error', ko);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => (a && typeof a === 'object' ? ok(a.port) : ko(new Error('no port'))));
      });
    });
    if (!udpToo) return port;
    const udpFree = await new Promise<boolean>((ok) => {
      const s = createSocket('udp4');
      s.once('error', () => ok(false));
      s.bind(port, '127.0.0.1', () => s.close(() => ok(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('freePort: no free port found');
}

/** True when `port` answers a WebSocket upgrade for the `sip` sub-protocol with 101. */
export function probeWebSocket(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((ok) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      ok(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('error', () => done(false));
    sock.once('connect', () => {
      sock.write(
        'GET / HTTP/1.1\r\n' +
          `Host: 127.0.0.1:${port}\r\n` +
          'Upgrade: websocket\r\n' +
          'Connection: Upgrade\r\n' +
          'Sec-WebSocket-Key: Y2FsbG1ldHJ5LXByb2JlIQ==\r\n' +
          'Sec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Protocol: sip\r\n\r\n',
      );
    });
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(/^HTTP\/1\.1 101\b/.test(buf));
    });
  });
}

/** The body of GET /callmetry-instance on `port` (our config answers its instance id), or undefined. */
export function probeInstance(port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((ok) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      sock.destroy();
      ok(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.once('error', () => done(undefined));
    sock.once('connect', () => {
      sock.write(`GET /callmetry-instance HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 0\r\n\r\n`);
    });
    const parse = (): void => {
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      if (!/^HTTP\/1\.[01] 200\b/.test(buf)) return done(undefined);
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, i))?.[1] ?? NaN);
      const body = buf.slice(i + 4);
      if (Number.isFinite(len) && body.length >= len) done(body.slice(0, len).trim());
    };
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      parse();
    });
    sock.once('end', () => {
      parse();
      done(undefined);
    });
  });
}

/** Whether 127.0.0.1:`port` can be bound now (TCP, and UDP too with `udpToo`). */
export async function portFree(port: number, udpToo = false): Promise<boolean> {
  const tcp = await new Promise<boolean>((ok) => {
    const srv = createServer();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
  if (!tcp || !udpToo) return tcp;
  return new Promise<boolean>((ok) => {
    const s = createSocket('udp4');
    s.once('error', () => ok(false));
    s.bind(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Attempt {
  server?: KamailioServer;
  /** Kamailio exited during start-up; `portClash` when a listen socket was already taken. */
  error?: Error;
  portClash?: boolean;
}

/**
 * Start Kamailio on 127.0.0.1 and resolve once its WebSocket port answers this instance's id and
 * completes a WebSocket upgrade. Ports left out are chosen free (and re-chosen, up to 3 times, if
 * another process grabs one first); a given port that is taken fails at once.
 */
export async function startKamailio(options: KamailioOptions = {}): Promise<KamailioServer> {
  const bin = findKamailio(options.binary);
  const template = readFileSync(KAMAILIO_TEMPLATE, 'utf8');
  let last: Error | undefined;
  for (let i = 0; i < 3; i++) {
    const sipPort = options.sipPort ?? (await freePort(true));
    let wsPort = options.wsPort ?? (await freePort(false));
    while (wsPort === sipPort) wsPort = await freePort(false);
    // Kamailio binds with SO_REUSEADDR (a second instance could share a UDP port) and a probe
    // of a port another server answers proves nothing: check given ports are free first.
    const busy = [
      ...((await portFree(sipPort, true)) ? [] : [`SIP ${sipPort} (udp/tcp)`]),
      ...((await portFree(wsPort)) ? [] : [`WS ${wsPort} (tcp)`]),
    ];
    if (busy.length) {
      last = new Error(`startKamailio: port already in use on 127.0.0.1: ${busy.join(', ')}`);
      if (options.sipPort !== undefined || options.wsPort !== undefined) break;
      continue;
    }
    const r = await attemptStart(bin, template, options, sipPort, wsPort);
    if (r.server) return r.server;
    last = r.error;
    const retryable = r.portClash && options.sipPort === undefined && options.wsPort === undefined;
    if (!retryable) break;
  }
  throw last ?? new Error('startKamailio failed');
}

async function attemptStart(
  bin: string,
  template: string,
  options: KamailioOptions,
  sipPort: number,
  wsPort: number,
): Promise<Attempt> {
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const instanceId = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'callmetry-kamailio-'));
  const configPath = join(dir, 'kamailio.cfg');
  const debugLevel = options.debugLevel ?? (Number(process.env.CALLMETRY_KAMAILIO_DEBUG) || 2);
  const inviteTimeoutMs = options.inviteTimeoutMs ?? 60_000;
  writeFileSync(configPath, renderKamailioConfig({ sipPort, wsPort, domain, inviteTimeoutMs, debugLevel, instanceId }, template));

  const echo = options.echo ?? process.env.CALLMETRY_KAMAILIO_ECHO === '1';
  const chunks: string[] = [];
  let size = 0;
  let partial = '';
  const logFile = createWriteStream(join(dir, 'kamailio.log'));
  const capture = (d: Buffer): void => {
    const s = d.toString('utf8');
    chunks.push(s);
    size += s.length;
    while (size > LOG_CAP && chunks.length > 1) size -= chunks.shift()!.length;
    logFile.write(s);
    if (echo) {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) process.stderr.write(`[kamailio:${wsPort}] ${l}\n`);
    }
  };
  const logs = (): string => chunks.join('');
  const logTail = (lines = 60): string => logs().split('\n').slice(-lines - 1).join('\n');

  // -DD: stay in the foreground (no daemon); -E: log to stderr; -Y: runtime dir for any files it
  // wants to create; -m/-M: shared/private memory (MB). detached: own session and process group.
  const child: ChildProcess = spawn(bin, ['-f', configPath, '-DD', '-E', '-Y', dir, '-m', '64', '-M', '8'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((ok) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      ok();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });

  const pid = child.pid;
  // If the test process dies without stop(), do not leave Kamailio behind.
  const onExit = (): void => {
    if (pid) killGroup(pid, 'SIGKILL');
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort at exit */
    }
  };
  process.once('exit', onExit);

  let stopped = false;
  const cleanupDir = async (): Promise<void> => {
    await new Promise<void>((r) => logFile.end(() => r()));
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = async (timeoutMs = 5000): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (pid !== undefined) {
      killGroup(pid, 'SIGTERM');
      const until = Date.now() + timeoutMs;
      // Wait for the main process and every forked worker (same process group).
      while ((!exited || groupAlive(pid)) && Date.now() < until && !spawnError) await sleep(25);
      if (!exited || groupAlive(pid)) {
        killGroup(pid, 'SIGKILL');
        await Promise.race([exitPromise, sleep(2000)]);
        const until2 = Date.now() + 2000;
        while (groupAlive(pid) && Date.now() < until2) await sleep(25);
      }
    }
    await cleanupDir();
  };

  const fail = async (why: string): Promise<Attempt> => {
    const tail = logTail(40);
    await stop(2000);
    let hint = '';
    if (/websocket\.so|xhttp\.so/.test(tail) && /could not|cannot|not found|No such file/i.test(tail)) {
      hint = '\nHint: apt-get install -y kamailio-websocket-modules';
    }
    const portClash = /Address already in use|bind\b.*fail|cannot bind/i.test(tail);
    return {
      portClash,
      error: new Error(
        `startKamailio (sip ${sipPort}, ws ${wsPort}): ${why}${hint}\n--- kamailio output (tail) ---\n${tail}\n---`,
      ),
    };
  };

  const startTimeout = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + startTimeout;
  for (;;) {
    if (spawnError) return fail(`could not run ${bin}: ${spawnError.message}`);
    if (exited) return fail(`kamailio exited during start-up (code ${exited.code}, signal ${exited.signal})`);
    // Ready = this instance answers its id on the WS port, and the WebSocket upgrade works.
    if ((await probeInstance(wsPort, 500)) === instanceId && (await probeWebSocket(wsPort, 500))) break;
    if (Date.now() > deadline) return fail(`ws://127.0.0.1:${wsPort} did not answer a WebSocket upgrade within ${startTimeout} ms`);
    await sleep(50);
  }
  if (exited) return fail('kamailio exited during start-up');

  return {
    server: {
      wsUrl: `ws://127.0.0.1:${wsPort}`,
      domain,
      sipPort,
      wsPort,
      pid: pid!,
      configPath,
      logs,
      logTail,
      stop,
    },
  };
}

/** True while any process of the group led by `pid` still exists (for tests of stop()). */
export function kamailioGroupAlive(pid: number): boolean {
  return groupAlive(pid);
}
