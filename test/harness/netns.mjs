// Private network namespaces for the two runners that need one: test/run.mjs (`npm test`, CI) and
// bench/run.mjs (`npm run bench`). Plain ESM without dependencies: both run under plain `node`.
//
// A runner's namespace is `<prefix><runner pid>`. createNamespace() first removes the namespaces of
// earlier runs with the same prefix whose runner is gone (SIGKILLed), then adds its own with `lo`
// up, and deletes it again (killing what was left in it) on exit. Everything here needs root.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** A runner's `log(msg)` (`[tag] msg` on stderr) and `fail(msg)` (`[tag] ERROR: msg`, then exit `exitCode`). */
export function runnerOutput(tag, exitCode) {
  return {
    log: (msg) => console.error(`[${tag}] ${msg}`),
    fail(msg) {
      console.error(`\n[${tag}] ERROR: ${msg}\n`);
      process.exit(exitCode);
    },
  };
}

/** fail(why) unless this process runs as root (a namespace needs it). */
export function requireRoot(fail, why) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) fail(why);
}

/** fail(message) unless `path` is an executable file. */
export function requireExecutable(path, fail, message) {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    fail(message);
  }
}

/** fail() unless `ip` (iproute2) runs. */
export function requireIproute2(fail) {
  if (run('ip', ['-V'], { allowFail: true }).status !== 0) fail('`ip` (iproute2) is required: apt-get install -y iproute2');
}

/** Run a command synchronously; throws with its stderr unless `allowFail`. */
export function run(cmd, args, { allowFail = false, cwd } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Kill the processes left inside `name` (by PID, all started by this run) and delete it. */
export function deleteNamespace(name, log) {
  const pids = () =>
    run('ip', ['netns', 'pids', name], { allowFail: true }).stdout?.split(/\s+/).filter(Boolean).map(Number) ?? [];
  let left = pids();
  if (left.length) {
    log(`killing processes left in ${name}: ${left.join(' ')}`);
    for (const pid of left) try { process.kill(pid, 'SIGTERM'); } catch {}
    const until = Date.now() + 3000;
    while ((left = pids()).length && Date.now() < until) spawnSync('sleep', ['0.1']);
    for (const pid of left) try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  run('ip', ['netns', 'delete', name], { allowFail: true });
}

/** Namespaces `<prefix><pid>` of earlier runs that were SIGKILLed (that pid is gone) are stale: remove them. */
export function removeStaleNamespaces(prefix, log) {
  const re = new RegExp(`^(${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+))\\b`);
  for (const line of run('ip', ['netns', 'list'], { allowFail: true }).stdout?.split('\n') ?? []) {
    const m = re.exec(line.trim());
    if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
      log(`removing stale namespace ${m[1]}`);
      deleteNamespace(m[1], log);
    }
  }
}

/**
 * Creates this run's namespace `<prefix><pid>` with `lo` up, then calls `setup(inNs)` (inNs runs a
 * command inside it, throwing on failure) for anything more. It is deleted on process exit, or
 * earlier by the returned `cleanup()`. If it cannot be set up: cleanup, then `fail(message)`.
 * @param {{ prefix: string, log: (msg: string) => void, fail: (msg: string) => never, setup?: (inNs: (...args: string[]) => unknown) => void }} options
 */
export function createNamespace({ prefix, log, fail, setup }) {
  removeStaleNamespaces(prefix, log);
  const name = `${prefix}${process.pid}`;
  let created = false;
  let cleanedUp = false;
  function cleanup() {
    if (!created || cleanedUp) return;
    cleanedUp = true;
    deleteNamespace(name, log);
    const still = run('ip', ['netns', 'list'], { allowFail: true }).stdout ?? '';
    if (still.split('\n').some((l) => l.trim().split(/\s/)[0] === name)) log(`WARNING: could not delete namespace ${name}`);
    else log(`namespace ${name} deleted`);
  }
  process.on('exit', cleanup);

  try {
    const inNs = (...args) => run('ip', ['netns', 'exec', name, ...args]);
    run('ip', ['netns', 'add', name]);
    created = true;
    inNs('ip', 'link', 'set', 'lo', 'up');
    setup?.(inNs);
  } catch (e) {
    cleanup();
    fail(`could not set up network namespace ${name}: ${e.message}`);
  }
  return { name, cleanup };
}

/** `ip netns exec <name> <command> <args...>`, output inherited. `ip netns exec` execs: the child pid is the command's. */
export function spawnInNamespace(name, command, args, { cwd, env }) {
  return spawn('ip', ['netns', 'exec', name, command, ...args], { cwd, env, stdio: 'inherit' });
}

/**
 * Passes the first SIGINT, SIGTERM or SIGHUP this process gets on to `child` (logged as
 * `<signal>: stopping <what>`), and SIGKILLs it `graceMs` later if it is still there.
 * Returns a function that tells which signal came (null: none).
 */
export function forwardSignals(child, { log, what, graceMs }) {
  let signalled = null;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (signalled) return;
      signalled = sig;
      log(`${sig}: stopping ${what}`);
      try { child.kill(sig); } catch {}
      setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, graceMs).unref();
    });
  }
  return () => signalled;
}
