/**
 * Client-side caching over RESP3 key tracking (DESIGN.md "Scripts, SCAN and
 * client-side caching"; the Redis docs, "Client-side caching in Redis").
 *
 * Every shared connection of a client with a cache turns tracking on in its
 * handshake (default mode: the server remembers every key the connection
 * reads) and hands its `invalidate` pushes here (connection/tracking.ts).
 * Those pushes travel on the same connection as the replies, in order: once
 * another client's write is acknowledged, the server has already queued our
 * invalidation, so it reaches us before the reply to anything we send later.
 * A read issued after that reply finds no entry. That is the guarantee.
 *
 * What keeps it true:
 *  - an entry is stored only from a reply that came through a tracking
 *    connection, with no flush since the read was issued (`generation`) and
 *    no invalidation of its keys while it was in flight (`poisoned`): the
 *    reply may then predate a write we were told about;
 *  - what a connection served is dropped when it is lost or (re)made, and on
 *    a null invalidation (FLUSHALL / FLUSHDB) from its server: everything, or
 *    in a cluster the slots of that node's shard (topology/cluster/shard-tracking.ts);
 *  - in a cluster, the entries of a slot whose owner changed (a MOVED, an
 *    ASK, a new slot map) are dropped: the new owner never tracked them for
 *    us, and the old one may never invalidate them (a cached miss: there was
 *    no key there to delete when the slot moved);
 *  - a write sent by this client drops the entries of its keys at once: the
 *    server sends our own invalidation only after the write's reply, and a
 *    read issued right after `await`ing the write must not see the old value;
 *  - what a cluster replica answered is filed apart from what masters did
 *    (FillTarget.replicaReads): the replica invalidates only once it applied
 *    the write, after the master acknowledged it;
 *  - `ttl` bounds how long any entry is served, should invalidations stop.
 *
 * Concurrent misses of one entry share one request (a `Fill`): later callers
 * wait for it when their deadline allows and it follows their retry rules
 * (sameResendRules), else they read on their own. A
 * caller is bound by its own deadline and signal, never by another's: when a
 * fill times out, callers with more time left read again; when one gives up
 * (its signal), the others keep waiting, and a fill every caller gave up
 * before it was written is never sent.
 */
import { commandKeys, READONLY, RESENDABLE, type CommandInfo } from '../commands/index.js';
import { SLOT_COUNT, keySlot } from '../commands/slot.js';
import { abortCommand, abortError, sentTo } from '../connection/abort.js';
import { Command, SETTLED, failCommand, wasSent } from '../connection/command.js';
import { ObservedCommand } from '../connection/observed.js';
import { ReplyTimeoutError } from '../errors.js';
import type { TrackingSink } from '../connection/tracking.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import { CACHEABLE, EntryNames, argText, keyName } from './cacheable.js';
import { copyReply, replySize } from './copy.js';
import { addTo, removeFrom, valuesOf, type MultiMap } from './multimap.js';
import { Store, type CacheLimits } from './store.js';

export type { CacheLimits };

/** `redis.stats().cache`. */
export interface CacheStats {
  /** Reads answered from the cache. */
  hits: number;
  /** Cacheable reads that went to the server (or waited for another caller's identical read). */
  misses: number;
  /** Entries held now. */
  entries: number;
  /** Estimated bytes held now (bounded by `maxBytes`). */
  bytes: number;
  /** Entries dropped because their keys were written (or everything was flushed), and reads in flight not kept for that reason. */
  invalidations: number;
}

/** Where a fill goes: the client's routing. */
export interface FillTarget {
  send(cmd: Command, timeout: number, custom: boolean): void;
  /**
   * Its reads may be answered by a cluster replica (`readFrom`, a replica's
   * per-node handle). Their entries are filed apart: a replica applies a
   * write, and invalidates, only after its master acknowledged it, so what it
   * answered must never reach a read routed to the master.
   */
  readonly replicaReads?: boolean;
}

/**
 * Up to this many slots moved at once are dropped one by one (one shard's, as
 * a node's reset drops: a failover, a replica leaving, keep the other shards
 * warm); more (the first slot map, most of the cluster) flush the whole cache.
 */
const MOVED_SLOTS_ONE_BY_ONE = SLOT_COUNT / 2;

/** Keys of this client's writes remembered (written()) before the answered ones are forgotten at once; at least. */
const WRITES_KEPT = 1024;
/** And after this many ms, whatever their number. */
const WRITES_FORGOTTEN_AFTER = 100;

