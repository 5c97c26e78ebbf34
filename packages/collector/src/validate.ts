// Hand-written, strict validators for everything that arrives from the network.
// Each returns either the typed value or a message naming the first offending path, for a 400 answer.
import {
  CONNECTION_NUMBER_FIELDS,
  CONNECTION_STRING_FIELDS,
  QUALITY_ORDER,
  STREAM_NUMBER_FIELDS,
  STREAM_STRING_FIELDS,
} from './protocol';
import { RESERVED_KEY_PREFIX } from './storage/streamKeys';
import type { Batch, Item, JsonObject, StatsDelta, StreamDelta } from './types';
import { clip, hasLoneSurrogate, wellFormed } from './text';

export type Validated<T> = { ok: true; value: T } | { ok: false; message: string };

export const LIMITS = {
  /** appID, userID, sid, conferenceID, fabricID, stream keys. */
  idLength: 256,
  /** Short names: event, fn, category, fabricUsage, custom event name, ... */
  nameLength: 128,
  /** Error messages (core caps application logs at 20 KiB). */
  messageLength: 64 * 1024,
  sdpLength: 512 * 1024,
  commentLength: 10_000,
  statsStringLength: 256,
  streamsPerItem: 256,
  customStatsEntries: 256,
  /** Nesting depth of free-form objects (attributes, data). */
  objectDepth: 16,
  itemsPerBatch: 500,
  /**
   * Stream and connection numbers without a natural bound (bitrate, rtt, jitter, frame size...),
   * the fabricSetup delays (ms) and dropped counts: far above any real value, low enough that
   * summing them for averages cannot overflow to Infinity.
   */
  maxNumber: 1e9,
} as const;

class Invalid extends Error {}

/** How much of one client-chosen key a path repeats. */
const ECHO_PATH_KEY = 100;
/** `path.key`, the key clipped. */
const at = (path: string, key: string): string => `${path}.${clip(key, ECHO_PATH_KEY)}`;

function fail(path: string, what: string): never {
  // Paths carry client keys: bounded so an answer or log line stays small whatever was sent.
  throw new Invalid(`${clip(path, 2 * ECHO_PATH_KEY)}: ${what}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing (the field is missing)';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(v)) fail(path, `expected an object, got ${describe(v)}`);
  return v;
}

function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>, path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) fail(at(path, k), 'unknown field');
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const SURROGATE_PROBLEM = 'must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff not part of a pair)';

/**
 * A string of min..max characters. IDs and names (the default) refuse control characters and
 * unpaired surrogates: stored as text they would not be valid UTF-8 and could never be looked up
 * again. Free text (`freeText`: messages, SDPs, comments) allows control characters and gets U+FFFD
 * for unpaired surrogates instead: the SDK may cut a long text inside a surrogate pair, and one bad
 * character must not cost the whole error report or feedback.
 */
function str(v: unknown, path: string, max: number, opts: { min?: number; freeText?: boolean } = {}): string {
  if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`);
  const min = opts.min ?? 1;
  if (v.length < min) fail(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  if (v.length > max) fail(path, `must be at most ${max} characters`);
  if (opts.freeText) return wellFormed(v);
  if (CONTROL.test(v)) fail(path, 'must not contain control characters');
  if (hasLoneSurrogate(v)) fail(path, SURROGATE_PROBLEM);
  return v;
}

function optStr(o: Record<string, unknown>, key: string, path: string, max: number, opts?: { min?: number; freeText?: boolean }): string | undefined {
  if (!(key in o)) return undefined;
  return str(o[key], `${path}.${key}`, max, opts);
}

function num(v: unknown, path: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `expected a finite number, got ${describe(v)}`);
  if (v < min || v > max) fail(path, `must be between ${min} and ${max}`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  const n = num(v, path, min, max);
  if (!Number.isInteger(n)) fail(path, 'must be an integer');
  return n;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    fail(path, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  }
  return v as T;
}

/**
 * A free-form JSON object, bounded in depth (our own JSON.stringify must not overflow the stack).
 * Its keys are names (unpaired surrogates refused); its string values are free text (unpaired
 * surrogates become U+FFFD, in place: the object is our own parse of the request).
 */
function jsonObject(v: unknown, path: string): JsonObject {
  const o = obj(v, path);
  checkFreeForm(o, path, 1);
  return o as JsonObject;
}

function checkFreeForm(v: unknown, path: string, depth: number): void {
  if (depth > LIMITS.objectDepth) fail(path, `nested deeper than ${LIMITS.objectDepth} levels`);
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (typeof x === 'string') v[i] = wellFormed(x);
      else checkFreeForm(x, `${path}[${i}]`, depth + 1);
    });
  } else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (hasLoneSurrogate(k)) fail(`${path} key ${JSON.stringify(clip(k, ECHO_PATH_KEY))}`, SURROGATE_PROBLEM);
      // An own property named "__proto__" (JSON.parse makes one) is a data property: assigning
      // to it does not touch the prototype.
      if (typeof x === 'string') v[k] = wellFormed(x);
      else checkFreeForm(x, at(path, k), depth + 1);
    }
  } else if (typeof v === 'number' && !Number.isFinite(v)) {
    fail(path, 'must be a finite number');
  }
}

