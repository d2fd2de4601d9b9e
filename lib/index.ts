/** redmux: the public surface. Everything else is internal. */
export { Redis, Database, Pending } from './client.js';
export type { CallOptions, RedisStats, RedisEvents, ReadyInfo, StatsOf } from './client.js';
export type { ReconnectingInfo, CommandErrorContext, OrphanedReplyInfo } from './events.js';
export type { CommandArgs, CommandArguments, CommandName, CommandReply, Decoding, DefaultDecoding, Int, Key, Num, WithDecoding } from './commands/typed.js';
export type { RedisOptions, RedisOptionsWith, ReconnectOptions, PoolOptions, ClusterOptions, SentinelOptions, MaintenanceOptions, FailoverOptions, CacheOptions } from './options.js';
export type { AddressMap, NodeAddress } from './topology/address-map.js';
export type { CacheStats } from './cache/client-cache.js';
export type {
  CommandTraceContext,
  CommandTracingChannel,
  ConnectionEvent,
  ConnectEvent,
  ReadyEvent,
  ConnectionLostEvent,
  ReconnectingEvent,
  DiagnosticsEvents,
} from './connection/diagnostics.js';
export type { Credentials, CredentialsProvider } from './connection/handshake.js';
export type { TopologyChange } from './topology/standalone.js';
export type { FailoverEvent, BreakerState } from './topology/failover/endpoints.js';
export { RetryPolicy } from './retry.js';
export { Script } from './script.js';
export type { ScriptOptions } from './script.js';
export { ScanIterator } from './scan.js';
export type { ScanOptions, CollectionScanOptions } from './scan.js';
export type { RetryOptions } from './retry.js';
export { Subscriber, SubscriberOverflowError, Keyspace } from './subscriber.js';
export { NodeLeftError } from './pubsub/subscriptions.js';
export { PoolLeftError } from './connection/pool.js';
export type { SubscriberOptions, SubscriberEvents, Message, KeyspaceEvent, KeyspaceOptions, KeyspaceRequest } from './subscriber.js';
export type { TransactionBuilder, WatchConnection, WatchOptions, MultiBuilder, MultiTupleBuilder, MultiResult } from './transaction.js';
export { Attributed } from './resp/types.js';
export type { Reply, DecoderLimits } from './resp/types.js';
export type { Arg } from './resp/encoder.js';
export {
  RedisError,
  ClientError,
  InvalidArgumentError,
  CrossSlotError,
  ConnectionError,
  ConnectError,
  ConnectionLostError,
  OfflineQueueFullError,
  TimeoutError,
  ConnectTimeoutError,
  PoolTimeoutError,
  ReplyTimeoutError,
  ProtocolError,
  ClosedError,
  AbortError,
  ServerError,
  WrongTypeError,
  BusyLoadingError,
  ReadOnlyError,
  NoReplicasError,
  TryAgainError,
  ClusterDownError,
  MasterDownError,
  NoScriptError,
  BusyScriptError,
  AuthError,
  NoPermError,
  OutOfMemoryError,
  UnknownCommandError,
  ExecAbortError,
  MovedError,
  AskError,
  ClusterRedirectError,
} from './errors.js';
