/**
 * The auto-pipelining multiplexer: one socket to one server, shared by every
 * caller. Commands issued in the same turn of the event loop are encoded into
 * one buffer and written once (cork/uncork) at `setImmediate`, or inline past a
 * byte threshold. A FIFO of written commands is resolved in order by the
 * decoder. Commands for another database get a `SELECT` inlined in the stream.
 *
 * Safety rules (DESIGN.md) this file enforces:
 *  1. replies match callers strictly in FIFO order; a timed-out command keeps
 *     its slot until its late reply arrives and is dropped;
 *  2. never-written commands are re-sent after a reconnect; written ones are
 *     re-sent only when read-only (or the caller said idempotent) and their
 *     retry policy allows, else they fail with ConnectionLostError{maybeExecuted};
 *  3. the handshake completes before any queued command is written;
 *  4. every command settles exactly once, within its deadline;
 *  5. queues are bounded.
 */
import type net from 'node:net';
import Denque from 'denque';
import { SHAPE_ANY, SUBSCRIBE, commandInfo, fitsShape } from '../commands/index.js';
import {
  AuthError,
  ClosedError,
  ReadOnlyError,
  refusedBeforeRunning,
  ConnectError,
  ConnectionLostError,
  OfflineQueueFullError,
  ProtocolError,
  RedisError,
  ReplyTimeoutError,
  ServerError,
  annotate,
} from '../errors.js';
import { Decoder } from '../resp/decoder.js';
import { Encoder, validateArgs, type Arg } from '../resp/encoder.js';
import { Attributed, type DecoderSink, type Reply } from '../resp/types.js';
import { Command, InternalCommand, QUEUED, SETTLED, WRITTEN, failCommand } from './command.js';
import { Deadlines, timeoutError } from './deadlines.js';
import { afterLoss } from './loss.js';
import { HealthCheck } from './health.js';
import { RetryLater } from './retry-later.js';
import { CommandQueue, approximateBytes } from './queue.js';
import { handshake } from './handshake.js';
import { emptyStats, type MultiplexerHooks, type MultiplexerOptions, type MultiplexerStats } from './options.js';
import { isPubSubArray } from './pubsub-frames.js';
import { describeEndpoint, openSocket } from './socket.js';

export type { MultiplexerHooks, MultiplexerOptions, MultiplexerStats, ReconnectStrategy } from './options.js';

const enum State {
  Connecting,
  Ready,
  Waiting,
  Closed,
}

export class Multiplexer implements DecoderSink {
  readonly node: string;
  private state = State.Connecting;
  private socket: net.Socket | undefined;
  private readonly decoder: Decoder;
  private readonly encoder = new Encoder();
  /** Written (or encoded, awaiting flush) commands, oldest first. */
  private readonly inflight = new Denque<Command>();
  /** Commands not yet encoded: offline, behind a probe SELECT, or behind a full socket. */
  private readonly queue = new CommandQueue();
  /** How many entries at the tail of `inflight` are encoded but not yet handed to the socket. */
  private unflushed = 0;
  /** Encoded commands without a FIFO slot (subscriber mode) waiting for the flush. */
  private unflushedFree = 0;
  /** Protocol of the current connection, known after the handshake. */
  protocol: 2 | 3 = 3;
  private flushScheduled = false;
  /** The socket asked us to wait for 'drain'. */
  private blocked = false;
  private currentDb = 0;
  /** Databases a SELECT succeeded for on this connection; others are probed before pipelining. */
  private knownDbs = new Set<number>();
  private probing = false;
  /** READONLY seen: write nothing more, and reconnect once the in-flight replies are in. */
  private recycling = false;
  /** Commands refused by a transient server state, waiting for their retry backoff. */
  private readonly retrying = new RetryLater();
  private readonly health: HealthCheck;
  private handshaking = false;
  private attempt = 0;
  private everReady = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Why the last connection ended or failed; cleared when ready. */
  private lastError: Error | undefined;
  private readonly deadlines: Deadlines;
  private closeWaiters: (() => void)[] = [];
  /** close() was called: new commands are refused, queued and in-flight ones finish. */
  private closing = false;
  readonly stats: MultiplexerStats = emptyStats();
  private readonly flushNow = () => this.flush();

