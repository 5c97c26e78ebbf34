// Limits credential guessing per client address: after `maxFailures` failed authentications
// (wrong app secret, forged signature, unknown appID) within `windowMs`, every authenticated
// request from that address is answered 429 until the window ends, right ones included, so that
// a guess cannot be confirmed while blocked.
//
// Only failures that guess at a secret count. Expired tokens, replayed nonces and malformed
// requests do not: a legitimate SDK meets those (an hour-old token, a retried request) and they
// confirm nothing about a secret.

export interface AuthLimiterOptions {
  /** Failures per address per window before it is blocked; 0 turns the limiter off. */
  maxFailures: number;
  windowMs: number;
  clock: () => number;
  /** Addresses tracked at once; beyond it the oldest entries are forgotten (bounded memory). */
  maxAddresses?: number;
}

interface Window {
  failures: number;
  endsAt: number;
}

export interface AuthLimiter {
  /** Milliseconds until `address` may authenticate again; 0 when it may now. */
  blockedFor(address: string): number;
  /** Counts one failed authentication from `address`. */
  fail(address: string): void;
}

export function createAuthLimiter(options: AuthLimiterOptions): AuthLimiter {
  const { maxFailures, windowMs, clock } = options;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const windows = new Map<string, Window>();

  const current = (address: string): Window | undefined => {
    const w = windows.get(address);
    if (w && w.endsAt <= clock()) {
      windows.delete(address);
      return undefined;
    }
    return w;
  };

  /** Drops ended windows, then the oldest ones while still over the bound (Map keeps insertion order). */
  const prune = (): void => {
    const now = clock();
    for (const [address, w] of windows) if (w.endsAt <= now) windows.delete(address);
    for (const address of windows.keys()) {
      if (windows.size < maxAddresses) break;
      windows.delete(address);
    }
  };

  return {
    blockedFor(address) {
      if (maxFailures <= 0) return 0;
      const w = current(address);
      return w && w.failures >= maxFailures ? w.endsAt - clock() : 0;
    },
    fail(address) {
      if (maxFailures <= 0) return;
      const w = current(address);
      if (w) {
        w.failures++;
        return;
      }
      if (windows.size >= maxAddresses) prune();
      windows.set(address, { failures: 1, endsAt: clock() + windowMs });
    },
  };
}

/** Token and ingest error codes that count as a guess (see the header); Basic auth has its own `wrong`. */
export const GUESS_CODES: ReadonlySet<string> = new Set(['bad_signature', 'unknown_app']);
