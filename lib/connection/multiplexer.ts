/**
 * The auto-pipelining multiplexer: one socket to one server, shared by every
 * caller. Commands issued in the same turn of the event loop are encoded into
 * one buffer and written once (cork/uncork) at `setImmediate`, or inline past a
 * byte threshold. A FIFO of written commands is resolved in order by the
 * decoder. Commands for another database get a `SELECT` in the stream first
 * (the queue waits for its answer: select.ts).
 *
 * Safety rules (DESIGN.md) this file enforces:
 *  1. replies match callers strictly in FIFO order; a timed-out command keeps
 *     its slot until its late reply arrives and is dropped;
 *  2. never-written commands are re-sent after a reconnect; written ones only
 *     when safe to send twice (loss.ts), else ConnectionLostError{maybeExecuted};
 *  3. the handshake completes before any queued command is written: a socket's
 *     state lives on its `Link`, detached first when the socket is lost;
 *  4. every command settles exactly once, within its deadline;
 *  5. queues are bounded.
 */
import Denque from 'denque';
import { SHAPE_ANY, commandInfo, fitsShape, resp2ToResp3 } from '../commands/index.js';
import { ClosedError, ConnectError, ConnectionLostError, ProtocolError, ReadOnlyError, RedisError, ReplyTimeoutError, ServerError, annotate, couldNotConnect, refusedBeforeRunning, serverErrorFrom } from '../errors.js';
import { Decoder } from '../resp/decoder.js';
import { validateArgs, type Arg } from '../resp/encoder.js';
import { Attributed, DECODE_RESP3_SHAPES, type DecoderSink, type Reply } from '../resp/types.js';
import { Command, InternalCommand, QUEUED, SETTLED, WRITTEN, failCommand, notSent, wasSent } from './command.js';
import { Deadlines, halfOpenError, timeoutError } from './deadlines.js';
import { Lifecycle } from './diagnostics.js';
import { sortLost } from './loss.js';
import { HealthCheck } from './health.js';
import { RetryLater, refusedRetryDelay } from './retry-later.js';
import { reloadScript } from './script-command.js';
import { CommandQueue } from './queue.js';
import { handshake, refusedConfiguration, selectRefusal } from './handshake.js';
import { Link } from './link.js';
import { Flusher } from './flush.js';
import { Reader } from './reader.js';
import { runsInAnyDatabase, selectDatabase, selectWhenFree, takeRunsInAnyDatabase, unselectedTimeout, type SelectHost } from './select.js';
import { emptyStats, type MultiplexerHooks, type MultiplexerOptions, type MultiplexerStats } from './options.js';
import { PubSubRouting, isPubSubArray } from './pubsub-frames.js';
import { describeEndpoint } from './socket.js';
import { dial, dialedOptions, type Dialed } from './dial.js';
import { Attempt, owesCommands } from './attempt.js';
import { scheduleReauth } from './reauth.js';
import { Maintenance, movedOptions } from './maintenance.js';
import { countsAsTimeout } from './call-timeouts.js';
import { isInvalidation } from './tracking.js';

export type { Located, MultiplexerHooks, MultiplexerOptions, MultiplexerStats, ReconnectStrategy } from './options.js';

const enum State {
  /** Opening a socket or running its handshake. */
  Connecting,
  Ready,
  /** Between reconnect attempts. */
  Waiting,
  Closed,
}

