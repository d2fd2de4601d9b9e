/**
 * The side-connection pool for blocking commands (BLPOP, XREAD BLOCK, WAIT,
 * ...) and WATCH transactions, so that neither ever stalls the shared socket.
 *
 * A blocking command's deadline is the pool's, not the lease's: the lease's
 * multiplexer sees a command without a deadline, so nothing on the lease
 * (deadline sweep, stale-reply recycling, health PING) can cut a connection
 * that may still carry a popped item. When the deadline passes first, the
 * caller gets its ReplyTimeoutError at once and the lease is drained
 * (drain.ts): a value the command popped anyway is reported through `orphan`
 * (the client's 'orphanedReply' event), never dropped.
 *
 * A command that never ran (the lease could not connect, or died before the
 * write) follows its retry policy, with the policy's backoff, within the
 * command's deadline; one that may have run is retried only when rule 2
 * allows it (read-only, such as XREAD, or declared idempotent).
 *
 * Leases are never health-pinged while leased (a PING would queue behind a
 * BLPOP); with `pingInterval` set, the pool PINGs each lease that sat idle
 * that long, out of the idle list, and destroys one that does not answer.
 */
import { commandInfo } from '../commands/index.js';
import { ClosedError, ConnectError, ConnectionError, ConnectionLostError, PoolTimeoutError, ReadOnlyError, ServerError, refusedBeforeRunning } from '../errors.js';
import type { Reply } from '../resp/types.js';
import { abortError, sentTo } from './abort.js';
import { asking } from './asking.js';
import { blockingTimeoutMs } from './blocking-timeout.js';
import { Command, QUEUED, failCommand, notSent, wasSent } from './command.js';
import { timeoutError } from './deadlines.js';
import { StopSignal, drain, type DrainContext } from './drain.js';
import { Lease } from './lease.js';
import { PoolTimeouts } from './pool-timeouts.js';
import { resendDelay } from './loss.js';
import type { MultiplexerOptions } from './multiplexer.js';

export { Lease } from './lease.js';

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
  /** An error reply the routing may take over (cluster MOVED): true when it re-sends the command itself. */
  redirect?(cmd: Command, err: ServerError): boolean;
  /** The server the leases connect to, as errors name it (Sentinel: the one found last). */
  node(): string;
  /**
   * A blocking command could not reach its node and was never written (a
   * failover under way?): where routing sends it once it may know better
   * (Cluster: after a slot map refresh; Sentinel: after a pause, each lease
   * asking the sentinels), or undefined when `since` is too long ago (or it
   * is pinned to this node): then its retry policy decides, as without this hook.
   */
  unreachable?(cmd: Command, err: ConnectionError, since: number): Promise<HandBack | undefined>;
}

/** When a blocking command first found its node unreachable (see PoolHooks.unreachable): kept across the pools it is handed to. */
const unreachableSince = new WeakMap<Command, number>();

/**
 * Where a leaving pool (leave()) hands a command it never wrote: routing sends
 * it again, with the timeout it was given (`custom`: a per-call one).
 */
export type HandBack = (cmd: Command, timeout: number, custom: boolean) => void;

/**
 * Why a caller waiting for a side connection gets none: the pool's node left
 * the cluster's slot map. Nothing was sent; routing asks another node's pool
 * (a db.watch lease) or sends the command again (a blocking command).
 */
export class PoolLeftError extends ConnectError {
  constructor(command: string, node: string) {
    super('its node left the cluster before a side connection was free; nothing was sent', { command, node });
  }
}

/** setTimeout's limit; a longer deadline is re-armed in steps. */
const MAX_TIMER = 2 ** 31 - 1;

interface Waiter {
  resolve(lease: Lease): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** The blocking command it leases for; none: a db.watch (its first command is WATCH). */
  cmd: Command | undefined;
}

