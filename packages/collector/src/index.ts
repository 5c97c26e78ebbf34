// @callmetry/collector: the self-hosted Callmetry collector as a library.
export { startCollector } from './server';
export type { Collector, CollectorOptions } from './server';
export type { AppCredentials, TokenClaims } from './auth';
export { signJwt, hmacHex, tokenRequestSigningString } from './auth';
export { createConsoleLogger, createMemoryLogger, silentLogger } from './logger';
export type { Logger, LogFields, LogLevel, LogRecord } from './logger';
export { SqliteStorage, createSqliteStorage } from './storage/sqlite';
export type { SqliteStorageOptions, SqliteHandle } from './storage/sqlite';
export type { SqliteReaderPool, ReaderPoolStats } from './storage/readerPool';
export { CONNECTION_KEY, ConferenceViewError } from './storage/types';
export type {
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
} from './storage/types';
export { inThreadViews } from './views';
export type { ConferenceSummary, MediaSummary } from './summary';
export type {
  ConferenceDetail,
  FabricView,
  FabricEventView,
  StreamView,
  StreamSummary,
  MetricSummary,
  SeriesPoint,
} from './query';
export type {
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
} from './protocol';
export { parseCliArgs } from './cliArgs';
export type { CliConfig } from './cliArgs';
