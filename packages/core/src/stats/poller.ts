/**
 * getStats polling for one fabric. Every fabric owns its own poller (and timer), so a slow or
 * failing getStats of one peer connection never delays another.
 *
 * - Ticks come at a fixed cadence (`intervalMs`). A tick that finds the previous poll still
 *   running is skipped: polls of the same fabric never overlap and never queue up.
 * - A poll that has not settled after `timeoutMs` is abandoned: `onError` gets a
 *   `PollTimeoutError`, the next tick polls again, and the late result is ignored.
 * - `onTick` runs at every tick, also a skipped one: a check that must not wait for a hanging
 *   poll (Firefox never settles a getStats() pending when its peer connection closes).
 * - `stop()` clears every timer; nothing runs or is delivered afterwards.
 */
import type { Milliseconds } from '../types';

/** The smallest getStats interval the SDK accepts (and its default). */
export const MIN_STATS_INTERVAL_MS: Milliseconds = 1000;

/** The largest getStats interval: 1 hour, not setTimeout's 2^31-1 ms (24.8 days), as ticks also detect pc.close() (no event). */
export const MAX_STATS_INTERVAL_MS: Milliseconds = 3_600_000;

/** setTimeout's largest delay (2^31-1 ms); a larger one overflows and fires at once. */
export const MAX_TIMER_DELAY_MS: Milliseconds = 2_147_483_647;

/** Clamps a requested getStats interval to 1000 ms..1 hour; non-numbers (and NaN, ±Infinity) give the 1000 ms default. */
export function clampInterval(intervalMs: unknown): Milliseconds {
  // (Number.isFinite is false for non-numbers too.)
  if (!Number.isFinite(intervalMs)) return MIN_STATS_INTERVAL_MS;
  return Math.min(MAX_STATS_INTERVAL_MS, Math.max(MIN_STATS_INTERVAL_MS, Math.round(intervalMs as number)));
}

/** A delay setTimeout takes as is: 1 ms..2^31-1 ms (below 1, and NaN, give 1 ms). */
const timerDelay = (ms: number): Milliseconds => (ms >= 1 ? Math.min(ms, MAX_TIMER_DELAY_MS) : 1);

/** Runs `fn`, ignoring its errors: an app's callback (onTick, onError, a warn) must never break polling. */
export function quietly(fn?: () => void): void {
  try {
    fn?.();
  } catch {}
}

/** Raised (through onError) when a poll did not settle within `timeoutMs`. */
export class PollTimeoutError extends Error {
  constructor(readonly timeoutMs: Milliseconds) {
    super(`getStats did not answer within ${timeoutMs} ms`);
    this.name = 'PollTimeoutError';
  }
}

export interface PollerOptions<T = unknown> {
  /** Time between ticks. The caller clamps it with `clampInterval` (the poller only keeps it within 1 ms..2^31-1 ms). */
  intervalMs: Milliseconds;
  /** One poll: getStats + processing. May reject; never called while the previous one runs. */
  poll: () => Promise<T>;
  /** A poll still pending after this long is abandoned. Default: max(intervalMs, 5000); at most 2^31-1 ms. */
  timeoutMs?: Milliseconds;
  /** Rejections, timeouts and synchronous throws of `poll`. Its own errors are swallowed. */
  onError?: (error: unknown) => void;
  /** Poll once right away on start() (default false: the first poll comes after intervalMs). */
  immediate?: boolean;
  /** Runs at every tick before it polls, also when the tick is skipped; may stop() the poller. Its errors are swallowed. */
  onTick?: () => void;
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
  const intervalMs = timerDelay(options.intervalMs);
  const timeoutMs = timerDelay(options.timeoutMs ?? Math.max(intervalMs, 5000));
  let tickTimer: ReturnType<typeof setTimeout> | undefined;
  let nextTickAt = 0;
  let running = false;
  let paused = false;
  let stopped = false;
  /** The poll in flight, and how to settle it early (stop). */
  let current: Promise<T | undefined> | undefined;
  let settleCurrent: (() => void) | undefined;
  const counters = { polls: 0, skippedTicks: 0, timeouts: 0, errors: 0 };

  const runPoll = (): Promise<T | undefined> => {
    if (stopped) return Promise.resolve(undefined);
    if (current) return current;
    counters.polls++;
    let settle!: (value?: T, error?: unknown) => void;
    const promise = new Promise<T | undefined>((resolve) => {
      settle = (value, error) => {
        // The late answer of an abandoned poll is ignored.
        if (promise != current) return;
        current = undefined;
        clearTimeout(timeout);
        if (error && !stopped) {
          counters.errors++;
          quietly(() => options.onError?.(error));
        }
        resolve(stopped ? undefined : value);
      };
    });
    current = promise;
    settleCurrent = settle;
    const timeout = setTimeout(() => {
      counters.timeouts++;
      settle(undefined, new PollTimeoutError(timeoutMs));
    }, timeoutMs);
    // A synchronous throw of poll() rejects this promise too.
    new Promise<T>((resolve) => resolve(options.poll())).then(settle, (error: unknown) => settle(undefined, error ?? new Error('poll failed')));
    return promise;
  };

  const schedule = (): void => {
    if (!running || paused || stopped) return;
    const now = Date.now();
    // Fixed cadence: one interval after the previous tick; a late timer does not shift the grid.
    nextTickAt = nextTickAt ? nextTickAt + intervalMs : now + intervalMs;
    if (nextTickAt <= now) nextTickAt = now + intervalMs - ((now - nextTickAt) % intervalMs);
    tickTimer = setTimeout(() => {
      quietly(options.onTick);
      if (stopped) return;
      if (current) counters.skippedTicks++;
      else void runPoll();
      schedule();
    }, nextTickAt - now);
  };

  const restart = (): void => {
    clearTimeout(tickTimer);
    nextTickAt = 0;
    schedule();
  };

  return {
    start() {
      if (running || stopped) return;
      running = true;
      if (!paused && options.immediate) void runPoll();
      restart();
    },
    pause() {
      paused = true;
      clearTimeout(tickTimer);
    },
    resume() {
      if (!paused) return;
      paused = false;
      restart();
    },
    stop() {
      stopped = true;
      running = false;
      clearTimeout(tickTimer);
      settleCurrent?.();
    },
    pollNow: runPoll,
    state: () => ({ running, paused, stopped, inFlight: !!current, ...counters }),
  };
}
