import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clampInterval, createPoller, MAX_STATS_INTERVAL_MS, MAX_TIMER_DELAY_MS, MIN_STATS_INTERVAL_MS, PollTimeoutError } from '../../src/stats/poller';

/** A poll whose promises the test settles by hand. */
function controlledPoll() {
  const pending: Array<{ resolve: (v: number) => void; reject: (e: unknown) => void }> = [];
  let n = 0;
  const poll = vi.fn(
    () =>
      new Promise<number>((resolve, reject) => {
        n++;
        pending.push({ resolve, reject });
      }),
  );
  return { poll, pending, count: () => n };
}

describe('clampInterval', () => {
  it('enforces the 1000 ms minimum and defaults non-numbers', () => {
    expect(MIN_STATS_INTERVAL_MS).toBe(1000);
    expect(clampInterval(10)).toBe(1000);
    expect(clampInterval(0)).toBe(1000);
    expect(clampInterval(-5)).toBe(1000);
    expect(clampInterval(2500)).toBe(2500);
    expect(clampInterval(1000.4)).toBe(1000);
    expect(clampInterval(Number.NaN)).toBe(1000);
    expect(clampInterval(Infinity)).toBe(1000);
    expect(clampInterval('5000')).toBe(1000);
    expect(clampInterval(undefined)).toBe(1000);
  });

  it('caps at 1 hour, far below the 2^31-1 ms where setTimeout overflows and fires at once', () => {
    expect(MAX_STATS_INTERVAL_MS).toBe(3_600_000);
    expect(MAX_STATS_INTERVAL_MS).toBeLessThan(MAX_TIMER_DELAY_MS);
    expect(clampInterval(3_600_000)).toBe(3_600_000);
    expect(clampInterval(3_600_001)).toBe(3_600_000);
    expect(clampInterval(2 ** 31)).toBe(3_600_000);
    expect(clampInterval(3e9)).toBe(3_600_000);
    expect(clampInterval(1e308)).toBe(3_600_000);
    expect(clampInterval(Number.MAX_VALUE)).toBe(3_600_000);
  });
});

