export { attachMediasoup } from './attach';
export type {
  AppDataLike,
  AttachMediasoupOptions,
  ConsumerLike,
  ConsumerUser,
  DetachMediasoup,
  DeviceLike,
  ItemObserverEvent,
  MediasoupEmitterLike,
  MediasoupListener,
  ProducerLike,
  RtpEncodingLike,
  RtpParametersLike,
  TransportLike,
} from './types';
