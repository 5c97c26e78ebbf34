export { attachJanus, instrumentJanus } from './attach';
export type {
  AttachJanusOptions,
  DetachJanus,
  JanusAttachOptionsLike,
  JanusCustomEventName,
  JanusHandleInfo,
  JanusJsepLike,
  JanusMessage,
  JanusPluginHandleLike,
  JanusSendParams,
  JanusSessionLike,
  JanusTrackOptionLike,
  JanusWebrtcParams,
} from './types';
