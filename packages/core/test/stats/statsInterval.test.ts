// statsIntervalMs from the app reaches each fabric's poller clamped (clampInterval), through the
// typed API and through the facade's configParams alike.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallStats } from '../../src/callstats/CallStats';
import { createMonitor } from '../../src/monitor/monitor';
import { MAX_STATS_INTERVAL_MS } from '../../src/stats/poller';
import type { Logger } from '../../src/types';
import { FakePeerConnection } from '../helpers/fakePeerConnection';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** getStats calls of the fabric on `pc` after 10 s, then after a full hour. */
async function callsOver(pc: FakePeerConnection): Promise<[number, number]> {
  await vi.advanceTimersByTimeAsync(10_000);
  const early = pc.getStatsCalls;
  await vi.advanceTimersByTimeAsync(MAX_STATS_INTERVAL_MS - 10_000);
  return [early, pc.getStatsCalls];
}

describe('statsIntervalMs above the maximum (F7: was a ~1 ms busy loop past 2^31-1 ms)', () => {
  beforeEach(() => {
    // Fake timers overflow as setTimeout does: a delay above 2^31-1 ms fires after 1 ms.
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const statsIntervalMs of [3e9, 1e308]) {
    it(`typed API: statsIntervalMs ${statsIntervalMs} polls once an hour`, async () => {
      const monitor = createMonitor({ appID: 'app', localUserID: 'alice', statsIntervalMs, logger: quiet });
      const pc = new FakePeerConnection();
      const fabric = monitor.addFabric(pc, { remoteUserID: 'bob', conferenceID: 'conf' });
      expect(fabric).toBeDefined();
      expect(await callsOver(pc)).toEqual([0, 1]);
      await monitor.close();
    });

    it(`facade: configParams.statsIntervalMs ${statsIntervalMs} polls once an hour`, async () => {
      const cs = new CallStats();
      expect(cs.initialize('app', 'secret', 'alice', undefined, undefined, { statsIntervalMs, logger: quiet }).status).toBe('success');
      const pc = new FakePeerConnection();
      expect(cs.addNewFabric(pc, 'bob', 'multiplex', 'conf').status).toBe('success');
      expect(await callsOver(pc)).toEqual([0, 1]);
      await cs.monitor?.close();
    });
  }
});
