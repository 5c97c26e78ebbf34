import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { attachAdapter } from '../../src/adapter/attachment';
import { createMonitor } from '../../src/monitor/monitor';
import type { Logger } from '../../src/types';

function logger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => void errors.push(m) };
}

describe('attachAdapter', () => {
  it('is idempotent per library object and monitor', () => {
    const log = logger();
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: log });
    const lib = new EventEmitter();
    const setup = vi.fn((scope) => scope.listen(lib, 'x', () => {}));
    const d1 = attachAdapter('test', lib, monitor, setup);
    const d2 = attachAdapter('test', lib, monitor, setup);
    expect(d1).toBe(d2);
    expect(setup).toHaveBeenCalledTimes(1);
    expect(lib.listenerCount('x')).toBe(1);
    const other = createMonitor({ appID: 'a', localUserID: 'u', logger: log });
    expect(attachAdapter('test', lib, other, setup)).not.toBe(d1);
    expect(lib.listenerCount('x')).toBe(2);
  });

  it('detach removes Node-style and EventTarget-style listeners and restores wrappers', () => {
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: logger() });
    const emitter = new EventEmitter();
    const target = new EventTarget();
    const lib = { emitter, target, call: (x: number) => x * 2 };
    const original = lib.call;
    const seen: string[] = [];
    const detach = attachAdapter('test', lib, monitor, (scope) => {
      scope.listen(emitter, 'e', () => seen.push('emitter'));
      scope.listen(target, 't', () => seen.push('target'));
      scope.wrap(lib, 'call', (orig) => (x: number) => {
        seen.push('wrapped');
        return orig(x);
      });
    });
    emitter.emit('e');
    target.dispatchEvent(new Event('t'));
    expect(lib.call(2)).toBe(4);
    detach();
    emitter.emit('e');
    target.dispatchEvent(new Event('t'));
    expect(lib.call).toBe(original);
    expect(seen).toEqual(['emitter', 'target', 'wrapped']);
    expect(emitter.listenerCount('e')).toBe(0);
    // Attaching again after detach works.
    expect(attachAdapter('test', lib, monitor, () => {})).not.toBe(detach);
  });

  it('a wrapper wrapped again by someone else stays but passes through after detach', () => {
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: logger() });
    const lib = { call: () => 'orig' };
    let ours = 0;
    const detach = attachAdapter('test', lib, monitor, (scope) =>
      scope.wrap(lib, 'call', (orig) => () => {
        ours++;
        return orig();
      }),
    );
    const ourWrapper = lib.call;
    lib.call = () => `app(${ourWrapper()})`;
    detach();
    expect(lib.call()).toBe('app(orig)');
    expect(ours).toBe(0);
  });

  it('handlers never throw into the library, setup errors are caught, and a closed monitor detaches', async () => {
    const log = logger();
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: log });
    const lib = new EventEmitter();
    const detachSpy = vi.fn();
    attachAdapter('test', lib, monitor, (scope) => {
      scope.listen(lib, 'boom', () => {
        throw new Error('handler bug');
      });
      scope.onDetach(detachSpy);
    });
    expect(() => lib.emit('boom')).not.toThrow();
    expect(log.errors.some((e) => e.includes('handler failed'))).toBe(true);
    expect(() =>
      attachAdapter('broken', {}, monitor, () => {
        throw new Error('setup bug');
      }),
    ).not.toThrow();
    await monitor.close();
    expect(detachSpy).toHaveBeenCalledTimes(1);
    expect(lib.listenerCount('boom')).toBe(0);
  });

  it('attaching to a monitor that is already closed detaches at once (no listener stays)', async () => {
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: logger() });
    await monitor.close();
    const lib = new EventEmitter();
    const detached = vi.fn();
    attachAdapter('test', lib, monitor, (scope) => {
      scope.listen(lib, 'x', () => {});
      scope.onDetach(detached);
    });
    await Promise.resolve();
    expect(detached).toHaveBeenCalledTimes(1);
    expect(lib.listenerCount('x')).toBe(0);
    // The app's own 'closed' listener added late runs too, once.
    const late = vi.fn();
    monitor.on('closed', late);
    await Promise.resolve();
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('a setup that throws leaves no half attachment: what it added goes, and a later attach starts afresh', () => {
    const log = logger();
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: log });
    const lib = new EventEmitter();
    let fail = true;
    const setup = (scope: Parameters<Parameters<typeof attachAdapter>[3]>[0]) => {
      scope.listen(lib, 'x', () => {});
      if (fail) throw new Error('setup bug');
    };
    const first = attachAdapter('test', lib, monitor, setup);
    expect(lib.listenerCount('x')).toBe(0);
    expect(log.errors.some((e) => e.includes('attaching failed'))).toBe(true);
    fail = false;
    const second = attachAdapter('test', lib, monitor, setup);
    expect(second).not.toBe(first);
    expect(lib.listenerCount('x')).toBe(1);
    second();
    expect(lib.listenerCount('x')).toBe(0);
  });

  it('refuses a missing library object or monitor without throwing', () => {
    const log = logger();
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: log });
    expect(() => attachAdapter('test', null as never, monitor, () => {})()).not.toThrow();
    expect(() => attachAdapter('test', {}, null as never, () => {})()).not.toThrow();
    expect(log.errors).toHaveLength(1);
  });
});

describe('attachAdapter bookkeeping', () => {
  it('a listener removed early leaves nothing to clean up on detach', () => {
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: logger() });
    const lib = new EventEmitter();
    const objects = Array.from({ length: 100 }, () => new EventEmitter());
    let cleanupCalls = 0;
    const detach = attachAdapter('test', lib, monitor, (scope) => {
      for (const o of objects) {
        const remove: () => void = scope.listen(o, 'close', () => remove());
        const off = o.off.bind(o);
        o.off = (...args: Parameters<EventEmitter['off']>) => {
          cleanupCalls++;
          return off(...args);
        };
      }
    });
    for (const o of objects) o.emit('close');
    expect(cleanupCalls).toBe(100);
    detach();
    // Detach did not try to remove the listeners a second time: they were released already.
    expect(cleanupCalls).toBe(100);
  });
});

describe('attachAdapter wrappers of inherited methods', () => {
  it('restores a prototype method by removing the own property', () => {
    class Lib {
      stop(): string {
        return 'stopped';
      }
    }
    const lib = new Lib();
    const monitor = createMonitor({ appID: 'a', localUserID: 'u', logger: logger() });
    const detach = attachAdapter('test', lib, monitor, (scope) => scope.wrap(lib, 'stop', (orig) => function (this: Lib) {
      return `wrapped ${orig.call(this)}`;
    }));
    expect(lib.stop()).toBe('wrapped stopped');
    expect(Object.prototype.hasOwnProperty.call(lib, 'stop')).toBe(true);
    detach();
    expect(Object.prototype.hasOwnProperty.call(lib, 'stop')).toBe(false);
    expect(lib.stop()).toBe('stopped');
  });
});
