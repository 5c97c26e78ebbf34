export { attachSipJs, userAgentOf } from './attach';
export { classifySipStatus } from './status';
export { isHoldOffer } from './sdp';
export { checkSipJsVersion } from './internals';
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
  SipJsVersionVerdict,
  SipStatusOutcome,
} from './types';
