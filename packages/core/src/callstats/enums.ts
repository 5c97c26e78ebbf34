/**
 * callstats.js's public enums with their exact names and values (read from callstats-js 3.73.16).
 * Existing integrations compare against these values, so they must never change.
 */

/** Events an app may send with sendFabricEvent (fabricSetupFailed is listed but refused, as in callstats.js). */
export const fabricEvent = {
  fabricSetupFailed: 'fabricSetupFailed',
  fabricHold: 'fabricHold',
  fabricResume: 'fabricResume',
  audioMute: 'audioMute',
  audioUnmute: 'audioUnmute',
  videoPause: 'videoPause',
  videoResume: 'videoResume',
  fabricUsageEvent: 'fabricUsageEvent',
  fabricTerminated: 'fabricTerminated',
  screenShareStart: 'screenShareStart',
  screenShareStop: 'screenShareStop',
  dominantSpeaker: 'dominantSpeaker',
  activeDeviceList: 'activeDeviceList',
  applicationErrorLog: 'applicationErrorLog',
  callDetails: 'callDetails',
  callUnAnswered: 'callUnAnswered',
} as const;

export const fabricUsage = {
  audio: 'audio',
  video: 'video',
  data: 'data',
  screen: 'screen',
  multiplex: 'multiplex',
  unbundled: 'unbundled',
} as const;

export const endpointType = {
  peer: 'peer',
  server: 'server',
} as const;

/** Note callstats.js's `receiveonly` (not WebRTC's `recvonly`). */
export const transmissionDirection = {
  sendonly: 'sendonly',
  receiveonly: 'receiveonly',
  sendrecv: 'sendrecv',
  inactive: 'inactive',
} as const;

export const webRTCFunctions = {
  createOffer: 'createOffer',
  createAnswer: 'createAnswer',
  setLocalDescription: 'setLocalDescription',
  setRemoteDescription: 'setRemoteDescription',
  addIceCandidate: 'addIceCandidate',
  getUserMedia: 'getUserMedia',
  iceConnectionFailure: 'iceConnectionFailure',
  signalingError: 'signalingError',
  applicationError: 'applicationError',
  applicationLog: 'applicationLog',
} as const;

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
  httpError: 'httpError',
  authError: 'authError',
  wsChannelFailure: 'wsChannelFailure',
  success: 'success',
  csProtoError: 'csProtoError',
  appConnectivityError: 'appConnectivityError',
  tokenGenerationError: 'tokenGenerationError',
  ok: 'OK',
  authOngoing: 'authOngoing',
  invalidWebRTCFunctionName: 'Invalid WebRTC function name',
  invalidEndPointType: 'Invalid EndPoint Type',
  invalidTransmissionDirection: 'Invalid fabric transmission direction',
} as const;

export const callStatsAPIReturnStatus = {
  success: 'success',
  failure: 'failure',
} as const;

export const userIDType = {
  local: 'local',
  remote: 'remote',
} as const;

export const callType = {
  unknown: 'unknown',
  inbound: 'inbound',
  outbound: 'outbound',
  monitoring: 'monitoring',
} as const;

export const roles = {
  agent: 'agent',
  participant: 'participant',
} as const;

/** The callstats.js version whose API this facade reproduces. */
export const compatibleCallstatsVersion = '3.73.16';

/** Failure message texts, as callstats.js worded them (`"<method>: <text> <detail>"`). */
export const failureText = {
  argumentError: 'Argument missing/invalid',
  fabricEventUnsupported: 'Unsupported fabricEvent',
  fabricEventInvalid: 'Invalid fabricEvents value',
  fabricUsageInvalid: 'Invalid fabricUsage value',
  notInitialized: 'SDK is not initialized or no Fabrics added',
  pcInvalid: 'Invalid PeerConnection object passed',
  conferenceDoesNotExist: 'conferenceId does not exist',
  webRTCFunctionsInvalid: 'Invalid webRTC functionName value',
} as const;
