export { attachTwilio, reportTwilioError } from './attach';
export type {
  AttachTwilioOptions,
  PeerConnectionAccess,
  TwilioEmitterLike,
  TwilioErrorLike,
  TwilioLocalParticipantLike,
  TwilioParticipantLike,
  TwilioRemoteParticipantLike,
  TwilioRoomLike,
  TwilioStatsReportLike,
  TwilioTrackKind,
  TwilioTrackLike,
  TwilioTrackPublicationLike,
  TwilioTrackStatsLike,
} from './types';
