/**
 * Transactions. `multi` compiles a builder block into MULTI, the commands, EXEC,
 * handed to routing as one contiguous group. `watch` runs an optimistic
 * transaction on a connection leased from the pool.
 *
 * Result shape of a block (documented in the README):
 *  - resolves with EXEC's array; a command that failed at run time (WRONGTYPE,
 *    ...) has its `ServerError` in its slot and its own handle rejects with it;
 *    the other commands are unaffected (Redis does not roll back);
 *  - a command refused at queue time makes the server abort the block: it
 *    rejects with `ExecAbortError` whose `errors[i]` holds each refusal;
 *  - a WATCHed key that changed makes EXEC return null: the block resolves null
 *    and every handle resolves null.
 */
import { commandInfo, SHAPE_ANY } from './commands/index.js';
import { prefixed, prefixKeys, type KeyPrefix } from './commands/prefix.js';
import type { CommandArguments, Decoding, DefaultDecoding, Resolved } from './commands/typed.js';
import { resp2ToResp3 } from './commands/resp3-shapes.js';
import { checkCommand, Command, failCommand, InternalCommand, prepareCommand } from './connection/command.js';
import { abortError, type AbortWatch } from './connection/abort.js';
import { appendCallSite, captureCallSite, ObservedCommand } from './connection/observed.js';
import { Pending } from './connection/pending.js';
import type { Lease } from './connection/pool.js';
import { AskError, ClosedError, type ErrorContext, ClusterDownError, ConnectionError, ConnectionLostError, ExecAbortError, InvalidArgumentError, MovedError, ServerError, TryAgainError, annotate } from './errors.js';
import { validateArgs, type Arg } from './resp/encoder.js';
import { DECODE_RESP3_SHAPES, type Reply } from './resp/types.js';
import { scriptBody, type Script } from './script.js';
import { isScript, scriptArgs, scriptCall } from './connection/script-command.js';
import { tryAgainDelay } from './topology/cluster/settings.js';
import { groupNode } from './topology/standalone.js';

export interface TransactionBuilder<D extends Decoding = DefaultDecoding> {
  /** Queue a command in the block. The handle settles with this command's own reply once EXEC returns. Typed like `db.reply`. */
  command<T = never, N extends string = string, A extends CommandArguments<N> = CommandArguments<N>>(name: N, ...args: A): PromiseLike<Resolved<NoInfer<T>, N, A, D>>;
  /**
   * Queue a script call. Its first call in the block is sent as EVAL (EVAL_RO)
   * with the body, later ones as EVALSHA (EVALSHA_RO): see `run` in runMulti.
   */
  run<T = unknown>(script: Script, keys?: readonly Arg[], args?: readonly Arg[]): PromiseLike<T>;
}

/**
 * Queues the block's commands, synchronously: the block is sent when it
 * returns (it may return one handle, or nothing). The block resolves with
 * EXEC's replies (`Reply[]`).
 */
export type MultiBuilder<D extends Decoding = DefaultDecoding> = (tx: TransactionBuilder<D>) => PromiseLike<unknown> | void;

/** A builder that returns an array of its handles: the block resolves with their replies, in that order (`MultiResult<H>`). */
export type MultiTupleBuilder<D extends Decoding, H extends readonly PromiseLike<unknown>[]> = (tx: TransactionBuilder<D>) => H;

/**
 * What a block whose builder returned handles `H` resolves with: a tuple of
 * their replies. A command that failed at run time holds its `ServerError`
 * (Redis runs the rest of the block).
 */
export type MultiResult<H extends readonly PromiseLike<unknown>[]> = { -readonly [I in keyof H]: Awaited<H[I]> | ServerError };

