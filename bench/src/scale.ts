// 4. Scale in a real page: 50 monitored PCs at 1 s sampling. Main-thread time of the SDK from a CDP
// CPU profile (samples whose stack holds a frame of the SDK's script), heap from CDP after forced
// GC, after ~100 and ~1,000 polls of every PC.
import type { Bench } from './browser';
import { log, round, sleep } from './util';

export interface ScaleResult {
  pcs: number;
  profileSeconds: number;
  /** SDK main-thread ms per wall second (samples with an SDK frame on the stack). */
  sdkMsPerSecond: number;
  /** Same, per PC per poll (µs). */
  sdkUsPerPoll: number;
  /** All JS + GC main-thread ms per second in the page, for context. */
  pageBusyMsPerSecond: number;
  gcMsPerSecond: number;
  polls1s: number;
  heapAfter100: number;
  heapAfter1000: number;
  heapGrowth: number;
  pollRoundsMs: number;
  status: Record<string, unknown>;
}

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export async function measureScale(bench: Bench): Promise<ScaleResult> {
  const pairs = 25;
  const profileSeconds = 10;
  const page = await bench.open('scale.ts', { label: 'scale-50', preScripts: ['/sdk/callstats.min.js'] });
  try {
    const setup = await page.call<{ pcs: number; fabrics: number }>('setup', { pairs });
    log(`scale: ${setup.pcs} PCs connected and monitored`);
    const cdp = await page.cdp();
    await sleep(3000); // first polls: per-stream state is created

    // ---- main-thread time at the real 1 s cadence: CPU profile ----------------------------------
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await sleep(profileSeconds * 1000);
    const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
    await cdp.send('Profiler.disable');
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const inSdk = new Map<number, boolean>();
    const sdkOf = (id: number): boolean => {
      const known = inSdk.get(id);
      if (known !== undefined) return known;
      const node = byId.get(id);
      const p = parent.get(id);
      const v = !!node && (node.callFrame.url.endsWith('/sdk/callstats.min.js') || (p !== undefined && sdkOf(p)));
      inSdk.set(id, v);
      return v;
    };
    let sdkUs = 0;
    let busyUs = 0;
    let gcUs = 0;
    // timeDeltas[i] is the time before sample i: sample i covers (t[i-1], t[i]]; attribute the
    // interval that follows a sample to it, as DevTools does.
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i] as number;
      const dt = profile.timeDeltas[i + 1] ?? 0;
      const name = byId.get(id)?.callFrame.functionName ?? '';
      if (name === '(idle)' || name === '(program)' || name === '(root)') continue;
      busyUs += dt;
      if (name === '(garbage collector)') gcUs += dt;
      else if (sdkOf(id)) sdkUs += dt;
    }
    const wallS = (profile.endTime - profile.startTime) / 1e6;
    const status1 = await page.call<Record<string, unknown>>('status');

    // ---- heap after ~100 and ~1,000 polls of every PC (extra polls with pollNow) -----------------
    const heap = async (): Promise<number> => {
      await cdp.send('HeapProfiler.enable');
      for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
      const u = (await cdp.send('Runtime.getHeapUsage')) as unknown as { usedSize: number };
      return u.usedSize;
    };
    const polledSoFar = Math.round(3 + wallS);
    const r1 = await page.call<{ ms: number }>('pollRounds', { rounds: Math.max(0, 100 - polledSoFar) });
    await sleep(1500); // the transport's batch timer sends and gets acks
    const heapAfter100 = await heap();
    const r2 = await page.call<{ ms: number }>('pollRounds', { rounds: 900 });
    await sleep(1500);
    const heapAfter1000 = await heap();
    const status = await page.call<Record<string, unknown>>('status');
    const sdkMsPerSecond = sdkUs / 1000 / wallS;
    const res: ScaleResult = {
      pcs: setup.pcs,
      profileSeconds: round(wallS, 2),
      sdkMsPerSecond: round(sdkMsPerSecond, 3),
      sdkUsPerPoll: round((sdkUs / wallS / setup.pcs), 1),
      pageBusyMsPerSecond: round(busyUs / 1000 / wallS, 2),
      gcMsPerSecond: round(gcUs / 1000 / wallS, 3),
      polls1s: setup.pcs,
      heapAfter100,
      heapAfter1000,
      heapGrowth: heapAfter1000 - heapAfter100,
      pollRoundsMs: Math.round(r1.ms + r2.ms),
      status: { afterProfile: status1, end: status },
    };
    log(`scale: SDK ${res.sdkMsPerSecond} ms/s main thread (${res.sdkUsPerPoll} us per PC-poll); heap ${(heapAfter100 / 1048576).toFixed(2)} MB -> ${(heapAfter1000 / 1048576).toFixed(2)} MB`);
    if (page.errors.length) log(`scale page errors: ${page.errors.slice(0, 3).join(' | ')}`);
    return res;
  } finally {
    await page.close();
  }
}
