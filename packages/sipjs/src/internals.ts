/**
 * THE ONLY MODULE THAT TOUCHES SIP.js's PRIVATE MEMBERS (besides `session.isCanceled` and
 * `simpleUser.sessionManager`, read in attach.ts, and the Web SDH's protected steps, wrapped there).
 *
 * Read in SIP.js 0.21.1's source (lib/api/user-agent.js, inviter.js, invitation.js, session.js):
 * `userAgent._sessions` (`@internal`) is a plain object keyed by session id. The Inviter and
 * Invitation constructors end with `this.userAgent._sessions[this._id] = this`, and
 * `Session.dispose()` deletes the entry. There is no public "session created" event: an outgoing
 * Inviter is otherwise invisible until its SDH exists, which is too late to see the final
 * response of its INVITE. The registry is replaced by a Proxy whose `set` trap reports each new
 * session; every other operation goes to the original object unchanged. Only for SIP.js versions
 * whose layout is known (0.16 to 0.21: the API rewrite of 0.16 introduced it), after a structural
 * check; otherwise the adapter runs on public hooks only and says so.
 */
import type { AdapterScope } from '@callmetry/core';
import type { SipJsVersionVerdict } from './types';

/**
 * Whether SIP.js `version` may have its private session registry hooked: 0.16.x to 0.21.x
 * (tested: 0.21.1, which reports itself as 0.21.0). Unknown version: try (the structure check decides).
 */
export function checkSipJsVersion(version: string | undefined): SipJsVersionVerdict {
  const minor = Number(/^0\.(\d+)\.\d/.exec(version ?? '')?.[1]); // NaN without a version: usable, not tested
  return !version || (minor > 15 && minor < 22)
    ? { usable: true, tested: minor == 21, version }
    : { usable: false, reason: `SIP.js ${version} is not 0.16-0.21`, version };
}

const hooked = new WeakSet<object>();

/** For tests: whether `registry` is a hooked session registry. */
export const isHookedRegistry = (registry: unknown): boolean => hooked.has(registry as object);

/**
 * Replaces `userAgent._sessions` by a Proxy that calls `onSession(session)` whenever a session
 * registers itself (inside the Inviter/Invitation constructor: made safe by the scope) and for
 * the sessions registered now; the original comes back on detach. Answers why it could not.
 */
export function hookSessionRegistry(scope: AdapterScope, userAgent: object, onSession: (session: unknown) => void): string | undefined {
  const ua = userAgent as { _sessions?: object };
  const registry = ua._sessions;
  if (!registry || Object.getPrototypeOf(registry) != Object.prototype) return 'userAgent._sessions is not a plain object';
  const report = scope.safe(onSession);
  const proxy = new Proxy(registry, {
    set(target, key, value) {
      const done = Reflect.set(target, key, value);
      report(value);
      return done;
    },
  });
  hooked.add(proxy);
  // Restored on detach unless replaced since (a non-graceful UserAgent.stop() replaces the registry).
  scope.wrap(ua, '_sessions', () => proxy);
  Object.values(registry).forEach(report);
}
