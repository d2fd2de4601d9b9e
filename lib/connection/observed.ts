/**
 * A command somebody watches: traced on `redmux:command` (diagnostics.ts),
 * carrying its caller's stack (`callSiteStacks`), and/or given up by a
 * signal (abort.ts, told when it settles). The client makes one only when a
 * tracer listens, the option is on or the view has a signal, so a plain
 * `Command` (and its settle path) stays untouched otherwise: off costs nothing.
 *
 * TracingChannel order is kept even for a command that settles while it is
 * being issued (already aborted, client closed): start, end, then
 * asyncStart / asyncEnd (error first when it failed).
 */
import type { CommandInfo } from '../commands/index.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import type { AbortWatch } from './abort.js';
import { Command, SETTLED } from './command.js';
import { traceSettled, type CommandTraceContext } from './diagnostics.js';

/** Where the caller issued the command: `Error.captureStackTrace` output, formatted only if it fails. */
export type CallSite = { stack?: string };

/** The user's call the library is issuing commands for, synchronously, inside `withCallSite`. */
let issuing: CallSite | undefined;

/**
 * Where the caller of `issuer` (the API method it called) is now: costs a
 * stack walk, so only with `callSiteStacks`. Inside `withCallSite`, the
 * user's call site given there instead (a stack here would be the library's).
 */
export function captureCallSite(issuer: Function): CallSite {
  if (issuing !== undefined) return issuing;
  const site: CallSite = {};
  Error.captureStackTrace(site, issuer);
  return site;
}

/**
 * Run `issue`, whose commands are issued on behalf of the user's call at
 * `site` (a SCAN page, a subscriber's CONFIG): they carry `site`, not the
 * library's frames that issue them. Commands issued after an await inside
 * `issue` are not covered: wrap each synchronous issuing.
 */
export function withCallSite<R>(site: CallSite, issue: () => R): R {
  const outer = issuing;
  issuing = site;
  try {
    return issue();
  } finally {
    issuing = outer;
  }
}

/**
 * `site`, then after a `--- <what> made at ---` line where the user made the
 * thing whose call that is (an iterator that may be driven far from where it
 * was made): formatted only if it fails, like a captured site.
 */
export function callSiteMadeAt(site: CallSite, made: CallSite, what: string): CallSite {
  return {
    get stack() {
      return `${site.stack ?? ''}\n    --- ${what} made at ---\n${framesOf(made)}`;
    },
  };
}

/** The frames of a captured site, without its first line (the capture's header). */
function framesOf(site: CallSite): string {
  return site.stack?.split('\n').slice(1).join('\n') ?? '';
}

/**
 * Errors that already carry a call site: which, and the length of the stack
 * before it (an error shared by several commands keeps the first; see
 * `withOwnCallSite` for calls that must not share one).
 */
const stamped = new WeakMap<Error, { site: CallSite; length: number | undefined }>();

export class ObservedCommand<T = unknown> extends Command<T> {
  private issuing = true;
  private early: { error: Error | undefined } | undefined = undefined;

  constructor(
    name: string,
    args: ArrayLike<Arg>,
    info: CommandInfo,
    decodeFlags: number,
    db: number,
    trace: CommandTraceContext | undefined,
    readonly site: CallSite | undefined,
    /** The view's signal watch: told when this settles, so its listener goes when nothing is left. */
    private readonly watch: AbortWatch | undefined,
  ) {
    super(name, args, info, decodeFlags, db);
    this.trace = trace;
  }

  override resolve(value: Reply): boolean {
    if (!super.resolve(value)) return false;
    this.watch?.settled(this);
    this.traced(undefined);
    return true;
  }

  override reject(err: Error): boolean {
    if (this.state === SETTLED) return false;
    if (this.site !== undefined) appendCallSite(err, this.site);
    super.reject(err);
    this.watch?.settled(this);
    this.traced(err);
    return true;
  }

  /** The issuing turn is over (`end` published): publish a settlement that came during it. */
  issued(): void {
    this.issuing = false;
    const early = this.early;
    if (early !== undefined && this.trace !== undefined) traceSettled(this.trace, early.error);
  }

  private traced(error: Error | undefined): void {
    if (this.trace === undefined) return;
    if (this.issuing) this.early = { error };
    else traceSettled(this.trace, error);
  }
}

/** `call`, whose failure carries `site`: for a call of the user's made of several commands, or of none. */
export function rejectsWithCallSite<T>(call: Promise<T>, site: CallSite): Promise<T> {
  return call.catch((err: unknown) => {
    throw err instanceof Error ? withOwnCallSite(err, site) : err;
  });
}

/**
 * `err` carrying `site`. An error already carrying another call's site (one
 * error settled several independent calls: a refused channel two
 * subscribers waited for) is copied, so each caller sees where it called,
 * never another's code: same class and properties, its own stack.
 */
export function withOwnCallSite(err: Error, site: CallSite): Error {
  const mark = stamped.get(err);
  if (mark === undefined) appendCallSite(err, site);
  if (mark === undefined || mark.site === site) return err;
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  for (const key of Reflect.ownKeys(err)) Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(err, key)!);
  if (mark.length !== undefined && typeof copy.stack === 'string') copy.stack = copy.stack.slice(0, mark.length);
  appendCallSite(copy, site);
  return copy;
}

/** Append where the command was issued to `err`'s stack, once. */
export function appendCallSite(err: Error, site: CallSite): void {
  if (stamped.has(err)) return;
  const stack = err.stack;
  stamped.set(err, { site, length: typeof stack === 'string' ? stack.length : undefined });
  const frames = framesOf(site);
  if (frames && typeof stack === 'string') err.stack = `${stack}\n    --- issued at ---\n${frames}`;
}
