/** Instance-level method wrapping that can be undone safely, and guarded property reads. */

/** Reads a property without letting a throwing getter escape. */
export function read(obj: unknown, key: string): unknown {
  if (!obj || (typeof obj !== 'object' && typeof obj !== 'function')) return undefined;
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Replaces `obj[name]` (a function, own or inherited) by `make(original)` as an own property of
 * `obj`. Returns the undo: it restores the previous state only while the property is still our
 * wrapper (someone who wrapped it after us keeps theirs, and ours must then stay inert), or
 * undefined when the property is not a function or cannot be written.
 */
export function replaceMethod(obj: object, name: string, make: (original: AnyFunction) => AnyFunction): (() => void) | undefined {
  const target = obj as Record<string, unknown>;
  let original: unknown;
  let hadOwn: boolean;
  try {
    original = target[name];
    hadOwn = Object.prototype.hasOwnProperty.call(obj, name);
  } catch {
    return undefined;
  }
  if (typeof original !== 'function') return undefined;
  const wrapper = make(original as AnyFunction);
  try {
    target[name] = wrapper;
    if (target[name] !== wrapper) return undefined;
  } catch {
    return undefined;
  }
  return () => {
    try {
      if (target[name] !== wrapper) return;
      if (hadOwn) target[name] = original;
      else delete target[name];
    } catch {
      // a frozen or exotic object: leave it, the wrapper is inert after detach
    }
  };
}

/** A promise's rejection observed on a side branch: never changes what the caller sees. */
export function onRejected(value: unknown, handler: (error: unknown) => void): void {
  if (!value || typeof (value as { then?: unknown }).then !== 'function') return;
  try {
    (value as Promise<unknown>).then(undefined, (error: unknown) => {
      try {
        handler(error);
      } catch {
        // handlers are guarded by their callers; never let this branch reject
      }
    });
  } catch {
    // a thenable whose then() throws: nothing to observe
  }
}

/** Like onRejected, for both outcomes. */
export function onSettled(value: unknown, ok: (result: unknown) => void, ko: (error: unknown) => void): void {
  if (!value || typeof (value as { then?: unknown }).then !== 'function') return;
  const guard =
    <T>(fn: (x: T) => void) =>
    (x: T): void => {
      try {
        fn(x);
      } catch {
        // see onRejected
      }
    };
  try {
    (value as Promise<unknown>).then(guard(ok), guard(ko));
  } catch {
    // see onRejected
  }
}
