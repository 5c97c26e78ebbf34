/**
 * callstats.js's public enums with their exact names and values (read from callstats-js 3.73.16).
 * Existing integrations compare against these values, so they must never change.
 */

/** Space-separated words, as a union of them. */
type Words<S extends string> = S extends `${infer Word} ${infer Rest}` ? Word | Words<Rest> : S;

/** `{a: 'a', b: 'b', ...}` from `'a b ...'`, typed, in the order given. */
function keyed<const S extends string>(words: S): { readonly [K in Words<S>]: K } {
  return Object.fromEntries(words.split(' ').map((k) => [k, k])) as { [K in Words<S>]: K };
}

/** Events an app may send with sendFabricEvent (fabricSetupFailed is listed but refused, as in callstats.js). */
export const fabricEvent = keyed('fabricSetupFailed fabricHold fabricResume audioMute audioUnmute videoPause videoResume fabricUsageEvent fabricTerminated screenShareStart screenShareStop dominantSpeaker activeDeviceList applicationErrorLog callDetails callUnAnswered');

export const fabricUsage = keyed('audio video data screen multiplex unbundled');

export const endpointType = keyed('peer server');

/** Note callstats.js's `receiveonly` (not WebRTC's `recvonly`). */
export const transmissionDirection = keyed('sendonly receiveonly sendrecv inactive');

export const webRTCFunctions = keyed('createOffer createAnswer setLocalDescription setRemoteDescription addIceCandidate getUserMedia iceConnectionFailure signalingError applicationError applicationLog');

/** User feedback ratings: numbers, 5 best. */
export const qualityRating = {
  excellent: 5,
  good: 4,
  fair: 3,
  poor: 2,
  bad: 1,
} as const;

/** Codes given to csInitCallback; three entries are sentences, as in callstats.js. */
export const csError = {
  ...keyed('httpError authError wsChannelFailure success csProtoError appConnectivityError tokenGenerationError'),
  ok: 'OK',
  authOngoing: 'authOngoing',
  invalidWebRTCFunctionName: 'Invalid WebRTC function name',
  invalidEndPointType: 'Invalid EndPoint Type',
  invalidTransmissionDirection: 'Invalid fabric transmission direction',
} as const;

export const callStatsAPIReturnStatus = keyed('success failure');

export const userIDType = keyed('local remote');

export const callType = keyed('unknown inbound outbound monitoring');

export const roles = keyed('agent participant');

/** The callstats.js version whose API this facade reproduces. */
export const compatibleCallstatsVersion = '3.73.16';
