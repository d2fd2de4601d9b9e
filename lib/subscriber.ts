/**
 * Pub/sub: `redis.subscriber(options?)` makes a new, independent `Subscriber`
 * each call, with its own decode option, listeners, iterators and `close()`.
 * Subscribers share the client's pub/sub connection(s): the topology hands
 * out one hub per node (`route`), and each hub counts who wants what, so a
 * channel is subscribed on the server while at least one subscriber wants it.
 * A subscriber does not know whether it talks to one server or many.
 *
 * Delivery: 'message' events `{ channel, pattern?, message, sharded? }` and
 * async iterators, each with its own bounded buffer (see pubsub/iterator.ts)
 * that sees every message delivered after it was made; with no iterator open
 * nothing is buffered. Strings for `decode: 'utf8'`, Buffers for 'buffer'
 * (channel names and payloads alike). A listener that throws is reported as
 * 'error' (or rethrown on its own when nobody listens), never costing the
 * connection or a message.
 *
 * `callSiteStacks`: each call (subscribe, ..., keyspace) captures its
 * caller's stack, and whatever it fails with carries it (the server's
 * refusal, a deadline, a closed subscriber), as `db.reply`'s errors do.
 */
import { EventEmitter } from 'node:events';
import { ClosedError, InvalidArgumentError, MovedError, ReplyTimeoutError } from './errors.js';
import type { Listener } from './events.js';
import { captureCallSite, rejectsWithCallSite, withCallSite, type CallSite } from './connection/observed.js';
import { CHANNEL, CallGroup, PATTERN, SHARD, type Hub, type Kind, type Member } from './pubsub/hub.js';
import { AbandonedWaits, BoundedIterator, SubscriberOverflowError, iterationOnly } from './pubsub/iterator.js';
import { Keyspace, checkKeyspaceOptions, enableKeyspaceEvents, iterableRequest, keyspacePattern, parseKeyspaceChannel, type KeyspaceEvent, type KeyspaceOptions, type KeyspaceRequest, type KeyspaceSink } from './pubsub/keyspace.js';
import { LISTENER_REJECTIONS, callEach, reportRejections, safeEmit } from './pubsub/listeners.js';
import { NodeLeftError } from './pubsub/subscriptions.js';
import { Placement } from './pubsub/placement.js';
import { validateArgs, type Arg } from './resp/encoder.js';
import type { Reply } from './resp/types.js';

export { Keyspace, SubscriberOverflowError };
export type { KeyspaceEvent, KeyspaceOptions, KeyspaceRequest };

export interface SubscriberOptions {
  /** 'utf8' (default): channel names and messages as strings; 'buffer': as Buffers. */
  decode?: 'utf8' | 'buffer' | undefined;
  /** Most messages each async iterator holds for a slow consumer (default 10000). */
  maxBuffered?: number | undefined;
  /** What an iterator does past `maxBuffered`: 'error' (default) or 'drop-oldest'. */
  overflow?: 'error' | 'drop-oldest' | undefined;
  /** Deadline of each subscribe / unsubscribe call in ms (default: the client's `commandTimeout`; 0 = none). */
  timeout?: number | undefined;
}

export interface Message<T extends string | Buffer = string | Buffer> {
  channel: T;
  /** The pattern that matched, for psubscribe deliveries. */
  pattern?: T;
  message: T;
  /** True for sharded (ssubscribe) deliveries. */
  sharded?: true;
}

/** @internal What a subscriber needs of its client. */
export interface SubscriberContext {
  /** The hub that serves `kind` subscriptions to `name` (the topology decides: one per node). */
  route(kind: Kind, name: Buffer): Hub;
  /**
   * Undefined when `route` can place a call now; else (a cluster before its first slot map) resolves once it can,
   * rejecting after `within` ms (0: the connect timeout) with an error naming `command`, or when the client closes.
   */
  placed?(within: number, command: string): Promise<void> | undefined;
  /** Run a command on the client's shared connection (keyspace's CONFIG) with deadline `timeout` (0: the client's commandTimeout). */
  command(timeout: number, name: string, ...args: Arg[]): Promise<Reply>;
  /** The client's database (keyspace's default). */
  db: number;
  /** Default call deadline (the client's commandTimeout). */
  timeout: number;
  maxArgumentBytes: number;
  /** The client's `callSiteStacks`: each call captures where it was made. */
  callSiteStacks: boolean;
}

