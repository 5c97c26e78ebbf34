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
  /** SDK main-thread CPU per PC per poll (µs), from the CPU-time scaled figure. */
  sdkUsPerPoll: number;
  /** All JS + GC main-thread ms per second in the page, for context. */
  pageBusyMsPerSecond: number;
  gcMsPerSecond: number;
  polls1s: number;
  heapAfter100: number;
  heapAfter1000: number;
  heapGrowth: number;
  /** Total polls (all PCs) when each heap figure was taken. */
  heapPolls: [number, number];
  /** Main-thread CPU time of the page (CDP Performance ThreadTime), ms per second. */
  mainThreadCpuMsPerSecond: number;
  /** SDK share of the busy profile samples x main-thread CPU time: robust to CPU contention. */
  sdkCpuMsPerSecond: number;
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
    // ---- heap after 100 polls (all PCs together, at the real 1 s cadence: ~2 polls of each PC) ---
    const heap = async (): Promise<{ used: number; samples: number }> => {
      const { samples } = await page.call<{ samples: number }>('waitPolls', { polls: 0, timeoutMs: 0 });
      await cdp.send('HeapProfiler.enable');
      for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
      const u = (await cdp.send('Runtime.getHeapUsage')) as unknown as { usedSize: number };
      return { used: u.usedSize, samples };
    };
    await page.call('waitPolls', { polls: 100, timeoutMs: 20_000 });
    const heapA = await heap();
    await cdp.send('Performance.enable');
    const metrics = async (): Promise<Record<string, number>> =>
      Object.fromEntries(((await cdp.send('Performance.getMetrics')) as unknown as { metrics: Array<{ name: string; value: number }> }).metrics.map((m) => [m.name, m.value]));
    const m0 = await metrics();

    // ---- main-thread time at the real 1 s cadence: CPU profile ----------------------------------
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await sleep(profileSeconds * 1000);
    const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
    const m1 = await metrics();
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
    // ---- heap after 1,000 polls (~20 of each PC) ----------------------------------------------------
    await page.call('waitPolls', { polls: 1000, timeoutMs: 30_000 });
    await sleep(1200); // the transport's batch timer sends and gets acks
    const heapB = await heap();
    const status = await page.call<Record<string, unknown>>('status');
    // Main-thread CPU time (thread ticks, immune to the thread being descheduled) over the window.
    const cpuS = (m1.ThreadTime ?? NaN) - (m0.ThreadTime ?? NaN);
    const wallMetricS = (m1.Timestamp ?? NaN) - (m0.Timestamp ?? NaN);

    const sdkMsPerSecond = sdkUs / 1000 / wallS;
    const res: ScaleResult = {
      pcs: setup.pcs,
      profileSeconds: round(wallS, 2),
      sdkMsPerSecond: round(sdkMsPerSecond, 3),
      sdkUsPerPoll: round((((sdkUs / Math.max(1, busyUs)) * cpuS * 1e6) / wallMetricS / setup.pcs), 1),
      pageBusyMsPerSecond: round(busyUs / 1000 / wallS, 2),
      mainThreadCpuMsPerSecond: round((cpuS * 1000) / wallMetricS, 2),
      sdkCpuMsPerSecond: round(((sdkUs / Math.max(1, busyUs)) * cpuS * 1000) / wallMetricS, 3),
      gcMsPerSecond: round(gcUs / 1000 / wallS, 3),
      polls1s: setup.pcs,
      heapAfter100: heapA.used,
      heapAfter1000: heapB.used,
      heapPolls: [heapA.samples, heapB.samples],
      heapGrowth: heapB.used - heapA.used,
      status: { afterProfile: status1, end: status },
    };
    log(`scale: SDK ${res.sdkMsPerSecond} ms/s main thread (${res.sdkUsPerPoll} us per PC-poll); (CPU-time scaled ${res.sdkCpuMsPerSecond} ms/s); heap ${(heapA.used / 1048576).toFixed(2)} MB after ${heapA.samples} polls -> ${(heapB.used / 1048576).toFixed(2)} MB after ${heapB.samples}`);
    if (page.errors.length) log(`scale page errors: ${page.errors.slice(0, 3).join(' | ')}`);
    return res;
  } finally {
    await page.close();
  }
}