export class BlockingPool {
  private readonly idle: Lease[] = [];
  private readonly active = new Set<Lease>();
  /** The waiting line, oldest first: a Set, so an aborted waiter leaves it at once, wherever it stands. */
  private readonly waiters = new Set<Waiter>();
  /** Commands waiting out a retry backoff or for routing (PoolHooks.unreachable), and how to end that wait (close and disconnect settle them at once; leave hands back those in a backoff). */
  private readonly backingOff = new Map<Command, (next: Next) => void>();
  private closed = false;
  /** Set by leave(): commands never written here go back to routing instead of failing. */
  private leaving: HandBack | undefined;
  private closeWaiters: (() => void)[] = [];
  private idleCheck: NodeJS.Timeout | undefined;
  /** The server refused CLIENT UNBLOCK (or CLIENT ID): abandoned commands are drained by waiting. */
  private unblockRefused = false;
  private readonly stopDrains = new StopSignal();
  private readonly drainContext: DrainContext;
  private readonly timeouts = new PoolTimeouts();

  constructor(
    private readonly connection: MultiplexerOptions,
    private readonly settings: PoolSettings,
    private readonly hooks: PoolHooks,
  ) {
    this.drainContext = {
      sendShared: hooks.sendShared,
      // staleReplyGrace may be tiny (tests, LANs); a drain still gives a slow link a second.
      grace: Math.max(connection.staleReplyGrace, 1000),
      mayUnblock: () => !this.unblockRefused,
      unblockRefused: () => (this.unblockRefused = true),
      stop: this.stopDrains,
    };
  }

  get size(): number {
    return this.idle.length + this.active.size;
  }

  /** Calls that timed out here, once each, and on its leases' connections: the pool's part of `stats().timeouts` (pool-timeouts.ts). */
  get timedOut(): number {
    return this.timeouts.total;
  }

  /**
   * Lease a connection, waiting at most `maxWait` ms for one to free up. With
   * `cmd`, its signal ends the wait at once: it leaves the line, its timer is
   * cleared, the caller gets its AbortError and the promise rejects.
   */
  acquire(maxWait = this.settings.maxWait, cmd?: Command): Promise<Lease> {
    if (this.leaving) return Promise.reject(new PoolLeftError(cmd?.info.name ?? 'WATCH', this.hooks.node()));
    if (this.closed) return Promise.reject(new ClosedError('the client is closed', { command: cmd?.info.name ?? 'WATCH', node: this.hooks.node() }));
    const idle = this.idle.pop();
    if (idle) {
      idle.released = false;
      this.active.add(idle);
      return Promise.resolve(idle);
    }
    if (this.size < this.settings.size) return Promise.resolve(this.create());
    return new Promise((resolve, reject) => {
      const done = () => {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        if (cmd !== undefined && cmd.abortHook === hook) cmd.abortHook = undefined;
      };
      const waiter: Waiter = {
        resolve: (lease) => {
          done();
          resolve(lease);
        },
        reject: (err) => {
          done();
          reject(err);
        },
        timer: undefined,
        cmd,
      };
      waiter.timer = setTimeout(() => {
        const waited = { command: cmd?.info.name ?? 'WATCH', node: this.hooks.node() }; // no command: a db.watch lease
        if (cmd === undefined) this.timeouts.watchWaited(); // a blocking command's is counted if it fails with it (its policy may wait again)
        waiter.reject(new PoolTimeoutError(`no side connection free within ${maxWait} ms (pool size ${this.settings.size})`, waited));
      }, Math.max(0, maxWait));
      const hook = (reason: unknown) => {
        const err = abortError(cmd!.info.name, wasSent(cmd!), sentTo(cmd!), reason);
        waiter.reject(err);
        this.fail(cmd!, err);
      };
      if (cmd !== undefined) cmd.abortHook = hook;
      this.waiters.add(waiter);
    });
  }

  private create(): Lease {
    const lease = new Lease(this.connection, {
      release: (l, clean) => this.release(l, clean),
      closed: (l) => {
        // The connection died (or was closed): it leaves the pool.
        this.timeouts.gone(l);
        const i = this.idle.indexOf(l);
        if (i >= 0) this.idle.splice(i, 1);
      },
      unobservedError: (err, cmd) => this.hooks.unobservedError(err, cmd),
    });
    this.timeouts.opened(lease);
    this.active.add(lease);
    return lease;
  }

