/**
 * Draining a lease whose blocking command was abandoned (its caller's
 * deadline passed, or the client is closing) without losing what the command
 * may still pop: the blocking pool never loses an item.
 *
 * The command keeps its place in the lease's FIFO until its reply comes; a
 * value in that reply is the owner's to report (the client's
 * 'orphanedReply'). To make the reply come soon:
 *  - when the server lets us, `CLIENT UNBLOCK <id>` over the shared
 *    connection: the server ends the command, which answers null (or what it
 *    popped just before). An answer of 0 means "not blocked right now": the
 *    reply is on its way, or the command has not reached the server yet, so
 *    we ask again, backing off, for up to the grace;
 *  - otherwise (the ACL refuses CLIENT UNBLOCK or CLIENT ID) we wait for the
 *    server to answer by itself: at the command's own timeout, or when an
 *    item arrives.
 * Never by cutting the connection: Redis drops the output of a client it is
 * closing, so an item popped in the event-loop turn in which the server reads
 * our FIN (or reset) is lost: an RPUSH sent together with the FIN of a
 * blocked BLPOP's connection lost the item about one time in three (Redis
 * 7.0). Only closing the client cuts a lease still waiting.
 *
 * The reply ends the drain: the command was the lease's only one in flight,
 * so the lease is clean and is used again. A reply overdue past the grace
 * means a half-open link: the lease is destroyed.
 */
import { commandInfo } from '../commands/index.js';
import { ServerError, refusedBeforeRunning } from '../errors.js';
import type { Reply } from '../resp/types.js';
import { Command } from './command.js';
import type { Lease } from './lease.js';

export interface DrainContext {
  /** Send a command on the shared connection (CLIENT UNBLOCK). */
  sendShared(cmd: Command, timeout: number): void;
  /** How long a reply the server owes may be overdue before the link is presumed half-open. */
  grace: number;
  /** Whether CLIENT UNBLOCK may be tried: false once the server refused it. */
  mayUnblock(): boolean;
  /** The server refused CLIENT UNBLOCK (NOPERM, renamed command): wait for replies instead from now on. */
  unblockRefused(err: ServerError): void;
  /** The pool is closing: a drain still waiting on the server stops (see the module comment). */
  readonly stop: StopSignal;
}

/** Bound on one CLIENT UNBLOCK round trip over the shared connection. */
const UNBLOCK_TIMEOUT = 1000;
/** setTimeout's limit; a longer wait is left to the reply or the close (nearly 25 days). */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * Drain `lease` of `blocked`, a command already written on it whose caller
 * gave up. `serverEnd` is when the server ends the command by itself at the
 * latest (Date.now() clock; Infinity when it may block forever). Resolves
 * true when the reply came (the lease is clean), false when the lease must be
 * destroyed.
 */
export async function drain(lease: Lease, blocked: Command, serverEnd: number, ctx: DrainContext): Promise<boolean> {
  // A server error is a reply too: the FIFO is in step.
  const replied = blocked.toPromise().then(
    () => true,
    (err: unknown) => err instanceof ServerError,
  );
  const id = lease.id;
  if (id !== undefined && ctx.mayUnblock()) {
    const giveUp = Date.now() + ctx.grace;
    for (let pause = 10; !blocked.settled && Date.now() < giveUp; pause = Math.min(pause * 2, 500)) {
      const answer = await unblock(id, ctx);
      if (answer === 1) return (await within(replied, ctx.grace)) ?? false; // the server ended it: the reply is on its way
      if (answer instanceof ServerError && !refusedBeforeRunning(answer)) {
        ctx.unblockRefused(answer);
        break;
      }
      // 0 (not blocked now) or a failed round trip: look again shortly.
      const done = await within(replied, pause);
      if (done !== undefined) return done;
    }
    if (ctx.mayUnblock()) return blocked.settled ? replied : false; // never blocked at the server, never answered: half-open
  }
  // The server answers by itself: at the command's own timeout, or with an item.
  return (await within(replied, serverEnd - Date.now() + ctx.grace, ctx.stop)) ?? false;
}

function unblock(id: number, ctx: DrainContext): Promise<Reply | Error> {
  const cmd = new Command<Reply>('CLIENT', ['UNBLOCK', id], commandInfo('CLIENT', 'UNBLOCK'), 0, -1);
  const answer = cmd.toPromise().then(
    (value: Reply) => value,
    (err: Error) => err,
  );
  ctx.sendShared(cmd, UNBLOCK_TIMEOUT);
  return answer;
}

/** `p`'s value, or undefined once `ms` passed (or `stop` fired) first. */
function within<T>(p: Promise<T>, ms: number, stop?: StopSignal): Promise<T | undefined> {
  if (stop?.stopped) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const done = (value: T | undefined) => {
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe?.();
      resolve(value);
    };
    if (ms < MAX_TIMER) {
      timer = setTimeout(() => done(undefined), Math.max(0, ms));
      timer.unref(); // the lease's socket is what keeps the process alive, if anything
    }
    if (stop) unsubscribe = stop.on(() => done(undefined));
    p.then(done);
  });
}

/** A one-shot signal whose listeners can unsubscribe (drains come and go; the signal lives as long as the pool). */
export class StopSignal {
  stopped = false;
  private readonly listeners = new Set<() => void>();

  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fire(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const l of [...this.listeners]) l();
    this.listeners.clear();
  }
}
