// getStats() time in real Chromium (1:1 audio+video call in a page) and our processor on the live
// reports in that page.
import type { Bench } from './browser';
import { dist, log, round, type Dist } from './util';

export interface LiveResult {
  getStatsMs: Dist;
  processUs: Dist;
  /** The same live reports processed back to back (hot code). */
  warmUs: Dist;
  /** One forEach over the live report (Chromium materializes every entry): spaced / hot. */
  readUs: Dist;
  warmReadUs: Dist;
  entries: number;
  streams: number;
  /** processUs median / getStats median. */
  share: number;
  calls: number;
  spacingMs: number;
}

export async function measureLive(bench: Bench): Promise<LiveResult> {
  const calls = 40;
  const spacingMs = 250;
  const page = await bench.open('live.ts', { label: 'live-getstats' });
  try {
    const r = await page.call<{ getStatsMs: number[]; processUs: number[]; warmUs: number[]; readUs: number[]; warmReadUs: number[]; entries: number; streams: number }>('run', { calls, spacingMs, warmupMs: 3000 });
    const g = dist(r.getStatsMs);
    const p = dist(r.processUs);
    const share = p.median / 1000 / g.median;
    log(`live: getStats median ${round(g.median, 3)} ms p90 ${round(g.p90, 3)} ms; processor median ${round(p.median, 1)} us (${round(share * 100, 2)}% of getStats); hot ${round(dist(r.warmUs).median, 1)} us`);
    return { getStatsMs: g, processUs: p, warmUs: dist(r.warmUs), readUs: dist(r.readUs), warmReadUs: dist(r.warmReadUs), entries: r.entries, streams: r.streams, share, calls, spacingMs };
  } finally {
    await page.close();
  }
}
