import type { AdapterScope, Logger, Monitor } from '../types';
import { safeCall } from '../util/emitter';
import { guardMethods } from '../util/guard';
import { printable } from '../util/values';

const attachments = new WeakMap<object, Map<Monitor, () => void>>();

/**
 * The skeleton every adapter shares: attaching the same library object to the same monitor twice
 * returns the first attachment's detach; the attachment detaches itself when the monitor closes;
 * `setup` errors are logged, never thrown. Returns `detach()`.
 */
export function attachAdapter(name: string, target: object, monitor: Monitor, setup: (scope: AdapterScope) => void): () => void {
  try {
    return attachChecked(printable(name), target, monitor, setup);
  } catch (error) {
    console.error(`${printable(name)}: attach failed; the error was caught`, error);
    return () => {};
  }
}

function attachChecked(name: string, target: object, monitor: Monitor, setup: (scope: AdapterScope) => void): () => void {
  const logger: Logger = monitor?.logger ?? console;
  if (!target || typeof target != 'object' || typeof monitor?.addFabric != 'function') {
    logger.error(`${name}: attach needs the library object and a monitor; nothing attached`);
    return () => {};
  }
  let perMonitor = attachments.get(target);
  const existing = perMonitor?.get(monitor);
  if (existing) return existing;

  // A Set: a listener removed early (its object closed) leaves no reference behind.
  const cleanups = new Set<() => void>();
  let detached = false;
  const guard =
    <A extends unknown[]>(fn: (...args: A) => unknown) =>
    (...args: A): void =>
      void (detached || safeCall(logger, `${name}: a handler failed`, fn, ...args));

  const detach = (): void => {
    if (detached) return;
    detached = true;
    attachments.get(target)?.delete(monitor);
    const all = [...cleanups].reverse();
    cleanups.clear();
    for (const cleanup of all) safeCall(logger, `${name}: a cleanup failed`, cleanup);
  };

  const scope: AdapterScope = {
    monitor,
    logger,
    get detached() {
      return detached;
    },
    safe: guard,
    listen(emitter, event, listener) {
      const safeListener = guard(listener) as never;
      const dom = typeof emitter.addEventListener == 'function';
      if (dom) emitter.addEventListener!(event, safeListener);
      else emitter.on?.(event, safeListener);
      const remove = (): void => {
        cleanups.delete(remove);
        if (dom) emitter.removeEventListener?.(event, safeListener);
        else (emitter.off ?? emitter.removeListener)?.call(emitter, event, safeListener);
      };
      cleanups.add(remove);
      return remove;
    },
    wrap<T extends object, K extends keyof T>(obj: T, key: K, wrapper: (original: T[K]) => T[K]) {
      const original = obj[key];
      // A method inherited from the prototype is restored by deleting our own property.
      const hadOwn = Object.prototype.hasOwnProperty.call(obj, key);
      let active = true;
      const wrapped = wrapper(original);
      // Once detached, a wrapper someone else wrapped again must behave like the original.
      const replacement = (
        typeof wrapped == 'function'
          ? function (this: unknown, ...args: unknown[]) {
              return (active ? (wrapped as (...a: unknown[]) => unknown) : (original as (...a: unknown[]) => unknown)).apply(this, args);
            }
          : wrapped
      ) as T[K];
      obj[key] = replacement;
      cleanups.add(() => {
        active = false;
        if (obj[key] !== replacement) return;
        if (hadOwn) obj[key] = original;
        else delete obj[key];
      });
    },
    onDetach: (cleanup) => void cleanups.add(cleanup),
    detach,
  };
  // An adapter calls these from library callbacks too: a frozen object or a missing emitter is
  // logged there, never thrown into the library.
  guardMethods(scope, { error: (message: string, error?: unknown) => logger.error(`${name}: ${message}`, error) }, { listen: () => () => {}, wrap: () => undefined });

  if (!perMonitor) attachments.set(target, (perMonitor = new Map()));
  perMonitor.set(monitor, detach);
  cleanups.add(monitor.on('closed', detach));
  try {
    setup(scope);
  } catch (error) {
    logger.error(`${name}: attaching failed; the error was caught`, error);
    detach(); // no half attachment: what setup added goes, and a later attach starts afresh
  }
  return detach;
}
