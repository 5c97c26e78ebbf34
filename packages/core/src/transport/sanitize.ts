/**
 * Keeps items inside docs/protocol.md before they are numbered. The collector refuses a whole
 * batch for one unknown field or out-of-range value, so the transport drops, warning once, what the
 * protocol does not define: unknown top-level fields (per kind) and, in stats, unknown fields and
 * values outside their type/range (treated as unknown, i.e. absent, before delta coding).
 * Candidate addresses (`localAddress`, `remoteAddress`, and the addresses inside SDPs of error
 * reports) never leave unless collectIP is true.
 */
import { hasOwn, isString, type Json } from '../util/values';

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
type ItemKind = keyof typeof KIND_FIELDS;
export const isItemKind = (kind: unknown): kind is ItemKind => isString(kind) && hasOwn(KIND_FIELDS, kind);

/**
 * A number from 0 to the given maximum; any string of 1..256 characters without control
 * characters (`true`); one of a list; any value (`null`: top-level fields).
 */
type Rule = number | true | readonly string[] | null;
/** The collector refuses numbers above 10^9 (kbps, ms, px...: far beyond real values; docs/protocol.md). */
const NUM = 1e9;

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

/** The rules by field: one Map lookup per field (a hasOwn check, then a megamorphic property read, cost more). */
type Rules = Map<string, Rule>;
const streamRules: Rules = new Map(Object.entries(STREAM_RULES));
const connectionRules: Rules = new Map(Object.entries(CONNECTION_RULES));

/** The valid value (numbers become strings where a string is expected), or undefined. */
function valid(rule: Rule, v: unknown): unknown {
  if (rule === null) return v;
  // `<= max` is false for NaN and Infinity too.
  if (typeof rule == 'number') return typeof v == 'number' && v >= 0 && v <= rule ? v : undefined;
  const s = typeof v == 'number' && isFinite(v) ? String(v) : v;
  // eslint-disable-next-line no-control-regex
  return isString(s) && (rule === true ? s && s.length <= 256 && !/[\0-\x1f\x7f]/.test(s) : rule.includes(s)) ? s : undefined;
}

/** The SDP without its network addresses: candidate lines dropped, c=/rtcp addresses zeroed. */
export const redactSdpAddresses = (sdp: string): string =>
  sdp
    .replace(/^a=(candidate|remote-candidates):.*\r?\n?/gm, '')
    .replace(/^(c=|a=rtcp:.*)IN IP(4|6) \S+/gm, (_line, head: string, v: string) => `${head}IN IP${v} ${v == '4' ? '0.0.0.0' : '::'}`);

export interface Sanitizer {
  /** A copy of the item's defined top-level fields the protocol has for its kind. */
  item(kind: ItemKind, item: Json): Json;
  /** Stream fields the protocol defines (and `key`), with valid values only. */
  stream<T extends { key: string }>(entry: T): T;
  connection(c: Json): Json;
}

export function createSanitizer(warn: (message: string) => void, collectIP: boolean): Sanitizer {
  const warned = new Set<string>();
  const topLevelRules: { [K in ItemKind]?: Rules } = {};
  /** The fields of `o` that are set and that `rules` define, with valid values; addresses stripped unless collectIP. */
  const copy = (o: Json, what: string, rules: Rules): Json => {
    const out: Json = {};
    // for-in + hasOwn: Object.entries' own enumerable fields, without its array per field.
    for (const k in o) {
      if (!hasOwn(o, k)) continue;
      const value = o[k];
      if (value == null || k == 'key' || (!collectIP && k.endsWith('Address'))) continue;
      const rule = rules.get(k);
      const known = rule !== undefined;
      const v = known ? valid(rule, value) : undefined;
      if (v !== undefined) out[k] = !collectIP && isString(v) && k.endsWith('SDP') ? redactSdpAddresses(v) : v;
      else {
        // Once per field (and once more if it is known but invalid).
        const key = `${what}.${k}.${known}`;
        if (!warned.has(key)) {
          warned.add(key);
          warn(`${what} field '${k}' is ${known ? `invalid (${JSON.stringify(value)})` : 'not in the protocol'}: not sent.`);
        }
      }
    }
    return out;
  };
  return {
    item: (kind, item) =>
      copy(item, kind, (topLevelRules[kind] ??= new Map(`n t kind conferenceID ${KIND_FIELDS[kind]}`.split(' ').map((f) => [f, null])))),
    stream: (entry) => {
      const out = copy(entry, 'stream', streamRules);
      out.key = entry.key;
      return out as typeof entry;
    },
    connection: (c) => copy(c, 'connection', connectionRules),
  };
}
