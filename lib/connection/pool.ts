/**
 * The side-connection pool for blocking commands (BLPOP, XREAD BLOCK, WAIT,
 * ...) and WATCH transactions, so that neither ever stalls the shared socket.
 *
 * Lease hygiene: a lease whose blocking command was abandoned (client-side
 * deadline) is never handed back still blocked. We send `CLIENT UNBLOCK <id>`
 * over the shared connection, then a PING on the lease: the PING's reply
 * proves (FIFO) that the blocked reply came back; if it does not come in time
 * the lease is destroyed. A value that the abandoned command popped anyway is
 * reported through `orphan` (the client's 'orphanedReply' event), never
 * dropped silently.
 */
import Denque from 'denque';
import { commandInfo } from '../commands/index.js';
import { ClosedError, ConnectionLostError, PoolTimeoutError, ReplyTimeoutError, ServerError } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import { Command, InternalCommand, failCommand } from './command.js';
import { resendDelay } from './loss.js';
import { Multiplexer, type MultiplexerOptions } from './multiplexer.js';

export interface PoolSettings {
  size: number;
  maxWait: number;
  /** Added to a blocking command's own timeout to make its client-side deadline. */
  blockingMargin: number;
}

export interface PoolHooks {
  /** Send a command on the shared connection (for CLIENT UNBLOCK). */
  sendShared(cmd: Command, timeout: number): void;
  unobservedError(err: Error, cmd: Command): void;
  /** A reply that arrived for a command whose caller had already been told it timed out. */
  orphan(command: string, value: Reply): void;
}

/** Bound on the PING that proves an unblocked lease is drained. */
const DRAIN_TIMEOUT = 1000;

export class Lease {
  /** Server-side id of the connection (CLIENT ID), for CLIENT UNBLOCK. */
  id: number | undefined;
  /** A blocking command is in flight. */
  blocking = false;
  /** @internal set by the pool each time the lease is handed out. */
  released = false;

  constructor(
    readonly mux: Multiplexer,
    private readonly pool: BlockingPool,
  ) {
    const idCmd = new Command<number>('CLIENT', ['ID'], commandInfo('CLIENT', 'ID'), 0, -1);
    idCmd.then(
      (id) => (this.id = id),
      () => {},
    );
    mux.send(idCmd);
  }

  send(cmd: Command, timeout?: number, custom = false): void {
    this.mux.send(cmd, timeout, custom);
  }

  sendGroup(cmds: Command[]): void {
    this.mux.sendGroup(cmds);
  }

  reply<T = any>(cmd: Command<T>): Promise<T> {
    const p = cmd.toPromise();
    this.mux.send(cmd);
    return p;
  }

  /** Give the lease back. `clean`: no command in flight and no state left on the connection. */
  release(clean: boolean): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this, clean);
  }
}