  constructor(
    private readonly opts: MultiplexerOptions,
    private readonly hooks: MultiplexerHooks,
  ) {
    this.node = describeEndpoint(opts.endpoint);
    this.decoder = new Decoder(this, opts.limits);
    this.deadlines = new Deadlines(this.inflight, this.queue, {
      expire: (cmd, sent) => this.expire(cmd, sent),
      stale: () =>
        this.lose(new ReplyTimeoutError(`a reply is ${opts.staleReplyGrace} ms overdue past its deadline; recycling the connection`, true, { node: this.node })),
    }, opts.staleReplyGrace);
    this.health = new HealthCheck(opts.pingInterval ?? 0, {
      bytesIn: () => this.stats.bytesIn,
      ping: (timeout, dead) => {
        const socket = this.socket;
        if (this.state !== State.Ready) return;
        const ping = new InternalCommand('PING', [], commandInfo('PING'), (err) => {
          if (err instanceof ReplyTimeoutError && this.socket === socket) {
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

  snapshot(): MultiplexerStats {
    const s = this.stats;
    s.pending = this.inflight.length + this.queue.length;
    s.queued = this.queue.length;
    s.queuedBytes = this.queue.bytes + this.encoder.pendingBytes + (this.socket?.writableLength ?? 0);
    return { ...s };
  }

  // ------------------------------------------------------------------ sending

  /** Hand a validated command to the connection. Never throws; failures settle the command. */
  send(cmd: Command, timeout = this.opts.commandTimeout, custom = false): void {
    if (this.canWriteNow(cmd.db)) {
      this.stats.commands++;
      if (timeout > 0) this.deadlines.set(cmd, timeout, custom, this.flushScheduled);
      this.write(cmd);
      return;
    }
    this.enqueue([cmd], cmd, timeout, custom);
  }

  /**
   * Send commands that must stay contiguous on the wire (MULTI ... EXEC). The
   * group is one unit: only its last command carries the deadline; if that
   * passes while the group is still queued, the whole group is dropped unsent,
   * and once its first command is written, all of them are written together.
   */
  sendGroup(cmds: Command[], timeout = this.opts.commandTimeout, custom = false): void {
    cmds[0]!.groupSize = cmds.length;
    if (this.canWriteNow(cmds[0]!.db)) {
      this.stats.commands += cmds.length;
      if (timeout > 0) this.deadlines.set(cmds[cmds.length - 1]!, timeout, custom, this.flushScheduled);
      for (const c of cmds) this.write(c);
      return;
    }
    this.enqueue(cmds, cmds[cmds.length - 1]!, timeout, custom);
  }

  /** The fast path: connected, nothing waiting ahead, already in the right database. */
  private canWriteNow(db: number): boolean {
    return (
      this.state === State.Ready &&
      !this.closing &&
      !this.blocked &&
      !this.probing &&
      !this.recycling &&
      this.queue.length === 0 &&
      (db === this.currentDb || db < 0)
    );
  }

  /** Queue commands to be written later, or refuse them all (closed, offline queue off or full). */
  private enqueue(cmds: Command[], timed: Command, timeout: number, custom: boolean): void {
    const name = cmds[0]!.groupSize > 1 ? 'MULTI' : cmds[0]!.info.name;
    const ctx = { command: name, node: this.node };
    let refusal: Error | undefined;
    if (this.closing || this.state === State.Closed) refusal = new ClosedError('the client is closed', ctx);
    else if (this.state === State.Waiting && !this.opts.offlineQueue) {
      refusal = new ConnectionLostError('not connected and the offline queue is off; it was not sent', false, ctx);
    } else if (this.queue.length + cmds.length > this.opts.maxQueued) {
      refusal = new OfflineQueueFullError(`${this.queue.length} commands already wait to be written; it was not sent`, ctx);
    } else if (this.queue.bytes + cmds.reduce((n, c) => n + approximateBytes(c), 0) > this.opts.maxQueuedBytes) {
      refusal = new OfflineQueueFullError(`about ${this.queue.bytes} bytes already wait to be written; it was not sent`, ctx);
    }
    if (refusal) {
      for (const c of cmds) this.fail(c, refusal);
      return;
    }
    this.stats.commands += cmds.length;
    if (timeout > 0) this.deadlines.set(timed, timeout, custom, this.flushScheduled);
    for (const c of cmds) this.queue.push(c);
    if (this.state === State.Ready) this.pump();
  }

  /** Send a command on behalf of the connection itself (handshake, SELECT). */
  private sendInternal(parts: Arg[], done: (err: Error | undefined, value?: Reply) => void): void {
    const name = String(parts[0]);
    validateArgs(name, parts, 1);
    const cmd = new InternalCommand(name, parts.slice(1), commandInfo(name, parts[1]), done);
    this.write(cmd);
  }

  /** Encode a command into the outgoing buffer and give it its FIFO slot. */
  private write(cmd: Command): void {
    this.encoder.encode(cmd.name, cmd.args);
    cmd.state = WRITTEN;
    cmd.attempts++;
    if (this.opts.pubsub && cmd.info.flags & SUBSCRIBE) {
      // Confirmations come as push frames, one per channel: no FIFO slot. The
      // subscriber tracks them (and resubscribes after a reconnect).
      cmd.resolve(null);
      this.unflushedFree++;
    } else {
      this.inflight.push(cmd);
      this.unflushed++;
    }
    // An idle connection writes at once (lowest latency for a lone caller);
    // otherwise the tick's commands go out together at setImmediate.
    if (this.unflushed === 1 && this.inflight.length === 1 && !this.flushScheduled) this.flush();
    else if (this.encoder.pendingBytes >= this.opts.flushThreshold) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (socket === undefined || this.unflushed + this.unflushedFree === 0) return;
    const chunks = this.encoder.take();
    this.unflushed = this.unflushedFree = 0;
    let bytes = 0;
    if (chunks.length === 1) {
      bytes = chunks[0]!.length;
      socket.write(chunks[0]!);
    } else {
      socket.cork();
      for (const c of chunks) {
        bytes += c.length;
        socket.write(c);
      }
      socket.uncork();
    }
    this.stats.writes++;
    this.stats.bytesOut += bytes;
    if (socket.writableNeedDrain && !this.blocked) {
      // Backpressure: stop encoding; new commands wait (bounded) in `queue` until drain.
      this.blocked = true;
      socket.once('drain', () => {
        this.blocked = false;
        this.pump();
      });
    }
  }

  /** Write queued commands in order, inlining SELECTs, while the connection can take them. */
  private pump(): void {
    const queue = this.queue;
    while (this.state === State.Ready && !this.blocked && !this.probing && !this.recycling && queue.length > 0) {
      const cmd = queue.peekFront()!;
      if (cmd.state === SETTLED) {
        queue.shift(); // timed out while queued
        continue;
      }
      if (cmd.db >= 0 && cmd.db !== this.currentDb) {
        this.select(cmd.db);
        continue;
      }
      if (cmd.groupSize > 1) {
        const n = cmd.groupSize;
        const last = queue.peekAt(n - 1)!;
        const expired = last.state === SETTLED;
        for (let i = 0; i < n; i++) {
          const member = queue.shift()!;
          if (!expired) this.write(member);
          else if (member !== last) member.reject(new ReplyTimeoutError('the transaction timed out before it was sent; it was never sent', false, { command: member.info.name, node: this.node }));
        }
        continue;
      }
      queue.shift();
      this.write(cmd);
    }
    if (this.closing) this.maybeFinishClose();
  }

  /**
   * Switch the connection to `db`. A database this connection has selected
   * before is switched inline; an unknown one is probed first and the queue
   * waits for the answer, so a failing SELECT (index out of range) can never
   * let later commands run in the wrong database.
   */
  private select(db: number): void {
    if (this.knownDbs.has(db)) {
      this.currentDb = db;
      this.sendInternal(['SELECT', db], (err) => {
        if (err && !(err instanceof ConnectionLostError || err instanceof ClosedError)) {
          this.lose(new ProtocolError(`inline SELECT ${db} failed after succeeding before`, { node: this.node, cause: err }));
        }
      });
      return;
    }
    this.probing = true;
    this.sendInternal(['SELECT', db], (err) => {
      this.probing = false;
      if (err === undefined) {
        this.knownDbs.add(db);
        this.currentDb = db;
      } else if (err instanceof ServerError) {
        // Reject everything queued for this database; the rest goes on.
        for (const c of this.queue.removeWhere((c) => c.db === db)) {
          this.fail(c, annotate(new ServerError(err.serverMessage, err.code), c.info.name, this.node));
        }
      }
      this.pump();
    });
  }

  // ------------------------------------------------------------------ replies

  replyFlags(push: boolean): number {
    if (push || this.opts.pubsub) return this.opts.pushFlags ?? 0;
    const head = this.inflight.peekFront();
    return head === undefined ? 0 : head.decodeFlags;
  }

  onReply(value: Reply): void {
    if (this.opts.pubsub && this.protocol === 2 && isPubSubArray(value)) {
      this.hooks.push(value as Reply[]); // RESP2 has no push type: pub/sub frames arrive as arrays
      return;
    }
    const cmd = this.inflight.shift();
    if (cmd === undefined) {
      throw new ProtocolError('the server sent a reply nobody asked for', { node: this.node });
    }
    this.deadlines.done(cmd);
    if (cmd.info.shape !== SHAPE_ANY && !(value instanceof ServerError) && !(value instanceof Attributed) && !fitsShape(cmd.info.shape, value)) {
      this.inflight.unshift(cmd); // still owed: lose() settles it with the others
      throw new ProtocolError(`a reply of the wrong shape for ${cmd.info.name}: the stream is out of step`, { node: this.node });
    }
    if (value instanceof ServerError) {
      // A replica refusing a write: we are not talking to the master any more (failover).
      if (value instanceof ReadOnlyError) this.recycling = true;
      if (cmd.state !== SETTLED && !this.retryRefused(cmd, value)) this.fail(cmd, annotate(value, cmd.info.name, this.node));
    } else if (!cmd.resolve(value) && cmd.onLateReply !== undefined) {
      cmd.onLateReply(value); // the command had timed out; its owner wants to see the reply anyway
    }
    if (this.inflight.length === 0) {
      if (this.recycling) this.lose(new ConnectionLostError('the server answered READONLY: reconnecting to find the master', false, { node: this.node }));
      else if (this.closing) this.maybeFinishClose();
    }
  }

  /**
   * The server refused the command before running it (LOADING, BUSY, READONLY,
   * ...): resend it after the policy's backoff, if the policy agrees. Safe for
   * writes too, since it did not run. Returns whether a retry was scheduled.
   */
  private retryRefused(cmd: Command, err: ServerError): boolean {
    if (cmd instanceof InternalCommand || !cmd.retry || !refusedBeforeRunning(err)) return false;
    const delay = cmd.retry.delayFor(cmd.attempts, err);
    if (delay < 0 || (cmd.deadline > 0 && Date.now() + delay >= cmd.deadline)) return false;
    cmd.state = QUEUED;
    this.retrying.schedule(cmd, delay, () => {
      this.queue.unshift(cmd); // the oldest deadline goes first
      if (this.state === State.Ready) this.pump();
    });
    return true;
  }

  onPush(frame: Reply[]): void {
    // This connection never subscribes: a pub/sub frame here means the stream is not what we think.
    if (!this.opts.pubsub && isPubSubArray(frame)) throw new ProtocolError('an unsolicited pub/sub frame on a shared connection', { node: this.node });
    this.hooks.push(frame);
  }

  /** Reject a command; a failure nobody observes is reported, never lost. */
  private fail(cmd: Command, err: Error): void {
    failCommand(cmd, err, (e, c) => this.hooks.unobservedError(e, c));
  }

  private expire(cmd: Command, sent: boolean): void {
    this.stats.timeouts++;
    // While disconnected, the cause says why (refused, auth, ...).
    this.fail(cmd, timeoutError(cmd, sent, this.node, this.state !== State.Ready ? this.lastError : undefined));
  }

  // ------------------------------------------------------------------ lifecycle

  private connect(): void {
    this.state = State.Connecting;
    openSocket(this.opts.endpoint, this.opts).then(
      (socket) => this.onSocket(socket),
      (err: Error) => this.lose(err),
    );
  }

  private onSocket(socket: net.Socket): void {
    if (this.state !== State.Connecting) {
      socket.destroy(); // disconnect() came first
      return;
    }
    this.socket = socket;
    this.decoder.reset();
    this.blocked = false;
    this.knownDbs = new Set();
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      try {
        this.decoder.feed(chunk);
      } catch (err) {
        this.lose(err instanceof RedisError ? err : new ProtocolError(String(err), { node: this.node, cause: err }));
      }
    });
    socket.on('error', (err) => this.lose(new ConnectionLostError(`connection error: ${(err as NodeJS.ErrnoException).code ?? err.message}`, true, { node: this.node, cause: err })));
    socket.on('close', () => this.lose(new ConnectionLostError('the connection closed', true, { node: this.node })));
    this.handshaking = true;
    const send = (parts: Arg[]) =>
      new Promise<Reply>((resolve, reject) => this.sendInternal(parts, (err, value) => (err ? reject(err) : resolve(value!))));
    handshake(send, this.opts, this.node).then(
      (info) => {
        if (this.socket !== socket) return;
        this.handshaking = false;
        this.protocol = info.protocol;
        this.currentDb = this.opts.db;
        this.knownDbs.add(this.opts.db);
        this.attempt = 0;
        this.everReady = true;
        this.lastError = undefined;
        this.state = State.Ready;
        this.health.start();
        this.hooks.ready(info);
        this.pump();
      },
      (err: Error) => {
        if (this.socket !== socket) return;
        this.handshaking = false;
        if (err instanceof AuthError) {
          // Credentials are wrong: queued commands cannot succeed on this server as configured.
          this.drainQueue((command) => new ConnectError('authentication failed; fix the credentials', { command, node: this.node, cause: err }));
        }
        this.lose(err instanceof RedisError ? annotate(err, 'HELLO', this.node) : (err as Error));
      },
    );
  }

  /**
   * The connection is gone (or never came). Settle in-flight commands per
   * rule 2, keep never-written ones for the next connection, and schedule a
   * reconnect.
   */
  private lose(cause: Error): void {
    if (this.socket === undefined && this.state !== State.Connecting) return; // already handled
    this.dropSocket(false);
    this.flushScheduled = false;
    this.recycling = false;
    this.encoder.take(); // encoded but never handed to the socket: the commands are requeued below
    this.decoder.reset();
    const wasClosing = this.closing;
    this.stats.connectionLost++;
    const unsent = this.unflushed;
    this.unflushed = this.unflushedFree = 0;
    const total = this.inflight.length;
    const requeue: Command[] = [];
    for (let i = 0; i < total; i++) {
      const cmd = this.inflight.shift()!;
      if (cmd.state === SETTLED) continue;
      const neverSent = i >= total - unsent;
      const outcome = afterLoss(cmd, neverSent, cause, this.node, this.opts.offlineQueue);
      if (outcome === 'requeue') {
        cmd.state = QUEUED;
        if (neverSent) cmd.attempts--;
        requeue.push(cmd);
      } else this.fail(cmd, outcome); // internal commands are settled, never reported
    }
    for (let i = requeue.length - 1; i >= 0; i--) this.queue.unshift(requeue[i]!);
    if (wasClosing) {
      this.drainQueue((command) => new ClosedError('the client closed while the connection was down', { command, node: this.node, cause }));
      this.finishClose();
      return;
    }
    if (this.state === State.Closed) return;
    if (!this.opts.offlineQueue && this.everReady) {
      this.drainQueue((command) => new ConnectionLostError('the connection was lost and the offline queue is off; the command was not sent', false, { command, node: this.node, cause }));
    }
    this.lastError = cause;
    this.hooks.error(cause);
    this.attempt++;
    const delay = this.opts.reconnect(this.attempt, cause);
    if (delay < 0) {
      this.state = State.Closed;
      this.drainQueue((command) =>
        cause instanceof ConnectError
          ? new ConnectError(`could not connect and reconnecting is over; the command was not sent`, { command, node: this.node, cause })
          : new ConnectionLostError('reconnecting gave up; the command was not sent', false, { command, node: this.node, cause }),
      );
      this.stopTimers();
      this.hooks.close();
      return;
    }
    this.state = State.Waiting;
    this.stats.reconnects++;
    this.hooks.reconnecting({ attempt: this.attempt, delay, cause });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === State.Waiting) this.connect();
    }, delay);
  }

  /** Settle every queued (never written) command with an error made for it. */
  private drainQueue(make: (command: string) => Error): void {
    while (this.queue.length > 0) {
      const cmd = this.queue.shift()!;
      if (cmd.state !== SETTLED) this.fail(cmd, make(cmd.info.name));
    }
  }

  /** Graceful: refuse new commands, let every queued and in-flight one settle, then quit. */
  close(): Promise<void> {
    if (this.state === State.Closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      if (this.closing) return;
      this.closing = true;
      if (this.state === State.Waiting) {
        // Between reconnect attempts: what is queued can no longer be sent.
        this.drainQueue((command) => new ClosedError('the client closed while disconnected; the command was never sent', { command, node: this.node }));
        this.finishClose();
        return;
      }
      // Connecting: the queue is written once the handshake completes (or fails in lose()).
      this.maybeFinishClose();
    });
  }

  private maybeFinishClose(): void {
    if (!this.closing || this.state !== State.Ready) return;
    if (this.queue.length > 0 || this.inflight.length > 0 || this.retrying.size > 0) return; // still draining
    this.finishClose();
  }

  private finishClose(): void {
    this.state = State.Closed;
    this.dropSocket(true);
    this.stopTimers();
    this.hooks.close();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Abrupt: every queued and in-flight command rejects with ClosedError now. */
  disconnect(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.dropSocket(false);
    this.stopTimers();
    while (this.inflight.length > 0) {
      const cmd = this.inflight.shift()!;
      if (cmd.state !== SETTLED) this.fail(cmd, new ClosedError('the client was disconnected; the command may have run', { command: cmd.info.name, node: this.node }));
    }
    this.drainQueue((command) => new ClosedError('the client was disconnected before the command was sent', { command, node: this.node }));
    this.hooks.close();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Detach and close the socket: gracefully (FIN after pending writes) or at once. */
  private dropSocket(graceful: boolean): void {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.removeAllListeners('data');
    socket.removeAllListeners('close');
    socket.on('error', () => {}); // late errors of a socket we gave up on are expected
    if (graceful) socket.destroySoon(); // ends after pending writes, then closes
    else socket.destroy();
  }

  private stopTimers(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.health.stop();
    this.retrying.cancelAll((cmd) =>
      this.fail(cmd, new ClosedError('the connection closed while the command waited to be retried; it was not sent again', { command: cmd.info.name, node: this.node })),
    );
    this.deadlines.stop();
  }
}