  /** @internal called by Lease.release */
  release(lease: Lease, clean: boolean): void {
    this.active.delete(lease);
    lease.abandon = undefined;
    if (!clean || this.closed || lease.mux.closed) {
      lease.mux.disconnect();
      if (!this.closed && this.waiters.size > 0 && this.size < this.settings.size) this.handOver(this.create());
    } else if (this.waiters.size > 0) {
      this.active.add(lease);
      this.handOver(lease);
    } else {
      lease.idleSince = Date.now();
      this.idle.push(lease);
      this.startIdleCheck();
    }
    if (this.closed && this.active.size === 0) for (const w of this.closeWaiters.splice(0)) w();
  }

  private handOver(lease: Lease): void {
    const waiter = this.waiters.values().next().value!;
    lease.released = false;
    this.active.add(lease);
    waiter.resolve(lease);
  }

  /** With `pingInterval`, PING every lease idle that long; one that does not answer in time is destroyed. */
  private startIdleCheck(): void {
    const every = this.connection.pingInterval ?? 0;
    if (every <= 0 || this.idleCheck !== undefined || this.closed) return;
    this.idleCheck = setInterval(() => {
      const now = Date.now();
      for (let i = this.idle.length - 1; i >= 0; i--) {
        const lease = this.idle[i]!;
        if (now - lease.idleSince < every) continue;
        // Out of the idle list while checked: nobody's command can queue behind the PING.
        this.idle.splice(i, 1);
        lease.released = false;
        this.active.add(lease);
        const ping = new Command('PING', [], commandInfo('PING'), 0, -1);
        ping.then(
          () => lease.release(true),
          () => lease.release(false),
        );
        lease.send(ping, every, true);
      }
    }, every);
    this.idleCheck.unref();
  }

  /**
   * Run one blocking command on a leased connection, with the caller's retry
   * policy. Settles `cmd`; never throws. `asked`: a cluster's slot source
   * answered ASK, so every try writes ASKING right before it (asking.ts).
   */
  run(cmd: Command, timeout: number, custom: boolean, asked = false): void {
    void this.runAsync(cmd, timeout, custom, asked);
  }

  private async runAsync(cmd: Command, timeout: number, custom: boolean, asked: boolean): Promise<void> {
    const own = blockingTimeoutMs(cmd.info.name, cmd.args);
    // The server answers null when the command's own timeout passes; our
    // deadline comes later, so it only fires when the server is gone or stuck.
    const budget = custom ? timeout : own === undefined ? timeout : own === 0 ? 0 : own + this.settings.blockingMargin;
    const deadline = budget > 0 ? Date.now() + budget : Infinity;
    // Handed back untouched (its budget is computed again where it goes), or with what is left of a per-call one.
    const handBack = (to: HandBack) => to(cmd, custom && deadline !== Infinity ? Math.max(1, deadline - Date.now()) : timeout, custom);
    for (let attempt = 1; ; attempt++) {
      let lease: Lease;
      try {
        lease = await this.acquire(Math.min(this.settings.maxWait, deadline - Date.now()), cmd);
        if (this.leaving && !cmd.settled) {
          // Its node left while the lease was on its way: never written here, it goes where routing says.
          lease.release(false);
          return handBack(this.leaving);
        }
        if (cmd.settled || this.closed) {
          // Aborted while waiting for the lease, or close() came first and
          // found nothing to abandon yet: it is never sent (it could block the close forever).
          if (!cmd.settled) this.fail(cmd, closedError(cmd, false, lease.mux.node));
          lease.release(!this.closed);
          return;
        }
      } catch (err) {
        if (cmd.settled) return;
        if (err instanceof PoolLeftError && this.leaving) return handBack(this.leaving);
        // A lease that timed out waiting is retried at once: the wait was the backoff.
        if (err instanceof PoolTimeoutError && Date.now() < deadline && cmd.retry && cmd.retry.delayFor(attempt, err) >= 0) continue;
        this.fail(cmd, err as Error);
        return;
      }
      const err = await this.attempt(lease, cmd, own, deadline, asked, custom);
      if (err === undefined) return;
      // Never ran (no connection, lost before the write, refused by a transient server
      // state): the policy decides, as for any command; may have run: only if rule 2
      // allows it. Either way within the deadline.
      const neverRan = err instanceof ServerError || err instanceof ConnectError || (err instanceof ConnectionLostError && !err.maybeExecuted);
      if (neverRan && err instanceof ConnectionError && this.hooks.unreachable !== undefined) {
        const since = unreachableSince.get(cmd) ?? Date.now();
        unreachableSince.set(cmd, since);
        // Waited like a backoff (its signal, close() and disconnect() end it at once), and within its deadline.
        const to = await this.backoff(cmd, this.hooks.unreachable(cmd, err, since), deadline);
        if (to === STOP) return;
        if (to !== RETRY) return handBack(to);
      } else unreachableSince.delete(cmd); // it reached its node: a later failover is waited for afresh
      const delay = err instanceof ServerError || err instanceof ConnectionError ? resendDelay(cmd, attempt, err, !neverRan) : -1;
      if (delay < 0 || Date.now() + delay >= deadline) {
        this.fail(cmd, err);
        return;
      }
      const next = delay > 0 ? await this.backoff(cmd, delay) : RETRY;
      if (next === STOP) return;
      if (next !== RETRY) return handBack(next);
    }
  }

