/**
 * getStats polling for one fabric. Every fabric owns its own poller (and timer), so a slow or
 * failing getStats of one peer connection never delays another.
 *
 * - Ticks come at a fixed cadence (`intervalMs`). A tick that finds the previous poll still
 *   running is skipped: polls of the same fabric never overlap and never queue up.
 * - A poll that has not settled after `timeoutMs` is abandoned: `onError` gets a
 *   `PollTimeoutError`, the next tick polls again, and the late result is ignored.
 * - `stop()` clears every timer; nothing runs or is delivered afterwards.
 */
import type { Milliseconds } from '../types';

/** The smallest getStats interval the SDK accepts (and its default). */
export const MIN_STATS_INTERVAL_MS: Milliseconds = 1000;

/** Clamps a requested getStats interval to >= 1000 ms; non-numbers give the 1000 ms default. */
export function clampInterval(intervalMs: unknown): Milliseconds {
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs)) return MIN_STATS_INTERVAL_MS;
  return Math.max(MIN_STATS_INTERVAL_MS, Math.round(intervalMs));
}

/** Raised (through onError) when a poll did not settle within `timeoutMs`. */
export class PollTimeoutError extends Error {
  constructor(readonly timeoutMs: Milliseconds) {
    super(`getStats did not answer within ${timeoutMs} ms`);
    this.name = 'PollTimeoutError';
  }
}

export interface PollerOptions<T = unknown> {
  /** Time between ticks. The caller clamps it with `clampInterval` (the poller takes it as is, >= 1 ms). */
  intervalMs: Milliseconds;
  /** One poll: getStats + processing. May reject; never called while the previous one runs. */
  poll: () => Promise<T>;
  /** A poll still pending after this long is abandoned. Default: max(intervalMs, 5000). */
  timeoutMs?: Milliseconds;
  /** Rejections, timeouts and synchronous throws of `poll`. Its own errors are swallowed. */
  onError?: (error: unknown) => void;
  /** Poll once right away on start() (default false: the first poll comes after intervalMs). */
  immediate?: boolean;
}

export interface PollerState {
  running: boolean;
  paused: boolean;
  stopped: boolean;
  inFlight: boolean;
  /** Polls started (ticks + pollNow). */
  polls: number;
  /** Ticks skipped because a poll was still running. */
  skippedTicks: number;
  timeouts: number;
  errors: number;
}

export interface Poller<T = unknown> {
  /** Starts ticking (idempotent; no effect after stop). */
  start(): void;
  /** Stops ticking; a poll in flight still completes. */
  pause(): void;
  /** Ticks again after pause (idempotent). */
  resume(): void;
  /** Stops for good: timers cleared, a poll in flight is ignored, pollNow answers undefined. */
  stop(): void;
  /**
   * Polls now, without waiting for the next tick. If a poll is already running, its result is
   * returned instead of starting another one. Undefined after stop, on error or timeout.
   */
  pollNow(): Promise<T | undefined>;
  /** Counters for tests and diagnostics. */
  state(): PollerState;
}

export function createPoller<T>(options: PollerOptions<T>): Poller<T> {
  const intervalMs = Math.max(1, options.intervalMs);
  const timeoutMs = Math.max(1, options.timeoutMs ?? Math.max(intervalMs, 5000));
  let tickTimer: ReturnType<typeof setTimeout> | undefined;
  let nextTickAt = 0;
  let running = false;
  let paused = false;
  let stopped = false;
  /** The poll in flight: its promise and a way to settle it early (stop). */
  let current: { promise: Promise<T | undefined>; abort: () => void } | undefined;
  const counters = { polls: 0, skippedTicks: 0, timeouts: 0, errors: 0 };

  const report = (error: unknown): void => {
    counters.errors++;
    try {
      options.onError?.(error);
    } catch {
      // onError must never break polling.
    }
  };

  const runPoll = (): Promise<T | undefined> => {
    if (stopped) return Promise.resolve(undefined);
    if (current) return current.promise;
    counters.polls++;
    let resolvePromise: (value: T | undefined) => void = () => {};
    const promise = new Promise<T | undefined>((resolve) => (resolvePromise = resolve));
    let settled = false;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const settle = (value: T | undefined, failure?: { error: unknown }): void => {
      if (settled) return; // the late answer of an abandoned poll is ignored
      settled = true;
      if (timeout !== undefined) clearTimeout(timeout);
      if (current === entry) current = undefined;
      if (failure && !stopped) report(failure.error);
      resolvePromise(stopped ? undefined : value);
    };
    const entry = { promise, abort: () => settle(undefined) };
    current = entry;
    timeout = setTimeout(() => {
      if (settled) return;
      counters.timeouts++;
      settle(undefined, { error: new PollTimeoutError(timeoutMs) });
    }, timeoutMs);
    try {
      Promise.resolve(options.poll()).then(
        (value) => settle(value),
        (error: unknown) => settle(undefined, { error }),
      );
    } catch (error) {
      settle(undefined, { error });
    }
    return promise;
  };

  const schedule = (): void => {
    if (!running || paused || stopped) return;
    const now = Date.now();
    // Fixed cadence: one interval after the previous tick; a late timer does not shift the grid.
    nextTickAt = nextTickAt ? nextTickAt + intervalMs : now + intervalMs;
    if (nextTickAt <= now) nextTickAt = now + intervalMs - ((now - nextTickAt) % intervalMs);
    tickTimer = setTimeout(tick, nextTickAt - now);
  };

  function tick(): void {
    tickTimer = undefined;
    if (!running || paused || stopped) return;
    if (current) counters.skippedTicks++;
    else void runPoll();
    schedule();
  }

  const clearTick = (): void => {
    if (tickTimer !== undefined) clearTimeout(tickTimer);
    tickTimer = undefined;
  };

  return {
    start() {
      if (running || stopped) return;
      running = true;
      if (paused) return;
      nextTickAt = 0;
      if (options.immediate) void runPoll();
      schedule();
    },
    pause() {
      if (paused || stopped) return;
      paused = true;
      clearTick();
    },
    resume() {
      if (!paused || stopped) return;
      paused = false;
      nextTickAt = 0;
      schedule();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      running = false;
      clearTick();
      current?.abort();
    },
    pollNow: runPoll,
    state: () => ({ running, paused, stopped, inFlight: current !== undefined, ...counters }),
  };
}
