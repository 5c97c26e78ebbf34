// @callmetry/collector: the self-hosted Callmetry collector as a library.
export { startCollector } from './server';
export { signJwt, hmacHex, tokenRequestSigningString } from './auth';
export { createConsoleLogger, createMemoryLogger, silentLogger } from './logger';
export { SqliteStorage, createSqliteStorage } from './storage/sqlite';
export { CONNECTION_KEY } from './storage/streamKeys';
export { ConferenceViewError } from './storage/conferenceViewError';
export { inThreadViews } from './views';
export { parseCliArgs } from './cliArgs';
export type {
  // the collector
  Collector,
  CollectorOptions,
  CliConfig,
  // apps and tokens
  AppCredentials,
  TokenClaims,
  // logging
  Logger,
  LogFields,
  LogLevel,
  LogRecord,
  // storage
  Storage,
  IngestContext,
  IngestResult,
  ConferenceRef,
  ConferenceListEntry,
  ConferenceRecord,
  ConferenceData,
  ParticipantRecord,
  FabricRecord,
  StoredItem,
  SampleRecord,
  TimeWindow,
  ConferenceViews,
  ConferenceViewsOptions,
  ConferenceSummaryResult,
  SqliteStorageOptions,
  SqliteHandle,
  SqliteReaderPool,
  ReaderPoolStats,
  // conference summaries
  ConferenceSummary,
  MediaSummary,
  // query API answers
  ConferenceDetail,
  FabricView,
  FabricEventView,
  StreamView,
  StreamSummary,
  MetricSummary,
  SeriesPoint,
  // wire protocol
  Item,
  ItemKind,
  Batch,
  FabricItem,
  EventItem,
  ErrorItem,
  StatsItem,
  StreamDelta,
  FeedbackItem,
  FeedbackRating,
  CustomItem,
  CustomStatsItem,
  DroppedItem,
  FabricState,
  Quality,
  Direction,
  RemoteEndpointType,
  StatsDelta,
  StatsFields,
  StatsFieldValue,
  JsonObject,
  JsonValue,
  JsonPrimitive,
} from './types';
