export { attachJsSip, JSSIP_SESSION_EVENTS, JSSIP_UA_EVENTS } from './attach';
export { JSSIP_CAUSES, JSSIP_CAUSE_REPORTS, jssipCauseReport } from './causes';
export type {
  AttachJsSipOptions,
  JsSipCauseReport,
  JsSipEmitterLike,
  JsSipEndEvent,
  JsSipMessageLike,
  JsSipNameAddrHeaderLike,
  JsSipNewRTCSessionEvent,
  JsSipPeerConnectionLike,
  JsSipRTCSessionLike,
  JsSipSessionInfo,
  JsSipUALike,
  JsSipURILike,
} from './types';