export class Multiplexer implements DecoderSink {
  /** The server, as errors name it: it changes when a `locate` option moves the connection elsewhere. */
  node: string;
  private state = State.Connecting;
  /** The current socket and its state; undefined while there is none (or it is being given up). */
  private link: Link | undefined;
  private readonly decoder: Decoder;
  /** Feeds the current socket's bytes to the decoder (reader.ts). */
  private reader: Reader | undefined;
  /** Written (or encoded, awaiting flush) commands of the current link, oldest first. */
  private readonly inflight = new Denque<Command>();
  /** Commands not yet encoded: offline, behind a probe SELECT, or behind a full socket. */
  private readonly queue = new CommandQueue();
  /** Protocol of the current connection, known after the handshake. */
  protocol: 2 | 3 = 3;
  /** Commands refused by a transient server state, or lost and resent after a backoff. */
  private readonly retrying = new RetryLater();
  private readonly health: HealthCheck;
  private attempt = 0;
  /** Bumped by every connection attempt: what an older attempt found or opened is dropped. */
  private attemptId = 0;
  /** The attempt under way, as close() and disconnect() end it (attempt.ts). */
  private readonly dialing = new Attempt();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Why the last connection ended or failed; cleared when ready. */
  private lastError: Error | undefined;
  /** The server refused this configuration for good (database out of range, wrong password): no reconnect. */
  private fatal: ConnectError | undefined;
  /** Why reconnecting gave up (a lease never reconnects): later commands are told that, not "closed". */
  private gaveUp: Error | undefined;
  private readonly deadlines: Deadlines;
  private closeWaiters: (() => void)[] = [];
  /** close() was called: new commands are refused, queued and in-flight ones finish. */
  private closing = false;
  readonly stats: MultiplexerStats = emptyStats();
  /** For the members of a group whose deadline passed while it was queued. */
  private readonly neverSent = (c: Command) =>
    new ReplyTimeoutError('the transaction timed out before it was sent; it was never sent', false, { command: c.info.name, node: this.node });
  /** What switching databases in the stream needs of the connection (select.ts). */
  private readonly selects: SelectHost = {
    node: () => this.node,
    current: (link) => this.link === link,
    sendInternal: (link, parts, done) => this.sendInternal(link, parts, done),
    lose: (cause) => this.lose(cause),
    refuse: (db, err) => this.queue.removeWhere((c) => c.db === db).forEach((c) => this.fail(c, annotate(serverErrorFrom(err.serverMessage), c.info.name, this.node))),
    pump: () => this.pump(),
  };
  /** When encoded commands go to the socket (flush.ts). */
  private readonly flusher: Flusher;
  /** A pub/sub connection's confirmations and frames (pubsub-frames.ts); undefined on others. */
  private readonly pubsub: PubSubRouting | undefined;
  /** Maintenance notifications (maintenance.ts), when asked for. */
  private readonly maint: Maintenance | undefined;
  /** diagnostics_channel events and NODE_DEBUG=redmux lines for this connection (diagnostics.ts). */
  private readonly life = new Lifecycle(this);

  constructor(
    private readonly opts: MultiplexerOptions,
    private readonly hooks: MultiplexerHooks,
  ) {
    this.node = describeEndpoint(opts.endpoint);
    this.decoder = new Decoder(this, opts.limits);
    this.flusher = new Flusher({ current: (link) => this.link === link, stats: this.stats, pump: () => this.pump() }, opts.flushThreshold);
    if (opts.pubsub) this.pubsub = new PubSubRouting(this.inflight, this.node, (v) => this.settleHead(v), (f) => this.hooks.push(f));
    this.deadlines = new Deadlines(this.inflight, this.queue, {
      expire: (cmd, sent) => this.expire(cmd, sent),
      stale: () => this.lose(halfOpenError(this.node, opts.staleReplyGrace)),
    }, opts.staleReplyGrace);
    if (opts.maintenance) this.maint = new Maintenance({ relax: (ms) => this.deadlines.relax(ms), handOver: (why) => this.handOver(why) }, opts.relaxedTimeout ?? 10_000, opts.endpoint.tls);
    this.health = new HealthCheck(opts.pingInterval ?? 0, {
      bytesIn: () => this.stats.bytesIn,
      ping: (timeout, dead) => {
        const link = this.link;
        if (link === undefined || !link.ready) return;
        const ping = new InternalCommand('PING', [], commandInfo('PING'), (err) => {
          if (err instanceof ReplyTimeoutError && this.link === link) {
            dead();
            this.lose(new ConnectionLostError(`no answer to a health PING within ${timeout} ms`, true, { node: this.node, cause: err }));
          }
        });
        this.send(ping, timeout, true);
      },
    });
    this.connect();
  }

