import type { Logger } from '../types';
import { errorMessage } from './values';

/**
 * Makes the listed methods of `api` never throw: an exception (a Proxy's trap, a throwing getter
 * in what the app passed, a bug of ours) is logged as `<name> failed; the error was caught` and
 * the call answers `fallback(message)` instead, e.g. a failure Result.
 */
export function guardMethods<T extends object>(api: T, log: Pick<Logger, 'error'>, fallbacks: { [K in keyof T]?: (message: string) => unknown }): T {
  const methods = api as Record<string, unknown>;
  for (const name of Object.keys(fallbacks)) {
    const fn = methods[name] as (...args: unknown[]) => unknown;
    const fallback = (fallbacks as Record<string, (message: string) => unknown>)[name]!;
    methods[name] = (...args: unknown[]): unknown => {
      try {
        return fn(...args);
      } catch (error) {
        log.error(`${name} failed; the error was caught`, error);
        return fallback(`${name} failed: ${errorMessage(error)}`);
      }
    };
  }
  return api;
}