  /**
   * Wait before the next try of `cmd`: `delay` ms, or until routing says
   * where it goes (PoolHooks.unreachable: RETRY when it knows no better, or
   * at `deadline`). Its signal, close() and disconnect() end the wait at
   * once: the timer is cleared (it would keep the process alive), the caller
   * gets its AbortError or ClosedError (saying it may have run when an
   * earlier try was written), and it resolves STOP: nothing more is sent, no
   * lease is taken. leave() ends a backoff with its HandBack (its retry was
   * decided; the node is gone), not a wait for routing: that one is answered
   * after the refresh that made the node leave, in the order calls came.
   */
  private backoff(cmd: Command, delay: number | Promise<HandBack | undefined>, deadline = Infinity): Promise<Next> {
    if (this.leaving || this.closed) {
      if (typeof delay !== 'number') delay.catch(() => {}); // not waited for: nobody needs routing's answer (or its ClosedError)
      if (this.leaving) return Promise.resolve(this.leaving);
      this.fail(cmd, backoffClosedError(cmd, 'the client closed', this.hooks.node()));
      return Promise.resolve(STOP);
    }
    return new Promise((resume) => {
      let over = false; // routing may answer after the wait ended
      const end = (next: Next) => {
        if (over) return;
        over = true;
        cmd.abortHook = undefined;
        this.backingOff.delete(cmd);
        clearTimeout(timer);
        resume(next);
      };
      const routed = typeof delay !== 'number';
      const timer = !routed ? setTimeout(() => end(RETRY), delay) : deadline === Infinity ? undefined : setTimeout(() => end(RETRY), Math.min(deadline - Date.now(), MAX_TIMER));
      const closed = (err: Error) => {
        if (over) return;
        end(STOP);
        this.fail(cmd, err); // the client closed: ClosedError
      };
      if (routed) delay.then((to) => end(to ?? RETRY), closed);
      cmd.abortHook = (reason) => {
        end(STOP);
        this.fail(cmd, abortError(cmd.info.name, wasSent(cmd), sentTo(cmd), reason));
      };
      this.backingOff.set(cmd, routed ? (next) => typeof next !== 'function' && end(next) : end);
    });
  }

  /** Settle every command waiting out a retry backoff with ClosedError (`why`: closed or disconnected). */
  private endBackoffs(why: string): void {
    for (const [cmd, end] of [...this.backingOff]) {
      end(STOP);
      this.fail(cmd, backoffClosedError(cmd, why, this.hooks.node()));
    }
  }