  get closed(): boolean {
    return this.closing || this.state === State.Closed;
  }

  /** Its connection failed and has not come back (waiting to reconnect, or reconnecting after a failure). */
  get down(): boolean {
    return this.state === State.Waiting || this.state === State.Closed || (this.state === State.Connecting && this.attempt > 0);
  }

  snapshot(): MultiplexerStats {
    const s = this.stats;
    s.pending = this.inflight.length + this.queue.length;
    s.queued = this.queue.length;
    const link = this.link;
    s.queuedBytes = this.queue.bytes + (link ? link.encoder.pendingBytes + link.socket.writableLength : 0);
    return { ...s };
  }

  // ------------------------------------------------------------------ sending

  /** Hand a validated command to the connection. Never throws; failures settle the command. */
  send(cmd: Command, timeout = this.opts.commandTimeout, custom = false): void {
    const link = this.link;
    if (link !== undefined && link.canWrite(cmd.db) && this.queue.length === 0 && !this.closing) {
      this.stats.commands++;
      if (timeout > 0) this.deadlines.set(cmd, timeout, custom);
      this.write(link, cmd);
      return;
    }
    this.enqueue([cmd], cmd, timeout, custom);
  }

  /**
   * Send commands that must stay contiguous on the wire (MULTI ... EXEC), as one unit: only its last command carries
   * the deadline; if that passes while queued, the group is dropped unsent; once one is written, all are.
   */
  sendGroup(cmds: Command[], timeout = this.opts.commandTimeout, custom = false): void {
    cmds[0]!.groupSize = cmds.length;
    const link = this.link;
    if (link !== undefined && link.canWrite(cmds[0]!.db) && this.queue.length === 0 && !this.closing) {
      this.stats.commands += cmds.length;
      if (timeout > 0) this.deadlines.set(cmds[cmds.length - 1]!, timeout, custom);
      for (const c of cmds) this.write(link, c);
      return;
    }
    this.enqueue(cmds, cmds[cmds.length - 1]!, timeout, custom);
  }

  /** Hand back every command not yet written (its node left the cluster): the owner routes them elsewhere. */
  takeQueued(): Command[] {
    const taken: Command[] = [];
    while (this.queue.length > 0) {
      for (const c of this.queue.shiftUnit(this.neverSent)) {
        this.deadlines.done(c);
        taken.push(c); // a group stays whole, in order
      }
    }
    return taken;
  }

  /** Queue commands to be written later, or refuse them all (closed, offline queue off or full). */
  private enqueue(cmds: Command[], timed: Command, timeout: number, custom: boolean): void {
    const link = this.link;
    // Waiting for a SELECT (select.ts), the connection still takes what runs in no database: SCRIPT KILL, the way out.
    if (link?.canWriteAhead() && cmds.length === 1 && runsInAnyDatabase(timed) && !this.closing) {
      this.stats.commands++;
      if (timeout > 0) this.deadlines.set(timed, timeout, custom);
      this.write(link, timed);
      return;
    }
    const name = cmds[0]!.groupSize > 1 ? 'MULTI' : cmds[0]!.info.name;
    const ctx = { command: name, node: this.node };
    let refusal: Error | undefined;
    if (this.fatal) refusal = new ConnectError(this.fatal.message, { ...ctx, cause: this.fatal.cause });
    else if (this.gaveUp instanceof ConnectError && !this.closing) refusal = couldNotConnect('could not connect and reconnecting is over; it was not sent', { ...ctx, cause: this.gaveUp });
    else if (this.gaveUp && !this.closing) refusal = new ConnectionLostError('the connection was lost and reconnecting is over; it was not sent', false, { ...ctx, cause: this.gaveUp });
    else if (this.closing || this.state === State.Closed) refusal = new ClosedError('the client is closed', ctx);
    else if (!this.opts.offlineQueue && !link?.ready) {
      refusal = new ConnectionLostError('not connected and the offline queue is off; it was not sent', false, { ...ctx, cause: this.lastError });
    } else refusal = this.queue.refusal(cmds, this.opts, ctx, this.neverSent);
    if (refusal) {
      for (const c of cmds) this.fail(c, refusal);
      return;
    }
    this.stats.commands += cmds.length;
    if (timeout > 0) this.deadlines.set(timed, timeout, custom);
    for (const c of cmds) this.queue.push(c);
    this.pump();
  }

