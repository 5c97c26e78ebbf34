import type { Logger, Unsubscribe } from '../types';

type Listener = (...args: never[]) => void;

/**
 * Calls `fn` if it is a function (an app's callback, an adapter's handler); its exceptions are
 * logged as `<failure>; the error was caught`, never propagated.
 */
export function safeCall<A extends unknown[]>(log: Pick<Logger, 'error'>, failure: string, fn: ((...args: A) => unknown) | undefined | null, ...args: A): void {
  try {
    if (typeof fn == 'function') fn(...args);
  } catch (error) {
    log.error(`${failure}; the error was caught`, error);
  }
}

export interface Emitter<Events extends { [K in keyof Events]: Listener }> {
  on<K extends keyof Events>(event: K, listener: Events[K]): Unsubscribe;
  /** Never throws: a listener's error is caught and logged, so an app's bug can't break monitoring. */
  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void;
  clear(): void;
}

/** A typed event emitter whose emit never throws (mediasoup-client's `safeEmit`). */
export function createEmitter<Events extends { [K in keyof Events]: Listener }>(log: Pick<Logger, 'error'>): Emitter<Events> {
  const listeners = new Map<keyof Events, Set<Listener>>();
  return {
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set.add(listener));
      return () => void set.delete(listener);
    },
    emit(event, ...args) {
      // Copy: a listener may unsubscribe itself while we iterate.
      for (const listener of [...(listeners.get(event) ?? [])]) safeCall(log, `the app's '${String(event)}' callback threw`, listener as (...a: typeof args) => void, ...args);
    },
    clear: () => listeners.clear(),
  };
}