/** Commands that change every key of a database at once. FLUSHALL / FLUSHDB also send a null invalidation; SWAPDB does not. */
const FLUSHES: ReadonlySet<string> = new Set(['FLUSHALL', 'FLUSHDB', 'SWAPDB']);

/**
 * Whether a fill started by one caller is resent after a lost connection by
 * the rules `cmd` asked for: the same retry policy (by identity: views that do
 * not set one share the client's), and, for a read the command table does not
 * deem safe to send twice, the same `idempotent` (loss.ts resendDelay). A
 * caller that joined a fill with other rules would be failed where its own
 * policy retries, or answered by a resend its policy refused.
 */
function sameResendRules(fill: Command, cmd: Command): boolean {
  return fill.retry === cmd.retry && ((cmd.info.flags & RESENDABLE) !== 0 || fill.idempotent === cmd.idempotent);
}

/** The one server request behind concurrent misses of an entry. */
class Fill extends Command {
  /** The callers waiting for this read, the first of them its issuer. */
  readonly waiters: Command[] = [];
  /** A key it read was invalidated while it was in flight (or everything was flushed): not stored. */
  poisoned = false;

  constructor(
    info: CommandInfo,
    from: Command,
    /** Its entry's names (store.ts), and both as one for the map of reads in flight. */
    readonly first: string,
    readonly rest: string,
    readonly fillName: string,
    readonly keys: readonly string[],
    /** Their hash slots. */
    readonly slots: readonly number[],
    /** The cache's generation when it was issued. */
    readonly generation: number,
    /** Absolute deadline (Date.now() clock) it was sent with; 0 for none. */
    readonly until: number,
    /** Where it was sent (waiters it fails by a deadline they did not have are sent there again). */
    readonly target: FillTarget,
    private readonly cache: ClientCache,
  ) {
    super(from.name, from.args, info, from.decodeFlags, from.db);
    this.retry = from.retry;
    this.idempotent = from.idempotent;
    // Its issuer's trace context, if someone traces it: routing names the node on it (split parts nest in it),
    // and the other waiters are given that node when it settles (traceNode): the read on the wire is the fill.
    this.trace = from.trace;
  }

  /** Its failure reaches the waiters, which report it if nobody awaits them: never report it twice. */
  override get observed(): boolean {
    return true;
  }

  override resolve(value: Reply): boolean {
    if (!super.resolve(value)) return false;
    this.cache.filled(this, value);
    return true;
  }

  override reject(err: Error): boolean {
    if (!super.reject(err)) return false;
    this.cache.failed(this, err);
    return true;
  }
}

/** A key's unanswered writes (one, the common case, or several). */
type Writes = Command | Command[];

/** `w` without its answered writes: undefined when none is left (`w` itself when nothing changed). */
function unanswered(w: Writes): Writes | undefined {
  if (!Array.isArray(w)) return w.state === SETTLED ? undefined : w;
  const left = w.filter((c) => c.state !== SETTLED);
  return left.length === w.length ? w : left.length === 0 ? undefined : left.length === 1 ? left[0] : left;
}

/** `before` (a key's writes so far, answered ones dropped) and `cmd`. */
function withWrite(before: Writes | undefined, cmd: Command): Writes {
  const left = before === undefined ? undefined : unanswered(before);
  return left === undefined ? cmd : Array.isArray(left) ? [...left, cmd] : [left, cmd];
}

/** The node that answered a traced fill, onto the trace of each caller that waited for it (set before they settle). */
function traceNode(fill: Fill): void {
  const node = fill.trace!.node;
  for (const w of fill.waiters) if (w.trace !== undefined && w.trace !== fill.trace) w.trace.node = node;
}

export class ClientCache implements TrackingSink {
  readonly #store: Store;
  /** Reads in flight by entry name. */
  readonly #filling = new Map<string, Fill>();
  /** Reads in flight by key name, to poison them when a key is invalidated. */
  readonly #fillsByKey: MultiMap<Fill> = new Map();
  /** Bumped by every flush: a read issued before it is not stored. */
  #generation = 0;
  /** Nodes whose connection runs without tracking (RESP2, or CLIENT TRACKING refused): reads pass through meanwhile. */
  readonly #untracked = new Set<string>();
  readonly #positions: number[] = [];
  readonly #names = new EntryNames();
  readonly #stats = { hits: 0, misses: 0, invalidations: 0 };
  /**
   * This client's writes by key, kept until a read of that key finds them
   * answered: see #writeUnanswered. Every unanswered one, not the latest only:
   * an older write sent again after a refusal is answered after a newer one.
   */
  readonly #writes = new Map<string, Writes>();
  /** Past this many remembered, the answered ones are forgotten at once (#forgetAnsweredWrites). */
  #writesLimit = WRITES_KEPT;
  #forgetTimer: NodeJS.Timeout | undefined = undefined;
  /** This client's FLUSHALL / FLUSHDB / SWAPDB, until a read finds them answered. */
  #flushing: Writes | undefined = undefined;