  /** Send a command on behalf of the connection itself (handshake, SELECT), on `link` only. */
  private sendInternal(link: Link, parts: Arg[], done: (err: Error | undefined, value?: Reply) => void): void {
    const name = String(parts[0]);
    const cmd = new InternalCommand(name, parts.slice(1), commandInfo(name, parts[1]), done);
    if (this.link !== link) {
      cmd.reject(new ConnectionLostError('the connection was lost before the command was sent', false, { command: cmd.info.name, node: this.node }));
      return;
    }
    validateArgs(name, parts, 1);
    this.write(link, cmd);
  }

  /** Encode a command for `link` (the current one) and give it its FIFO slot. */
  private write(link: Link, cmd: Command): void {
    link.encoder.encode(cmd.name, cmd.args);
    cmd.state = WRITTEN;
    cmd.attempts++;
    cmd.writtenTo = this.node;
    this.inflight.push(cmd);
    link.unflushed++;
    this.flusher.wrote(link, this.inflight.length);
  }

  /** Write queued commands in order, switching databases (select.ts) as they need, while the current link can take them. */
  private pump(): void {
    const queue = this.queue;
    const link = this.link;
    if (link !== undefined) {
      while (this.link === link && link.ready && !link.blocked && !link.probing && !link.recycling && queue.length > 0) {
        const cmd = queue.peekFront()!;
        // The database is settled here, at write time, on the socket the command goes to.
        if (cmd.state !== SETTLED && cmd.db >= 0 && cmd.db !== link.db) {
          selectDatabase(this.selects, link, cmd.db);
          continue;
        }
        for (const c of queue.shiftUnit(this.neverSent)) this.write(link, c); // nothing if it timed out while queued
      }
    }
    if (this.closing) this.maybeFinishClose();
  }

  // ------------------------------------------------------------------ replies

  replyFlags(push: boolean): number {
    if (push || (this.pubsub && this.link?.ready)) return this.opts.pushFlags ?? 0; // pub/sub: RESP2 messages are replies
    const head = this.inflight.peekFront();
    return head === undefined ? 0 : head.decodeFlags;
  }

  onReply(value: Reply): void {
    this.reader!.replied();
    if (this.pubsub?.reply(value, this.protocol)) return; // RESP2 pub/sub frames are arrays
    this.settleHead(value);
  }

