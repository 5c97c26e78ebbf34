// Wire protocol (docs/protocol.md v1) values: fabric states after events, the stats fields.
// The wire types are in ./types.ts.
import type { FabricState, Quality } from './types';

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