const ID = LIMITS.idLength;
const NAME = LIMITS.nameLength;
const BASE_KEYS = ['n', 't', 'kind', 'conferenceID'];
const keys = (...k: string[]): ReadonlySet<string> => new Set([...BASE_KEYS, ...k]);

const ITEM_KEYS = {
  fabric: keys('fabricID', 'localUserID', 'remoteUserID', 'fabricUsage', 'remoteEndpointType', 'direction', 'attributes'),
  event: keys('fabricID', 'event', 'data'),
  error: keys('fabricID', 'fn', 'category', 'name', 'message', 'localSDP', 'remoteSDP'),
  stats: keys('fabricID', 'streams', 'connection'),
  feedback: keys('userID', 'rating', 'comment'),
  custom: keys('fabricID', 'name', 'data'),
  customStats: keys('fabricID', 'data'),
  dropped: keys('count', 'reason'),
} as const;

const KINDS = Object.keys(ITEM_KEYS) as (keyof typeof ITEM_KEYS)[];

const STREAM_NUMBERS = new Set<string>(STREAM_NUMBER_FIELDS);
const STREAM_STRINGS = new Set<string>(STREAM_STRING_FIELDS);
const CONNECTION_NUMBERS = new Set<string>(CONNECTION_NUMBER_FIELDS);
const CONNECTION_STRINGS = new Set<string>(CONNECTION_STRING_FIELDS);

/** Upper bounds of stream numbers that have a natural one (all are >= 0); the rest: LIMITS.maxNumber. */
const NUMBER_MAX = new Map<string, number>([
  ['fractionLoss', 1],
  ['audioLevel', 1],
  ['packetLossPercentage', 100],
  ['mos', 5],
]);

function statsFields(
  o: Record<string, unknown>,
  path: string,
  numbers: ReadonlySet<string>,
  strings: ReadonlySet<string>,
  skip?: string,
): StatsDelta {
  const out: StatsDelta = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === skip) continue;
    const p = at(path, k);
    if (numbers.has(k)) {
      out[k] = v === null ? null : num(v, p, 0, NUMBER_MAX.get(k) ?? LIMITS.maxNumber);
    } else if (strings.has(k)) {
      if (v === null) out[k] = null;
      else if (k === 'quality') out[k] = oneOf(v, p, QUALITY_ORDER);
      else if (k === 'statsType') out[k] = oneOf(v, p, ['inbound-rtp', 'outbound-rtp']);
      else if (k === 'mediaType') out[k] = oneOf(v, p, ['audio', 'video']);
      else out[k] = str(v, p, LIMITS.statsStringLength);
    } else {
      fail(p, 'unknown field');
    }
  }
  return out;
}