  /** Settle the FIFO head with its reply (or error reply). */
  private settleHead(value: Reply): void {
    const cmd = this.inflight.shift();
    if (cmd === undefined) {
      throw new ProtocolError('the server sent a reply nobody asked for', { node: this.node });
    }
    this.deadlines.done(cmd);
    if (cmd.info.shape !== SHAPE_ANY && !(value instanceof ServerError) && !(value instanceof Attributed) && !fitsShape(cmd.info.shape, value)) {
      this.inflight.unshift(cmd); // still owed: lose() settles it with the others
      throw new ProtocolError(`a reply of the wrong shape for ${cmd.info.name}: the stream is out of step`, { node: this.node });
    }
    const link = this.link;
    if (value instanceof ServerError) {
      // A replica refusing a write: not the master any more (failover), unless a replica on purpose (Sentinel role 'replica').
      const expected = value instanceof ReadOnlyError && link?.replica === true;
      if (value instanceof ReadOnlyError && link && !expected) link.recycling = true;
      // Refused before running: retried here per policy, reloaded (NOSCRIPT: script-command.ts), or redirected by the owner (MOVED / ASK).
      if (cmd.state !== SETTLED && (expected || !this.retryRefused(cmd, value)) && !reloadScript(cmd, value, this.node, link, (group, timeout) => this.sendGroup(group, timeout, true)) && !this.hooks.redirect?.(cmd, value)) this.fail(cmd, annotate(value, cmd.info.name, this.node));
    } else if (!cmd.resolve(this.protocol === 2 && cmd.decodeFlags & DECODE_RESP3_SHAPES ? resp2ToResp3(cmd.name, cmd.args, value, cmd.decodeFlags) : value) && cmd.onLateReply !== undefined) {
      cmd.onLateReply(value); // the command had timed out; its owner wants to see the reply anyway
    }
    if (this.inflight.length === 0 && this.link === link) {
      // Closing: no connection comes after this one, so a planned move is dropped and what is queued goes here (the
      // server serves it for its grace period); relocate() would do nothing and close() would wait for ever.
      if (link?.handover !== undefined && this.closing) {
        link.stayForClose();
        this.pump();
      } else if (link?.handover !== undefined) this.relocate(link.handover, undefined, true);
      else if (link?.recycling) this.lose(new ConnectionLostError('the server answered READONLY: reconnecting to find the master', false, { node: this.node }));
      else if (this.closing) this.maybeFinishClose();
    }
  }

  /** Refused before running (LOADING, BUSY, READONLY, ...): resend after the policy's backoff, if it agrees (safe
   *  for writes too: it did not run). Returns whether a retry was scheduled. */
  private retryRefused(cmd: Command, err: ServerError): boolean {
    const delay = refusedRetryDelay(cmd, err, Date.now());
    if (delay >= 0) this.resendLater(cmd, delay);
    return delay >= 0;
  }

  /** Put `cmd` back at the front of the queue after `delay` ms (0: now), which the caller checked ends before its deadline. */
  private resendLater(cmd: Command, delay: number): void {
    cmd.state = QUEUED;
    const resend = () => {
      this.queue.unshift(cmd); // the oldest deadline goes first
      this.pump();
    };
    if (delay > 0) this.retrying.schedule(cmd, delay, resend);
    else resend();
  }

  onPush(frame: Reply[]): void {
    if (this.pubsub) { if (!this.maint?.push(frame)) this.pubsub.frame(frame); } // a MOVING hands a pub/sub connection over too
    else if (this.opts.tracking !== undefined && isInvalidation(frame)) this.opts.tracking.invalidate(frame[1] as Reply[] | null); // client-side cache
    // This connection never subscribes: a pub/sub frame here means the stream is not what we think.
    else if (isPubSubArray(frame)) throw new ProtocolError('an unsolicited pub/sub frame on a shared connection', { node: this.node });
    else if (!this.maint?.push(frame)) this.hooks.push(frame);
  }

  /** Reject a command; a failure nobody observes is reported, never lost. */
  private fail(cmd: Command, err: Error): void {
    failCommand(cmd, err, (e, c) => this.hooks.unobservedError(e, c));
  }

  private expire(cmd: Command, sent: boolean): void {
    if (countsAsTimeout(cmd)) this.stats.timeouts++; // once per call: a cluster's split or fanned-out parts count one
    // While disconnected, the cause says why (refused, auth, ...); while its database is not selected, why (BUSY).
    const link = this.link;
    this.fail(cmd, !sent && link?.unselected ? unselectedTimeout(cmd, this.node, link.unselected) : timeoutError(cmd, sent, this.node, link?.ready ? undefined : this.lastError));
    this.maybeFinishClose(); // the last one owed may have been behind a SELECT that waits for a busy server: never pumped
  }