  /**
   * One try of `cmd` on `lease`. Resolves undefined once `cmd` is settled
   * (the lease released or draining), or with the error that ended the try
   * (a connection error, or a refusal before running) for the caller's retry
   * decision; the lease is released either way.
   */
  private attempt(lease: Lease, cmd: Command, own: number | undefined, deadline: number, asked: boolean, custom: boolean): Promise<Error | undefined> {
    return new Promise((done) => {
      const proxy = new Command<Reply>(cmd.name, cmd.args, cmd.info, cmd.decodeFlags, cmd.db);
      let timer: NodeJS.Timeout | undefined;
      let abandoned = false;
      const finish = () => {
        if (timer !== undefined) clearTimeout(timer);
        lease.abandon = undefined;
        cmd.abortHook = undefined;
      };
      lease.abandon = (why, reason) => {
        if (abandoned || proxy.settled) return; // the reply is in: it goes to the caller
        abandoned = true;
        finish();
        const written = proxy.state !== QUEUED;
        // Written here, or on a lease lost before this try (counted on `cmd`): it may have run.
        const sent = written || cmd.attempts > 0;
        const node = lease.mux.node;
        this.fail(cmd, why === 'deadline' ? timeoutError(cmd, sent, node, undefined) : why === 'abort' ? abortError(cmd.info.name, sent, node, reason) : closedError(cmd, sent, node));
        done(undefined);
        if (!written) {
          lease.release(false); // never written: nothing to drain, it can never run
          return;
        }
        proxy.then(
          (value) => {
            if (value !== null) this.hooks.orphan(cmd.info.name, value);
          },
          () => {},
        );
        const serverEnd = own === undefined || own === 0 ? Infinity : Date.now() + own;
        void drain(lease, proxy, serverEnd, this.drainContext).then((clean) => lease.release(clean));
      };
      // A per-call deadline goes with the command where routing sends it (the caller's, not the next pool's own-timeout budget).
      const redirected = (c: Command, err: ServerError): boolean => {
        if (this.hooks.redirect === undefined) return false;
        if (custom && deadline !== Infinity) c.deadline = deadline;
        return this.hooks.redirect(c, err);
      };
      proxy.then(
        (value) => {
          if (abandoned) return;
          finish();
          lease.release(true);
          cmd.resolve(value);
          done(undefined);
        },
        (reason: unknown) => {
          if (abandoned) return;
          finish();
          const err = reason as Error;
          // The caller's command counts its leases' writes that may have run, as a shared connection counts its own
          // (command.ts): it says `sent` if it is aborted or closed while it waits for the next try. A refusal before
          // running (BUSY, LOADING, ...) is a write that did not run.
          if (proxy.attempts > 0 && !refusedBeforeRunning(err)) cmd.attempts++;
          if (err instanceof ServerError) {
            lease.release(!(err instanceof ReadOnlyError)); // a lease on a replica is not reused
            if (redirected(cmd, err)) done(undefined); // it never ran; routing sends it where it belongs, or again later (TRYAGAIN)
            else if (refusedBeforeRunning(err)) done(err); // LOADING, BUSY, ...: it never ran
            else {
              this.fail(cmd, err);
              done(undefined);
            }
            return;
          }
          lease.release(false);
          done(err);
        },
      );
      if (deadline !== Infinity) {
        const expire = () => {
          const left = deadline - Date.now();
          if (left > 0) timer = setTimeout(expire, Math.min(left, MAX_TIMER));
          else lease.abandon?.('deadline');
        };
        expire();
      }
      // The caller's signal gives it up like its deadline does: the lease is drained, never cut.
      cmd.abortHook = (reason) => lease.abandon?.('abort', reason);
      // No deadline on the lease: the pool owns it (module comment).
      if (asked) lease.sendGroup([asking(), proxy], 0, true);
      else lease.send(proxy, 0, true);
    });
  }

  private fail(cmd: Command, err: Error): void {
    this.timeouts.failing(cmd, err);
    failCommand(cmd, err, (e, c) => this.hooks.unobservedError(e, c));
  }

