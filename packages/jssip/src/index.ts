export { attachJsSip } from './attach';
export { jssipCauseReport } from './causes';
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