  // ------------------------------------------------------------------ lifecycle

  private connect(): void {
    this.state = State.Connecting;
    this.life.connecting(this.attempt);
    const id = ++this.attemptId;
    const current = () => this.state === State.Connecting && this.attemptId === id;
    const signal = this.dialing.start(this.node);
    const unlocated = (e: ConnectError) => this.drainQueue((command) => new ConnectError(e.message, { command, cause: e.cause ?? e }));
    const moved = this.maint?.connecting(); // a MOVING's new endpoint, for its grace period (before `locate`: failover)
    dial(moved ? movedOptions(this.opts, moved) : this.opts, { current, located: (node) => (this.node = node), unlocated, signal }).then(
      (dialed) => dialed && this.onSocket(dialed),
      (err: Error) => current() && this.lose(err),
    );
  }

  /** The server moved (Sentinel): drop the connection now (written, unanswered commands settle per rule 2), connect
   *  again at once where `locate` says; nothing more is written to the old server. `keep`: a node it may stay on. */
  relocate(why: string, keep?: (node: string) => boolean, planned = false): void {
    if (this.closed || (this.link?.ready && keep?.(this.node))) return;
    if (this.link !== undefined) this.lose(new ConnectionLostError(why, true, { node: this.node }), planned);
    if (this.closed) return; // gave up (a lease never reconnects)
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.connect(); // a dial still under way is stale: connect() supersedes it
  }

  /** A planned reconnect (MOVING, re-authentication): write nothing more here, reconnect once the in-flight replies are in. */
  private handOver(why: string): void {
    if (!this.closing && this.link?.ready && this.link.handOver(why) && this.inflight.length === 0) this.relocate(why, undefined, true);
  }

