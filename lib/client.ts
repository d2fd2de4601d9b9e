/**
 * The public API: `Redis` (the client and its events), `Database` (a handle on
 * one database with per-call options) and `Pending` (what `command()` returns).
 * The API knows routing (`Topology`), never a socket.
 */
import { EventEmitter } from 'node:events';
import { ClientCache, type CacheStats } from './cache/client-cache.js';
import { SUBSCRIBE, type CommandInfo } from './commands/index.js';
import { keyPrefix, prefixKeys, type KeyPrefix } from './commands/prefix.js';
import { AbortWatch, abortError } from './connection/abort.js';
import { Command, checkCommand, prepareCommand, type RetryDecision } from './connection/command.js';
import { MOVABLE_KEYS } from './commands/flags.js';
import { commandChannel, logTopology, traceSettled, tracingCommands, type CommandTraceContext } from './connection/diagnostics.js';
import { ObservedCommand, captureCallSite } from './connection/observed.js';
import { Pending } from './connection/pending.js';
import { runsScript, scriptCall, scriptRetry } from './connection/script-command.js';
import type { Script } from './script.js';
import type { HandshakeResult } from './connection/handshake.js';
import type { CommandArguments, Decoding, DefaultDecoding, Resolved, WithDecoding } from './commands/typed.js';
import type { CommandErrorContext, Listener, OrphanedReplyInfo, ReconnectingInfo } from './events.js';
import { decodeFlagsOf, type CallOptions } from './call-options.js';
import { LISTENER_REJECTIONS, reportRejections } from './pubsub/listeners.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import { checkCallOptions, checkDb, checkSubscriberOptions, checkWatchOptions, resolveOptions, type CacheOptions, type RedisOptionsWith, type ResolvedOptions } from './options.js';
import type { Arg } from './resp/encoder.js';
import { DECODE_RESP3_SHAPES, type Reply } from './resp/types.js';
import type { RetryPolicy } from './retry.js';
import { AutoTopology, type TopologyMode } from './topology/auto.js';
import type { Cluster } from './topology/cluster/cluster.js';
import { onlyDatabaseZero } from './topology/cluster/pinned.js';
import type { ClusterNode } from './topology/cluster/slot-map.js';
import type { Topology, TopologyChange, TopologyStats } from './topology/standalone.js';
import type { FailoverEvent } from './topology/failover/endpoints.js';
import { checkBuilder, runMulti, runWatch, type HandleSettings, type MultiBuilder, type MultiResult, type MultiTupleBuilder, type TransactionBuilder, type WatchConnection, type WatchOptions } from './transaction.js';
import { Subscriber, type SubscriberContext, type SubscriberOptions } from './subscriber.js';
import { collectionScan, keyScan, type CollectionScanOptions, type ScanIterator, type ScanOptions } from './scan.js';

export { Pending };
export type { CallOptions };

export interface RedisStats extends TopologyStats {
  /** Failed commands nobody awaited (each also emitted as 'commandError'). */
  commandErrors: number;
  /** Replies of abandoned blocking commands (each also emitted as 'orphanedReply'). */
  orphanedReplies: number;
  /** The client-side cache's counters, when `cache` is configured. */
  cache?: CacheStats;
}

/** `stats()` of a client: with `cache` for sure when it was made with a cache (`new Redis({ cache: {...} })`). */
export type StatsOf<C> = [C] extends [CacheOptions] ? RedisStats & { cache: CacheStats } : RedisStats;

interface ClientCore {
  readonly topology: Topology;
  readonly options: ResolvedOptions;
  closed: boolean;
  /** One abort listener per signal for the whole client (abort.ts). */
  readonly aborts: WeakMap<AbortSignal, AbortWatch>;
  /** Report a failed command nobody awaits ('commandError'). */
  reportUnobserved(cmd: Command, err: Error): void;
  /** The client-side cache, when configured. */
  readonly cache?: ClientCache;
  /**
   * The masters db.scan() walks (cluster), each with how to find its slots'
   * master after a failover; undefined: this handle's own routing (a server, a node handle).
   */
  masters?(): Promise<{ core: ClientCore; successor(): Promise<ClientCore | undefined> }[] | undefined>;
}

