/** The contract of a multiplexer: its options, the events it reports, its counters. */
import type { ServerError } from '../errors.js';
import type { DecoderLimits, Reply } from '../resp/types.js';
import type { Command } from './command.js';
import type { HandshakeOptions, HandshakeResult } from './handshake.js';
import type { Endpoint, SocketOptions } from './socket.js';

/** Delay before reconnect attempt `attempt` (1-based), or a negative number to give up. */
export type ReconnectStrategy = (attempt: number, cause: Error) => number;

/** Where a connection should go, as its owner found out (Sentinel discovery). */
export interface Located {
  endpoint: Endpoint;
  /** What the node was announced as: the handshake confirms it with ROLE. */
  role?: 'master' | 'replica';
}

export interface MultiplexerOptions extends HandshakeOptions, SocketOptions {
  /** Where to connect; with `locate`, only a placeholder naming the service in errors until the first answer. */
  endpoint: Endpoint;
  /**
   * An endpoint that can change (Sentinel): asked before every connection
   * attempt, so a reconnect goes where the server is now. A rejection is a
   * `ConnectError` saying why nobody could tell: the commands waiting fail
   * with it at once (they were never sent).
   */
  locate?: () => Promise<Located>;
  /**
   * Where to connect for an endpoint a MOVING maintenance push announced
   * (`cluster.addressMap`: the server names it as it names its nodes); asked
   * before every connection to it, and a throw is a `ConnectError`, as for
   * `locate`. Undefined: as announced.
   */
  locateMoved?: (announced: Endpoint) => Endpoint;
  /**
   * With `locate`, the next attempt may go to another, equivalent endpoint (endpoint failover): a refused
   * configuration (a wrong password there) is that endpoint's failure, not final; its breaker moves the client on.
   */
  otherEndpoints?: boolean;
  /** Default per-command deadline in ms (queue wait + wire); 0 disables. */
  commandTimeout: number;
  limits: Partial<DecoderLimits>;
  reconnect: ReconnectStrategy;
  /** Keep commands issued while disconnected and send them after reconnect (default true). */
  offlineQueue: boolean;
  /** Most commands waiting to be written (offline, or behind a full socket). */
  maxQueued: number;
  /** Most (approximate) bytes of commands waiting to be written. */
  maxQueuedBytes: number;
  /** Encoded bytes past which we write at once instead of at the end of the tick. */
  flushThreshold: number;
  /** A written command overdue by this many ms past its deadline recycles the connection (half-open detection). */
  staleReplyGrace: number;
  /**
   * A dedicated pub/sub connection: a SUBSCRIBE-family command (which must
   * name its channels) settles once the server confirmed each of them, or on
   * its error reply; pub/sub frames that confirm nothing at the FIFO head
   * (messages, server-initiated unsubscribes) go to `push`, RESP2 arrays
   * included (see pubsub-frames.ts).
   */
  pubsub?: boolean;
  /**
   * DECODE_* flags for push frames (and, on a pub/sub connection, for every
   * reply after the handshake). Read at the start of each frame: the owner may
   * change it (a pub/sub hub switches to Buffers when a subscriber needs bytes).
   */
  pushFlags?: number;
  /** Send a PING after this many ms without hearing from the server (0 = never). */
  pingInterval?: number;
  /** With `maintenance`: extra ms every deadline gets while the server says it is under maintenance (default 10000). */
  relaxedTimeout?: number;
  /**
   * A planned move (MOVING, a RESP2 subscriber's token refresh) ends this connection as a loss would, per `reconnect`,
   * instead of opening the next one at once: a lease's WATCH or blocked command cannot move to another connection.
   */
  endAtHandover?: boolean;
}

export interface MultiplexerHooks {
  /**
   * The handshake of a new socket is done. The owner may return commands that
   * restore its state on this socket (a pub/sub hub's subscriptions): they are
   * written first, ahead of anything queued while disconnected, each with the
   * default deadline. Called before the queue is written.
   */
  ready(info: HandshakeResult): Command[] | void;
  error(err: Error): void;
  reconnecting(info: { attempt: number; delay: number; cause: Error }): void;
  close(): void;
  /** A command failed and nobody had attached a handler: report, never drop silently. */
  unobservedError(err: Error, command: Command): void;
  push(frame: Reply[]): void;
  /**
   * A caller's command got an error reply that the owner may handle instead of
   * failing it (cluster routing: MOVED, ASK). Return true to take the command
   * over: it did not run, and the owner sends it again where it belongs.
   */
  redirect?(cmd: Command, err: ServerError): boolean;
}

export interface MultiplexerStats {
  commands: number;
  writes: number;
  bytesOut: number;
  bytesIn: number;
  pending: number;
  queued: number;
  queuedBytes: number;
  reconnects: number;
  timeouts: number;
  /** Connections that were ready (handshake done) and were lost. */
  connectionLost: number;
  /** Attempts to connect that failed before the handshake finished (refused, unreachable, handshake refused). */
  connectFailures: number;
  /** Planned moves of a ready connection to a new one (MOVING, a RESP2 subscriber's token refresh): not losses. */
  handovers: number;
}

export function emptyStats(): MultiplexerStats {
  return { commands: 0, writes: 0, bytesOut: 0, bytesIn: 0, pending: 0, queued: 0, queuedBytes: 0, reconnects: 0, timeouts: 0, connectionLost: 0, connectFailures: 0, handovers: 0 };
}