/** What every command of a transaction inherits from the handle it was made on. */
export interface HandleSettings {
  index: number;
  decodeFlags: number;
  /** Largest single argument (`maxArgumentBytes`). */
  maxArgumentBytes: number;
  /** Prepended to every key (`with({ prefix })`). */
  prefix?: KeyPrefix;
  /** The view's signal (abort.ts): settles a command instead of sending it once fired; true when it did. */
  abort?: AbortWatch;
  /** `callSiteStacks`: each command carries where the caller issued it (observed.ts); off, no stack is captured. */
  callSiteStacks?: boolean;
  /** A fire-and-forget command that failed before it was sent, which nobody observes: the client's 'commandError'. */
  reportUnobserved?: (cmd: Command, err: Error) => void;
  /** The view's deadline (`with({ timeout })`) for what db.watch sends on its lease; `customTimeout`: it is a per-call one. */
  timeout?: number;
  customTimeout?: boolean;
}

/** `db.multi(build)` and `conn.multi(build)` take a function that queues the block's commands; anything else is refused first. */
export function checkBuilder(build: unknown, where: string): void {
  if (typeof build !== 'function') throw new InvalidArgumentError(`${where} needs a builder function: ${where}((tx) => { tx.command(...) })`, { command: 'MULTI' });
}

/** A method of a db.watch connection used after its watch ended: its lease may serve another caller by now. */
function watchOver(command: string): ClosedError {
  return new ClosedError('this db.watch is over and its connection went back to the pool: use conn only until the promise fn returned settles; it was not sent', { command });
}

interface MultiTarget extends HandleSettings {
  /** Send the block; `via`: an ASK naming the node to send it to, with ASKING first (cluster). */
  send(cmds: Command[], via?: AskError): void;
  /** The node that answered the block, when the target knows it (a lease); else the routing's unit says (groupNode). */
  node?(): string | undefined;
  /**
   * A db.watch's connection: a block refused MOVED / ASK cannot go elsewhere (the watch is
   * on this node), so it ends as one whose watched key changed: null (`retries` runs fn again).
   */
  watching?: boolean;
}

const MULTI = commandInfo('MULTI');
/** How many times a block refused at queue time by redirections (MOVED, ASK: its slot moved or is moving) is sent again. */
const MAX_MOVED_RESENDS = 5;

/**
 * A block whose every queue-time refusal says it ran nothing and can simply
 * go again (cluster): MOVED (routing fixed its map from the reply), ASK (the
 * slot is being imported elsewhere: send it there, with ASKING), TRYAGAIN
 * (a multi-key command over keys split by a migration: wait), CLUSTERDOWN
 * (the cluster cannot serve the slot now: wait, as a single command does).
 * Undefined when there is no refusal, or any other one.
 */
function redirection(errors: readonly (ServerError | undefined)[]): { ask: AskError | undefined; wait: boolean } | undefined {
  let ask: AskError | undefined;
  let moved = false;
  let wait = false;
  for (const e of errors) {
    if (e === undefined) continue;
    if (e instanceof MovedError) moved = true;
    else if (e instanceof AskError) ask ??= e;
    else if (e instanceof TryAgainError || e instanceof ClusterDownError) wait = true; // nothing ran: wait out the migration or the outage
    else return undefined;
  }
  if (!moved && ask === undefined && !wait) return undefined;
  // After a MOVED the map is right: route normally (an ASK may follow from the new owner).
  return { ask: moved ? undefined : ask, wait };
}
const EXEC = commandInfo('EXEC');

function refuseInside(info: { name: string }): never {
  throw new InvalidArgumentError(`${info.name} cannot be used inside a transaction or on a watch connection (the client owns that connection state)`, { command: info.name });
}

/**
 * Validate a command given inside a transaction or watch; throws before
 * anything is sent. With `callSiteStacks` it carries the stack of the
 * caller of `issuer` (the builder's or the watch connection's method).
 */
/**
 * `watch`: the signal watch the command is handed to (a command sent on its
 * own in db.watch): it must tell the watch when it settles, else the watch
 * keeps it, and its listener on the signal (with the client behind it), until
 * the signal fires.
 */
