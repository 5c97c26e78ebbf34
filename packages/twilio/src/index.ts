export { attachTwilio, reportTwilioError, UNKNOWN_PEER_USER_ID } from './attach';
export { twilioErrorFunction, describeTwilioError } from './errors';
export { TESTED_TWILIO_VIDEO_VERSION, checkTwilioVersion } from './internals';
export { RoomStatsPeerConnection, entriesFromTwilioReport } from './statsShim';
export type {
  AttachTwilioOptions,
  PeerConnectionAccess,
  RoomPeerConnection,
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