/**
 * A shard channel answered MOVED (its slot moved; routing learned the new
 * owner) is subscribed again where routing now places it, this many times at
 * most, waiting MOVE_DELAY << attempt ms between tries (two nodes that briefly
 * disagree about the slot bounce it back and forth).
 */
const MAX_MOVES = 5;
const MOVE_DELAY = 10;

const COMMANDS = [
  ['SUBSCRIBE', 'UNSUBSCRIBE'],
  ['PSUBSCRIBE', 'PUNSUBSCRIBE'],
  ['SSUBSCRIBE', 'SUNSUBSCRIBE'],
] as const;

/** A channel argument as the bytes the server will see (a copy: the caller may reuse its buffer). */
function bytes(a: Arg): Buffer {
  return typeof a === 'string' ? Buffer.from(a, 'utf8') : a instanceof Uint8Array ? Buffer.from(a) : Buffer.from(String(a), 'utf8');
}

// Frames hold strings, or Buffers once some subscriber of the connection wants bytes (see pubsub/hub.ts).
function utf8(v: Reply | undefined): string {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

function raw(v: Reply | undefined): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
}

/** What a `Subscriber` emits: event name -> the listener's arguments. */
export interface SubscriberEvents<T extends string | Buffer = string> {
  message: [message: Message<T>];
  /** A listener threw, a subscription was dropped, or the connection failed (emitted while someone listens). */
  error: [err: Error];
  ready: [none?: undefined];
  close: [none?: undefined];
  reconnecting: [info: { attempt: number; delay: number; cause: Error }];
}

export interface Subscriber<T extends string | Buffer = string> {
  on<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
  once<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
  off<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
  addListener<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
  removeListener<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
  prependListener<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
  prependOnceListener<K extends keyof SubscriberEvents<T>>(event: K, listener: Listener<SubscriberEvents<T>[K]>): this;
}

export class Subscriber<T extends string | Buffer = string> extends EventEmitter implements AsyncIterable<Message<T>> {
  /** Messages dropped by this subscriber's iterators under `overflow: 'drop-oldest'`. */
  dropped = 0;
  readonly #ctx: SubscriberContext;
  readonly #buffers: boolean;
  readonly #timeout: number;
  readonly #maxBuffered: number;
  readonly #dropOldest: boolean;
  /** Hubs this subscriber joined: where its subscriptions are, what close() leaves. */
  readonly #hubs = new Set<Hub>();
  // Not typed by T: a Subscriber<string> stays assignable to Subscriber<string | Buffer>.
  readonly #iterators = new Set<BoundedIterator<Message>>();
  /** Its iterators dropped while a next() waits: at most `maxBuffered` (see AbandonedWaits). */
  readonly #abandonedWaits: AbandonedWaits;
  readonly #keyspaces = new Set<Keyspace<string | Buffer>>();
  readonly #member: Member;
  /** Shard channels waiting to be subscribed again after a MOVED, by kind and bytes (cancelled by unsubscribe/close). */
  readonly #moving = new Map<string, NodeJS.Timeout>();
  /** Calls answered MOVED, pausing before they are made again: the names still wanted, by id (see #stopFollowing). */
  readonly #retrying = new Set<Map<string, Buffer>>();
  /** Calls waiting for routing to place them (a cluster's first slot map), in the order they were made. */
  readonly #placement = new Placement();
  #closed = false;
  /** Why the connection gave up for good, if it did: iterators made later fail with it. */
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;
  #closeEmitted = false;

