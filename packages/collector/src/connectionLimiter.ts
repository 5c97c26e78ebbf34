// Caps on open WebSocket ingest connections, per client address and in all: each one holds a
// socket (a file descriptor) and buffers, so without a cap one host could exhaust both. A slot is
// taken when the upgrade is admitted (before the handshake completes, so a burst of upgrades
// cannot overshoot) and given back when the connection's socket closes, however it closes.
//
// Refusals are logged at most once per address per `logEveryMs`: a client retrying in a loop
// must not flood the log (the next logged refusal says how many were not logged).

export interface ConnectionLimiterOptions {
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one client address. */
  maxPerAddress: number;
  clock: () => number;
  logEveryMs: number;
  /** Addresses whose last logged refusal is remembered; beyond it the oldest are forgotten (bounded memory). */
  maxLoggedAddresses?: number;
}

export type Admission =
  | {
      ok: true;
      /** Gives the slot back; later calls do nothing. */
      release(): void;
    }
  | {
      ok: false;
      /** Which cap was reached. */
      scope: 'address' | 'total';
      /** The cap that was reached. */
      limit: number;
      /** True for the first refusal of this address in `logEveryMs`: the one to log. */
      log: boolean;
      /** When `log`: refusals of this address since its last logged one that were not logged. */
      unlogged: number;
    };

export interface ConnectionLimiter {
  /** Takes a slot for a connection from `address`, or says which cap is reached (nothing taken). */
  admit(address: string): Admission;
  /** Open connections: all of them, or those from `address`. */
  open(address?: string): number;
}

interface LogWindow {
  endsAt: number;
  unlogged: number;
}

export function createConnectionLimiter(options: ConnectionLimiterOptions): ConnectionLimiter {
  const { maxConnections, maxPerAddress, clock, logEveryMs } = options;
  const maxLoggedAddresses = options.maxLoggedAddresses ?? 10_000;
  // Only addresses with open connections: bounded by maxConnections.
  const openFrom = new Map<string, number>();
  let total = 0;
  const logWindows = new Map<string, LogWindow>();

  /** Whether to log this refusal of `address`, and how many were not logged before it. */
  const noteRefusal = (address: string): { log: boolean; unlogged: number } => {
    const now = clock();
    const w = logWindows.get(address);
    if (w && w.endsAt > now) {
      w.unlogged++;
      return { log: false, unlogged: 0 };
    }
    // Re-inserted so that the Map's order stays oldest-first for the pruning below.
    logWindows.delete(address);
    if (logWindows.size >= maxLoggedAddresses) {
      for (const [a, old] of logWindows) if (old.endsAt <= now) logWindows.delete(a);
      for (const a of logWindows.keys()) {
        if (logWindows.size < maxLoggedAddresses) break;
        logWindows.delete(a);
      }
    }
    logWindows.set(address, { endsAt: now + logEveryMs, unlogged: 0 });
    return { log: true, unlogged: w?.unlogged ?? 0 };
  };

  return {
    admit(address) {
      const fromAddress = openFrom.get(address) ?? 0;
      const scope = fromAddress >= maxPerAddress ? 'address' : total >= maxConnections ? 'total' : null;
      if (scope) return { ok: false, scope, limit: scope === 'address' ? maxPerAddress : maxConnections, ...noteRefusal(address) };
      openFrom.set(address, fromAddress + 1);
      total++;
      let released = false;
      return {
        ok: true,
        release() {
          if (released) return;
          released = true;
          total--;
          const left = (openFrom.get(address) ?? 1) - 1;
          if (left > 0) openFrom.set(address, left);
          else openFrom.delete(address);
        },
      };
    },
    open(address) {
      return address === undefined ? total : (openFrom.get(address) ?? 0);
    },
  };
}
