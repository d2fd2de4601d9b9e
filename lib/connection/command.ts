/**
 * One command's entry in a connection's queues, and its settlement.
 *
 * Callers never hold an entry: `command()` hands out a `Pending` (pending.ts)
 * that can only be awaited. No Promise exists until someone calls `then`: a
 * fire-and-forget command that fails can therefore never become an unhandled
 * rejection; its owner reports it instead.
 */
import { commandInfo, CONNECTION_STATE, SUBSCRIBE, type CommandInfo } from '../commands/index.js';
import { InvalidArgumentError } from '../errors.js';
import type { CommandTraceContext } from './diagnostics.js';
import { validateArgs, type Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';

/** Never written: safe to send (again) on any connection. */
export const QUEUED = 0;
/** Written to a socket; the reply has not arrived. */
export const WRITTEN = 1;
/**
 * Settled (resolved or rejected). A written command that timed out is settled
 * but keeps its FIFO slot until its reply arrives and is dropped (DESIGN rule 1:
 * a late reply must never reach the next caller).
 */
export const SETTLED = 2;

export interface RetryDecision {
  /** Delay in ms before the next try after `attempt` tries failed with `err`, or -1 for no retry. */
  delayFor(attempt: number, err: Error): number;
}

/*
 * The resolving functions of the Promise being made, handed over by one
 * shared executor: an arrow function per Promise would be a closure, and a
 * context for it, allocated for every command (about 80 bytes); the executor
 * runs synchronously inside `new Promise`, so they are taken at once (and let
 * go of here).
 */
let lastResolve: ((v: unknown) => void) | undefined;
let lastReject: ((e: unknown) => void) | undefined;
function takeResolvers(resolve: (v: never) => void, reject: (e: unknown) => void): void {
  lastResolve = resolve as (v: unknown) => void;
  lastReject = reject;
}

export class Command<T = unknown> implements PromiseLike<T> {
  state = QUEUED;
  /** Absolute deadline in ms (Date.now() clock); 0 for none. */
  deadline = 0;
  /** True when `deadline` is not the connection's default (swept separately). */
  customDeadline = false;
  /** On the first command of a contiguous group (MULTI ... EXEC): how many commands the group has. */
  groupSize = 0;
  /** How many times this command was sent; bumped on every write. */
  attempts = 0;
  /** How many times a cluster redirected it (MOVED / ASK); bounded by `cluster.maxRedirects`. */
  redirects = 0;
  /** The node (host:port) it was last written to, named by errors that say it may have run there. */
  writtenTo: string | undefined = undefined;
  /** Its approximate size while it waits in a connection's CommandQueue (queue.ts); 0 otherwise. */
  queuedBytes = 0;
  /** Sent to one node on purpose (a per-node handle): never routed elsewhere. */
  pinned = false;
  retry: RetryDecision | undefined = undefined;
  /** The caller allowed a written non-read-only command to be resent (`idempotent`). */
  idempotent = false;
  /**
   * Called with a reply that arrives after the command already settled (it
   * timed out). Used where a late reply carries data that must not vanish
   * silently, such as an item popped by an abandoned BLPOP.
   */
  onLateReply: ((value: Reply) => void) | undefined = undefined;
  /**
   * Set by whoever runs the command somewhere an abort cannot simply reject
   * it (a blocking pool: the lease must be drained). Declared, not
   * initialised: commands that never need it carry no field (abort.ts).
   */
  declare abortHook: ((reason: unknown) => void) | undefined;
  /** Its `redmux:command` trace, when someone listens (observed.ts); declared like `abortHook`. */
  declare trace: CommandTraceContext | undefined;
  /**
   * What its reply becomes before it is delivered: a view's key prefix taken
   * off the key names it holds (commands/unprefix-reply.ts). Declared like `abortHook`.
   */
  declare mapReply: ((value: Reply) => Reply) | undefined;

  private result: unknown = undefined;
  private failed = false;
  private promise: Promise<T> | undefined = undefined;
  // Not typed by T, so that a Command<number> is a Command<unknown> (only then/toPromise hand T out).
  private resolveFn: ((v: unknown) => void) | undefined = undefined;
  private rejectFn: ((e: unknown) => void) | undefined = undefined;

  constructor(
    /** Command name as the caller spelled it; sent as is. */
    readonly name: string,
    readonly args: ArrayLike<Arg>,
    readonly info: CommandInfo,
    /** DECODE_* bits for the reply. */
    readonly decodeFlags: number,
    /** Database index this command must run in; -1 for "any" (connection-level commands). */
    readonly db: number,
  ) {}

  get settled(): boolean {
    return this.state === SETTLED;
  }

  /** Whether a `then` has been attached, i.e. someone will see a rejection. */
  get observed(): boolean {
    return this.promise !== undefined;
  }

  /** Deliver the reply. Returns false if the command had already settled. */
  resolve(value: Reply): boolean {
    if (this.state === SETTLED) return false;
    this.state = SETTLED;
    if (this.mapReply !== undefined) value = this.mapReply(value);
    this.result = value;
    if (this.resolveFn) this.resolveFn(value);
    return true;
  }

  /** Deliver a failure. Returns false if the command had already settled. */
  reject(err: Error): boolean {
    if (this.state === SETTLED) return false;
    this.state = SETTLED;
    this.failed = true;
    this.result = err;
    if (this.rejectFn) this.rejectFn(err);
    return true;
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.toPromise().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.toPromise().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.toPromise().finally(onFinally);
  }

  /** The Promise behind this command, created on first use. */
  toPromise(): Promise<T> {
    if (this.promise === undefined) {
      if (this.state === SETTLED) {
        this.promise = this.failed ? Promise.reject(this.result) : Promise.resolve(this.result as T);
      } else {
        this.promise = new Promise<T>(takeResolvers);
        this.resolveFn = lastResolve;
        this.rejectFn = lastReject;
        lastResolve = lastReject = undefined; // holding them would keep this promise (and its value) alive
      }
    }
    return this.promise;
  }

}

/** A command the connection sends for itself (handshake, SELECT): settles through a callback. */
export class InternalCommand extends Command {
  constructor(
    name: string,
    args: ArrayLike<Arg>,
    info: CommandInfo,
    private readonly done: (err: Error | undefined, value?: Reply) => void,
    decodeFlags = 0,
    db = -1,
  ) {
    super(name, args, info, decodeFlags, db);
  }
  override resolve(value: Reply): boolean {
    if (!super.resolve(value)) return false;
    this.done(undefined, value);
    return true;
  }
  override reject(err: Error): boolean {
    if (!super.reject(err)) return false;
    this.done(err);
    return true;
  }
}

/**
 * Reject `cmd`. If nobody attached a handler, `report` the failure (the
 * client's 'commandError'): a failure is never lost silently, and never an
 * unhandled rejection. A throwing report listener must not corrupt the caller's
 * state, so it is rethrown on its own.
 */
export function failCommand(cmd: Command, err: Error, report: (err: Error, cmd: Command) => void): void {
  if (!cmd.reject(err) || cmd.observed || cmd instanceof InternalCommand) return;
  try {
    report(err, cmd);
  } catch (listenerError) {
    queueMicrotask(() => {
      throw listenerError;
    });
  }
}

/**
 * Whether `cmd` may have reached a server: written now, or written on a
 * connection that was lost and waiting to be sent again (`attempts` counts
 * the writes that may have run; a redirection or a reload takes its write
 * back). Such a command may have run, so an abort or a deadline says `sent`,
 * although it sits unwritten in a queue.
 */
export function wasSent(cmd: Command): boolean {
  return cmd.state === WRITTEN || cmd.attempts > 0;
}

/** How an error message ends for a command given up before it was (sent again). */
export function notSent(sent: boolean): string {
  return sent ? 'it was written on a connection that was lost and may have run; it was not resent' : 'the command was not sent';
}

/** Commands a caller may never send on a shared or leased connection: they change state we own. */
export const REFUSED = CONNECTION_STATE | SUBSCRIBE;

/**
 * Validate a caller's command and make its entry. Throws `InvalidArgumentError`
 * (nothing sent) for a bad name or argument (an argument larger than
 * `maxArgumentBytes` included), or through `refuse` for a command
 * flagged REFUSED, so each API can say what to use instead.
 */
export function prepareCommand<T>(
  name: string,
  args: Arg[],
  decodeFlags: number,
  db: number,
  refuse: (info: CommandInfo) => never,
  maxArgumentBytes?: number,
): Command<T> {
  return new Command<T>(name, args, checkCommand(name, args, refuse, maxArgumentBytes), decodeFlags, db);
}

/** The checks of prepareCommand, for callers that make their own entry (observed.ts). */
export function checkCommand(name: string, args: Arg[], refuse: (info: CommandInfo) => never, maxArgumentBytes?: number): CommandInfo {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('the command name must be a non-empty string');
  const info = commandInfo(name, args[0]);
  if (info.flags & REFUSED) refuse(info);
  validateArgs(info.name, args, 0, maxArgumentBytes);
  return info;
}
