import type { Logger } from '../types';

/** Default logger: console with a prefix; debug is silent unless enabled. */
export function createConsoleLogger(prefix = '[callmetry]', debugEnabled = false): Logger {
  const c = typeof console !== 'undefined' ? console : undefined;
  return {
    debug: (message, ...details) => {
      if (debugEnabled) c?.debug?.(prefix, message, ...details);
    },
    info: (message, ...details) => c?.info?.(prefix, message, ...details),
    warn: (message, ...details) => c?.warn?.(prefix, message, ...details),
    error: (message, ...details) => c?.error?.(prefix, message, ...details),
  };
}

/** Wraps a user-supplied logger so that a throwing logger can never break the SDK. */
export function guardLogger(logger: Logger): Logger {
  const guard =
    (level: keyof Logger) =>
    (message: string, ...details: unknown[]) => {
      try {
        logger[level](message, ...details);
      } catch {
        // A broken logger must not break monitoring.
      }
    };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