function refuse(info: CommandInfo): never {
  const name = info.name;
  let hint = 'it changes state shared by every caller of the connection';
  if (info.flags & SUBSCRIBE) hint = 'use redis.subscriber()';
  else if (name === 'SELECT') hint = 'use redis.database(n)';
  else if (name === 'MULTI' || name === 'EXEC' || name === 'DISCARD') hint = 'use db.multi(...)';
  else if (name === 'WATCH' || name === 'UNWATCH') hint = 'use db.watch(keys, fn)';
  else if (name === 'AUTH' || name === 'HELLO') hint = 'set username/password/protocol in the options';
  else if (name === 'QUIT') hint = 'use redis.close()';
  throw new InvalidArgumentError(`${name} cannot be sent on the shared connection: ${hint}`, { command: name });
}

/** Text as a handle decoding as `D` gives it: a string, or a Buffer with decode: 'buffer'. */
type Text<D extends Decoding> = D['decode'] extends 'buffer' ? Buffer : string;

/**
 * A handle on one database. Cheap: `with()` makes a new view sharing the connection.
 * `D` is how it decodes replies (its `decode` / `map` / `set` / `attributes`
 * options), which the reply types follow: `with({ decode: 'buffer' })` makes
 * `reply('GET', k)` a `Promise<Buffer | null>`.
 */
export class Database<D extends Decoding = DefaultDecoding> {
  /** The database index this handle talks to. */
  readonly index: number;
  readonly #core: ClientCore;
  readonly #opts: CallOptions;
  /** Database, decoding and argument bound every command of this handle carries. */
  readonly #settings: HandleSettings;
  readonly #timeout: number;
  readonly #customTimeout: boolean;
  readonly #retry: RetryPolicy;
  /** `#retry` for calls that run a script (made on first use). */
  #scriptRetry: RetryDecision | undefined;
  readonly #prefix: KeyPrefix | undefined;
  readonly #abort: AbortWatch | undefined;
  /** The client's cache (undefined without one: then no command pays anything for caching). */
  readonly #cache: ClientCache | undefined;
  /** This view reads through the cache (`with({ cache: true })`). */
  readonly #cached: boolean;

  /** @internal made by `Redis`: use `redis.db` or `redis.database(n)`. */
  constructor(core: ClientCore, index: number, opts: CallOptions = {}) {
    this.#core = core;
    this.index = index;
    this.#prefix = opts.prefix === undefined ? undefined : keyPrefix(opts.prefix);
    // Views made from this one start from its copy of a binary prefix, never from the caller's buffer again.
    this.#opts = this.#prefix !== undefined && this.#prefix.text === undefined ? { ...opts, prefix: this.#prefix.bytes } : opts;
    const signal = opts.signal;
    if (signal !== undefined) {
      let watch = core.aborts.get(signal);
      if (watch === undefined) core.aborts.set(signal, (watch = new AbortWatch(signal, (err, cmd) => core.reportUnobserved(cmd, err))));
      this.#abort = watch;
    }
    const shapes = core.options.resp3Shapes ? DECODE_RESP3_SHAPES : 0; // RESP2 replies in RESP3 shapes (resp2: 'resp3')
    this.#settings = { index, decodeFlags: decodeFlagsOf(opts) | shapes, maxArgumentBytes: core.options.maxArgumentBytes, prefix: this.#prefix, abort: this.#abort, callSiteStacks: core.options.callSiteStacks, reportUnobserved: core.reportUnobserved };
    const def = core.options.connection.commandTimeout;
    this.#timeout = opts.timeout ?? def;
    this.#customTimeout = this.#timeout !== def;
    this.#retry = opts.retry ?? core.options.retry;
    this.#cache = core.cache;
    this.#cached = opts.cache === true;
  }