function buildCommand(name: string, args: Arg[], on: HandleSettings, issuer: Function, watch?: AbortWatch): Command {
  const cmd = on.callSiteStacks || watch !== undefined
    ? new ObservedCommand(name, args, checkCommand(name, args, refuseInside, on.maxArgumentBytes), on.decodeFlags, on.index, undefined, on.callSiteStacks ? captureCallSite(issuer) : undefined, watch)
    : prepareCommand(name, args, on.decodeFlags, on.index, refuseInside, on.maxArgumentBytes);
  if (on.prefix !== undefined) {
    const unprefix = prefixKeys(cmd.info, args, on.prefix); // `args` is the caller's rest array: ours
    if (unprefix !== undefined) cmd.mapReply = unprefix; // its reply names keys: the caller gets the names it passed
  }
  return cmd;
}

/** Compile and send one MULTI/EXEC block; see the module comment for the result shape. */
export function runMulti(build: (tx: TransactionBuilder<Decoding>) => unknown, target: MultiTarget): Promise<Reply[] | null> {
  const handles: Command[] = [];
  /** SHA1s of the scripts this block already sent with their body. */
  let scripts: Set<string> | undefined;
  let sealed = false;
  /** The builder's handles, in the order of `handles`: a builder that returns some gets theirs back in its order. */
  const pendings: Pending<unknown>[] = [];
  /** Queue a command; `issuer`: the builder method the caller called (its call site starts below it). */
  const queue = (name: string, args: Arg[], issuer: Function): Pending<unknown> => {
    if (sealed) {
      throw new InvalidArgumentError('this transaction was already sent (or refused): queue every command before the builder returns', { command: String(name) });
    }
    const handle = buildCommand(name, args, target, issuer);
    handles.push(handle);
    const pending = new Pending(handle);
    pendings.push(pending);
    return pending;
  };
  const builder = {
    command(name: string, ...args: Arg[]) {
      return queue(name, args, builder.command);
    },
    // A script inside MULTI cannot be loaded on demand: the server checks it
    // only at EXEC, and a NOSCRIPT there fails that call while the rest of the
    // block runs (no EXECABORT, no way to redo it). Nor can a SCRIPT LOAD
    // written ahead of the block be trusted: a SCRIPT FLUSH can land between.
    // So the body travels in the block: EVAL on the script's first call, which
    // caches it, and EVALSHA for its later calls, which run after it within
    // the same atomic EXEC (measured: a 4 KB script called 5 times per block
    // runs 3-6x faster than with EVAL each time; scripts/measure-multi-script.mjs).
    run(script: Script, keys?: readonly Arg[], args?: readonly Arg[]) {
      if (!isScript(script)) throw new InvalidArgumentError('tx.run(script, keys, args): script must be a Script (new Script(lua))', { command: 'EVAL' });
      const first = !(scripts ??= new Set()).has(script.sha1);
      const call = first ? (script.readOnly ? 'EVAL_RO' : 'EVAL') : script.readOnly ? 'EVALSHA_RO' : 'EVALSHA';
      const pending = queue(call, scriptArgs(first ? scriptBody(script) : script.sha1, keys, args, 'tx.run'), builder.run);
      scripts.add(script.sha1);
      return pending;
    },
  } as unknown as TransactionBuilder<Decoding>;
  let returned: unknown;
  try {
    returned = build(builder);
  } catch (err) {
    // Bad input (or the builder's own error): nothing has been sent, and every handle settles.
    for (const h of handles) h.reject(err as Error);
    throw err;
  } finally {
    sealed = true;
  }
  if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function' && !(returned instanceof Pending)) {
    // An async builder would queue commands after the block was sent (they would
    // never run, and their handles never settle); awaiting it could deadlock on
    // the block's own handles. Refuse the whole block instead. (Returning one
    // handle, as in `tx => tx.command(...)`, is fine.)
    (returned as PromiseLike<unknown>).then(undefined, () => {}); // its own failure is not ours to report
    const err = new InvalidArgumentError(
      'the db.multi builder returned a promise; it must queue its commands synchronously (await their handles after multi() resolves). Nothing was sent',
      { command: 'MULTI' },
    );
    for (const h of handles) h.reject(err);
    return Promise.reject(err);
  }
  /** Positions of the returned handles in the block, when the builder returned an array of them. */
  let picks: number[] | undefined;
  if (Array.isArray(returned)) {
    picks = returned.map((p) => pendings.indexOf(p as Pending<unknown>));
    if (picks.includes(-1)) {
      const err = new InvalidArgumentError('the db.multi builder returned an array holding something that is not one of its own handles; return its tx.command(...) handles, or nothing. Nothing was sent', { command: 'MULTI' });
      for (const h of handles) h.reject(err);
      return Promise.reject(err);
    }
  }
  if (handles.length === 0) return Promise.resolve([]);

  return new Promise<Reply[] | null>((resolve, reject) => {
    // A block the server refused at queue time only because its slot moved
    // (every refusal a MOVED: a cluster resharding) ran nothing: the routing has
    // learnt the new owner from those replies, so the block is sent again whole.
    let sends = 0;
    let waits = 0;
    /** The block failed: each handle with its own refusal (`errors[i]`) or the block's error. */
    const failBlock = (failure: Error, errors?: readonly (ServerError | undefined)[]): void => {
      for (let i = 0; i < handles.length; i++) handles[i]!.reject(errors?.[i] ?? failure);
      // The block's own error: the first command's call site (no-op when a handle already carried it here).
      if (handles[0] instanceof ObservedCommand && handles[0].site !== undefined) appendCallSite(failure, handles[0].site);
      reject(failure);
    };
    /** The first send's deadline: waiting out TRYAGAIN never goes past it. */
    let until = -1;
    const send = (via?: AskError): void => {
      sends++;
      const queueErrors: (ServerError | undefined)[] = new Array(handles.length).fill(undefined);
      const group: Command[] = [];
      let transportError: Error | undefined;
      /** MULTI's own refusal (an ACL without `multi`): the server then ran each command as it came, `ran` their replies. */
      let multiRefused: ServerError | undefined;
      let ran: Reply[] | undefined;
      const multi: InternalCommand = new InternalCommand('MULTI', [], MULTI, (err) => {
          // Refused by the server only if written: one never written (the SELECT before it refused) ran nothing.
          if (err instanceof ServerError && multi.attempts > 0) multiRefused = err;
          else if (err && !transportError) transportError = err;
        }, 0, target.index);
      group.push(multi);
      handles.forEach((h, i) => {
        group.push(
          // Inside MULTI every command answers +QUEUED: its usual reply shape does not apply. Decoded as its handle
          // asks (a reply of its own when MULTI was refused), shaped here like EXEC's slots.
          new InternalCommand(h.name, h.args, { ...h.info, shape: SHAPE_ANY }, (err, value) => {
            if (err instanceof ServerError) queueErrors[i] = err;
            else if (err && !transportError) transportError = err;
            else if (!err && multiRefused !== undefined) (ran ??= [])[i] = value ?? null;
          }, h.decodeFlags & ~DECODE_RESP3_SHAPES, target.index),
        );
      });
      const exec: InternalCommand = new InternalCommand('EXEC', [], EXEC, (err, value) => {
          if (multiRefused !== undefined) {
            reject(ranOneByOne(multiRefused, handles, queueErrors, ran ?? [], err instanceof ConnectionLostError ? err : (transportError ?? err), target.decodeFlags));
            return;
          }
          // EXEC's own connection error knows best whether the block can have run (was EXEC sent?).
          const failure = err instanceof ConnectionLostError ? err : (transportError ?? err);
          const again = failure instanceof ExecAbortError ? redirection(queueErrors) : undefined;
          // Nothing ran, but the server discarded the connection's WATCH with the refused block: the watch is void, as
          // if a watched key changed. Never sent again on that connection, where it would run unguarded.
          const voidWatch = () => {
            for (const h of handles) h.resolve(null);
            resolve(null);
          };
          if (again !== undefined && !again.wait && target.watching) {
            voidWatch(); // and its keys live elsewhere now (MOVED, ASK)
            return;
          }
          if (again !== undefined && !again.wait && sends <= MAX_MOVED_RESENDS) {
            send(again.ask);
            return;
          }
          if (until === -1) until = exec.deadline;
          if (again?.wait) {
            const delay = tryAgainDelay(waits); // a block refused by TRYAGAIN or CLUSTERDOWN: sent again after it (a watch's: void), within its deadline
            if (until > 0 && Date.now() + delay < until) {
              waits++;
              sends = 0; // waiting out a migration is not a redirection
              // The view's signal gives the wait up at once (README Cancelling): the block was refused, so it
              // ran nothing; the signal's watch hears it through a stand-in for the next EXEC, not sent.
              let timer: NodeJS.Timeout | undefined;
              const waiting = new InternalCommand('EXEC', [], EXEC, (aborted) => {
                if (aborted === undefined) return; // the wait is over: sent again (or void)
                clearTimeout(timer);
                failBlock(aborted);
              }, 0, target.index);
              if (target.abort?.refuse(waiting)) return; // fired already: settled just now
              // Ref'd (at most 500 ms): after a disconnect() this timer is what settles the block, with
              // ClosedError from the closed routing; unref'd, Node could exit with the caller's await unsettled.
              timer = setTimeout(() => {
                waiting.resolve(null);
                target.abort?.settled(waiting);
                if (target.watching) voidWatch();
                else send(again.ask);
              }, delay);
              return;
            }
          }
          if (failure) {
            if (failure instanceof ExecAbortError) failure.errors = queueErrors;
            failBlock(failure, queueErrors);
            return;
          }
          if (value === null) {
            for (const h of handles) h.resolve(null);
            resolve(null);
            return;
          }
          const replies = value as Reply[];
          // EXEC's slots are not settled through a connection that knows its protocol:
          // shaped here (a reply already in its RESP3 shape is left as it is).
          if (target.decodeFlags & DECODE_RESP3_SHAPES) {
            for (let i = 0; i < handles.length; i++) replies[i] = resp2ToResp3(handles[i]!.name, handles[i]!.args, replies[i] ?? null, handles[i]!.decodeFlags);
          }
          const node = target.node?.() ?? groupNode(exec);
          for (let i = 0; i < handles.length; i++) {
            const r = replies[i] ?? null;
            const h = handles[i]!;
            // Run-time errors sit in their slot; the handle rejects with the same error.
            if (r instanceof ServerError) h.reject(annotate(r, h.info.name, node));
            else {
              h.resolve(r); // maps its own copy (mapReply never changes a reply in place)
              if (h.mapReply !== undefined) replies[i] = h.mapReply(r);
            }
          }
          resolve(picks === undefined ? replies : picks.map((i) => replies[i] ?? null));
        }, target.decodeFlags, target.index);
      group.push(exec);
      try {
        target.send(group, via);
      } catch (err) {
        // Routing refused the block (cross-slot): nothing sent. Its EXEC settles too (what the block settles
        // through, and what a signal view watches: it must let the block go), then anything it left.
        exec.reject(err as Error);
        for (const h of handles) h.reject(err as Error);
        reject(err);
      }
    };
    send();
  });
}