function validateItem(raw: unknown, path: string): Item {
  const o = obj(raw, path);
  const kind = oneOf(o.kind, `${path}.kind`, KINDS);
  onlyKeys(o, ITEM_KEYS[kind], path);
  const base = {
    n: int(o.n, `${path}.n`, 1, Number.MAX_SAFE_INTEGER),
    t: num(o.t, `${path}.t`, 0, 1e14),
    conferenceID: str(o.conferenceID, `${path}.conferenceID`, ID),
  };
  const optFabric = (): { fabricID?: string } => {
    const f = optStr(o, 'fabricID', path, ID);
    return f === undefined ? {} : { fabricID: f };
  };
  switch (kind) {
    case 'fabric': {
      const item: Item = {
        ...base,
        kind,
        fabricID: str(o.fabricID, `${path}.fabricID`, ID),
        localUserID: str(o.localUserID, `${path}.localUserID`, ID),
        remoteUserID: str(o.remoteUserID, `${path}.remoteUserID`, ID),
        fabricUsage: str(o.fabricUsage, `${path}.fabricUsage`, NAME),
        remoteEndpointType: oneOf(o.remoteEndpointType, `${path}.remoteEndpointType`, ['peer', 'server']),
        direction: oneOf(o.direction, `${path}.direction`, ['sendonly', 'receiveonly', 'sendrecv', 'inactive']),
      };
      if ('attributes' in o) item.attributes = jsonObject(o.attributes, `${path}.attributes`);
      return item;
    }
    case 'event': {
      const item: Item = { ...base, kind, ...optFabric(), event: str(o.event, `${path}.event`, NAME) };
      if ('data' in o) item.data = jsonObject(o.data, `${path}.data`);
      if (item.event === 'fabricSetup' && item.data) {
        // The collector keeps setupDelay (and summarizes it): a delay in ms, like the other two.
        for (const k of ['setupDelay', 'gatheringDelay', 'connectivityDelay']) {
          if (k in item.data) num(item.data[k], `${path}.data.${k}`, 0, LIMITS.maxNumber);
        }
      }
      return item;
    }
    case 'error': {
      const item: Item = {
        ...base,
        kind,
        ...optFabric(),
        fn: str(o.fn, `${path}.fn`, NAME),
        category: str(o.category, `${path}.category`, NAME),
        message: str(o.message, `${path}.message`, LIMITS.messageLength, { min: 0, freeText: true }),
      };
      const name = optStr(o, 'name', path, NAME);
      if (name !== undefined) item.name = name;
      const l = optStr(o, 'localSDP', path, LIMITS.sdpLength, { min: 0, freeText: true });
      if (l !== undefined) item.localSDP = l;
      const r = optStr(o, 'remoteSDP', path, LIMITS.sdpLength, { min: 0, freeText: true });
      if (r !== undefined) item.remoteSDP = r;
      return item;
    }
    case 'stats': {
      const sp = `${path}.streams`;
      if (!Array.isArray(o.streams)) fail(sp, `expected an array, got ${describe(o.streams)}`);
      if (o.streams.length > LIMITS.streamsPerItem) fail(sp, `at most ${LIMITS.streamsPerItem} streams`);
      const seen = new Set<string>();
      const streams: StreamDelta[] = o.streams.map((s: unknown, i: number) => {
        const p = `${sp}[${i}]`;
        const so = obj(s, p);
        const key = str(so.key, `${p}.key`, ID);
        // The collector stores the connection among the streams under a reserved key (CONNECTION_KEY).
        if (key.startsWith(RESERVED_KEY_PREFIX)) fail(`${p}.key`, `stream keys starting with "${RESERVED_KEY_PREFIX}" are reserved for the collector`);
        if (seen.has(key)) fail(`${p}.key`, `duplicate stream key ${JSON.stringify(clip(key))}`);
        seen.add(key);
        return { key, fields: statsFields(so, p, STREAM_NUMBERS, STREAM_STRINGS, 'key') };
      });
      const item: Item = { ...base, kind, fabricID: str(o.fabricID, `${path}.fabricID`, ID), streams };
      if ('connection' in o) {
        const cp = `${path}.connection`;
        item.connection = statsFields(obj(o.connection, cp), cp, CONNECTION_NUMBERS, CONNECTION_STRINGS);
      }
      return item;
    }
    case 'feedback': {
      const rp = `${path}.rating`;
      const r = obj(o.rating, rp);
      onlyKeys(r, new Set(['overall', 'audio', 'video']), rp);
      const rating: { overall: number; audio?: number; video?: number } = { overall: int(r.overall, `${rp}.overall`, 1, 5) };
      if ('audio' in r) rating.audio = int(r.audio, `${rp}.audio`, 1, 5);
      if ('video' in r) rating.video = int(r.video, `${rp}.video`, 1, 5);
      const item: Item = { ...base, kind, userID: str(o.userID, `${path}.userID`, ID), rating };
      const c = optStr(o, 'comment', path, LIMITS.commentLength, { min: 0, freeText: true });
      if (c !== undefined) item.comment = c;
      return item;
    }
    case 'custom': {
      const item: Item = { ...base, kind, ...optFabric(), name: str(o.name, `${path}.name`, NAME) };
      if ('data' in o) item.data = jsonObject(o.data, `${path}.data`);
      return item;
    }
    case 'customStats': {
      const dp = `${path}.data`;
      const d = obj(o.data, dp);
      const entries = Object.entries(d);
      if (entries.length > LIMITS.customStatsEntries) fail(dp, `at most ${LIMITS.customStatsEntries} entries`);
      const data: Record<string, number> = {};
      for (const [k, v] of entries) {
        str(k, `${dp} key`, NAME);
        if (k === '__proto__') fail(`${dp}.${k}`, 'reserved name');
        data[k] = num(v, at(dp, k));
      }
      return { ...base, kind, ...optFabric(), data };
    }
    case 'dropped':
      return {
        ...base,
        kind,
        count: int(o.count, `${path}.count`, 0, LIMITS.maxNumber),
        reason: oneOf(o.reason, `${path}.reason`, ['buffer_full']),
      };
  }
}