  /** @internal made by `redis.subscriber()`. */
  constructor(ctx: SubscriberContext, opts: SubscriberOptions = {}) {
    super(LISTENER_REJECTIONS);
    reportRejections(this);
    this.#ctx = ctx;
    this.#buffers = opts.decode === 'buffer';
    this.#timeout = opts.timeout ?? ctx.timeout;
    this.#maxBuffered = opts.maxBuffered ?? 10_000;
    this.#abandonedWaits = new AbandonedWaits(this.#maxBuffered);
    this.#dropOldest = opts.overflow === 'drop-oldest';
    this.#member = {
      buffers: this.#buffers,
      deliver: (kind, frame) => this.#deliver(kind, frame),
      connection: (event, detail) => this.#connection(event, detail),
      dropped: (_kind, _name, err) => {
        if (this.listenerCount('error') > 0) safeEmit(this, 'error', err);
      },
      moved: (kind, name, group) => this.#follow(kind, name, 0, group as CallGroup<Hub> | undefined),
    };
  }

  /** Whether close() was called, or the client closed. (A connection that gave up rejects calls instead.) */
  get closed(): boolean {
    return this.#closed;
  }

  subscribe(...channels: Arg[]): Promise<void> {
    return this.#change(CHANNEL, true, channels, this.#site(Subscriber.prototype.subscribe));
  }
  /** Without arguments: every channel of this subscriber (never another's). */
  unsubscribe(...channels: Arg[]): Promise<void> {
    return this.#change(CHANNEL, false, channels, this.#site(Subscriber.prototype.unsubscribe));
  }
  psubscribe(...patterns: Arg[]): Promise<void> {
    return this.#change(PATTERN, true, patterns, this.#site(Subscriber.prototype.psubscribe));
  }
  punsubscribe(...patterns: Arg[]): Promise<void> {
    return this.#change(PATTERN, false, patterns, this.#site(Subscriber.prototype.punsubscribe));
  }
  ssubscribe(...channels: Arg[]): Promise<void> {
    return this.#change(SHARD, true, channels, this.#site(Subscriber.prototype.ssubscribe));
  }
  sunsubscribe(...channels: Arg[]): Promise<void> {
    return this.#change(SHARD, false, channels, this.#site(Subscriber.prototype.sunsubscribe));
  }

  /** Where the caller of `call` (one of the methods above) is, with `callSiteStacks`; else nothing is captured. */
  #site(call: Function): CallSite | undefined {
    return this.#ctx.callSiteStacks ? captureCallSite(call) : undefined;
  }

  /** What this subscriber holds (including calls in progress), in its decode. */
  get subscriptions(): { channels: T[]; patterns: T[]; shardChannels: T[] } {
    const list = (kind: Kind) => [...this.#hubs].flatMap((hub) => hub.held(this.#member, kind)).map((b) => this.#convert(b));
    return { channels: list(CHANNEL), patterns: list(PATTERN), shardChannels: list(SHARD) };
  }

  /**
   * Keyspace notifications for keys matching `pattern` in database `db`:
   * resolves once subscribed, with a `Keyspace` that emits 'event' and is
   * async-iterable, each item `{ key, event, db }`. The server must have
   * `notify-keyspace-events` set (`K` plus the event classes, e.g. 'KA'), or
   * pass `configure: true` to have it set with CONFIG SET. The call is also
   * what `for await` takes: `for await (const e of sub.keyspace('user:*'))`
   * iterates a stream that the loop's end closes.
   */
  keyspace(pattern: Arg, opts: KeyspaceOptions = {}): KeyspaceRequest<T> {
    const site = this.#site(Subscriber.prototype.keyspace);
    if (site === undefined) return iterableRequest((made) => this.#keyspace(pattern, opts, this.#ctx.command, made));
    // Its CONFIG commands are the caller's too: they carry the caller's site, not keyspace.ts's frames.
    const command: SubscriberContext['command'] = (timeout, name, ...args) => withCallSite(site, () => this.#ctx.command(timeout, name, ...args));
    return iterableRequest((made) => rejectsWithCallSite(this.#keyspace(pattern, opts, command, made), site));
  }

  async #keyspace(pattern: Arg, opts: KeyspaceOptions, command: SubscriberContext['command'], made: (ks: Keyspace<T>) => void): Promise<Keyspace<T>> {
    checkKeyspaceOptions(opts);
    validateArgs('PSUBSCRIBE', [pattern], 0, this.#ctx.maxArgumentBytes);
    this.#refuseIfClosed('PSUBSCRIBE');
    const start = Date.now(); // the call's one deadline: CONFIG, the wait for routing and the subscription come out of it
    if (opts.configure) await enableKeyspaceEvents((name, ...args) => command(this.#left(start), name, ...args));
    const channel = keyspacePattern(opts.db ?? this.#ctx.db, bytes(pattern));
    const events = opts.events ? new Set(opts.events) : undefined;
    let hub: Hub | undefined;
    let sink: KeyspaceSink<T> | undefined;
    let closed = false;
    /**
     * Subscribe where routing places the pattern now. Its node leaving the
     * slot map before confirming (NodeLeftError) asks routing again, a
     * bounded number of times; a closed stream subscribes nothing.
     */
    const follow = async (moves: number, timeout = this.#timeout): Promise<void> => {
      if (closed) return;
      hub = this.#ctx.route(PATTERN, channel);
      try {
        await hub.subscribe(member, PATTERN, [channel], timeout);
      } catch (err) {
        if (err instanceof NodeLeftError && moves < MAX_MOVES) return follow(moves + 1);
        throw err;
      }
    };
    const member: Member = {
      buffers: this.#buffers,
      deliver: (_kind, frame) => {
        if (this.#buffers && typeof frame[2] === 'string') return; // began before this member joined (see Member)
        const parsed = parseKeyspaceChannel(raw(frame[2]));
        const event = utf8(frame[3]);
        if (parsed === undefined || (events !== undefined && !events.has(event))) return;
        sink!.deliver({ key: this.#convert(parsed.key), event, db: parsed.db });
      },
      connection: (event, detail) => {
        if (event === 'close') sink!.end(detail as Error | undefined);
      },
      dropped: (_kind, _name, err) => sink!.end(err),
      // Its node left the cluster's slot map: the stream goes on where channels and patterns go now, as a subscriber's do
      // (a lost connection is not that: it stays and reconnects, its events being its node's keys).
      nodeLocal: true,
      moved: () => void follow(0).catch((err: Error) => sink!.end(err)),
    };
    const ks = new Keyspace<T>(
      this.#convert(channel),
      { maxBuffered: this.#maxBuffered, dropOldest: this.#dropOldest },
      () => {
        closed = true;
        this.#keyspaces.delete(ks as Keyspace<string | Buffer>);
        return hub?.leave(member) ?? Promise.resolve();
      },
      (s) => (sink = s),
    );
    made(ks);
    try {
      const placed = this.#placement.wait(this.#ctx.placed?.(this.#left(start), 'PSUBSCRIBE'), 'PSUBSCRIBE');
      if (placed !== undefined) await placed;
      await follow(0, this.#left(start));
      this.#refuseIfClosed('PSUBSCRIBE'); // closed while it was being confirmed
    } catch (err) {
      void ks.close();
      throw err;
    }
    this.#keyspaces.add(ks as Keyspace<string | Buffer>);
    return ks;
  }

  /** A new iterator: every message from now on, in its own buffer of `maxBuffered`. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message<T>> {
    const it = new BoundedIterator<Message>(
      this.#maxBuffered,
      this.#dropOldest,
      (done) => this.#iterators.delete(done),
      () => this.dropped++,
      this.#abandonedWaits,
    );
    if (this.#closed || this.#failure) it.stop(this.#failure);
    else this.#iterators.add(it);
    return iterationOnly(it) as AsyncIterableIterator<Message<T>>;
  }

  /**
   * Release every subscription of this subscriber (the server-side ones stay
   * while another subscriber wants them; the connection closes with the last
   * subscriber). Iterators finish; calls in progress reject with ClosedError.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#end(undefined);
      this.#stopFollowing(undefined, []);
      this.#placement.end();
      const leaving = [...this.#hubs].map((hub) => hub.leave(this.#member));
      for (const ks of [...this.#keyspaces]) leaving.push(ks.close());
      this.#hubs.clear();
      this.#closing = Promise.all(leaving).then(() => this.#emitClose());
    }
    return this.#closing;
  }

  /** close() without waiting for the server. */
  disconnect(): void {
    void this.close();
  }

  #refuseIfClosed(command: string): void {
    if (this.#closed) throw new ClosedError('the subscriber is closed', { command });
  }

  /**
   * A call of the user's (`site`: where, with `callSiteStacks`; its failure carries it). Refused at once when its
   * arguments are; routed at once unless routing cannot place it yet (see Placement): then made once it can.
   */
  #change(kind: Kind, on: boolean, names: Arg[], site: CallSite | undefined): Promise<void> {
    const command = COMMANDS[kind][on ? 0 : 1];
    let call: Promise<void>;
    try {
      this.#refuseIfClosed(command);
      if (on && names.length === 0) throw new InvalidArgumentError(`${command.toLowerCase()}() needs at least one name`, { command });
      validateArgs(command, names, 0, this.#ctx.maxArgumentBytes);
      const placed = this.#placement.wait(this.#ctx.placed?.(this.#timeout, command), command);
      // Waiting: the names as they are now (the caller may reuse its buffers meanwhile).
      const start = Date.now(); // the call's one deadline counts from here: waits, pauses and new tries come out of it
      call = placed === undefined ? this.#changeNow(kind, on, names, 0, start) : this.#afterPlaced(placed, kind, on, names.map(bytes), start);
    } catch (err) {
      call = Promise.reject(err);
    }
    return site === undefined ? call : rejectsWithCallSite(call, site);
  }

  /** A call that waited for routing to place it: made then, within what is left of its deadline (the wait counts in it). */
  async #afterPlaced(placed: Promise<void>, kind: Kind, on: boolean, names: Buffer[], start: number): Promise<void> {
    await placed;
    return this.#changeNow(kind, on, names, 0, start);
  }

  /** What is left of a call's deadline after a wait begun at `start` (0: it has none). */
  #left(start: number): number {
    return this.#timeout > 0 ? Math.max(1, this.#timeout - (Date.now() - start)) : 0;
  }

  /**
   * Routes a call whose names were checked (#change).
   * @param start when the call was made: its deadline is what is left of the subscriber's timeout since then
   * @param group set when the call spans several hubs (made again after a MOVED: the first call's, see CallGroup)
   */
  #changeNow(kind: Kind, on: boolean, names: Arg[], moves: number, start: number, group?: CallGroup<Hub>): Promise<void> {
    const timeout = this.#left(start);
    try {
      this.#refuseIfClosed(COMMANDS[kind][on ? 0 : 1]);
      if (!on) this.#stopFollowing(kind, names);
      if (!on && names.length === 0) {
        // Everything this subscriber holds of this kind, on every hub: named explicitly, never a bare UNSUBSCRIBE.
        return settleAll([...this.#hubs].map((hub) => hub.unsubscribe(this.#member, kind, undefined, timeout)));
      }
      // One call per hub: all or nothing there (the hub sends shard channels one SSUBSCRIBE per slot, else CROSSSLOT).
      const byHub = new Map<Hub, Buffer[]>();
      for (const name of names) {
        const b = bytes(name);
        const hub = this.#ctx.route(kind, b);
        const same = byHub.get(hub);
        if (same) same.push(b);
        else byHub.set(hub, [b]);
      }
      // Several hubs: one call all the same, each hub's part undoable until every part settled (see #allOrNothing).
      const whole = on && group === undefined && byHub.size > 1 ? new CallGroup<Hub>() : undefined;
      const part = group ?? whole;
      const calls: Promise<void>[] = [];
      for (const [hub, there] of byHub) {
        if (on) {
          this.#join(hub);
          part?.hubs.add(hub);
          const call = hub.subscribe(this.#member, kind, there, timeout, part);
          calls.push(call.catch((err: unknown) => this.#callAgain(err, kind, true, there, moves, start, part)));
        } else if (this.#hubs.has(hub)) calls.push(hub.unsubscribe(this.#member, kind, there, timeout));
      }
      if (whole !== undefined) return this.#allOrNothing(whole, calls);
      return part !== undefined ? settled(calls) : settleAll(calls);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A subscribe call over several hubs (cluster: names on several nodes), as
   * one call: each hub undoes its own part when it fails; the parts other
   * hubs confirmed stay undoable (they are the call's, whatever other calls
   * of this subscriber asked meanwhile) until every part settled: then they
   * are kept, or undone and the call rejects with the failure.
   */
  async #allOrNothing(group: CallGroup<Hub>, calls: Promise<void>[]): Promise<void> {
    try {
      await settled(calls);
    } catch (err) {
      group.decided = 'undone';
      // Within the subscriber's deadline, not the client's: the call must settle in bounded time.
      await Promise.all([...group.hubs].map((hub) => hub.undo(this.#member, group, this.#timeout).catch(() => {})));
      throw err;
    }
    group.decided = 'kept';
    for (const hub of group.hubs) hub.keep(this.#member, group);
  }

  /**
   * A subscribe call answered MOVED (a shard channel sent with a slot map that
   * was not known yet, or stale: routing has learned the owner), or whose node
   * left the slot map before confirming it (NodeLeftError): the call is made
   * again where routing now places it; the caller sees one call.
   */
  async #callAgain(err: unknown, kind: Kind, on: boolean, names: Buffer[], moves: number, start: number, group: CallGroup<Hub> | undefined): Promise<void> {
    const moved = err instanceof MovedError && kind === SHARD;
    if (!(moved || err instanceof NodeLeftError) || moves >= MAX_MOVES || this.#closed) throw err;
    // Only what is still wanted: a name unsubscribed while the call waited is not subscribed again.
    let again = err instanceof NodeLeftError && err.names !== undefined ? err.names : names;
    if (moved) {
      const wanted = new Map(again.map((b) => [`${kind}:${b.toString('latin1')}`, b]));
      this.#retrying.add(wanted); // an unsubscribe during the pause takes its names out
      await new Promise((r) => setTimeout(r, MOVE_DELAY << moves).unref());
      this.#retrying.delete(wanted);
      again = [...wanted.values()];
    }
    if (again.length === 0 && !this.#closed) return; // closed during the pause: rejected below, as calls in progress are
    if (this.#timeout > 0 && Date.now() - start >= this.#timeout) {
      const command = COMMANDS[kind][on ? 0 : 1];
      throw new ReplyTimeoutError(`the deadline (${this.#timeout} ms) passed while the call followed its names to where they moved; nothing is subscribed for it`, true, { command, cause: err as Error });
    }
    return this.#changeNow(kind, on, again, moves + 1, start, group); // inside the caller's #change: its failure gets the call site there
  }

  /**
   * About to subscribe on `hub`. The hubs that forgot this member (it holds
   * nothing there, not even a call in progress: their node left routing, or
   * it let go of everything there) are let go of here: otherwise every
   * failover or map flap in the subscriber's life would add one. Asking what
   * it holds is not enough: a call may still wait there for a name it let go
   * of meanwhile, and close() must reach it.
   */
  #join(hub: Hub): void {
    for (const h of this.#hubs) if (h !== hub && !h.knows(this.#member)) this.#hubs.delete(h);
    this.#hubs.add(hub);
  }

  /**
   * A held shard channel now belongs to another node (see Member.moved):
   * subscribe it there. Held by a resolved part of `group` (a call over
   * several hubs not decided yet): the subscribe is a part of that call too,
   * so that its undo lets go of it there; undone already, it is not followed.
   */
  #follow(kind: Kind, name: Buffer, moves: number, group?: CallGroup<Hub>): void {
    if (this.#closed || group?.decided === 'undone') return;
    const part = group?.decided === undefined ? group : undefined;
    let hub: Hub;
    try {
      hub = this.#ctx.route(kind, name);
    } catch (err) {
      this.#member.dropped(kind, name, err as Error);
      return;
    }
    this.#join(hub);
    part?.hubs.add(hub);
    hub.subscribe(this.#member, kind, [name], this.#timeout, part).catch((err: Error) => {
      if (this.#closed) return;
      if (!(err instanceof MovedError || err instanceof NodeLeftError) || moves >= MAX_MOVES) {
        this.#member.dropped(kind, name, err);
        return;
      }
      const id = `${kind}:${name.toString('latin1')}`;
      const timer = setTimeout(() => {
        this.#moving.delete(id);
        this.#follow(kind, name, moves + 1, group);
      }, MOVE_DELAY << moves);
      timer.unref();
      this.#moving.set(id, timer);
    });
  }

  /** Unsubscribed (or closed) while waiting to follow a move, or to make a call again: it is not wanted any more. */
  #stopFollowing(kind: Kind | undefined, names: Arg[]): void {
    if (this.#moving.size === 0 && this.#retrying.size === 0) return;
    const all = kind === undefined || names.length === 0;
    const of = (ids: Iterable<string>) => (all ? [...ids].filter((id) => kind === undefined || id.startsWith(`${kind}:`)) : names.map((n) => `${kind}:${bytes(n).toString('latin1')}`));
    for (const id of of(this.#moving.keys())) {
      clearTimeout(this.#moving.get(id));
      this.#moving.delete(id);
    }
    for (const wanted of this.#retrying) for (const id of of(wanted.keys())) wanted.delete(id);
  }

  #convert(b: Buffer): T {
    return (this.#buffers ? b : b.toString('utf8')) as T;
  }

  #deliver(kind: Kind, frame: Reply[]): void {
    const iterators = this.#iterators;
    const listeners = this.listenerCount('message');
    if (iterators.size === 0 && listeners === 0) return; // nobody to give it to
    let msg: Message;
    if (this.#buffers) {
      if (typeof frame[1] === 'string') return; // began before this subscriber joined (see Member)
      if (kind === PATTERN) msg = { pattern: raw(frame[1]), channel: raw(frame[2]), message: raw(frame[3]) };
      else if (kind === SHARD) msg = { channel: raw(frame[1]), message: raw(frame[2]), sharded: true };
      else msg = { channel: raw(frame[1]), message: raw(frame[2]) };
    } else if (kind === PATTERN) msg = { pattern: utf8(frame[1]), channel: utf8(frame[2]), message: utf8(frame[3]) };
    else if (kind === SHARD) msg = { channel: utf8(frame[1]), message: utf8(frame[2]), sharded: true };
    else msg = { channel: utf8(frame[1]), message: utf8(frame[2]) };
    if (listeners > 0) callEach(this, 'message', msg, listeners);
    if (iterators.size > 0) for (const it of iterators) it.push(msg);
  }

  #connection(event: 'ready' | 'reconnecting' | 'error' | 'close', detail: unknown): void {
    if (event === 'close') {
      // The client closed: this subscriber is closed. Or the connection gave up
      // (`detail` says why; the cause was emitted as 'error'): iterators fail
      // with it, and so do calls, at once, from the hub.
      if (detail === undefined) this.#end(undefined);
      else {
        this.#failure = detail as Error;
        for (const it of [...this.#iterators]) it.stop(this.#failure);
      }
      this.#emitClose();
    } else if (event === 'error') {
      // Callers see failures through their calls: connection errors are only emitted when listened to.
      if (this.listenerCount('error') > 0) safeEmit(this, 'error', detail);
    } else if (event === 'reconnecting') safeEmit(this, 'reconnecting', detail);
    else safeEmit(this, 'ready');
  }

  /** Stop receiving: iterators hand out what they hold, then `err` (if any), then finish. */
  #end(err: Error | undefined): void {
    this.#closed = true;
    for (const it of [...this.#iterators]) it.stop(err);
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    safeEmit(this, 'close');
  }
}

/** Calls that are parts of one call: resolves when all did; else, once every one settled, rejects with the first failure. */
async function settled(calls: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(calls)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** Calls on several hubs (an unsubscribe; a subscribe on one hub): resolves when all did, rejects with the first failure. */
function settleAll(calls: Promise<void>[]): Promise<void> {
  if (calls.length === 1) return calls[0]!;
  return Promise.all(calls).then(() => undefined);
}
