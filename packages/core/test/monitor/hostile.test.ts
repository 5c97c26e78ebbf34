// "The SDK never throws into the app or into the WebRTC library, whatever it is given" and "bad
// input gets a clear error and loses nothing", for the typed API, the facade and the adapter
// skeleton: hostile values (throwing Proxies, null-prototype objects, cyclic data, BigInt),
// hostile peer connections (throwing listeners and state getters) and calls after close.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachAdapter } from '../../src/adapter/attachment';
import { CallStats } from '../../src/callstats/CallStats';
import { createMonitor, tryCreateMonitor } from '../../src/monitor/monitor';
import type { Logger } from '../../src/types';
import { FakePeerConnection } from '../helpers/fakePeerConnection';

/** Throws on every read, `in`, key listing and prototype lookup. */
const evil = new Proxy(
  {},
  {
    get: () => {
      throw new Error('get trap');
    },
    has: () => {
      throw new Error('has trap');
    },
    ownKeys: () => {
      throw new Error('ownKeys trap');
    },
    getPrototypeOf: () => {
      throw new Error('getPrototypeOf trap');
    },
  },
);
const revoked = (() => {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
})();
/** String() cannot convert it. */
const bare = Object.create(null) as object;

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level}: ${m}`);
  return { lines, debug: () => {}, info: () => {}, warn: at('warn'), error: at('error') };
}

const monitors: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.close();
});
function newMonitor(log = logger()) {
  const monitor = createMonitor({ appID: 'app', localUserID: 'alice', logger: log, statsIntervalMs: 1000 });
  monitors.push(monitor);
  return { monitor, log };
}
const OPTIONS = { remoteUserID: 'bob', conferenceID: 'conf' };

describe('typed API with hostile values: an answer, never a throw', () => {
  it('createMonitor and tryCreateMonitor', () => {
    for (const options of [evil, revoked, bare, { appID: 'a', localUserID: evil }, { appID: 'a', localUserID: 'u', get logger() { throw bare; } }]) {
      expect(tryCreateMonitor(options as never).result.status).toBe('failure');
      const m = createMonitor(options as never);
      expect(m.addFabric(new FakePeerConnection(), OPTIONS)).toBeUndefined();
    }
  });

  it('every monitor and fabric method', async () => {
    const { monitor, log } = newMonitor();
    const fabric = monitor.addFabric(new FakePeerConnection(), OPTIONS)!;
    const calls: Array<[string, () => unknown]> = [
      ['addFabric(evil pc)', () => monitor.addFabric(evil as never, OPTIONS)],
      ['addFabric(options evil)', () => monitor.addFabric(new FakePeerConnection(), evil as never)],
      ['addFabric(usage bare)', () => monitor.addFabric(new FakePeerConnection(), { ...OPTIONS, usage: bare as never })],
      ['tryAddFabric(revoked)', () => monitor.tryAddFabric(revoked as never, OPTIONS).result.status],
      ['sendFeedback(evil)', () => monitor.sendFeedback('conf', evil as never).status],
      ['sendCustomStats(evil)', () => monitor.sendCustomStats('conf', evil as never).status],
      ['sendCustomEvent(revoked)', () => monitor.sendCustomEvent('conf', 'x', revoked as never).status],
      ['reportError(details evil)', () => monitor.reportError('conf', 'createOffer', 'e', evil as never).status],
      ['reportError(fn bare)', () => monitor.reportError('conf', bare as never, 'e').status],
      ['on(evil)', () => typeof monitor.on(evil as never, (() => {}) as never)],
      ['fabric.sendEvent(bare)', () => fabric.sendEvent(bare as never).status],
      ['fabric.sendEvent(data revoked)', () => fabric.sendEvent('fabricHold', revoked as never).status],
      ['fabric.mapStream(evil)', () => fabric.mapStream(evil as never, { userID: 'x' }).status],
      ['fabric.mapStream(sel, evil)', () => fabric.mapStream({ ssrc: 1 }, evil as never).status],
      ['fabric.reportError(details evil)', () => fabric.reportError('createOffer', 'e', evil as never).status],
    ];
    const answers = calls.map(([what, call]) => {
      try {
        return [what, call()];
      } catch (e) {
        return [what, `THREW ${String(e)}`];
      }
    });
    expect(answers).toEqual([
      ['addFabric(evil pc)', undefined],
      ['addFabric(options evil)', undefined],
      ['addFabric(usage bare)', undefined],
      ['tryAddFabric(revoked)', 'failure'],
      ['sendFeedback(evil)', 'failure'],
      ['sendCustomStats(evil)', 'failure'],
      ['sendCustomEvent(revoked)', 'failure'],
      ['reportError(details evil)', 'failure'],
      ['reportError(fn bare)', 'failure'],
      ['on(evil)', 'function'],
      ['fabric.sendEvent(bare)', 'failure'],
      ['fabric.sendEvent(data revoked)', 'failure'],
      ['fabric.mapStream(evil)', 'failure'],
      ['fabric.mapStream(sel, evil)', 'failure'],
      ['fabric.reportError(details evil)', 'failure'],
    ]);
    // A clear message names the value String() could not convert.
    expect(monitor.reportError('conf', bare as never, 'e').message).toBe('Invalid webRTC functionName value [object Object]');
    // The monitor still works afterwards.
    expect(fabric.sendEvent('fabricHold').status).toBe('success');
    expect(monitor.sendCustomStats('conf', { n: 1 }).status).toBe('success');
    expect(log.lines.filter((l) => l.includes('the error was caught')).length).toBeGreaterThan(0);
  });

  it('attachAdapter with a Symbol name or a Proxy monitor, and scope helpers used later on bad objects', () => {
    const { monitor, log } = newMonitor();
    expect(() => attachAdapter(Symbol('x') as never, {}, monitor, () => {})()).not.toThrow();
    expect(() => attachAdapter('test', {}, evil as never, () => {})).not.toThrow();
    let later!: Parameters<Parameters<typeof attachAdapter>[3]>[0];
    attachAdapter('test', {}, monitor, (scope) => (later = scope));
    // Called from a library callback after setup: logged, never thrown into the library.
    expect(() => later.wrap(Object.freeze({ f: () => 1 }), 'f', (o) => o)).not.toThrow();
    expect(typeof later.listen(undefined as never, 'x', () => {})).toBe('function');
    expect(log.lines.filter((l) => l.startsWith('error: test: wrap failed') || l.startsWith('error: test: listen failed'))).toHaveLength(2);
  });
});

describe('hostile peer connections', () => {
  it('addEventListener that throws: the fabric is still added and polled; the failure is logged once', async () => {
    vi.useFakeTimers();
    try {
      const { monitor, log } = newMonitor();
      const pc = new FakePeerConnection();
      pc.addEventListener = () => {
        throw new Error('unsupported event');
      };
      const fabric = monitor.addFabric(pc, OPTIONS);
      expect(fabric?.state).toBe('initializing');
      await vi.advanceTimersByTimeAsync(2500);
      expect(pc.getStatsCalls).toBeGreaterThanOrEqual(2);
      expect(log.lines.filter((l) => l.includes('addEventListener'))).toHaveLength(1);
      // States are still seen at the ticks: closing ends the fabric.
      pc.signalingState = 'closed';
      await vi.advanceTimersByTimeAsync(1000);
      expect(fabric?.state).toBe('terminated');
    } finally {
      vi.useRealTimers();
    }
  });

  it('removeEventListener that throws: close is still noticed, terminate and monitor.close end every fabric', async () => {
    const { monitor } = newMonitor();
    const bad = new FakePeerConnection();
    bad.removeEventListener = () => {
      throw new Error('removeEventListener');
    };
    const badFabric = monitor.addFabric(bad, OPTIONS)!;
    const good = monitor.addFabric(new FakePeerConnection(), { ...OPTIONS, remoteUserID: 'carol' })!;
    const closed = vi.fn();
    monitor.on('closed', closed);
    await expect(monitor.close()).resolves.toBeUndefined();
    expect([badFabric.state, good.state, closed.mock.calls.length]).toEqual(['terminated', 'terminated', 1]);

    const second = newMonitor().monitor;
    const pc = new FakePeerConnection();
    pc.removeEventListener = bad.removeEventListener;
    const f = second.addFabric(pc, OPTIONS)!;
    pc.setStates({ signalingState: 'closed' });
    expect(f.state).toBe('terminated');
  });

  it('state getters that throw: nothing is thrown into the pc event dispatch, pollNow resolves, fabricResume answers', async () => {
    const { monitor, log } = newMonitor();
    const pc = new FakePeerConnection();
    const fabric = monitor.addFabric(pc, OPTIONS)!;
    Object.defineProperty(pc, 'iceConnectionState', {
      get: () => {
        throw new Error('state getter');
      },
    });
    expect(() => pc.setStates({ connectionState: 'connecting' })).not.toThrow();
    await expect(fabric.pollNow()).resolves.not.toThrow();
    fabric.sendEvent('fabricHold');
    expect(fabric.sendEvent('fabricResume').status).toBe('success');
    expect(log.lines.filter((l) => l.includes('reading the PeerConnection states failed'))).toHaveLength(1);
  });
});

describe('unreadable stats reports', () => {
  it("a report that cannot be read is told through the monitor's logger, with the fabric", async () => {
    const { monitor, log } = newMonitor();
    const pc = new FakePeerConnection();
    pc.getStats = async () => null as never;
    const fabric = monitor.addFabric(pc, OPTIONS)!;
    const stats = await fabric.pollNow();
    expect(stats?.streams).toEqual({});
    expect(log.lines.filter((l) => l.startsWith(`warn: fabric ${fabric.id}: `) && /cannot be read/.test(l))).toHaveLength(1);
  });
});

describe('nothing answered success that is then lost', () => {
  it('data that cannot be sent (cyclic, BigInt, over 512 KB) is refused with a clear failure', () => {
    const { monitor } = newMonitor();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(monitor.tryAddFabric(new FakePeerConnection(), { ...OPTIONS, attributes: { n: 10n } as never }).result.message).toMatch(/^attributes cannot be sent: not JSON-serializable/);
    expect(monitor.sendCustomEvent('conf', 'ev', cyclic).message).toMatch(/^custom event data cannot be sent: not JSON-serializable/);
    expect(monitor.sendCustomEvent('conf', 'ev', { big: 'x'.repeat(600 * 1024) }).message).toBe('custom event data cannot be sent: over 512 KB as JSON');
    const fabric = monitor.addFabric(new FakePeerConnection(), OPTIONS)!;
    expect(fabric.sendEvent('fabricHold', cyclic).message).toMatch(/^eventData cannot be sent/);
    // terminate() still ends the fabric, without the data it cannot send.
    fabric.terminate(cyclic);
    expect(fabric.state).toBe('terminated');
  });

  it('huge error messages and SDPs are cut to fit the wire, and the answer says so', () => {
    const { monitor, log } = newMonitor();
    const errors: Array<{ message: string; localSDP?: string }> = [];
    monitor.on('error', (e) => errors.push(e));
    const r = monitor.reportError('conf', 'createOffer', new Error('x'.repeat(1 << 20)), { localSDP: 'v=0\r\n'.repeat(100_000) });
    expect(r).toEqual({ status: 'success', message: 'error message truncated to 64 KB; SDP truncated to 256 KB' });
    expect([errors[0]!.message.length, errors[0]!.localSDP!.length]).toEqual([64 * 1024, 256 * 1024]);
    expect(log.lines).toContain('warn: error message truncated to 64 KB; SDP truncated to 256 KB');
  });

  it('calls after close() fail with "the monitor is closed"', async () => {
    const { monitor } = newMonitor();
    await monitor.close();
    expect([
      monitor.sendCustomEvent('conf', 'late').message,
      monitor.sendFeedback('conf', { overall: 4 }).message,
      monitor.reportError('conf', 'createOffer', 'late').message,
      monitor.sendCustomStats('conf', { n: 1 }).message,
      monitor.tryAddFabric(new FakePeerConnection(), OPTIONS).result.message,
    ]).toEqual(Array(5).fill('the monitor is closed'));
  });

  it('the same pc added again with other options: success that says the first options stay; a typo in on() is told', () => {
    const { monitor, log } = newMonitor();
    const pc = new FakePeerConnection();
    const first = monitor.addFabric(pc, OPTIONS)!;
    expect(monitor.tryAddFabric(pc, OPTIONS)).toEqual({ fabric: first, result: { status: 'success' } });
    const again = monitor.tryAddFabric(pc, { remoteUserID: 'carol', conferenceID: 'conf-2' });
    expect(again.fabric).toBe(first);
    expect(again.result.message).toMatch(/already monitored .*conference conf, remote bob\); the new options are ignored/);
    monitor.on('stat' as never, (() => {}) as never);
    monitor.on('stats', 'nope' as never);
    expect(log.lines.filter((l) => l.startsWith('warn: monitor.on'))).toEqual([
      "warn: monitor.on: no event 'stat' (events: sample, stats, fabricEvent, error, customEvent, transport, closed); ignored",
      'warn: monitor.on: the listener is not a function; ignored',
    ]);
  });
});

describe('the callstats.js facade', () => {
  it('its safety net holds for values String() cannot convert', () => {
    const cs = new CallStats();
    const r = cs.initialize('app', 's', 'alice', undefined, undefined, {
      get logger(): never {
        throw bare;
      },
    });
    expect(r).toEqual({ status: 'failure', message: 'initialize: internal error [object Object]' });
    const ok = new CallStats();
    ok.initialize('app', 's', 'alice', undefined, undefined, { logger: logger() });
    expect(ok.reportError(null as never, 'conf', 'createOffer', 'e', {
      get sdp(): never {
        throw bare;
      },
    } as never).status).toMatch(/success|failure/);
  });

  it('calls queued before initialize() get the checks they get after it', () => {
    const cs = new CallStats();
    const feedback = vi.fn();
    expect(cs.sendCustomStats(null, 'conf', { a: 'x' } as never)).toEqual({ status: 'failure', message: "sendCustomStats: custom stat 'a' must be a finite number" });
    expect(cs.sendUserFeedback('conf', { overall: 9 }, feedback).status).toBe('failure');
    expect(feedback).toHaveBeenCalledWith('failure', 'feedback.overall must be an integer 1..5');
    expect(cs.sendCustomEvent(null, 'x'.repeat(300), { a: 1 }).status).toBe('failure');
    expect(cs.sendCustomStats(null, 'conf', { a: 1 })).toEqual({ status: 'success', message: 'sendCustomStats: queued until initialize()' });
  });
});

describe('tokenGenerator', () => {
  it('an error it reports asynchronously that String() cannot convert: nothing thrown into the app, ready fails at once', async () => {
    let threw: unknown;
    const m = createMonitor({
      appID: 'a',
      localUserID: 'u',
      collectorURL: 'http://127.0.0.1:9',
      logger: logger(),
      tokenGenerator: (_force, cb) =>
        void setTimeout(() => {
          try {
            cb(bare as never);
          } catch (e) {
            threw = e;
          }
        }),
    });
    monitors.push(m);
    const result = await m.ready;
    expect(threw).toBeUndefined();
    expect(result.message).toMatch(/^tokenGenerationError: tokenGenerator reported an error: \[object Object\]/);
  });
});