  private onSocket(dialed: Dialed): void {
    const socket = dialed.socket;
    const link = new Link(socket, this.life);
    link.replica = dialed.role === 'replica';
    this.link = link;
    this.decoder.reset();
    const reader = (this.reader = new Reader(this.decoder, {
      current: () => this.link === link,
      inFlight: () => this.inflight.length,
      flush: () => this.flusher.flush(link),
      failed: (err) => this.lose(err instanceof RedisError ? err : new ProtocolError(String(err), { node: this.node, cause: err })),
    }));
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      reader.data(chunk);
    });
    // Before its handshake finished the connection never opened (a TLS port spoken to in plain text resets it): ConnectError.
    const lost = (why: string, cause?: Error) =>
      this.lose(link.ready ? new ConnectionLostError(why, true, { node: this.node, cause }) : new ConnectError(`${why} before its handshake finished`, { node: this.node, cause }));
    socket.on('error', (err) => lost(`connection error: ${(err as NodeJS.ErrnoException).code ?? err.message}`, err));
    socket.on('close', () => lost('the connection closed'));
    const send = (parts: Arg[]) =>
      new Promise<Reply>((resolve, reject) => this.sendInternal(link, parts, (err, value) => (err ? reject(err) : resolve(value!))));
    handshake(send, dialedOptions(this.opts, dialed), this.node).then(
      (info) => {
        if (this.link !== link) return;
        this.protocol = info.protocol;
        this.opts.tracking?.connected(this.node, info.tracking === true); // before anything queued is written
        this.life.ready(info, this.opts.db);
        const unselected = selectRefusal(info); // BUSY: no database yet, nothing is written that runs in one
        if (unselected) selectWhenFree(this.selects, link, this.opts.db, unselected);
        else link.db = this.opts.db;
        link.ready = true;
        this.attempt = 0;
        this.lastError = undefined;
        this.state = State.Ready;
        this.health.start();
        this.maint?.connected();
        const renew = this.pubsub && info.protocol === 2 ? (why: string) => this.handOver(why) : undefined; // AUTH refused while subscribed
        scheduleReauth(link, dialed.credentials, { provider: this.opts.credentials!, bound: this.opts.connectTimeout || 10_000, send, failed: (e) => this.hooks.error(e), renew });
        // The owner restores its state first (a pub/sub hub resubscribes), then what was queued while
        // disconnected is written, in order. Restoring commands go first: their deadlines are custom.
        for (const cmd of this.hooks.ready(info) ?? []) {
          this.stats.commands++;
          if (this.opts.commandTimeout > 0) this.deadlines.set(cmd, this.opts.commandTimeout, true);
          this.write(link, cmd);
        }
        if (unselected) for (const cmd of takeRunsInAnyDatabase(this.queue, this.neverSent)) this.write(link, cmd); // SCRIPT KILL
        this.pump();
      },
      (err: Error) => {
        if (this.link !== link) return;
        if (err instanceof ServerError && !refusedBeforeRunning(err) && !this.opts.otherEndpoints) {
          // Wrong credentials, a database out of range, a refused client name: no reconnect can fix that (unless it
          // may go to another endpoint: failover), so every command fails fast with the cause.
          this.fatal = new ConnectError(refusedConfiguration(err), { cause: err }); // bare: who wraps it names command and node
        }
        this.lose(err instanceof RedisError ? annotate(err, 'HELLO', this.node) : err);
      },
    );
  }

  /** The connection is gone (or never came). Settle in-flight commands per rule 2, keep never-written ones for the
   *  next connection, and schedule a reconnect. `planned`: a server-driven move of a ready connection (MOVING, a RESP2
   *  subscriber's token refresh), no failure: counted as a handover, and the next connection opens at once even when
   *  `reconnect` gives up after failures (a lease, `endAtHandover`, ends as at any loss: its WATCH cannot move). */
  private lose(cause: Error, planned = false): void {
    const link = this.link;
    if (link === undefined && this.state !== State.Connecting) return; // already handled
    const handover = planned && link?.ready === true && !this.opts.endAtHandover;
    // Before drop() unsets ready: a planned move, a connection that was up, or an attempt that failed.
    if (handover) this.stats.handovers++; else if (link?.ready) this.stats.connectionLost++; else this.stats.connectFailures++;
    // First detach the link: from here on, a command issued by anything this
    // method calls (listeners, settled callbacks) can only be queued.
    this.link = undefined;
    link?.drop(false);
    this.decoder.reset();
    this.pubsub?.reset();
    this.opts.tracking?.lost(this.node); // no more invalidations will come for what was cached through it
    const wasClosing = this.closing;
    const written = this.inflight.toArray();
    this.inflight.clear();
    const requeue = sortLost(written, link?.unflushed ?? 0, cause, this.node, this.opts.offlineQueue, {
      fail: (cmd, err) => this.fail(cmd, err), // internal commands are settled, never reported
      later: (cmd, delay) => this.resendLater(cmd, delay), // the retry policy's backoff
    });
    for (let i = requeue.length - 1; i >= 0; i--) this.queue.unshift(requeue[i]!);
    if (this.state === State.Closed) {
      // A listener called disconnect() while the lost commands were being settled.
      this.drainQueue((command, sent) => new ClosedError(`the client was disconnected; ${notSent(sent)}`, { command, node: this.node, cause }));
      this.retrying.cancelAll((cmd) => this.fail(cmd, new ClosedError('the client was disconnected before the command was sent again', { command: cmd.info.name, node: this.node, cause })));
      return;
    }
    if (wasClosing) {
      this.drainQueue((command, sent) => new ClosedError(`the client closed while the connection was down; ${notSent(sent)}`, { command, node: this.node, cause }));
      this.finishClose();
      return;
    }
    if (!this.opts.offlineQueue) {
      this.drainQueue((command, sent) => new ConnectionLostError(`the connection was lost and the offline queue is off; ${notSent(sent)}`, sent, { command, node: this.node, cause }));
    }
    this.state = State.Waiting;
    this.lastError = cause;
    this.attempt++;
    const delay = this.fatal ? -1 : handover ? 0 : this.opts.reconnect(this.attempt, cause);
    this.life.lost(cause, this.attempt, delay);
    if (delay < 0) {
      this.state = State.Closed;
      this.gaveUp = cause;
      const fatal = this.fatal;
      this.drainQueue((command, sent) =>
        fatal && !sent
          ? new ConnectError(fatal.message, { command, node: this.node, cause: fatal.cause })
          : cause instanceof ConnectError && !sent
            ? couldNotConnect('could not connect and reconnecting is over; the command was not sent', { command, node: this.node, cause })
            : new ConnectionLostError(`reconnecting gave up; ${notSent(sent)}`, sent, { command, node: this.node, cause }),
      );
      this.stopTimers();
      this.hooks.error(cause);
      this.hooks.close();
      return;
    }
    if (!handover) this.stats.reconnects++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === State.Waiting) this.connect();
    }, delay);
    this.hooks.error(cause);
    this.hooks.reconnecting({ attempt: this.attempt, delay, cause });
  }

  /** Settle every queued command with an error made for it (`sent`: written on a lost connection, it may have run). */
  private drainQueue(make: (command: string, sent: boolean) => Error): void {
    while (this.queue.length > 0) {
      const cmd = this.queue.shift()!;
      if (cmd.state !== SETTLED) this.fail(cmd, make(cmd.info.name, wasSent(cmd)));
    }
  }

  /** Graceful: refuse new commands, let every queued and in-flight one settle, then quit. */
  close(): Promise<void> {
    if (this.state === State.Closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      if (this.closing) return;
      this.closing = true;
      // Between reconnect attempts: what is queued can no longer be sent. An attempt under way with no caller's command
      // to deliver is abandoned, not waited for; with some it goes on (a command issued before close() is delivered).
      if (this.state === State.Waiting || (this.state === State.Connecting && !owesCommands(this.queue, this.retrying.size))) {
        this.drainQueue((command, sent) => new ClosedError(`the client closed while disconnected; ${notSent(sent)}`, { command, node: this.node }));
        this.finishClose();
        return;
      }
      this.maybeFinishClose();
    });
  }

  private maybeFinishClose(): void {
    if (!this.closing || this.state !== State.Ready) return;
    if (this.inflight.length > 0 || owesCommands(this.queue, this.retrying.size)) return; // still draining (settled ones queued behind a SELECT owe nothing)
    this.finishClose();
  }

  private finishClose(): void {
    this.state = State.Closed;
    const link = this.link;
    this.link = undefined;
    link?.drop(link.ready); // an attempt's socket (handshake under way) is cut: nothing more is written to it
    this.dialing.abandon(this.node, this.inflight.toArray());
    this.inflight.clear(); // empty, or the abandoned handshake's commands, settled
    this.stopTimers();
    this.hooks.close();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Abrupt: every queued and in-flight command rejects with ClosedError now. */
  disconnect(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    const link = this.link, ready = link?.ready === true; // ready: no handshake in flight (a block's commands are internal too, and may have run)
    this.link = undefined;
    link?.drop(false);
    this.dialing.abandon(this.node, ready ? [] : this.inflight.toArray());
    this.stopTimers();
    for (const cmd of this.inflight.toArray()) {
      if (cmd.state !== SETTLED) this.fail(cmd, new ClosedError('the client was disconnected; the command may have run', { command: cmd.info.name, node: this.node }));
    }
    this.inflight.clear();
    this.drainQueue((command, sent) => new ClosedError(`the client was disconnected; ${notSent(sent)}`, { command, node: this.node }));
    this.hooks.close();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  private stopTimers(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.health.stop();
    this.maint?.stop();
    this.retrying.cancelAll((cmd) =>
      this.fail(cmd, new ClosedError('the connection closed while the command waited to be retried; it was not sent again', { command: cmd.info.name, node: this.node })),
    );
    this.deadlines.stop();
  }
}
