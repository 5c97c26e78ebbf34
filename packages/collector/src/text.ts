// String helpers for what arrives from clients: bounded echoes and well-formed UTF-16.

/** How much of a client's string an error message or log line repeats. */
export const ECHO_LIMIT = 200;

/**
 * `s` cut to `max` characters with an ellipsis, so that a client cannot make an answer or a log
 * line as big as its request (a 900 KB field name would otherwise be echoed whole).
 */
export function clip(s: string, max: number = ECHO_LIMIT): string {
  if (s.length <= max) return s;
  // Do not cut a surrogate pair in half: the echo must itself be well-formed.
  let end = max - 1;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

// With the u flag a surrogate code point only matches when it is unpaired.
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/** True when `s` has an unpaired UTF-16 surrogate (valid JSON: "\ud800", but not valid UTF-8). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/** `s` with every unpaired surrogate replaced by U+FFFD (what String#toWellFormed does). */
export function wellFormed(s: string): string {
  return hasLoneSurrogate(s) ? s.replace(LONE_SURROGATES, '\ufffd') : s;
}