/**
 * A block whose MULTI the server refused: no transaction was open, so the
 * server ran each command as it read it (they were pipelined behind MULTI;
 * nothing can call them back). Each handle settles with its own outcome
 * (`ran[i]`, `queueErrors[i]`, or `lost`: what ended the rest), never as
 * failed when it ran; the block's error says so.
 */
function ranOneByOne(refusal: ServerError, handles: Command[], errors: (ServerError | undefined)[], ran: Reply[], lost: Error | undefined, decodeFlags: number): ServerError {
  for (let i = 0; i < handles.length; i++) {
    const h = handles[i]!;
    if (errors[i] !== undefined) h.reject(errors[i]!);
    else if (i in ran) h.resolve(decodeFlags & DECODE_RESP3_SHAPES ? resp2ToResp3(h.name, h.args, ran[i]!, h.decodeFlags) : ran[i]!);
    else h.reject(lost ?? refusal);
  }
  const Refused = refusal.constructor as new (message: string, code: string, ctx?: ErrorContext) => ServerError;
  const message = `${refusal.serverMessage}: MULTI was refused, so the server ran the block's commands one by one, outside a transaction (each handle settled with its own reply)`;
  return new Refused(message, refusal.code, { command: 'MULTI', node: refusal.node, cause: refusal });
}

