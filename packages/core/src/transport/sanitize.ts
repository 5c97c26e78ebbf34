/**
 * Keeps items inside docs/protocol.md before they are numbered. The collector refuses a whole
 * batch for one unknown field or out-of-range value, so the transport drops, warning once, what the
 * protocol does not define: unknown top-level fields (per kind) and, in stats, unknown fields and
 * values outside their type/range (treated as unknown, i.e. absent, before delta coding).
 * Candidate addresses (`localAddress`, `remoteAddress`, and the addresses inside SDPs of error
 * reports) never leave unless collectIP is true.
 */
import { hasOwn, type Json } from '../util/values';
import type { Fields } from './deltas';

/** Top-level fields per kind, besides `n t kind conferenceID`. */
const KIND_FIELDS = {
  fabric: 'fabricID localUserID remoteUserID fabricUsage remoteEndpointType direction attributes',
  event: 'fabricID event data',
  error: 'fabricID fn category name message localSDP remoteSDP',
  stats: 'fabricID streams connection',
  feedback: 'userID rating comment',
  custom: 'fabricID name data',
  customStats: 'fabricID data',
};
export const isItemKind = (kind: unknown): kind is keyof typeof KIND_FIELDS => typeof kind == 'string' && hasOwn(KIND_FIELDS, kind);

/** A number from 0 to the given maximum; any string of 1..256 characters (`true`); one of a list. */
type Rule = number | true | readonly string[];
const NUM = Number.MAX_VALUE;

export const STREAM_RULES: Record<string, Rule> = {
  ssrc: true,
  statsType: ['inbound-rtp', 'outbound-rtp'],
  mediaType: ['audio', 'video'],
  userID: true,
  usageLabel: true,
  bitrate: NUM,
  packetRate: NUM,
  fractionLoss: 1,
  packetLossPercentage: 100,
  jitter: NUM,
  rtt: NUM,
  audioLevel: 1,
  frameRate: NUM,
  frameWidth: NUM,
  frameHeight: NUM,
  mos: 5,
  quality: ['excellent', 'good', 'fair', 'poor', 'bad'],
  qualityLimitationReason: true,
};

export const CONNECTION_RULES: Record<string, Rule> = {
  rtt: NUM,
  availableOutgoingBitrate: NUM,
  localCandidateType: true,
  remoteCandidateType: true,
  protocol: true,
  localAddress: true,
  remoteAddress: true,
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The valid value (numbers become strings where a string is expected), or undefined. */
function valid(rule: Rule, v: unknown): unknown {
  // `<= max` is false for NaN and Infinity too.
  if (typeof rule == 'number') return typeof v == 'number' && v >= 0 && v <= rule ? v : undefined;
  const s = typeof v == 'number' && isFinite(v) ? String(v) : v;
  if (typeof s != 'string') return undefined;
  return rule === true ? (s && s.length <= 256 && !CONTROL.test(s) ? s : undefined) : rule.includes(s) ? s : undefined;
}

const SDP_ADDRESS_LINE = /^(a=candidate:|c=IN |a=rtcp:|a=remote-candidates:)/;

/** The SDP without its network addresses: candidate lines dropped, c=/rtcp addresses zeroed. */
export function redactSdpAddresses(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && !line.startsWith('a=remote-candidates:'))
    .map((line) => (SDP_ADDRESS_LINE.test(line) ? line.replace(/IN IP4 \S+/, 'IN IP4 0.0.0.0').replace(/IN IP6 \S+/, 'IN IP6 ::') : line))
    .join('\r\n');
}

export interface Sanitizer {
  /** A copy of the item's defined top-level fields the protocol has for its kind. */
  topLevel(kind: keyof typeof KIND_FIELDS, item: Json): Json;
  /** Stream fields the protocol defines (and `key`), with valid values only. */
  stream(entry: Fields & { key: string }): Fields & { key: string };
  connection(c: Fields): Fields;
}

export function createSanitizer(warn: (message: string) => void, collectIP: boolean): Sanitizer {
  const warned = new Set<string>();
  const once = (key: string, message: string): void => {
    if (!warned.has(key)) warned.add(key), warn(message);
  };
  /** Copies the defined fields, as `allowed` returns them (undefined: left out). */
  const copy = (o: Json, allowed: (k: string, v: unknown) => unknown): Json => {
    const out: Json = {};
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (v === undefined || v === null) continue;
      const ok = allowed(k, v);
      if (ok !== undefined) out[k] = ok;
    }
    return out;
  };
  const fields = (o: Fields, rules: Record<string, Rule>, what: string): Fields =>
    copy(o, (k, v) => {
      if (k == 'key' || (!collectIP && /Address$/.test(k))) return undefined;
      if (!hasOwn(rules, k)) return once(`${what}.${k}`, `${what} field '${k}' is not in the protocol: not sent.`);
      const ok = valid(rules[k]!, v);
      if (ok === undefined) once(`${what}.${k}=`, `${what} field '${k}' is invalid (${JSON.stringify(v)}): not sent.`);
      return ok;
    });
  return {
    topLevel: (kind, item) => {
      const allowed = `n t kind conferenceID ${KIND_FIELDS[kind]}`.split(' ');
      return copy(item, (k, v) =>
        !allowed.includes(k)
          ? once(`${kind}.${k}`, `${kind} field '${k}' is not in the protocol: not sent.`)
          : !collectIP && (k == 'localSDP' || k == 'remoteSDP') && typeof v == 'string'
            ? redactSdpAddresses(v)
            : v,
      );
    },
    stream: (entry) => ({ ...fields(entry, STREAM_RULES, 'stream'), key: entry.key }),
    connection: (c) => fields(c, CONNECTION_RULES, 'connection'),
  };
}