  /** A view of this database with other per-call options. */
  with<const O extends CallOptions>(opts: O): Database<WithDecoding<D, O>> {
    checkCallOptions(opts); // unknown keys and wrong types are refused here, naming the closest option
    if (opts.cache === true && this.#core.cache === undefined) {
      throw new InvalidArgumentError('db.with({ cache: true }) needs a client with a cache: new Redis({ cache: { maxEntries, maxBytes, ttl } })');
    }
    return new Database<WithDecoding<D, O>>(this.#core, this.index, { ...this.#opts, ...opts });
  }

  /**
   * Send a command without waiting. Returns a `Pending`, which can be awaited
   * later. If it fails and nobody awaits it, the client emits 'commandError'
   * (never an unhandled rejection). Throws `InvalidArgumentError` at once for
   * bad arguments; nothing is sent then.
   */
  command<T = never, N extends string = string, A extends CommandArguments<N> = CommandArguments<N>>(name: N, ...args: A): Pending<Resolved<NoInfer<T>, N, A, D>> {
    return new Pending(this.#issue<Resolved<NoInfer<T>, N, A, D>>(name, args as readonly Arg[] as Arg[], false));
  }

  /**
   * Send a command and wait for its reply. Rejects (never throws) on bad arguments.
   * Typed by name (any case): `reply('GET', key)` is a `Promise<string | null>`;
   * a name the command table does not know is `Promise<unknown>` unless you
   * name the type: `reply<MyType>('MODULE.CMD', ...)`.
   */
  reply<T = never, N extends string = string, A extends CommandArguments<N> = CommandArguments<N>>(name: N, ...args: A): Promise<Resolved<NoInfer<T>, N, A, D>> {
    try {
      return this.#issue<Resolved<NoInfer<T>, N, A, D>>(name, args as readonly Arg[] as Arg[], true).toPromise();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #issue<T>(name: string, args: Arg[], observe: boolean): Command<T> {
    const on = this.#settings;
    const tracing = tracingCommands();
    const cmd = tracing || this.#abort !== undefined || this.#core.options.callSiteStacks ? this.#observed<T>(name, args, observe, tracing) : prepareCommand<T>(name, args, on.decodeFlags, on.index, refuse, on.maxArgumentBytes);
    if (this.#prefix !== undefined) {
      const unprefix = prefixKeys(cmd.info, args, this.#prefix); // `args` is our rest array
      if (unprefix !== undefined) cmd.mapReply = unprefix; // its reply names keys: the caller gets the names it passed
    }
    return this.#dispatch(cmd, observe, tracing);
  }

  /** Hand a validated command to the routing, traced when `tracing` (it is then an ObservedCommand with a trace). */
  #dispatch<T>(cmd: Command<T>, observe: boolean, tracing = false): Command<T> {
    // reply(): the promise exists before routing, so an immediate failure is observed, not reported.
    if (observe) cmd.toPromise();
    // A script's own LOADING / BUSY / ... means it ran: only the server's own refusals are retried (script-command.ts).
    cmd.retry = cmd.info.flags & MOVABLE_KEYS && runsScript(cmd.info) ? (this.#scriptRetry ??= scriptRetry(this.#retry)) : this.#retry;
    if (this.#opts.idempotent) cmd.idempotent = true;
    try {
      if (!tracing) this.#route(cmd, observe);
      else commandChannel.start.runStores(cmd.trace!, this.#route, this, cmd, observe);
    } catch (err) {
      // Refused by routing (CrossSlotError...), never sent: settled so its signal and trace let go; command() throws.
      cmd.reject(err as Error); // its watch hears of it (ObservedCommand, or followed: run())
      if (!observe) throw err;
    } finally {
      if (tracing) {
        commandChannel.end.publish(cmd.trace!);
        (cmd as ObservedCommand<T>).issued();
      }
    }
    return cmd;
  }

  /** A command with its trace context and/or its caller's stack (observed.ts). */
  #observed<T>(name: string, args: Arg[], observe: boolean, tracing: boolean): Command<T> {
    const on = this.#settings;
    const info = checkCommand(name, args, refuse, on.maxArgumentBytes);
    // as Function: relating the two typed signatures is slow to compile
    const site = this.#core.options.callSiteStacks ? captureCallSite(observe ? (Database.prototype.reply as Function) : (Database.prototype.command as Function)) : undefined;
    const trace = tracing ? { command: info.name, database: on.index, argumentCount: args.length, node: undefined } : undefined;
    return new ObservedCommand<T>(name, args, info, on.decodeFlags, on.index, trace, site, this.#abort);
  }

  /** Route a command, or settle it now (its signal fired, the client is closed); a caching view's cacheable read may be
   *  answered locally, a write drops its keys' cached entries first. Throws what routing refuses (#dispatch settles it). */
  #route(cmd: Command, observe: boolean): void {
    if (this.#abort !== undefined && this.#abort.refuse(cmd)) return; // the signal already fired: never sent
    const { topology, closed } = this.#core, cache = this.#cache;
    if (closed) {
      const err = new ClosedError('the client is closed', { command: cmd.info.name });
      if (cmd.reject(err) && !observe) this.#core.reportUnobserved(cmd, err);
    } else if (cache === undefined || !this.#cached || !cache.read(cmd, topology, this.#timeout, this.#customTimeout)) {
      cache?.written(cmd);
      topology.send(cmd, this.#timeout, this.#customTimeout);
    }
  }

  /**
   * Run a Lua script: EVALSHA (EVALSHA_RO when the script is read-only). A
   * server that answers NOSCRIPT gets `SCRIPT LOAD` and the call again, once,
   * on the same connection (see README "Scripts").
   */
  run<T = unknown>(script: Script, keys?: readonly Arg[], args?: readonly Arg[]): Promise<T> {
    try {
      const on = this.#settings;
      const cmd = scriptCall<T>(script, keys, args, on.decodeFlags, on.index, on.maxArgumentBytes);
      if (this.#prefix !== undefined) prefixKeys(cmd.info, cmd.args as Arg[], this.#prefix); // scriptCall made the array
      if (this.#core.options.callSiteStacks) cmd.site = captureCallSite(Database.prototype.run);
      this.#abort?.follow(cmd); // a ScriptCommand does not tell the signal's watch it settled: the watch follows its promise
      if (!tracingCommands()) return this.#dispatch(cmd, true).toPromise();
      cmd.trace = { command: cmd.info.name, database: on.index, argumentCount: cmd.args.length, node: undefined };
      return this.#traced(cmd.trace, () => this.#dispatch(cmd, true).toPromise());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Every key, once (SCAN; every master of a cluster), as an async iterator;
   * `.pages()` gives the server's batches. See README "SCAN iterators".
   */
  scan(options?: ScanOptions): ScanIterator<Text<D>> {
    const core = this.#core;
    const opts = this.#opts;
    return keyScan(options, async () => {
      const masters = await core.masters?.();
      if (masters === undefined) return [{ target: this }];
      if (this.index > 0) throw onlyDatabaseZero('SCAN'); // a handle made before auto mode knew: never database 0's keys
      return masters.map((m) => ({
        target: new Database(m.core, 0, opts),
        successor: async () => {
          const next = await m.successor();
          return next === undefined ? undefined : new Database(next, 0, opts);
        },
      }));
    }, this.#prefix, this.#core.options.callSiteStacks ? captureCallSite(Database.prototype.scan) : undefined) as ScanIterator<Text<D>>;
  }

  /** Every [field, value] of a hash (HSCAN), lazily. */
  hscan(key: Arg, options?: CollectionScanOptions): ScanIterator<[Text<D>, Text<D>]> {
    return collectionScan('HSCAN', key, options, this, this.#core.options.callSiteStacks ? captureCallSite(Database.prototype.hscan) : undefined) as ScanIterator<[Text<D>, Text<D>]>;
  }

  /** Every member of a set (SSCAN), lazily. */
  sscan(key: Arg, options?: CollectionScanOptions): ScanIterator<Text<D>> {
    return collectionScan('SSCAN', key, options, this, this.#core.options.callSiteStacks ? captureCallSite(Database.prototype.sscan) : undefined) as ScanIterator<Text<D>>;
  }

  /** Every [member, score] of a sorted set (ZSCAN), scores as numbers, lazily. */
  zscan(key: Arg, options?: CollectionScanOptions): ScanIterator<[Text<D>, number]> {
    return collectionScan('ZSCAN', key, options, this, this.#core.options.callSiteStacks ? captureCallSite(Database.prototype.zscan) : undefined) as ScanIterator<[Text<D>, number]>;
  }

  /**
   * One MULTI ... EXEC block, written contiguously on the shared connection.
   * Resolves with the array of replies (a failed command's slot holds its
   * `ServerError`); never null here, since nothing can WATCH on the shared
   * connection (`conn.multi` in `db.watch` can be null). The builder must be
   * synchronous: a builder that returns a promise is refused, nothing sent.
   * A builder that returns an array of its handles (`(tx) => [tx.command(...),
   * ...]`) gets their replies in that order, typed as a tuple.
   */
  multi<const H extends readonly PromiseLike<unknown>[]>(build: MultiTupleBuilder<D, H>): Promise<MultiResult<H>>;
  multi(build: MultiBuilder<D>): Promise<Reply[]>;
  multi(build: MultiBuilder<D> | MultiTupleBuilder<D, PromiseLike<unknown>[]>): Promise<unknown[] | null> {
    if (!tracingCommands()) return this.#multi(build, undefined);
    // Traced as one operation, MULTI, whose argumentCount is the number of commands in the block.
    const trace: CommandTraceContext = { command: 'MULTI', database: this.index, argumentCount: 0, node: undefined };
    return this.#traced(trace, () => this.#multi(build, trace));
  }

  /** Trace an operation whose promise the caller gets anyway (observing it changes nothing for them). */
  #traced<R>(trace: CommandTraceContext, issue: () => Promise<R>): Promise<R> {
    const result = commandChannel.start.runStores(trace, issue);
    commandChannel.end.publish(trace);
    result.then(
      () => traceSettled(trace, undefined),
      (err: Error) => traceSettled(trace, err),
    );
    return result;
  }

  #multi(build: (tx: TransactionBuilder<Decoding>) => unknown, trace: CommandTraceContext | undefined): Promise<Reply[] | null> {
    try {
      checkBuilder(build, 'db.multi');
      if (this.#core.closed) throw new ClosedError();
      const abort = this.#abort;
      const cache = this.#cache;
      return runMulti(build, {
        ...this.#settings,
        send: (cmds, via) => {
          if (cache !== undefined) for (const c of cmds) cache.written(c);
          const exec = cmds[cmds.length - 1]!;
          if (trace !== undefined) {
            (trace as { argumentCount: number }).argumentCount = cmds.length - 2;
            exec.trace = trace; // routing names the node on it
          }
          // The block settles through its EXEC: aborting that gives the whole block up.
          if (abort !== undefined && !exec.settled) {
            const done = () => abort.settled(exec); // an internal command: its promise is ours alone
            exec.toPromise().then(done, done);
          }
          if (abort === undefined || !abort.refuse(exec)) this.#core.topology.sendGroup(cmds, this.#timeout, this.#customTimeout, via);
          else for (const c of cmds) c.reject(new ClosedError('the transaction was aborted before it was sent'));
        },
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * An optimistic transaction on a leased connection: WATCH `keys`, run `fn`,
   * and always UNWATCH and return the lease. Resolves with what `fn` returns
   * (`conn.multi` gives null when a watched key changed).
   */
  watch<R>(keys: Arg[], fn: (conn: WatchConnection<D>) => Promise<R> | R, options: WatchOptions = {}): Promise<R> {
    const topology = this.#core.topology;
    try { checkWatchOptions(options); } catch (err) { return Promise.reject(err); } // a misspelt option, before anything is leased
    // A fired signal: nothing is leased or sent (the commands fn sends later are refused one by one).
    if (this.#abort?.signal.aborted) return Promise.reject(abortError('WATCH', false, undefined, this.#abort.signal.reason));
    const on = { ...this.#settings, timeout: this.#timeout, customTimeout: this.#customTimeout }; // the view's deadline on the lease
    // Nor does it wait for a lease past that deadline, as a blocking command does not: the shorter of it and maxWait.
    const maxWait = this.#timeout > 0 ? Math.min(this.#timeout, this.#core.options.pool.maxWait) : undefined;
    return runWatch((prefixed) => topology.lease(prefixed, maxWait), on, keys, fn, options, topology);
  }
}

/**
 * The `'ready'` event's payload, what a connection's handshake learned:
 * `protocol`, `server` (the HELLO map on RESP3: version, mode, role, id, ...),
 * whether `tracking` and `maintenance` notifications were agreed.
 */
export interface ReadyInfo extends HandshakeResult {}

/** What `Redis` emits: event name -> the listener's arguments. */
export interface RedisEvents {
  /** A connection finished its handshake (each reconnect too). */
  ready: [info: ReadyInfo];
  /** A connection failed; emitted only while someone listens (callers see failures through their commands). */
  error: [err: Error];
  /** A connection failed; its next attempt comes in `info.delay` ms. */
  reconnecting: [info: ReconnectingInfo];
  close: [none?: undefined];
  /** A failed command nobody awaited. */
  commandError: [err: Error, context: CommandErrorContext];
  /** A RESP3 push frame that is not pub/sub (tracking invalidations, ...). */
  push: [frame: Reply[]];
  /** Cluster: the slot map changed. */
  topology: [change: TopologyChange];
  /** Endpoint failover: the client switched endpoints (`endpoints` option). */
  failover: [event: FailoverEvent];
  /** The reply of an abandoned blocking command (an item a timed-out BLPOP popped). */
  orphanedReply: [orphan: OrphanedReplyInfo];
}

export interface Redis<Cache extends CacheOptions | undefined = CacheOptions | undefined> {
  on<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
  once<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
  off<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
  addListener<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
  removeListener<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
  prependListener<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
  prependOnceListener<K extends keyof RedisEvents>(event: K, listener: Listener<RedisEvents[K]>): this;
}

/** `Cache`: the `cache` option it was made with (inferred; undefined for none, or unknown by default). */
export class Redis<Cache extends CacheOptions | undefined = CacheOptions | undefined> extends EventEmitter {
  readonly #core: ClientCore;
  /** Handle on the configured database. */
  readonly db: Database;
  #commandErrors = 0;
  #orphanedReplies = 0;
  /** What every subscriber of this client shares: routing to the pub/sub hubs, and the shared connection. */
  readonly #subscriberContext: SubscriberContext;
  readonly #topology: AutoTopology;
  #closing: Promise<void> | undefined;

  constructor(urlOrOptions?: string | URL | RedisOptionsWith<Cache>, options?: RedisOptionsWith<Cache>) {
    super(LISTENER_REJECTIONS); // an async listener that rejects is one that throws: 'error', never unhandled
    reportRejections(this);
    const resolved = resolveOptions(urlOrOptions, options);
    // Events are emitted from inside the connection's machinery (a socket's
    // close, a reply). A listener that throws must not leave that machinery
    // half-way: its error is rethrown on its own, outside, as an uncaught
    // exception, like a throwing listener of any Node emitter would be.
    const emit = (event: string, ...args: unknown[]) => {
      try {
        this.emit(event, ...args);
      } catch (listenerError) {
        queueMicrotask(() => {
          throw listenerError;
        });
      }
    };
    const report = (err: Error, command: string) => {
      this.#commandErrors++;
      emit('commandError', err, { command });
    };
    // The cache hears every shared connection's tracking (connection/tracking.ts); leases and pub/sub do not track.
    const cache = resolved.cache && new ClientCache(resolved.cache, (err, cmd) => report(err, cmd.info.name));
    if (cache !== undefined) resolved.connection.tracking = cache;
    const topology = new AutoTopology(resolved, {
      ready: (info: ReadyInfo) => emit('ready', info),
      error: (err: Error) => {
        // An 'error' with no listener would crash the process; callers still see
        // the failure through their commands, so it is only emitted when listened to.
        if (this.listenerCount('error') > 0) emit('error', err);
      },
      reconnecting: (info) => emit('reconnecting', info),
      close: () => emit('close'),
      unobservedError: (err, cmd) => report(err, cmd.info.name),
      push: (frame: Reply[]) => emit('push', frame),
      topology: (change) => {
        logTopology(change);
        emit('topology', change);
      },
      failover: (event) => emit('failover', event),
      orphan: (command, value) => {
        this.#orphanedReplies++;
        emit('orphanedReply', { command, value });
      },
    });
    this.#topology = topology;
    this.#core = {
      topology,
      options: resolved,
      closed: false,
      aborts: new WeakMap(),
      reportUnobserved: (cmd, err) => report(err, cmd.info.name),
      cache,
      masters: async () => {
        const nodes = await topology.masters();
        const cluster = topology.cluster;
        if (nodes === undefined || cluster === undefined) return undefined;
        const map = cluster.map;
        const slotOf = new Map<string, number>(); // one slot each master serves now: its successor will serve it
        for (const r of map.ranges()) {
          const m = map.masterFor(r.start);
          if (m !== undefined && !slotOf.has(m.address)) slotOf.set(m.address, r.start);
        }
        return nodes.map((n) => ({ core: this.#nodeCore(cluster, n), successor: () => this.#successor(cluster, n, slotOf.get(n.address)) }));
      },
    };
    this.db = new Database(this.#core, resolved.connection.db);
    this.#subscriberContext = {
      route: (kind, name) => topology.pubsub(kind, name),
      placed: (within, command) => topology.placed(within, command),
      command: (timeout, name, ...args) => (timeout > 0 ? this.db.with({ timeout }) : this.db).reply<Reply>(name, ...args),
      db: resolved.connection.db,
      timeout: resolved.connection.commandTimeout,
      maxArgumentBytes: resolved.maxArgumentBytes, callSiteStacks: resolved.callSiteStacks,
    };
  }

  /** Handle on database `index` (same connection; SELECT is inlined as needed). A cluster has only database 0. */
  database(index: number): Database {
    checkDb(index);
    if (index !== 0 && (this.#topology.cluster !== undefined || this.#core.options.mode === 'cluster')) {
      throw new InvalidArgumentError('a cluster has only database 0', { command: 'SELECT' });
    }
    return new Database(this.#core, index);
  }

  /** 'standalone' or 'cluster' once the first connection (or slot map) told; 'sentinel' with the sentinel option. */
  get mode(): TopologyMode | undefined {
    return this.#topology.mode;
  }

  /**
   * Handles on single nodes, for commands meant for one node (INFO, CONFIG,
   * SCRIPT LOAD, ...): `{ address, role, db }`. A single server is one master.
   */
  nodes(role?: 'master' | 'replica'): { address: string; role: 'master' | 'replica'; db: Database }[] {
    if (role !== undefined && role !== 'master' && role !== 'replica') throw new InvalidArgumentError("redis.nodes(role): role must be 'master' or 'replica' (or none for every node)");
    const { cluster, sentinel } = this.#topology; // getters: read once here
    if (sentinel !== undefined) return role !== undefined && role !== sentinel.role ? [] : [{ address: sentinel.node, role: sentinel.role, db: this.db }];
    const failover = this.#topology.failover;
    if (failover !== undefined) return role === 'replica' || failover.current === undefined ? [] : [{ address: failover.current, role: 'master', db: this.db }];
    if (cluster === undefined) {
      const { host, port, path } = this.#core.options.connection.endpoint;
      return role === 'replica' ? [] : [{ address: path ?? `${host}:${port}`, role: 'master', db: this.db }];
    }
    return cluster.map.nodes(role).map((node: ClusterNode) => ({ address: node.address, role: node.role, db: new Database(this.#nodeCore(cluster, node), 0) }));
  }

  /**
   * The master now serving `slot`, which `node` served, once the slot map says
   * it changed (a failover: losing the node keeps the map refreshing), within
   * the connect timeout; undefined if it does not change.
   */
  async #successor(cluster: Cluster, node: ClusterNode, slot: number | undefined): Promise<ClientCore | undefined> {
    if (slot === undefined) return undefined;
    const until = Date.now() + (this.#core.options.connection.connectTimeout || 10_000);
    while (!this.#core.closed && Date.now() < until) {
      const now = cluster.map.masterFor(slot);
      if (now !== undefined && now.address !== node.address) return this.#nodeCore(cluster, now);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  /** The core of a per-node handle: everything it sends goes to `node`. */
  #nodeCore(cluster: Cluster, node: ClusterNode): ClientCore {
    const main = this.#core;
    return {
      topology: cluster.pinnedTo(node),
      options: main.options,
      get closed() {
        return main.closed;
      },
      aborts: main.aborts,
      reportUnobserved: main.reportUnobserved,
      cache: main.cache,
    };
  }

  /**
   * A new, independent subscriber: its own decode option, listeners,
   * iterators and close(). Every subscriber of this client shares one pub/sub
   * connection per node, opened on the first subscription and closed when the
   * last subscriber is.
   */
  subscriber(options: SubscriberOptions & { decode: 'buffer' }): Subscriber<Buffer>;
  subscriber(options?: SubscriberOptions & { decode?: 'utf8' }): Subscriber<string>;
  subscriber(options?: SubscriberOptions): Subscriber<string | Buffer>;
  subscriber(options: SubscriberOptions = {}): Subscriber<string | Buffer> {
    checkSubscriberOptions(options);
    if (this.#core.closed) throw new ClosedError();
    return new Subscriber(this.#subscriberContext, options);
  }

  stats(): StatsOf<Cache> {
    const s: RedisStats = { ...this.#core.topology.stats(), commandErrors: this.#commandErrors, orphanedReplies: this.#orphanedReplies };
    if (this.#core.cache !== undefined) s.cache = this.#core.cache.stats();
    return s as StatsOf<Cache>; // a client made with a cache has one (the constructor)
  }

  /** Graceful: refuse new commands, let every in-flight one settle, then close all connections. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#core.closed = true;
      this.#closing = this.#core.topology.close(); // subscribers included
    }
    return this.#closing;
  }

  /** Abrupt: every pending command rejects with `ClosedError` now. */
  disconnect(): void {
    this.#core.closed = true;
    this.#core.topology.disconnect(); // subscribers included
    if (!this.#closing) this.#closing = Promise.resolve();
  }
}
