/**
 * What the client tells the outside world about itself, for APMs and
 * debugging, through Node's own channels:
 *
 *  - `diagnostics_channel`: the TracingChannel `redmux:command` (one trace per
 *    command: start/end when it is issued, asyncStart/asyncEnd, plus error,
 *    when it settles) and the channels `redmux:connect`, `redmux:ready`,
 *    `redmux:connection-lost`, `redmux:reconnecting` and `redmux:close` for
 *    each connection's lifecycle. Contexts carry names, addresses, numbers
 *    and errors (whose messages never hold values), never an argument or a
 *    reply.
 *  - `NODE_DEBUG=redmux` (util.debuglog): one line per lifecycle event, with
 *    no values and no secrets.
 *
 * Nobody listening costs nothing: every publisher checks `hasSubscribers`
 * (and debuglog's `enabled`) before building a context.
 */
import * as dc from 'node:diagnostics_channel';
import type { TracingChannel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { selectRefusal, trackingAskedAgain, type HandshakeResult } from './handshake.js';

/** The context of a `redmux:command` trace. */
export interface CommandTraceContext {
  /** The command's name, upper case (`GET`, `CLIENT`); `MULTI` for a whole transaction. */
  readonly command: string;
  /** The database index it runs in. */
  readonly database: number;
  /** How many arguments it has (not counting the name); for `MULTI`, how many commands. */
  readonly argumentCount: number;
  /**
   * `host:port` (or socket path) of the node it was routed to; set once
   * routed, before it settles. Undefined for a command a cluster splits by
   * slot (MGET, DEL, ... over several slots) or fans out (DBSIZE, KEYS, ...):
   * each of its parts is then traced on its own, with its node. Undefined
   * too for a read the client-side cache answered locally (a hit); a miss,
   * and a caller that waited for an identical read in flight, name the node
   * that answered.
   */
  node: string | undefined;
  /**
   * On a part of a split or fanned-out command: the caller's command's
   * context. The caller's command is one trace (its `node` undefined); each
   * part is a trace nested in it (started while the caller's command is
   * issued, settled before it) with its own node and argument count.
   * Undefined on every command a caller issued.
   */
  readonly parent?: CommandTraceContext;
  /** Set when it failed (published on `error` too). */
  error?: Error;
}

/**
 * The `redmux:command` TracingChannel with its context typed. Node types
 * every channel's context as `object`; a subscriber names this type instead:
 * `dc.tracingChannel<unknown, CommandTraceContext>('redmux:command')`, or in
 * JavaScript a JSDoc `@type {import('redmux').CommandTracingChannel}`.
 */
export type CommandTracingChannel = TracingChannel<unknown, CommandTraceContext>;

/** Every connection event's context. */
export interface ConnectionEvent {
  /** `host:port` or socket path. */
  readonly node: string;
  /** This client-process-wide connection's number: tells apart connections to one node (shared, blocking pool, pub/sub). */
  readonly connection: number;
}

/** `redmux:connect`: a socket is being opened. */
export interface ConnectEvent extends ConnectionEvent {
  /** 0 for the first attempt, then the reconnect attempt's number. */
  readonly attempt: number;
}

/** `redmux:ready`: the handshake is done. */
export interface ReadyEvent extends ConnectionEvent {
  readonly protocol: 2 | 3;
  readonly database: number;
  /**
   * On a connection of a client with a cache: whether the server turned key
   * tracking on. False (RESP2, or an ACL that refuses `CLIENT TRACKING`):
   * the cache passes reads through while this connection is up. Absent
   * without a cache.
   */
  readonly tracking?: boolean;
}

/** `redmux:connection-lost`: the connection ended, or could not open. */
export interface ConnectionLostEvent extends ConnectionEvent {
  readonly cause: Error;
  /** Whether it had finished its handshake (false: it could not connect). */
  readonly wasReady: boolean;
}

/** `redmux:reconnecting`: the next attempt comes in `delay` ms. */
export interface ReconnectingEvent extends ConnectionEvent {
  readonly attempt: number;
  readonly delay: number;
  readonly cause: Error;
}

/**
 * What each of redmux's plain channels publishes, by name (`redmux:close`
 * has the bare `ConnectionEvent`). Node types a message as `unknown`: a
 * subscriber names the type, e.g. `message as DiagnosticsEvents['redmux:ready']`.
 */
export interface DiagnosticsEvents {
  'redmux:connect': ConnectEvent;
  'redmux:ready': ReadyEvent;
  'redmux:connection-lost': ConnectionLostEvent;
  'redmux:reconnecting': ReconnectingEvent;
  'redmux:close': ConnectionEvent;
}

export const commandChannel: CommandTracingChannel = dc.tracingChannel<unknown, CommandTraceContext>('redmux:command');
/** A socket is being opened: ConnectEvent. */
export const connectChannel = dc.channel('redmux:connect');
/** The handshake is done: ReadyEvent. */
export const readyChannel = dc.channel('redmux:ready');
/** The connection ended or could not open: ConnectionLostEvent. */
export const connectionLostChannel = dc.channel('redmux:connection-lost');
/** A reconnect is scheduled: ReconnectingEvent. */
export const reconnectingChannel = dc.channel('redmux:reconnecting');
/** A socket was closed (by us: close, disconnect, or after a loss): ConnectionEvent. */
export const closeChannel = dc.channel('redmux:close');

const log = debuglog('redmux');

/** Whether anyone listens to any part of `redmux:command` (a handful of inline-cached getters). */
export function tracingCommands(): boolean {
  const c = commandChannel;
  return c.start.hasSubscribers || c.end.hasSubscribers || c.asyncStart.hasSubscribers || c.asyncEnd.hasSubscribers || c.error.hasSubscribers;
}

/** Publish the end of a traced command (error first, as TracingChannel.tracePromise does). */
export function traceSettled(ctx: CommandTraceContext, error: Error | undefined): void {
  if (error !== undefined) {
    ctx.error = error;
    commandChannel.error.publish(ctx);
  }
  commandChannel.asyncStart.publish(ctx);
  commandChannel.asyncEnd.publish(ctx);
}

let connections = 0;

/**
 * One connection's lifecycle events (a Multiplexer has one). It reads the
 * node from its owner at event time, so it can be made before the owner's
 * constructor has run.
 */
export class Lifecycle {
  private readonly id = ++connections;
  private wasReady = false;

  constructor(private readonly owner: { readonly node: string }) {}

  connecting(attempt: number): void {
    const node = this.owner.node;
    if (connectChannel.hasSubscribers) connectChannel.publish({ node, connection: this.id, attempt } satisfies ConnectEvent);
    if (log.enabled) log('%s #%d: connecting (attempt %d)', node, this.id, attempt);
  }

  ready(info: HandshakeResult, database: number): void {
    this.wasReady = true;
    const node = this.owner.node;
    const tracking = info.tracking;
    if (readyChannel.hasSubscribers) {
      const event: ReadyEvent = tracking === undefined ? { node, connection: this.id, protocol: info.protocol, database } : { node, connection: this.id, protocol: info.protocol, database, tracking };
      readyChannel.publish(event);
    }
    if (log.enabled) {
      const version = info.server?.version;
      // Said once per connection: otherwise a cache that never hits (it passes reads through) would not say why.
      // A busy server (BUSY, LOADING) refused nothing: the step is asked again until it runs (ask-when-free.ts).
      const untracked =
        tracking !== false ? ''
        : trackingAskedAgain(info) ? '; key tracking not on yet: the server was busy, it is asked again until it runs; the client-side cache passes reads through until then'
        : '; key tracking refused: the client-side cache passes reads through';
      const unselected = selectRefusal(info) ? `; database ${database} not selected yet: the server was busy, SELECT is asked again until it runs; meanwhile only SCRIPT KILL and FUNCTION KILL are written` : '';
      log('%s #%d: ready (RESP%d, database %d%s)%s%s', node, this.id, info.protocol, database, typeof version === 'string' ? `, server ${version}` : '', unselected, untracked);
    }
  }

  /** Lost (or could not open); `delay` is when the next attempt comes, or -1 for none. */
  lost(cause: Error, attempt: number, delay: number): void {
    const node = this.owner.node;
    const wasReady = this.wasReady;
    this.wasReady = false;
    if (connectionLostChannel.hasSubscribers) connectionLostChannel.publish({ node, connection: this.id, cause, wasReady } satisfies ConnectionLostEvent);
    if (delay >= 0 && reconnectingChannel.hasSubscribers) reconnectingChannel.publish({ node, connection: this.id, attempt, delay, cause } satisfies ReconnectingEvent);
    if (log.enabled) {
      log('%s #%d: %s: %s', node, this.id, wasReady ? 'connection lost' : 'could not connect', describe(cause));
      log('%s #%d: %s', node, this.id, delay >= 0 ? `reconnecting in ${delay} ms (attempt ${attempt})` : 'not reconnecting');
    }
  }

  /** We closed the socket (close, disconnect, or dropping a lost one). */
  closed(): void {
    const node = this.owner.node;
    if (closeChannel.hasSubscribers) closeChannel.publish({ node, connection: this.id } satisfies ConnectionEvent);
    if (log.enabled) log('%s #%d: closed', node, this.id);
  }
}

/** A routing's topology changed (cluster slot map, sentinel switch). */
export function logTopology(change: { masters: readonly string[]; replicas: readonly string[] }): void {
  if (log.enabled) log('topology: masters %s; replicas %s', change.masters.join(', ') || 'none', change.replicas.join(', ') || 'none');
}

/**
 * The sentinels refused the subscription that announces failovers (an ACL
 * without the channel): said once per refusal, since failovers are then seen
 * late, by their effects, and nothing else would tell.
 */
export function logSentinelWatchRefused(service: string, cause: Error): void {
  if (log.enabled) {
    log("sentinels of '%s': subscribing to +switch-master refused (%s); a failover is noticed only when a connection is lost or answers READONLY. Asking again every second", service, describe(cause));
  }
}

/** An error for a log line: class, code and message (messages never hold values), and its cause's. */
function describe(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${one(err)} (cause: ${one(cause)})` : one(err);
}

function one(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return `${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${err.message}`;
}