export interface WatchOptions {
  /** Run `fn` again (with a fresh WATCH) this many times when its EXEC was aborted (default 0). */
  retries?: number;
}

/** What `db.watch` hands its function: a connection of its own for the duration. */
export interface WatchConnection<D extends Decoding = DefaultDecoding> {
  reply<T = never, N extends string = string, A extends CommandArguments<N> = CommandArguments<N>>(name: N, ...args: A): Promise<Resolved<NoInfer<T>, N, A, D>>;
  command<T = never, N extends string = string, A extends CommandArguments<N> = CommandArguments<N>>(name: N, ...args: A): PromiseLike<Resolved<NoInfer<T>, N, A, D>>;
  /** MULTI/EXEC on this connection; resolves null when a watched key changed. */
  multi<const H extends readonly PromiseLike<unknown>[]>(build: MultiTupleBuilder<D, H>): Promise<MultiResult<H> | null>;
  multi(build: MultiBuilder<D>): Promise<Reply[] | null>;
  /** A script on this connection, like `db.run` (EVALSHA; NOSCRIPT loads it here). */
  run<T = unknown>(script: Script, keys?: readonly Arg[], args?: readonly Arg[]): Promise<T>;
}

/** What a routing that can place a WATCH elsewhere (cluster) does when its WATCH did not take. */
export interface WatchRouting {
  /** The WATCH was answered MOVED (a slot moved): the map learns the new owner, where the next lease is taken. */
  moved?(err: MovedError): void;
  /**
   * The WATCH's node could not be reached (its lease's connection failed: a
   * failover may be under way). Resolves true once the map was refreshed and
   * a lease may be asked for again; false when the wait since `since` is over.
   */
  unreachable?(err: ConnectionError, since: number): Promise<boolean>;
}

