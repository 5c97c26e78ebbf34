export { attachSipJs, userAgentOf } from './attach';
export { classifySipStatus } from './status';
export { isHoldOffer, mediaDirections } from './sdp';
export { TESTED_SIPJS_VERSION, checkSipJsVersion } from './internals';
export type { SipJsVersionVerdict } from './internals';
export type { SdpDirection } from './sdp';
export type {
  AttachSipJsOptions,
  SipFailureCause,
  SipJsAttachTarget,
  SipJsEmitterLike,
  SipJsIncomingResponseLike,
  SipJsInvitationLike,
  SipJsInviteOptionsLike,
  SipJsInviterLike,
  SipJsNameAddrLike,
  SipJsPeerConnectionLike,
  SipJsRequestDelegateLike,
  SipJsSessionDescriptionHandlerFactoryLike,
  SipJsSessionDescriptionHandlerLike,
  SipJsSessionLike,
  SipJsSessionManagerLike,
  SipJsSessionState,
  SipJsSimpleUserLike,
  SipJsTrackLike,
  SipJsURILike,
  SipJsUserAgentLike,
  SipJsUserAgentState,
  SipStatusOutcome,
} from './types';
