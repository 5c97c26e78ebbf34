import type { Logger, Unsubscribe } from '../types';

type Listener = (...args: never[]) => void;

/**
 * A typed event emitter whose emit never throws: a listener's error is caught and logged
 * (mediasoup-client's `safeEmit`), so an app's bug can't break monitoring or the call.
 */
export class SafeEmitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  constructor(private readonly logger: Logger) {}

  on<K extends keyof Events>(event: K, listener: Events[K]): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    const set = this.listeners.get(event);
    set?.delete(listener);
    if (set && set.size === 0) this.listeners.delete(event);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  safeEmit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    // Copy: a listener may unsubscribe itself while we iterate.
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (error) {
        this.logger.error(`a '${String(event)}' listener threw; the error was caught`, error);
      }
    }
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }
}

/** Calls an app-supplied callback; its exceptions are logged, never propagated. */
export function safeCall<A extends unknown[]>(
  logger: Logger,
  what: string,
  fn: ((...args: A) => unknown) | undefined | null,
  ...args: A
): void {
  if (typeof fn !== 'function') return;
  try {
    fn(...args);
  } catch (error) {
    logger.error(`the app's ${what} threw; the error was caught`, error);
  }
}
