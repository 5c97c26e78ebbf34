// The collector for the ingest benchmark, in its own process (the load generator must not share
// its event loop): startCollector() from the built package, a temp-file SQLite database, silent.
// Prints one JSON line {port} when listening; stops on SIGTERM/SIGINT (and removes the database).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface CollectorModule {
  startCollector(o: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }>;
  silentLogger: unknown;
}

const dist = process.env.CALLMETRY_COLLECTOR_DIST;
const appID = process.env.CALLMETRY_BENCH_APP ?? 'bench';
const secret = process.env.CALLMETRY_BENCH_SECRET ?? 'bench-secret';
if (!dist) throw new Error('CALLMETRY_COLLECTOR_DIST not set');
const mod = (await import(pathToFileURL(dist).href)) as CollectorModule;
const dir = mkdtempSync(join(tmpdir(), 'callmetry-bench-db-'));
const collector = await mod.startCollector({
  apps: { [appID]: secret },
  port: 0,
  host: '127.0.0.1',
  db: join(dir, 'bench.sqlite'),
  logger: mod.silentLogger,
});
process.stdout.write(`${JSON.stringify({ port: collector.port })}\n`);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await collector.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