/**
 * `wait`, or the view's AbortError as soon as its signal fires: a db.watch
 * waiting for routing has watched nothing and `fn` has not run, so it gives
 * up as a command never sent does (nothing is leased again, `fn` never runs).
 */
function orAborted<T>(wait: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return wait;
  return new Promise((resolve, reject) => {
    const abort = () => reject(abortError('WATCH', false, undefined, signal.reason));
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    const done = () => signal.removeEventListener('abort', abort);
    wait.then(resolve, reject).finally(done);
  });
}

/** `ms` of waiting, or the view's AbortError as soon as its signal fires, the timer cleared then (not left to run out). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return orAborted(wait, signal).catch((err: unknown) => {
    clearTimeout(timer);
    throw err;
  });
}

/**
 * A lease, or the view's AbortError as soon as its signal fires (README: a
 * call waiting for a pooled connection is given up, never sent): nothing is
 * watched yet. The lease owed to the given-up wait is handed straight back,
 * unused, when it comes (the pool's line is not ours to leave).
 */
function leaseOrAborted(acquire: (keys: Arg[]) => Promise<Lease>, keys: Arg[], signal: AbortSignal | undefined): Promise<Lease> {
  if (signal?.aborted) return Promise.reject(abortError('WATCH', false, undefined, signal.reason));
  const leased = acquire(keys);
  if (signal === undefined) return leased;
  return orAborted(leased, signal).catch((err: unknown) => {
    if (signal.aborted) leased.then((lease) => lease.release(true), () => {}); // refused or failed to come: nothing to return
    throw err;
  });
}

