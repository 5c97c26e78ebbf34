/**
 * THE ONLY MODULE THAT TOUCHES SIP.js's PRIVATE OR PROTECTED MEMBERS.
 *
 * Read in SIP.js 0.21.1's source (lib/api/user-agent.js, inviter.js, invitation.js, session.js,
 * lib/platform/web/simple-user/simple-user.js, session-description-handler.js):
 *
 *  - `userAgent._sessions` (`@internal`): a plain object keyed by session id. The Inviter and
 *    Invitation constructors end with `this.userAgent._sessions[this._id] = this`, and
 *    `Session.dispose()` deletes the entry. There is no public "session created" event: an
 *    outgoing Inviter is otherwise invisible until its SDH exists, which is too late to see the
 *    final response of its INVITE. The registry is replaced by a Proxy whose `set` trap reports
 *    each new session; every other operation goes to the original object unchanged.
 *  - `simpleUser.sessionManager` (TypeScript-private): SimpleUser's SessionManager, whose
 *    `userAgent` is public.
 *  - `session.isCanceled` (private, on Inviter and Invitation): true once a CANCEL was sent (Inviter:
 *    the app called cancel()) or received (Invitation: the caller hung up while it rang).
 *  - `Web.SessionDescriptionHandler`'s protected steps, wrapped on the SDH instance to tell which
 *    step of getDescription()/setDescription() failed: `mediaStreamFactory` (getUserMedia),
 *    `createLocalOfferOrAnswer` (createOffer/createAnswer), `setLocalSessionDescription`,
 *    `setRemoteSessionDescription`.
 *
 * Everything is checked structurally before use. The registry hook is used only when the SIP.js
 * version is one whose layout is known (0.16 to 0.21: the API rewrite of 0.16 introduced it);
 * otherwise the adapter runs on public hooks only and says so (see attach.ts).
 */
import { onRejected, read, replaceMethod } from './wrap';

/** The SIP.js release these internals were read from and are tested against. */
export const TESTED_SIPJS_VERSION = '0.21.1';

export type SipJsVersionVerdict =
  | { usable: true; tested: boolean; version: string | undefined }
  | { usable: false; reason: string; version: string };

/**
 * Whether SIP.js `version` may have its private session registry hooked: 0.16.x to 0.21.x.
 * (0.21.1 reports itself as 0.21.0: its LIBRARY_VERSION was not bumped.) Unknown version: try
 * (the structure check decides).
 */
export function checkSipJsVersion(version: string | undefined): SipJsVersionVerdict {
  if (version === undefined || version === '') return { usable: true, tested: false, version: undefined };
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return { usable: false, reason: `unrecognised SIP.js version '${version}'`, version };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 0 || minor < 16 || minor > 21) {
    return { usable: false, reason: `SIP.js ${version} is not 0.16-0.21 (tested: ${TESTED_SIPJS_VERSION})`, version };
  }
  return { usable: true, tested: minor === 21, version };
}

/** The version in the UA's User-Agent string (`SIP.js/0.21.0` by default), if it is there. */
export function sipJsVersionOf(userAgent: unknown): string | undefined {
  const s = read(read(userAgent, 'configuration'), 'userAgentString');
  if (typeof s !== 'string') return undefined;
  return /SIP\.js\/(\d+\.\d+\.\d+)/.exec(s)?.[1];
}


function isPlainRecord(x: unknown): x is Record<string, unknown> {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null || hookedRegistries.has(x);
}

// ---------------------------------------------------------------------------------------------
// userAgent._sessions

const hookedRegistries = new WeakSet<object>();

export interface SessionRegistryHook {
  /** The sessions registered now. */
  existing(): unknown[];
  /** Puts the original registry back (if still ours) and stops reporting. */
  release(): void;
}

/**
 * Replaces `userAgent._sessions` by a Proxy that calls `onSession(session)` whenever a session
 * registers itself. `onSession` runs inside the Inviter/Invitation constructor: it must not throw
 * (it is guarded here too).
 */
export function hookSessionRegistry(
  userAgent: object,
  onSession: (session: object) => void,
): { ok: true; hook: SessionRegistryHook } | { ok: false; reason: string } {
  let desc: PropertyDescriptor | undefined;
  try {
    desc = Object.getOwnPropertyDescriptor(userAgent, '_sessions');
  } catch {
    desc = undefined;
  }
  if (!desc || !('value' in desc) || !desc.writable) return { ok: false, reason: 'userAgent._sessions is not a writable data property' };
  const registry: unknown = desc.value;
  if (!isPlainRecord(registry)) return { ok: false, reason: 'userAgent._sessions is not a plain object' };

  let active = true;
  const proxy = new Proxy(registry, {
    set(target, key, value) {
      const done = Reflect.set(target, key, value);
      if (active && typeof key === 'string' && value && typeof value === 'object') {
        try {
          onSession(value as object);
        } catch {
          // never break the library's constructor
        }
      }
      return done;
    },
  });
  hookedRegistries.add(proxy);
  const ua = userAgent as { _sessions: unknown };
  try {
    ua._sessions = proxy;
  } catch {
    return { ok: false, reason: 'userAgent._sessions could not be replaced' };
  }
  return {
    ok: true,
    hook: {
      existing: () => {
        try {
          return Object.values(registry).filter((s) => !!s && typeof s === 'object');
        } catch {
          return [];
        }
      },
      release: () => {
        active = false;
        try {
          // A non-graceful UserAgent.stop() replaces the registry: then there is nothing to restore.
          if (ua._sessions === proxy) ua._sessions = registry;
        } catch {
          // the proxy stays, inert
        }
      },
    },
  };
}

