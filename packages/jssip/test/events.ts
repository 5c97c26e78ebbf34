// The JsSIP events @callmetry/jssip listens to (for the tests' listener bookkeeping).
export const SESSION_EVENTS = [
  'peerconnection',
  'connecting',
  'sending',
  'progress',
  'accepted',
  'confirmed',
  'sdp',
  'hold',
  'unhold',
  'muted',
  'unmuted',
  'getusermediafailed',
  'peerconnection:createofferfailed',
  'peerconnection:createanswerfailed',
  'peerconnection:setlocaldescriptionfailed',
  'peerconnection:setremotedescriptionfailed',
  'ended',
  'failed',
] as const;

export const UA_EVENTS = ['newRTCSession', 'disconnected'] as const;