const BATCH_KEYS = new Set(['sid', 'items']);
const WS_BATCH_KEYS = new Set(['type', 'id', 'sid', 'items']);

function batchBody(o: Record<string, unknown>, maxItems: number): Batch {
  const sid = str(o.sid, 'sid', ID);
  if (!Array.isArray(o.items)) fail('items', `expected an array, got ${describe(o.items)}`);
  if (o.items.length > maxItems) fail('items', `at most ${maxItems} items per batch, got ${o.items.length}`);
  const seen = new Set<number>();
  const items = o.items.map((raw: unknown, i: number) => {
    const item = validateItem(raw, `items[${i}]`);
    if (seen.has(item.n)) fail(`items[${i}].n`, `duplicate n ${item.n} in the batch`);
    seen.add(item.n);
    return item;
  });
  return { sid, items };
}

function run<T>(f: () => T): Validated<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, message: e.message };
    throw e;
  }
}

/** The body of POST /v1/ingest. */
export function validateBatch(raw: unknown, maxItems: number = LIMITS.itemsPerBatch): Validated<Batch> {
  return run(() => {
    const o = obj(raw, 'body');
    onlyKeys(o, BATCH_KEYS, 'body');
    return batchBody(o, maxItems);
  });
}

/** A WebSocket `{"type":"batch", ...}` message; `id` is checked by the caller first. */
export function validateWsBatch(o: Record<string, unknown>, maxItems: number = LIMITS.itemsPerBatch): Validated<Batch> {
  return run(() => {
    onlyKeys(o, WS_BATCH_KEYS, 'message');
    return batchBody(o, maxItems);
  });
}

export interface SignedTokenRequest {
  way: 'signed';
  appID: string;
  userID: string;
  ts: number;
  nonce: string;
  signature: string;
}
export interface ThirdPartyTokenRequest {
  way: 'thirdParty';
  appID: string;
  userID: string;
  thirdPartyToken: string;
}
export type TokenRequest = SignedTokenRequest | ThirdPartyTokenRequest;

const SIGNED_KEYS = new Set(['appID', 'userID', 'ts', 'nonce', 'signature']);
const THIRD_PARTY_KEYS = new Set(['appID', 'userID', 'thirdPartyToken']);

/** The body of POST /v1/token: exactly one of the two ways. */
export function validateTokenRequest(raw: unknown): Validated<TokenRequest> {
  return run(() => {
    const o = obj(raw, 'body');
    const hasToken = 'thirdPartyToken' in o;
    const hasSignature = 'signature' in o || 'nonce' in o || 'ts' in o;
    if (hasToken && hasSignature) fail('body', 'send either {ts, nonce, signature} or {thirdPartyToken}, not both');
    if (!hasToken && !hasSignature) fail('body', 'send either {ts, nonce, signature} or {thirdPartyToken}');
    const appID = str(o.appID, 'appID', ID);
    const userID = str(o.userID, 'userID', ID);
    if (hasToken) {
      onlyKeys(o, THIRD_PARTY_KEYS, 'body');
      return { way: 'thirdParty', appID, userID, thirdPartyToken: str(o.thirdPartyToken, 'thirdPartyToken', 8192) };
    }
    onlyKeys(o, SIGNED_KEYS, 'body');
    const signature = str(o.signature, 'signature', 64, { min: 64 });
    if (!/^[0-9a-fA-F]{64}$/.test(signature)) fail('signature', 'must be 64 hex characters (HMAC-SHA256)');
    return {
      way: 'signed',
      appID,
      userID,
      ts: int(o.ts, 'ts', 0, Number.MAX_SAFE_INTEGER),
      nonce: str(o.nonce, 'nonce', 256, { min: 16 }),
      signature: signature.toLowerCase(),
    };
  });
}

export { isPlainObject };