describe('createPoller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls once per interval after start, not before', async () => {
    const poll = vi.fn(async () => 1);
    const p = createPoller({ intervalMs: 1000, poll });
    p.start();
    expect(poll).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(999);
    expect(poll).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(poll).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(poll).toHaveBeenCalledTimes(4);
    p.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onTick runs at every tick, also while a poll hangs, and may stop the poller, which settles that poll', async () => {
    const { poll } = controlledPoll(); // never settled, as Firefox's getStats() pending at close
    const ticks: number[] = [];
    let closed = false;
    const p = createPoller({
      intervalMs: 1000,
      timeoutMs: 60_000,
      poll,
      onTick: () => {
        ticks.push(Date.now());
        if (closed) p.stop();
        if (ticks.length === 1) throw new Error('an onTick error is swallowed');
      },
    });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(poll).toHaveBeenCalledTimes(1);
    const hanging = p.pollNow(); // the poll in flight
    await vi.advanceTimersByTimeAsync(2000);
    expect(ticks).toHaveLength(3);
    expect(p.state()).toMatchObject({ inFlight: true, skippedTicks: 2 });
    closed = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(ticks).toHaveLength(4);
    await expect(hanging).resolves.toBeUndefined();
    expect(p.state()).toMatchObject({ stopped: true, inFlight: false, skippedTicks: 2 });
    expect(poll).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('immediate: polls on start too', async () => {
    const poll = vi.fn(async () => 1);
    const p = createPoller({ intervalMs: 1000, poll, immediate: true });
    p.start();
    expect(poll).toHaveBeenCalledTimes(1);
    p.stop();
  });

  it('start is idempotent', async () => {
    const poll = vi.fn(async () => 1);
    const p = createPoller({ intervalMs: 1000, poll });
    p.start();
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(poll).toHaveBeenCalledTimes(1);
    p.stop();
  });

  it('a slow poll skips ticks instead of overlapping or queueing', async () => {
    const c = controlledPoll();
    const p = createPoller({ intervalMs: 1000, poll: c.poll, timeoutMs: 60_000 });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(3500); // ticks at 2, 3, 4 s find the poll running
    expect(c.count()).toBe(1);
    expect(p.state().skippedTicks).toBe(3);
    expect(p.state().inFlight).toBe(true);
    c.pending[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(p.state().inFlight).toBe(false);
    // No burst of queued polls: the next tick (5 s) polls once.
    await vi.advanceTimersByTimeAsync(500);
    expect(c.count()).toBe(2);
    p.stop();
  });

  it('keeps a fixed cadence (ticks do not drift with poll duration)', async () => {
    const times: number[] = [];
    const start = Date.now();
    const poll = vi.fn(async () => {
      times.push(Date.now() - start);
      await new Promise((r) => setTimeout(r, 300));
      return 1;
    });
    const p = createPoller({ intervalMs: 1000, poll });
    p.start();
    await vi.advanceTimersByTimeAsync(4000);
    expect(times).toEqual([1000, 2000, 3000, 4000]);
    p.stop();
  });

  it('a hung poll times out, reports PollTimeoutError, and polling goes on; the late answer is ignored', async () => {
    const c = controlledPoll();
    const onError = vi.fn();
    const p = createPoller({ intervalMs: 1000, poll: c.poll, timeoutMs: 2500, onError });
    p.start();
    await vi.advanceTimersByTimeAsync(1000); // poll 1 starts (hangs)
    const first = p.pollNow(); // joins poll 1
    await vi.advanceTimersByTimeAsync(2500); // timeout at 3.5 s
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(PollTimeoutError);
    await expect(first).resolves.toBeUndefined();
    expect(p.state().timeouts).toBe(1);
    await vi.advanceTimersByTimeAsync(500); // tick at 4 s: a new poll
    expect(c.count()).toBe(2);
    c.pending[0]?.resolve(42); // late answer of the abandoned poll
    c.pending[1]?.resolve(7);
    await vi.advanceTimersByTimeAsync(0);
    expect(onError).toHaveBeenCalledTimes(1);
    p.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the default timeout is max(interval, 5 s)', async () => {
    const c = controlledPoll();
    const onError = vi.fn();
    const p = createPoller({ intervalMs: 1000, poll: c.poll, onError });
    void p.pollNow();
    await vi.advanceTimersByTimeAsync(4999);
    expect(onError).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onError).toHaveBeenCalledTimes(1);
    p.stop();
  });

  it('rejections and synchronous throws go to onError; a throwing onError is contained', async () => {
    let mode: 'reject' | 'throw' = 'reject';
    const poll = vi.fn(() => {
      if (mode === 'throw') throw new Error('sync');
      return Promise.reject(new Error('async'));
    });
    const errors: unknown[] = [];
    const p = createPoller({
      intervalMs: 1000,
      poll,
      onError: (e) => {
        errors.push(e);
        throw new Error('listener bug');
      },
    });
    await expect(p.pollNow()).resolves.toBeUndefined();
    mode = 'throw';
    await expect(p.pollNow()).resolves.toBeUndefined();
    expect(errors.map((e) => (e as Error).message)).toEqual(['async', 'sync']);
    expect(p.state().errors).toBe(2);
    expect(p.state().inFlight).toBe(false);
    p.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pollNow returns the poll result, and joins a poll in flight instead of overlapping', async () => {
    const c = controlledPoll();
    const p = createPoller({ intervalMs: 1000, poll: c.poll });
    const a = p.pollNow();
    const b = p.pollNow();
    expect(c.count()).toBe(1);
    c.pending[0]?.resolve(5);
    await expect(a).resolves.toBe(5);
    await expect(b).resolves.toBe(5);
    p.stop();
  });

  it('pause stops ticking, resume restarts it', async () => {
    const poll = vi.fn(async () => 1);
    const p = createPoller({ intervalMs: 1000, poll });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(poll).toHaveBeenCalledTimes(1);
    p.pause();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(poll).toHaveBeenCalledTimes(1);
    p.resume();
    await vi.advanceTimersByTimeAsync(1000);
    expect(poll).toHaveBeenCalledTimes(2);
    expect(p.state()).toMatchObject({ running: true, paused: false });
    p.stop();
  });

  it('stop leaves no timers (also with a poll in flight) and ignores its result', async () => {
    const c = controlledPoll();
    const onError = vi.fn();
    const p = createPoller({ intervalMs: 1000, poll: c.poll, timeoutMs: 3000, onError });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    const joined = p.pollNow();
    expect(vi.getTimerCount()).toBe(2); // next tick + the poll's timeout
    p.stop();
    expect(vi.getTimerCount()).toBe(0);
    await expect(joined).resolves.toBeUndefined();
    c.pending[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(c.count()).toBe(1);
    expect(onError).not.toHaveBeenCalled();
    await expect(p.pollNow()).resolves.toBeUndefined();
    p.start();
    p.resume();
    expect(vi.getTimerCount()).toBe(0);
  });

  // (Fake timers overflow as setTimeout does: a delay above 2^31-1 ms fires after 1 ms.)
  it('an interval above setTimeout’s 2^31-1 ms is not a busy loop: it ticks at most every 2^31-1 ms', async () => {
    const poll = vi.fn(async () => 1);
    const p = createPoller({ intervalMs: 3e9, poll });
    p.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(poll).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS - 10_000);
    expect(poll).toHaveBeenCalledTimes(1);
    expect(p.state().timeouts).toBe(0);
    p.stop();
  });

  it('a poll timeout above 2^31-1 ms (given, or max(interval, 5000) of a huge interval) does not abandon the poll at once', async () => {
    for (const options of [{ intervalMs: 1000, timeoutMs: 1e12 }, { intervalMs: 1e12 }]) {
      const c = controlledPoll();
      const onError = vi.fn();
      const p = createPoller({ ...options, poll: c.poll, onError });
      const result = p.pollNow();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(p.state()).toMatchObject({ inFlight: true, timeouts: 0 });
      expect(onError).not.toHaveBeenCalled();
      c.pending[0]?.resolve(7);
      await expect(result).resolves.toBe(7);
      p.stop();
    }
  });

  it('one fabric’s hung getStats does not delay another fabric’s polls', async () => {
    const hung = controlledPoll();
    const healthy = vi.fn(async () => 1);
    const a = createPoller({ intervalMs: 1000, poll: hung.poll, timeoutMs: 10_000 });
    const b = createPoller({ intervalMs: 1000, poll: healthy });
    a.start();
    b.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(hung.count()).toBe(1);
    expect(healthy).toHaveBeenCalledTimes(5);
    a.stop();
    b.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
