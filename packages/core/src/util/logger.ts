import type { Logger } from '../types';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * The app's logger, or the console with a `[callmetry]` prefix (debug silent), wrapped so that a
 * throwing logger can never break the SDK.
 */
export function safeLogger(logger?: Logger): Logger {
  const out = {} as Logger;
  for (const level of LEVELS)
    out[level] = (message, ...details) => {
      try {
        if (logger) logger[level](message, ...details);
        else if (level != 'debug') console[level]('[callmetry]', message, ...details);
      } catch {
        // A broken logger must not break monitoring.
      }
    };
  return out;
}
