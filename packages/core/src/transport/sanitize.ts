/**
 * Keeps items inside docs/protocol.md before they are numbered. The collector refuses a whole
 * batch for one unknown field or out-of-range value, so the transport drops, once, what the
 * protocol does not define: unknown top-level fields (per kind) and, in stats, unknown fields and
 * values outside their type/range (treated as unknown, i.e. absent, before delta coding).
 */
import type { Fields } from './deltas';

const COMMON = ['n', 't', 'kind', 'conferenceID'];
export const ITEM_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  fabric: new Set([...COMMON, 'fabricID', 'localUserID', 'remoteUserID', 'fabricUsage', 'remoteEndpointType', 'direction', 'attributes']),
  event: new Set([...COMMON, 'fabricID', 'event', 'data']),
  error: new Set([...COMMON, 'fabricID', 'fn', 'category', 'name', 'message', 'localSDP', 'remoteSDP']),
  stats: new Set([...COMMON, 'fabricID', 'streams', 'connection']),
  feedback: new Set([...COMMON, 'userID', 'rating', 'comment']),
  custom: new Set([...COMMON, 'fabricID', 'name', 'data']),
  customStats: new Set([...COMMON, 'fabricID', 'data']),
};

type Rule = { num: number } | { str: true } | { oneOf: readonly string[] };
const NUM = { num: Number.MAX_VALUE };
const STR = { str: true } as const;

const STREAM_RULES: Readonly<Record<string, Rule>> = {
  ssrc: STR,
  statsType: { oneOf: ['inbound-rtp', 'outbound-rtp'] },
  mediaType: { oneOf: ['audio', 'video'] },
  userID: STR,
  usageLabel: STR,
  bitrate: NUM,
  packetRate: NUM,
  fractionLoss: { num: 1 },
  packetLossPercentage: { num: 100 },
  jitter: NUM,
  rtt: NUM,
  audioLevel: { num: 1 },
  frameRate: NUM,
  frameWidth: NUM,
  frameHeight: NUM,
  mos: { num: 5 },
  quality: { oneOf: ['excellent', 'good', 'fair', 'poor', 'bad'] },
  qualityLimitationReason: STR,
};

const CONNECTION_RULES: Readonly<Record<string, Rule>> = {
  rtt: NUM,
  availableOutgoingBitrate: NUM,
  localCandidateType: STR,
  remoteCandidateType: STR,
  protocol: STR,
  localAddress: STR,
  remoteAddress: STR,
};

const MAX_STRING = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function valid(rule: Rule, v: unknown): unknown {
  if ('num' in rule) return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= rule.num ? v : undefined;
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return undefined;
  if ('oneOf' in rule) return rule.oneOf.includes(s) ? s : undefined;
  return s.length >= 1 && s.length <= MAX_STRING && !CONTROL.test(s) ? s : undefined;
}

export class Sanitizer {
  private readonly warned = new Set<string>();

  constructor(private readonly warn: (message: string) => void) {}

  private once(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** A copy of the item's top-level fields the protocol defines for its kind. */
  topLevel(kind: string, item: Record<string, unknown>): Record<string, unknown> {
    const allowed = ITEM_FIELDS[kind];
    if (!allowed) return item;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(item)) {
      if (allowed.has(k)) out[k] = item[k];
      else if (item[k] !== undefined) this.once(`${kind}.${k}`, `'${kind}' items have no field '${k}' in the protocol: it is not sent.`);
    }
    return out;
  }

  /** Stream fields (and `key`) the protocol defines, with valid values only. */
  stream(entry: Fields & { key: string }): Fields & { key: string } {
    return { ...this.fields(entry, STREAM_RULES, 'stream', 'key'), key: entry.key };
  }

  connection(c: Fields): Fields {
    return this.fields(c, CONNECTION_RULES, 'connection');
  }

  private fields(o: Fields, rules: Readonly<Record<string, Rule>>, what: string, skip?: string): Fields {
    const out: Fields = {};
    for (const k of Object.keys(o)) {
      if (k === skip) continue;
      const v = o[k];
      if (v === undefined || v === null) continue;
      const rule = rules[k];
      if (!rule) {
        this.once(`${what}.${k}`, `${what} field '${k}' is not in the protocol: it is not sent.`);
        continue;
      }
      const ok = valid(rule, v);
      if (ok === undefined) {
        this.once(`${what}.${k}=`, `${what} field '${k}' had an invalid value (${JSON.stringify(v)}): sent as unknown.`);
        continue;
      }
      out[k] = ok;
    }
    return out;
  }
}