  /**
   * Idle leases close; blocked commands are given up (their callers get
   * ClosedError) and their leases drained, by CLIENT UNBLOCK where allowed,
   * else cut; WATCH leases finish first.
   */
  close(): Promise<void> {
    this.closed = true;
    this.leaving = undefined; // the client closes: nothing goes elsewhere any more
    this.stopIdleCheck();
    for (const w of [...this.waiters]) w.reject(this.waiterClosed(w, 'the client closed'));
    this.endBackoffs('the client closed');
    for (const lease of this.idle.splice(0)) void lease.mux.close();
    for (const lease of [...this.active]) lease.abandon?.('closing');
    this.stopDrains.fire();
    return this.ended();
  }

  /**
   * Its node left a cluster's slot map (it may be gone, or alive under
   * another name): what was never written here goes back to routing through
   * `handBack` (waiting for a lease, or out a retry backoff); idle leases
   * close; busy ones finish on their own. A command blocked on a node still
   * there completes there; on a dead node its lease is lost, and rule 2
   * decides, as for any lost connection (a retry goes back to routing). A
   * waiting db.watch gets PoolLeftError (routing asks again). Resolves once
   * the last busy lease is back; close() or disconnect() still end it all.
   */
  leave(handBack: HandBack): Promise<void> {
    if (this.closed) return this.ended();
    this.leaving = handBack;
    this.closed = true; // no lease is reused or made here any more
    this.stopIdleCheck();
    for (const w of [...this.waiters]) w.reject(new PoolLeftError(w.cmd?.info.name ?? 'WATCH', this.hooks.node()));
    for (const end of [...this.backingOff.values()]) end(handBack);
    for (const lease of this.idle.splice(0)) void lease.mux.close();
    return this.ended();
  }

  /** Resolves once no lease is busy (close, leave). */
  private ended(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /**
   * The server moved (Sentinel): idle leases are dropped, busy ones lose
   * their connection now (their commands settle per rule 2, a blocked one
   * with `maybeExecuted`); new leases connect where the server is now.
   */
  relocate(why: string, keep?: (node: string) => boolean): void {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const lease = this.idle[i]!;
      if (keep?.(lease.mux.node)) continue;
      this.idle.splice(i, 1);
      lease.mux.disconnect();
    }
    for (const lease of [...this.active]) lease.mux.relocate(why, keep);
  }

  disconnect(): void {
    this.closed = true;
    this.leaving = undefined;
    this.stopIdleCheck();
    this.stopDrains.fire();
    for (const w of [...this.waiters]) w.reject(this.waiterClosed(w, 'the client was disconnected'));
    this.endBackoffs('the client was disconnected');
    for (const lease of this.idle.splice(0)) lease.mux.disconnect();
    for (const lease of [...this.active]) lease.mux.disconnect();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Why a caller waiting in line gets no lease: named like the pool's other ClosedErrors (command, node, was it written). */
  private waiterClosed(w: Waiter, why: string): ClosedError {
    const message = `${why} while waiting for a side connection; ${notSent(w.cmd !== undefined && wasSent(w.cmd))}`;
    return new ClosedError(message, { command: w.cmd?.info.name ?? 'WATCH', node: this.hooks.node() });
  }

  private stopIdleCheck(): void {
    if (this.idleCheck !== undefined) clearInterval(this.idleCheck);
    this.idleCheck = undefined;
  }
}

/** How a retry backoff ended: try again, stop (settled), or go back to routing (the pool left, or routing knows where it goes now). */
type Next = 0 | 1 | HandBack;
const RETRY = 0, STOP = 1;

function closedError(cmd: Command, sent: boolean, node: string): ClosedError {
  const message = sent
    ? 'the client closed while the command was blocked on the server; a value it pops anyway is reported as an orphaned reply'
    : 'the client closed before the command was sent';
  return new ClosedError(message, { command: cmd.info.name, node });
}

function backoffClosedError(cmd: Command, why: string, node: string): ClosedError {
  return new ClosedError(`${why} while the command waited to be retried; ${notSent(wasSent(cmd))}`, { command: cmd.info.name, node });
}