interface Waiter {
  resolve(lease: Lease): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class BlockingPool {
  private readonly idle: Lease[] = [];
  private readonly active = new Set<Lease>();
  private readonly waiters = new Denque<Waiter>();
  private closed = false;
  private closeWaiters: (() => void)[] = [];

  constructor(
    private readonly connection: MultiplexerOptions,
    private readonly settings: PoolSettings,
    private readonly hooks: PoolHooks,
  ) {}

  get size(): number {
    return this.idle.length + this.active.size;
  }

  /** Lease a connection, waiting at most `maxWait` ms for one to free up. */
  acquire(maxWait = this.settings.maxWait): Promise<Lease> {
    if (this.closed) return Promise.reject(new ClosedError('the client is closed'));
    const idle = this.idle.pop();
    if (idle) {
      idle.released = false;
      this.active.add(idle);
      return Promise.resolve(idle);
    }
    if (this.size < this.settings.size) return Promise.resolve(this.create());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.waiters.remove(this.waiters.toArray().indexOf(waiter), 1);
        reject(new PoolTimeoutError(`no side connection free within ${maxWait} ms (pool size ${this.settings.size})`));
      }, maxWait);
      this.waiters.push(waiter);
    });
  }

  private create(): Lease {
    const lease: Lease = new Lease(
      new Multiplexer(
        { ...this.connection, reconnect: () => -1, offlineQueue: true, discoverModules: false },
        {
          ready() {},
          error() {},
          reconnecting() {},
          close: () => {
            // The connection died (or was closed): it leaves the pool.
            const i = this.idle.indexOf(lease);
            if (i >= 0) this.idle.splice(i, 1);
          },
          unobservedError: (err, cmd) => this.hooks.unobservedError(err, cmd),
          push() {},
        },
      ),
      this,
    );
    this.active.add(lease);
    return lease;
  }

  /** @internal called by Lease.release */
  release(lease: Lease, clean: boolean): void {
    this.active.delete(lease);
    lease.blocking = false;
    if (!clean || this.closed || lease.mux.closed) {
      lease.mux.disconnect();
      if (!this.closed && this.waiters.length > 0 && this.size < this.settings.size) this.handOver(this.create());
    } else if (this.waiters.length > 0) {
      this.active.add(lease);
      this.handOver(lease);
    } else {
      this.idle.push(lease);
    }
    if (this.closed && this.active.size === 0) for (const w of this.closeWaiters.splice(0)) w();
  }

  private handOver(lease: Lease): void {
    const waiter = this.waiters.shift()!;
    clearTimeout(waiter.timer);
    lease.released = false;
    this.active.add(lease);
    waiter.resolve(lease);
  }

  /**
   * Run one blocking command on a leased connection, with the caller's retry
   * policy. Settles `cmd`; never throws.
   */
  run(cmd: Command, timeout: number, custom: boolean): void {
    void this.runAsync(cmd, timeout, custom);
  }

  private async runAsync(cmd: Command, timeout: number, custom: boolean): Promise<void> {
    const own = blockingTimeoutMs(cmd.info.name, cmd.args);
    // The server answers null when the command's own timeout passes; our
    // deadline comes later, so it only fires when the server is gone or stuck.
    const deadline = custom ? timeout : own === undefined ? timeout : own === 0 ? 0 : own + this.settings.blockingMargin;
    for (let attempt = 1; ; attempt++) {
      let lease: Lease;
      try {
        lease = await this.acquire();
      } catch (err) {
        // A lease that timed out waiting is retried at once: the wait was the backoff.
        if (err instanceof PoolTimeoutError && cmd.retry && cmd.retry.delayFor(attempt, err) >= 0) continue;
        this.fail(cmd, err as Error);
        return;
      }
      lease.blocking = true;
      const proxy = new InternalCommand(cmd.name, cmd.args, cmd.info, () => {}, cmd.decodeFlags, cmd.db);
      proxy.onLateReply = (value) => {
        if (value !== null) this.hooks.orphan(cmd.info.name, value);
      };
      const settled = proxy.toPromise().then(
        (value) => ({ value, err: undefined }),
        (err: Error) => ({ value: undefined, err }),
      );
      lease.send(proxy, deadline, true);
      const { value, err } = await settled;
      if (err === undefined) {
        lease.release(true);
        cmd.resolve(value);
        return;
      }
      if (err instanceof ServerError) {
        lease.release(true);
        this.fail(cmd, err);
        return;
      }
      if (err instanceof ReplyTimeoutError) {
        this.fail(cmd, err);
        this.unblock(lease);
        return;
      }
      lease.release(false);
      const delay = err instanceof ConnectionLostError ? resendDelay(cmd, attempt, err, err.maybeExecuted) : -1;
      if (delay >= 0) {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      this.fail(cmd, err);
      return;
    }
  }

  private fail(cmd: Command, err: Error): void {
    failCommand(cmd, err, (e, c) => this.hooks.unobservedError(e, c));
  }

  /** Abandoned blocking command: unblock it server-side, prove the lease drained, then reuse or destroy it. */
  private unblock(lease: Lease): void {
    if (lease.id === undefined) {
      lease.release(false);
      return;
    }
    const unblock = new Command('CLIENT', ['UNBLOCK', lease.id], commandInfo('CLIENT', 'UNBLOCK'), 0, -1);
    unblock.then(
      () => {},
      () => {},
    );
    this.hooks.sendShared(unblock, DRAIN_TIMEOUT);
    const ping = new Command('PING', [], commandInfo('PING'), 0, -1);
    ping.then(
      () => lease.release(true),
      () => lease.release(false),
    );
    lease.send(ping, DRAIN_TIMEOUT, true);
  }

  /** Idle leases close; leases blocked on the server are cut (their callers get ClosedError); WATCH leases finish first. */
  close(): Promise<void> {
    this.closed = true;
    while (this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      w.reject(new ClosedError('the client closed while waiting for a side connection'));
    }
    for (const lease of this.idle.splice(0)) void lease.mux.close();
    for (const lease of this.active) if (lease.blocking) lease.mux.disconnect();
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  disconnect(): void {
    this.closed = true;
    while (this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      w.reject(new ClosedError('the client was disconnected'));
    }
    for (const lease of this.idle.splice(0)) lease.mux.disconnect();
    for (const lease of this.active) lease.mux.disconnect();
    for (const w of this.closeWaiters.splice(0)) w();
  }
}

function numberArg(a: Arg | undefined): number | undefined {
  if (typeof a === 'number') return a;
  if (typeof a === 'string' || typeof a === 'bigint') {
    const n = Number(a);
    return Number.isFinite(n) ? n : undefined;
  }
  if (a instanceof Uint8Array) return numberArg(Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('latin1'));
  return undefined;
}

/** Whether `a` is the keyword `upper` (given in upper case), in any case, as a string, Buffer or Uint8Array. */
function isWord(a: Arg | undefined, upper: string): boolean {
  if (typeof a === 'string') return a.length === upper.length && a.toUpperCase() === upper;
  if (!(a instanceof Uint8Array) || a.length !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    if ((a[i]! & 0xdf) !== upper.charCodeAt(i)) return false; // ASCII letters only: clearing 0x20 upper-cases
  }
  return true;
}

/**
 * The server-side timeout of a blocking call in ms (0 = forever), or undefined
 * if it cannot be read from the arguments. Seconds for the list and sorted-set
 * commands, milliseconds for XREAD BLOCK, WAIT and WAITAOF.
 */
export function blockingTimeoutMs(name: string, args: ArrayLike<Arg>): number | undefined {
  const n = args.length;
  switch (name) {
    case 'BLPOP':
    case 'BRPOP':
    case 'BRPOPLPUSH':
    case 'BLMOVE':
    case 'BZPOPMIN':
    case 'BZPOPMAX': {
      const s = numberArg(args[n - 1]);
      return s === undefined ? undefined : Math.ceil(s * 1000);
    }
    case 'BLMPOP':
    case 'BZMPOP': {
      const s = numberArg(args[0]);
      return s === undefined ? undefined : Math.ceil(s * 1000);
    }
    case 'WAIT':
    case 'WAITAOF':
      return numberArg(args[n - 1]);
    case 'XREAD':
    case 'XREADGROUP':
      // Options come before STREAMS; after it, every argument is a stream name or an id.
      for (let i = 0; i < n - 1; i++) {
        const a = args[i];
        if (isWord(a, 'BLOCK')) return numberArg(args[i + 1]);
        if (isWord(a, 'STREAMS')) return undefined;
      }
      return undefined;
    default:
      return undefined;
  }
}