export async function runWatch<R>(
  /** Lease a connection (on the node of `keys`, as they are sent: prefixed). */
  acquire: (keys: Arg[]) => Promise<Lease>,
  on: HandleSettings,
  keys: Arg[],
  fn: (conn: WatchConnection<Decoding>) => Promise<R> | R,
  options: WatchOptions,
  routing: WatchRouting = {},
): Promise<R> {
  if (!Array.isArray(keys)) {
    const got = typeof keys === 'string' || Buffer.isBuffer(keys) ? 'one key: put it in an array, db.watch([key], fn)' : typeof keys;
    throw new InvalidArgumentError(`db.watch(keys, fn) needs an array of keys; it got ${got}`);
  }
  if (keys.length === 0) throw new InvalidArgumentError('db.watch needs at least one key');
  validateArgs('WATCH', keys, 0, on.maxArgumentBytes);
  if (typeof fn !== 'function') throw new InvalidArgumentError('db.watch needs a function');
  const prefix = on.prefix;
  if (prefix !== undefined) keys = keys.map((k) => prefixed(k, prefix));
  const retries = options.retries ?? 0;
  let redirects = 0;
  /** The WATCH's connection failed (its lease is destroyed first): wait for routing, then lease again. */
  let unreachable: ConnectionError | undefined;
  let unreachableSince = 0;
  /** WATCH refused by TRYAGAIN / CLUSTERDOWN / ASK: how many waits so far, until when (the first refused WATCH's deadline), and the next. */
  let waits = 0;
  let waitUntil = -1;
  let backoff = 0;
  for (let attempt = 0; ; attempt++) {
    if (unreachable !== undefined) {
      if (!(await orAborted(routing.unreachable!(unreachable, unreachableSince), on.abort?.signal))) throw unreachable;
      unreachable = undefined;
    }
    if (backoff > 0) {
      await pause(backoff, on.abort?.signal);
      backoff = 0;
    }
    const lease = await leaseOrAborted(acquire, keys, on.abort?.signal);
    // Every command on the lease carries the view's deadline, as on the shared connection.
    const send = (cmd: Command): void => lease.send(cmd, on.timeout, on.customTimeout);
    const reply = <T>(cmd: Command<T>): Promise<T> => {
      const p = cmd.toPromise();
      send(cmd);
      return p;
    };
    let aborted = false;
    let over = false;
    let clean = false;
    try {
      const watch = new Command('WATCH', keys, commandInfo('WATCH'), 0, on.index);
      try {
        await reply(watch);
        unreachableSince = 0; // it reached its node: a later loss (a retry's WATCH) waits for routing afresh
        waits = 0; // and a later refusal waits within that WATCH's own deadline
        waitUntil = -1;
      } catch (err) {
        // Nothing is watched (a WATCH lives and dies with its connection) and fn has not run: lease again where the slot lives now.
        if (err instanceof ConnectionError && routing.unreachable !== undefined) {
          unreachable = err;
          unreachableSince ||= Date.now();
        } else if (err instanceof MovedError && routing.moved !== undefined && ++redirects <= MAX_MOVED_RESENDS) {
          routing.moved(err);
          clean = true;
        } else if ((err instanceof ClusterDownError || err instanceof TryAgainError || err instanceof AskError) && (waitUntil === -1 ? (waitUntil = watch.deadline) : waitUntil) > 0 && Date.now() + tryAgainDelay(waits) < waitUntil) {
          // A failover or a migration under way refused it before it ran: waited out within its deadline, as a command is.
          // (An ASK cannot be followed: every command fn sends would need ASKING there. Once the slot moved: MOVED, above.)
          backoff = tryAgainDelay(waits++);
          clean = true;
        } else throw err;
        attempt--;
        continue;
      }
      // Refuses `cmd` (settles it, nothing sent) once this attempt is over, or once the view's signal fired.
      const refused = (cmd: Command): boolean => {
        if (over) failCommand(cmd, watchOver(cmd.info.name), (err, c) => on.reportUnobserved?.(c, err));
        return over || (on.abort !== undefined && on.abort.refuse(cmd));
      };
      const conn = {
        command(name: string, ...args: Arg[]) {
          const cmd = buildCommand(name, args, on, conn.command, on.abort);
          if (!refused(cmd)) send(cmd);
          return new Pending(cmd);
        },
        reply(name: string, ...args: Arg[]) {
          try {
            // The promise exists before sending, so an immediate failure is observed, not reported.
            const cmd = buildCommand(name, args, on, conn.reply, on.abort);
            const p = cmd.toPromise();
            if (!refused(cmd)) send(cmd);
            return p;
          } catch (err) {
            return Promise.reject(err);
          }
        },
        run<T>(script: Script, keys?: readonly Arg[], args?: readonly Arg[]): Promise<T> {
          try {
            if (over) throw watchOver('EVALSHA');
            const cmd = scriptCall<T>(script, keys, args, on.decodeFlags, on.index, on.maxArgumentBytes);
            if (on.prefix !== undefined) prefixKeys(cmd.info, cmd.args as Arg[], on.prefix); // scriptCall made the array
            if (on.callSiteStacks) cmd.site = captureCallSite(conn.run);
            const p = cmd.toPromise();
            on.abort?.follow(cmd); // a ScriptCommand does not tell the signal's watch it settled: the watch follows its promise
            if (!refused(cmd)) send(cmd);
            return p;
          } catch (err) {
            return Promise.reject(err);
          }
        },
        async multi(build: (tx: TransactionBuilder<Decoding>) => unknown) {
          if (over) throw watchOver('MULTI');
          checkBuilder(build, 'conn.multi');
          const send = (cmds: Command[]) => {
            // The block settles through its EXEC, which the signal watches like any command of fn's: refused unsent
            // once it fired (or once this watch is over: a block waiting out TRYAGAIN must not land on a returned lease).
            const exec = cmds[cmds.length - 1]!;
            if (on.abort !== undefined && !exec.settled) {
              const done = () => on.abort!.settled(exec); // an internal command: its promise is ours alone
              exec.toPromise().then(done, done);
            }
            if (!refused(exec)) lease.sendGroup(cmds, on.timeout, on.customTimeout);
            else for (const c of cmds) c.reject(new ClosedError('the transaction was refused before it was sent', { command: c.info.name }));
          };
          const result = await runMulti(build, { ...on, send, node: () => lease.mux.node, watching: true });
          if (result === null) aborted = true;
          return result;
        },
      } as unknown as WatchConnection<Decoding>;
      const result = await fn(conn);
      over = true; // conn is good only until fn's promise settles: nothing it sends may follow UNWATCH onto a returned lease
      // UNWATCH both clears the watch and proves (FIFO) that every reply of fn's commands arrived. fn's outcome
      // stands whatever UNWATCH gets (its block may have run): refused or lost, the lease is destroyed with its WATCH.
      clean = await reply(new Command('UNWATCH', [], commandInfo('UNWATCH'), 0, on.index)).then(() => true, () => false);
      if (aborted && attempt < retries) continue;
      return result;
    } finally {
      over = true; // a conn kept past fn refuses from now on: this lease goes back to the pool
      lease.release(clean);
    }
  }
}

