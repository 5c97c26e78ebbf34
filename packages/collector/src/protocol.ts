// Wire types of docs/protocol.md (v1), as the collector sees them after validation.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type RemoteEndpointType = 'peer' | 'server';
export type Direction = 'sendonly' | 'receiveonly' | 'sendrecv' | 'inactive';
export type Quality = 'excellent' | 'good' | 'fair' | 'poor' | 'bad';
export type ItemKind = Item['kind'];

/** A value of a stats field after delta decoding; `null` in a delta means "became unknown". */
export type StatsFieldValue = number | string;
/** Fields of one stream or of the connection, as sent (delta) : null removes a field. */
export type StatsDelta = Record<string, StatsFieldValue | null>;
/** A full, reconstructed sample. */
export type StatsFields = Record<string, StatsFieldValue>;

interface ItemBase {
  n: number;
  t: number;
  conferenceID: string;
}

export interface FabricItem extends ItemBase {
  kind: 'fabric';
  fabricID: string;
  localUserID: string;
  remoteUserID: string;
  fabricUsage: string;
  remoteEndpointType: RemoteEndpointType;
  direction: Direction;
  attributes?: JsonObject;
}

export interface EventItem extends ItemBase {
  kind: 'event';
  fabricID?: string;
  event: string;
  data?: JsonObject;
}

export interface ErrorItem extends ItemBase {
  kind: 'error';
  fabricID?: string;
  fn: string;
  category: string;
  name?: string;
  message: string;
  localSDP?: string;
  remoteSDP?: string;
}

export interface StreamDelta {
  key: string;
  fields: StatsDelta;
}

export interface StatsItem extends ItemBase {
  kind: 'stats';
  fabricID: string;
  /** Each stream's delta; `fields` excludes `key`. */
  streams: StreamDelta[];
  connection?: StatsDelta;
}

export interface FeedbackRating {
  overall: number;
  audio?: number;
  video?: number;
}

export interface FeedbackItem extends ItemBase {
  kind: 'feedback';
  userID: string;
  rating: FeedbackRating;
  comment?: string;
}

export interface CustomItem extends ItemBase {
  kind: 'custom';
  fabricID?: string;
  name: string;
  data?: JsonObject;
}

export interface CustomStatsItem extends ItemBase {
  kind: 'customStats';
  fabricID?: string;
  data: Record<string, number>;
}

export interface DroppedItem extends ItemBase {
  kind: 'dropped';
  count: number;
  reason: 'buffer_full';
}

export type Item =
  | FabricItem
  | EventItem
  | ErrorItem
  | StatsItem
  | FeedbackItem
  | CustomItem
  | CustomStatsItem
  | DroppedItem;

export interface Batch {
  sid: string;
  items: Item[];
}

export type FabricState = 'new' | 'established' | 'hold' | 'disrupted' | 'terminated' | 'failed';

/** Events that move a fabric's state; every other event leaves it as it is. */
export const STATE_EVENTS: Readonly<Record<string, FabricState>> = {
  fabricSetup: 'established',
  fabricHold: 'hold',
  fabricResume: 'established',
  connectionDisruptionStart: 'disrupted',
  connectionDisruptionEnd: 'established',
  fabricTerminated: 'terminated',
  fabricSetupFailed: 'failed',
};

export function stateAfterEvent(event: string): FabricState | undefined {
  return Object.prototype.hasOwnProperty.call(STATE_EVENTS, event) ? STATE_EVENTS[event] : undefined;
}

/** States after which a fabric produces no more data: a conference whose fabrics are all final is over. */
export function isFinalState(state: FabricState): boolean {
  return state === 'terminated' || state === 'failed';
}

/** Stream fields of the protocol and their types. */
export const STREAM_NUMBER_FIELDS = [
  'bitrate',
  'packetRate',
  'fractionLoss',
  'packetLossPercentage',
  'jitter',
  'rtt',
  'audioLevel',
  'frameRate',
  'frameWidth',
  'frameHeight',
  'mos',
] as const;
export const STREAM_STRING_FIELDS = ['ssrc', 'statsType', 'mediaType', 'userID', 'usageLabel', 'quality', 'qualityLimitationReason'] as const;
export const CONNECTION_NUMBER_FIELDS = ['rtt', 'availableOutgoingBitrate'] as const;
export const CONNECTION_STRING_FIELDS = [
  'localCandidateType',
  'remoteCandidateType',
  'protocol',
  'localAddress',
  'remoteAddress',
] as const;

export const QUALITY_ORDER: readonly Quality[] = ['excellent', 'good', 'fair', 'poor', 'bad'];