  constructor(
    limits: CacheLimits,
    /** Reports a failure nobody awaits ('commandError'). */
    private readonly report: (err: Error, cmd: Command) => void,
  ) {
    this.#store = new Store(limits);
  }

  /**
   * A read on a caching view. Returns true when the cache took it: answered
   * now (a hit), waiting for an identical read in flight, or sent as a new
   * fill through `target`. False: send it the ordinary way (not cacheable,
   * tracking off, or its deadline is shorter than the read in flight).
   */
  read(cmd: Command, target: FillTarget, timeout: number, custom: boolean): boolean {
    if (!CACHEABLE.has(cmd.info.name)) return false;
    if (this.#untracked.size > 0) {
      this.#stats.misses++;
      return false;
    }
    if (cmd.args.length === 0) return false; // the server will refuse it: nothing to cache
    const now = Date.now();
    return this.#take(cmd, target, timeout > 0 ? now + timeout : 0, timeout, custom, now, true);
  }

  /** Answer `cmd` from an entry, or make it wait for a fill (joined or new): read(), and a read given back by a fill. */
  #take(cmd: Command, target: FillTarget, until: number, timeout: number, custom: boolean, now: number, counted: boolean): boolean {
    const info = cmd.info;
    const args = cmd.args;
    const first = argText(args[0]!);
    const rest = this.#names.rest(cmd.db, cmd.decodeFlags, info.name, args, target.replicaReads === true);
    const hit = this.#store.get(first, rest, now);
    if (hit !== undefined) {
      if (counted) this.#stats.hits++;
      cmd.resolve(copyReply(hit.value));
      return true;
    }
    if (counted) this.#stats.misses++;
    const name = `${rest}\u0002${first}`; // `rest` is self-delimiting (length-prefixed): one name per call
    const inFlight = this.#filling.get(name);
    if (inFlight !== undefined) {
      // Wait for it only if that cannot make this call wait past its own deadline. A later deadline may wait
      // for an earlier one: should that fill time out, this call is given a read of its own (failed()).
      if (until === 0 ? inFlight.until !== 0 : inFlight.until === 0 || inFlight.until > until) return false;
      // Nor if the fill would be resent (or not) after a lost connection by another rule than this call's own.
      if (!sameResendRules(inFlight, cmd)) return false;
      this.#wait(inFlight, cmd, until);
      return true;
    }
    const n = commandKeys(info, args, this.#positions);
    if (n <= 0) return false; // the server will refuse it (arity): nothing to cache
    const keys = new Array<string>(n);
    const slots = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const key = args[this.#positions[i]!]!;
      keys[i] = keyName(key);
      slots[i] = keySlot(key);
    }
    const fill = new Fill(info, cmd, first, rest, name, keys, slots, this.#generation, until, target, this);
    this.#wait(fill, cmd, until);
    this.#filling.set(name, fill);
    for (const k of keys) addTo(this.#fillsByKey, k, fill);
    try {
      target.send(fill, timeout, custom);
    } catch (err) {
      this.#detach(fill); // refused before anyone could join: no later caller may wait for it
      throw err;
    }
    return true;
  }

  /** `cmd` waits for `fill` until its own deadline `until`; a signal that gives it up goes through #abandon. */
  #wait(fill: Fill, cmd: Command, until: number): void {
    cmd.deadline = until; // never sent itself: its deadline, kept for a read of its own should the fill time out
    fill.waiters.push(cmd);
    if (cmd instanceof ObservedCommand) cmd.abortHook = (reason) => this.#abandon(fill, cmd, reason);
  }

  /**
   * A waiter's signal fired. The last waiter of a fill not yet written takes
   * the fill with it, so a read nobody waits for is never sent (a split one
   * takes its parts: fanout.ts); its AbortError is the fill's, which knows
   * whether it was sent. Otherwise the fill goes on (its reply may still be
   * kept) and the waiter alone is released, `sent` when the fill was written
   * (a fill split over slots cannot tell before it settles: it is sent at once
   * unless its nodes are down, so `sent` it is).
   */
  #abandon(fill: Fill, cmd: Command, reason: unknown): void {
    const waiters = fill.waiters;
    const i = waiters.indexOf(cmd);
    if (i < 0) return; // settled meanwhile (abortCommand checks that first)
    if (waiters.length === 1 && !wasSent(fill)) {
      abortCommand(fill, reason, this.report); // its failure reaches this last waiter (failed())
      return;
    }
    waiters.splice(i, 1);
    const sent = wasSent(fill) || fill.abortHook !== undefined;
    failCommand(cmd, abortError(cmd.info.name, sent, sentTo(fill), reason), this.report); // the node the fill was written to
  }