/** For tests: whether `registry` is one of this module's hooks. */
export function isHookedRegistry(registry: unknown): boolean {
  return !!registry && typeof registry === 'object' && hookedRegistries.has(registry);
}

// ---------------------------------------------------------------------------------------------
// Web.SimpleUser, Invitation

/** `simpleUser.sessionManager.userAgent`, when `x` is shaped like a Web.SimpleUser. */
export function userAgentOfSimpleUser(x: unknown): unknown {
  return read(read(x, 'sessionManager'), 'userAgent');
}

/** `session.isCanceled`: true once a CANCEL was sent (Inviter) or received (Invitation); undefined when unreadable. */
export function sessionWasCanceled(session: unknown): boolean | undefined {
  const v = read(session, 'isCanceled');
  return typeof v === 'boolean' ? v : undefined;
}

// ---------------------------------------------------------------------------------------------
// Web.SessionDescriptionHandler's protected steps

/** Which WebRTC call a step of the Web SDH makes. */
export type SdhStepFunction = 'getUserMedia' | 'createOffer' | 'createAnswer' | 'setLocalDescription' | 'setRemoteDescription';

export interface SdhStepFailure {
  fn: SdhStepFunction | 'applicationError';
  error: unknown;
  localSDP?: string;
  remoteSDP?: string;
}

interface PcDescriptions {
  readonly signalingState?: string;
  readonly localDescription?: { sdp: string } | null;
  readonly remoteDescription?: { sdp: string } | null;
}

function sdpOf(x: unknown): string | undefined {
  const sdp = read(x, 'sdp');
  return typeof sdp === 'string' ? sdp : undefined;
}

/**
 * Wraps the SDH instance's steps so that `onFailure` learns which one failed, with the SDPs
 * involved. Returns the undo functions. An SDH that is not a Web.SessionDescriptionHandler simply
 * has none of these members (nothing is wrapped).
 */
export function wrapSdhSteps(sdh: object, onFailure: (failure: SdhStepFailure) => void): Array<() => void> {
  const restorers: Array<() => void> = [];
  const pcOf = (): PcDescriptions | undefined => {
    const pc = read(sdh, 'peerConnection');
    return pc && typeof pc === 'object' ? (pc as PcDescriptions) : undefined;
  };
  const report = (failure: SdhStepFailure): void => {
    try {
      onFailure(failure);
    } catch {
      // guarded by the caller too
    }
  };

  // getUserMedia: `mediaStreamFactory(constraints, sdh, options)` is an instance property.
  const mediaUndo = replaceMethod(sdh, 'mediaStreamFactory', (original) =>
    function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      onRejected(result, (error) => report({ fn: 'getUserMedia', error }));
      return result;
    },
  );
  if (mediaUndo) restorers.push(mediaUndo);

  const offerUndo = replaceMethod(sdh, 'createLocalOfferOrAnswer', (original) =>
    function (this: unknown, ...args: unknown[]) {
      const state = pcOf()?.signalingState;
      const result = original.apply(this, args);
      onRejected(result, (error) => {
        const pc = pcOf();
        const fn = state === 'stable' ? 'createOffer' : state === 'have-remote-offer' ? 'createAnswer' : 'applicationError';
        report({ fn, error, localSDP: pc?.localDescription?.sdp, remoteSDP: pc?.remoteDescription?.sdp });
      });
      return result;
    },
  );
  if (offerUndo) restorers.push(offerUndo);

  const localUndo = replaceMethod(sdh, 'setLocalSessionDescription', (original) =>
    function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      onRejected(result, (error) =>
        report({ fn: 'setLocalDescription', error, localSDP: sdpOf(args[0]), remoteSDP: pcOf()?.remoteDescription?.sdp }),
      );
      return result;
    },
  );
  if (localUndo) restorers.push(localUndo);

  const remoteUndo = replaceMethod(sdh, 'setRemoteSessionDescription', (original) =>
    function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      onRejected(result, (error) =>
        report({ fn: 'setRemoteDescription', error, remoteSDP: sdpOf(args[0]), localSDP: pcOf()?.localDescription?.sdp }),
      );
      return result;
    },
  );
  if (remoteUndo) restorers.push(remoteUndo);
  return restorers;
}
