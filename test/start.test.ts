// The README's main command serves the dashboard and the examples. The test reads the command
// from README.md (the `npm install && npm start` line), runs its start part as a newcomer would after
// the install (the install itself has already happened for this run), and stops it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function readmeCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /## Two commands[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('README commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callmetry-start-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    // The process group of `npm start` only: npm, scripts/start.mjs and the collector.
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('README has exactly two commands: one runs the collector, one runs all tests', () => {
    const commands = readmeCommands();
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/npm start$/);
    expect(commands[1]).toMatch(/npm test$/);
  });

  it('the start command serves the dashboard and the examples', async () => {
    const startCommand = readmeCommands()[0]!.split('&&').at(-1)!.trim();
    expect(startCommand).toBe('npm start');
    const port = await freePort();
    const [cmd, ...args] = startCommand.split(/\s+/);
    child = spawn(cmd!, args, {
      cwd: REPO_ROOT,
      detached: true,
      env: { ...process.env, CALLMETRY_PORT: String(port), CALLMETRY_DB: join(dir, 'start.sqlite') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 120_000;
    while (!output.includes('dashboard at')) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain(`http://127.0.0.1:${port}/`);

    const dashboard = await fetch(`http://127.0.0.1:${port}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('Callmetry');
    const examples = await fetch(`http://127.0.0.1:${port}/examples/`);
    expect(examples.status).toBe(200);
    expect(await examples.text()).toContain('Callmetry examples');
    const script = await fetch(`http://127.0.0.1:${port}/packages/core/dist/callstats.min.js`);
    expect(script.status).toBe(200);
    const refused = await fetch(`http://127.0.0.1:${port}/v1/apps/demo-app/conferences`);
    expect(refused.status).toBe(401);

    process.kill(-child.pid!, 'SIGTERM');
    // npm itself may end by the signal (code null); either way the whole group is gone.
    const exit = await new Promise<{ code: number | null; signal: string | null }>((r) =>
      child!.once('exit', (code, signal) => r({ code, signal })),
    );
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