  /**
   * Any other command of the client, before it is sent: a write drops the
   * entries of its keys now, and is remembered until it is answered (a read
   * answered before it is not kept: #writeUnanswered).
   */
  written(cmd: Command): void {
    const info = cmd.info;
    if (info.flags & READONLY) return;
    if (FLUSHES.has(info.name)) {
      this.#flushing = withWrite(this.#flushing, cmd);
      this.#flush();
      return;
    }
    const n = commandKeys(info, cmd.args, this.#positions);
    const writes = this.#writes;
    for (let i = 0; i < n; i++) {
      const key = keyName(cmd.args[this.#positions[i]!]!);
      this.#invalidateKey(key);
      writes.set(key, withWrite(writes.get(key), cmd));
    }
    if (writes.size > this.#writesLimit) this.#forgetAnsweredWrites();
    else if (n > 0 && this.#forgetTimer === undefined) this.#forgetTimer = setTimeout(this.#forgetAnsweredWrites, WRITES_FORGOTTEN_AFTER).unref();
  }

  /**
   * Whether a write of this client's to one of `fill`'s keys (or a flush) is
   * still unanswered while the fill's reply is here. Writes and reads share
   * one connection and run in the order they were written, so a write sent
   * before the read is answered before it, except when the write is sent
   * again behind later commands: the server refused it before running it
   * (BUSY, LOADING: its retry backoff, retry-later.ts) or did not know its
   * script (NOSCRIPT: script-command.ts). The read then ran before the write
   * and its reply predates it; kept, it would be served after the write is
   * acknowledged, until the server's own invalidation (which follows the
   * write's reply) arrives. Answered writes found here are forgotten.
   */
  #writeUnanswered(fill: Fill): boolean {
    if (this.#flushing !== undefined) {
      this.#flushing = unanswered(this.#flushing);
      if (this.#flushing !== undefined) return true;
    }
    const writes = this.#writes;
    if (writes.size === 0) return false;
    for (const key of fill.keys) {
      const w = writes.get(key);
      if (w === undefined) continue;
      const left = unanswered(w);
      if (left === undefined) writes.delete(key);
      else {
        if (left !== w) writes.set(key, left);
        return true;
      }
    }
    return false;
  }

  /**
   * Forget the answered writes: a command holds its arguments (values), which
   * must not outlive it here. Runs when more are remembered than twice those
   * found in flight last time (amortised: each write is looked at a bounded
   * number of times) and WRITES_FORGOTTEN_AFTER ms after a write, again while
   * some are in flight (a timer that never keeps the process alive).
   */
  readonly #forgetAnsweredWrites = (): void => {
    if (this.#forgetTimer !== undefined) clearTimeout(this.#forgetTimer);
    this.#forgetTimer = undefined;
    const writes = this.#writes;
    for (const [key, w] of writes) {
      const left = unanswered(w);
      if (left === undefined) writes.delete(key);
      else if (left !== w) writes.set(key, left);
    }
    this.#writesLimit = Math.max(WRITES_KEPT, 2 * writes.size);
    if (writes.size > 0) this.#forgetTimer = setTimeout(this.#forgetAnsweredWrites, WRITES_FORGOTTEN_AFTER).unref();
  };

  stats(): CacheStats {
    const { hits, misses, invalidations } = this.#stats;
    return { hits, misses, invalidations: invalidations + this.#store.slotDrops, entries: this.#store.size, bytes: this.#store.bytes };
  }

  // ---- TrackingSink: what the connections report ----

  connected(node: string, tracking: boolean, slots?: readonly number[]): void {
    this.#reset(slots);
    if (tracking) this.#untracked.delete(node);
    else this.#untracked.add(node);
  }

  /** A cluster node left the map: if it refused tracking, it no longer keeps the cache off. */
  gone(node: string): void {
    this.#untracked.delete(node);
  }

  lost(_node: string, slots?: readonly number[]): void {
    this.#reset(slots);
  }

  invalidate(keys: Reply[] | null, slots?: readonly number[]): void {
    if (keys === null) {
      this.#reset(slots);
      return;
    }
    for (const k of keys) this.#invalidateKey(typeof k === 'string' ? k : Buffer.isBuffer(k) ? k.toString('utf8') : String(k));
  }

  slotsMoved(slots: readonly number[]): void {
    if (slots.length > MOVED_SLOTS_ONE_BY_ONE) {
      this.#flush(); // a new slot map that moves most (the first one): cheaper as a whole
      return;
    }
    this.#dropSlots(slots);
  }

  /**
   * A connection's tracking state is gone or new, or its server flushed:
   * what was read through it (the entries of its slots, and reads of them in
   * flight) can no longer be trusted. Without its slots, everything: a
   * standalone server, or a node the routing cannot place. One node's
   * reconnect then leaves the other shards' entries warm.
   */
  #reset(slots: readonly number[] | undefined): void {
    if (slots === undefined) this.#flush();
    else this.#dropSlots(slots);
  }

  /** Drop the entries of these slots, and keep no read of them now in flight (an old owner, a lost connection may answer it). */
  #dropSlots(slots: readonly number[]): void {
    if (slots.length === 0) return;
    this.#store.dropSlots(slots); // never served from now on; removed from memory over the next turns
    const dropped = new Uint8Array(SLOT_COUNT);
    for (const slot of slots) dropped[slot] = 1;
    for (const fill of [...this.#filling.values()]) {
      if (fill.slots.some((s) => dropped[s] === 1)) this.#poison(fill);
    }
  }

  // ---- fills ----

  /** @internal a fill's reply arrived. */
  filled(fill: Fill, value: Reply): void {
    this.#detach(fill);
    const waiters = fill.waiters;
    if (fill.trace !== undefined) traceNode(fill);
    let shared = false;
    if (!fill.poisoned && fill.generation === this.#generation && this.#untracked.size === 0 && !this.#writeUnanswered(fill)) {
      shared = this.#store.set(fill.first, fill.rest, value, fill.keys, fill.slots, replySize(value), Date.now());
    }
    // A stored value is never handed out itself; otherwise the first waiter may take it.
    for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(shared || i > 0 ? copyReply(value) : value);
  }

  /**
   * @internal a fill failed (error reply, timeout, lost connection): so do
   * its waiters, except those a timeout of the fill's deadline does not
   * concern (they joined with a later one): each is given back to the cache
   * with the time it has left (an entry since, another fill, or a new one),
   * in deadline order so that the earliest makes the new fill and the others
   * may join it. Every waiter still settles once, by its own deadline.
   */
  failed(fill: Fill, err: Error): void {
    this.#detach(fill);
    const waiters = fill.waiters;
    if (fill.trace !== undefined) traceNode(fill);
    const until = fill.until;
    if (!(err instanceof ReplyTimeoutError) || until === 0) {
      for (const w of waiters) failCommand(w, err, this.report);
      return;
    }
    const later: Command[] = [];
    for (const w of waiters) {
      if (w.deadline > until) later.push(w);
      else failCommand(w, err, this.report);
    }
    later.sort((a, b) => a.deadline - b.deadline);
    for (const w of later) this.#again(w, fill.target, err);
  }

  /** A waiter whose fill timed out before its own deadline: read again with the time it has left. */
  #again(cmd: Command, target: FillTarget, err: Error): void {
    const now = Date.now();
    const left = cmd.deadline - now;
    if (left <= 0) {
      failCommand(cmd, err, this.report);
      return;
    }
    try {
      if (this.#untracked.size > 0 || !this.#take(cmd, target, cmd.deadline, left, true, now, false)) {
        if (cmd.abortHook !== undefined) cmd.abortHook = undefined; // sent itself now: an abort settles it the plain way
        target.send(cmd, left, true);
      }
    } catch (refused) {
      failCommand(cmd, refused as Error, this.report); // the routing refused it (it had taken it the first time)
    }
  }

  #detach(fill: Fill): void {
    if (this.#filling.get(fill.fillName) === fill) this.#filling.delete(fill.fillName);
    for (const k of fill.keys) removeFrom(this.#fillsByKey, k, fill);
  }

  #invalidateKey(key: string): void {
    this.#stats.invalidations += this.#store.invalidate(key);
    const fills = valuesOf(this.#fillsByKey, key);
    if (fills === undefined) return;
    if (Array.isArray(fills)) for (const f of fills) this.#poison(f);
    else this.#poison(fills);
  }

  #poison(fill: Fill): void {
    fill.poisoned = true;
    this.#stats.invalidations++;
    this.#detach(fill); // later reads start their own
  }

  #flush(): void {
    this.#stats.invalidations += this.#store.clear();
    this.#generation++;
    for (const f of this.#filling.values()) f.poisoned = true;
    this.#filling.clear();
    this.#fillsByKey.clear();
  }
}
