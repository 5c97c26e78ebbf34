// getStats() time in real Chromium for the fixtures' two shapes (1:1 caller, SFU receiver with 20
// inbound streams), and our processor on those live reports in the same page.
import type { Bench } from './browser';
import { dist, log, round, type Dist } from './util';

export type LiveScenario = 'p2p' | 'sfu';

export interface LiveResult {
  scenario: LiveScenario;
  getStatsMs: Dist;
  /** Processor on each live report, as the first work after getStats() resolved. */
  processUs: Dist;
  /** The same live reports processed back to back (hot code, warm caches). */
  warmUs: Dist;
  /** One bare forEach over the live report (Chromium builds every entry object): spaced / hot. */
  readUs: Dist;
  warmReadUs: Dist;
  /** The processor, hot, on plain copies of the same live reports' entries. */
  copiesUs: Dist;
  entries: number;
  inbound: number;
  streams: number;
  calls: number;
  spacingMs: number;
}

export async function measureLive(bench: Bench, scenario: LiveScenario): Promise<LiveResult> {
  const calls = 40;
  const spacingMs = 250;
  const page = await bench.open('live.ts', { label: `live-getstats-${scenario}` });
  try {
    const r = await page.call<{ getStatsMs: number[]; processUs: number[]; warmUs: number[]; readUs: number[]; warmReadUs: number[]; copiesUs: number[]; entries: number; inbound: number; streams: number }>(
      'run',
      { scenario, calls, spacingMs, warmupMs: 3000 },
    );
    const result: LiveResult = {
      scenario,
      getStatsMs: dist(r.getStatsMs),
      processUs: dist(r.processUs),
      warmUs: dist(r.warmUs),
      readUs: dist(r.readUs),
      warmReadUs: dist(r.warmReadUs),
      copiesUs: dist(r.copiesUs),
      entries: r.entries,
      inbound: r.inbound,
      streams: r.streams,
      calls,
      spacingMs,
    };
    log(`live ${scenario}: getStats median ${round(result.getStatsMs.median, 3)} ms (${r.entries} entries, ${r.inbound} inbound); processor on live reports ${round(result.processUs.median, 1)} us, hot ${round(result.warmUs.median, 1)} us (on plain copies ${round(result.copiesUs.median, 1)} us); bare forEach ${round(result.readUs.median, 1)} us, hot ${round(result.warmReadUs.median, 1)} us`);
    return result;
  } finally {
    await page.close();
  }
}
