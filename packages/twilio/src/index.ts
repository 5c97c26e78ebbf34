export { attachTwilio, reportTwilioError } from './attach';
export { twilioErrorFunction } from './errors';
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
