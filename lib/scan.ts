/**
 * SCAN, HSCAN, SSCAN and ZSCAN as async iterators (`db.scan(opts)`, ...).
 *
 * - Lazy: a page is asked for only when the consumer has taken every item of
 *   the previous one; breaking out of `for await` (the iterator's return())
 *   ends the iteration and no further SCAN is sent, also when return() comes
 *   while a next() waits (even in a run of empty pages: MATCH, TYPE).
 * - SCAN may return a key more than once within one iteration (the server's
 *   guarantee is "at least once" for keys present throughout). `db.scan()`
 *   removes those duplicates by default, remembering every key it yielded: a
 *   Set of one string per distinct key (the key's length plus ~50 bytes), held
 *   until the iteration ends or is broken out of. `dedupe: false` yields what the server sends, in
 *   constant memory. H/S/ZSCAN only repeat items while the server rehashes a
 *   large collection; they yield what the server sends unless `dedupe: true`.
 * - Cluster: `db.scan()` walks every master, one after the other (the slot map
 *   at the first page decides which); a master lost mid-walk is walked again
 *   from the start on its successor after a failover. Keyed scans go to the
 *   key's node.
 * - `.pages()` yields the server's pages (arrays; empty pages skipped) for
 *   speed: one await per page instead of one per item.
 * - On a view with a key prefix (`db.with({ prefix })`), `db.scan()` matches
 *   only keys under the prefix (it is put in front of MATCH, glob characters
 *   escaped) and yields them without it, like every other call of the view.
 * - `callSiteStacks`: the iterator is given where it was made (`db.scan()`'s
 *   caller); each page asked for captures the caller of next() (`for await`),
 *   and whatever that page fails with carries both (observed.ts), never the
 *   frames of this file that issue the command.
 */
import { ConnectionError, InvalidArgumentError, ProtocolError, TimeoutError } from './errors.js';
import { boolean, checkObject, either, integer, nonEmptyString, schema } from './option-check.js';
import type { KeyPrefix } from './commands/prefix.js';
import { replyPrefix, unprefixed, type ReplyPrefix } from './commands/unprefix-reply.js';
import { callSiteMadeAt, captureCallSite, withCallSite, withOwnCallSite, type CallSite } from './connection/observed.js';
import type { Arg } from './resp/encoder.js';
import type { Reply } from './resp/types.js';
import { SeenKeys } from './scan-seen.js';

export interface ScanOptions {
  /** Glob-style pattern (SCAN MATCH); string or Buffer. */
  match?: string | Uint8Array;
  /** Only keys of this type (SCAN TYPE): 'string', 'hash', 'list', 'set', 'zset', 'stream', or a module type. */
  type?: string;
  /** Work hint per page (SCAN COUNT): larger pages, fewer round trips. */
  count?: number;
  /** Remove keys the server returns twice in one iteration (default true; costs memory per key, see README). */
  dedupe?: boolean;
}

export interface CollectionScanOptions {
  /** Glob-style pattern on fields / members (MATCH). */
  match?: string | Uint8Array;
  /** Work hint per page (COUNT). */
  count?: number;
  /** Remove fields / members returned twice in one iteration (default false). */
  dedupe?: boolean;
}

/** Where a scan sends its pages: a database handle (structural, so this file needs no client). */
export interface ScanTarget {
  reply(name: string, ...args: Arg[]): Promise<unknown>;
}

/** One node SCAN walks: a server, or a cluster master. */
export interface ScanShard {
  target: ScanTarget;
  /**
   * After a page failed for want of the node (lost, timed out): the master
   * now serving its slots, when that changed (a failover), else undefined.
   */
  successor?(): Promise<ScanTarget | undefined>;
}

/** How many times one shard's walk starts over on a new master. */
const MAX_RESTARTS = 3;

const isBytes = (v: unknown) => v instanceof Uint8Array;
const pattern = either('a string or a Buffer', [(v) => typeof v === 'string', () => {}], [isBytes, () => {}]);
const SCAN = schema({ match: pattern, type: nonEmptyString, count: integer(1), dedupe: boolean });
const COLLECTION = schema({ match: pattern, count: integer(1), dedupe: boolean });

/**
 * One walk of a cursor: the next non-empty page, or undefined at the end.
 * `next()` is never called again before its promise settles (the iterators
 * below see to it); after `stop()` no further request is sent. The commands
 * of a page carry `site` (`callSiteStacks`), the user's call that asked for it.
 */
export interface PageSource<T> {
  next(site: CallSite | undefined): Promise<T[] | undefined>;
  stop(): void;
}

/** `target.reply(name, ...args)`; with a call site, its command carries that site instead of a frame of this file. */
function ask(target: ScanTarget, site: CallSite | undefined, name: string, args: Arg[]): Promise<unknown> {
  return site === undefined ? target.reply(name, ...args) : withCallSite(site, () => target.reply(name, ...args));
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true as const });
const NO_ITEMS: readonly never[] = [];

/**
 * An async iterator of single items, and `pages()` for the server's batches.
 *
 * Written by hand rather than as async generators: an item costs one resolved
 * promise, where two nested generators cost several promises and microtasks
 * per item (about 0.2 us per key and garbage, measured on 100k keys).
 */
export class ScanIterator<T> implements AsyncIterable<T> {
  readonly #walk: () => PageSource<T>;
  readonly #made: CallSite | undefined;

  /** @internal made by `db.scan()`, `db.hscan()`, ...; `made`: where, with `callSiteStacks`. */
  constructor(walk: () => PageSource<T>, made?: CallSite) {
    this.#walk = walk;
    this.#made = made;
  }

  /** The server's pages (never empty), each fetched when the previous one was taken. */
  pages(): AsyncIterableIterator<T[]> {
    return new PageIterator(this.#walk(), this.#made);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new ItemIterator(this.#walk(), this.#made);
  }
}

/**
 * What both iterators share: the walk they draw pages from (undefined once
 * ended), and ending it like an async generator does: `return()` (`break` out
 * of `for await`) and `throw()` (what `yield*` delegation calls) stop the walk,
 * with no further request; a page in flight is dropped.
 */
abstract class WalkIterator<T, V> implements AsyncIterableIterator<V> {
  protected source: PageSource<T> | undefined;

  constructor(
    source: PageSource<T>,
    /** Where the iterator was made (`callSiteStacks`); undefined when the option is off: nothing is captured then. */
    private readonly made: CallSite | undefined,
  ) {
    this.source = source;
  }

  /** The user's call asking for a page now (the caller of `next`, then where the iterator was made), with `callSiteStacks`. */
  protected pageSite(next: Function): CallSite | undefined {
    return this.made === undefined ? undefined : callSiteMadeAt(captureCallSite(next), this.made, 'iterator');
  }

  abstract next(): Promise<IteratorResult<V, undefined>>;

  return(): Promise<IteratorResult<V, undefined>> {
    this.end();
    return Promise.resolve(DONE);
  }

  throw(err?: unknown): Promise<IteratorResult<V, undefined>> {
    this.end();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  protected end(): void {
    this.source?.stop();
    this.source = undefined;
  }
}

/**
 * Items one at a time from the current page; the next page is asked for only
 * when this one is exhausted. Calls to next() made before the previous one
 * settled wait for the page in flight (never a second request with the same
 * cursor) and take the items after it, in call order.
 */
class ItemIterator<T> extends WalkIterator<T, T> {
  #page: readonly T[] = NO_ITEMS;
  #at = 0;
  #fetching: Promise<void> | undefined = undefined;

  next(): Promise<IteratorResult<T, undefined>> {
    const page = this.#page;
    if (this.#at < page.length) return Promise.resolve({ value: page[this.#at++]!, done: false });
    const source = this.source;
    if (source === undefined) return Promise.resolve(DONE);
    const again = () => this.next();
    // Another call is fetching: after it, take what comes (after a failure, the end).
    if (this.#fetching !== undefined) return this.#fetching.then(again, again);
    const site = this.pageSite(ItemIterator.prototype.next);
    const fetching = source.next(site).then(
      (next) => {
        this.#fetching = undefined;
        if (this.source !== source) return; // returned meanwhile
        if (next === undefined) this.end();
        else {
          this.#page = next;
          this.#at = 0;
        }
      },
      (err: unknown) => {
        this.#fetching = undefined;
        if (this.source === source) this.end();
        // A command's error carries `site` already; others (the shard list, a reply's shape) get it here.
        throw site !== undefined && err instanceof Error ? withOwnCallSite(err, site) : err;
      },
    );
    this.#fetching = fetching;
    return fetching.then(again); // its failure is this call's
  }

  protected override end(): void {
    super.end();
    this.#page = NO_ITEMS; // the rest of a page is not kept once the iteration ended
    this.#at = 0;
  }
}

/** The pages themselves (`.pages()`), serialised like ItemIterator's fetches. */
class PageIterator<T> extends WalkIterator<T, T[]> {
  #fetching: Promise<unknown> | undefined = undefined;

  next(): Promise<IteratorResult<T[], undefined>> {
    const source = this.source;
    if (source === undefined) return Promise.resolve(DONE);
    const again = () => this.next();
    if (this.#fetching !== undefined) return this.#fetching.then(again, again);
    const site = this.pageSite(PageIterator.prototype.next);
    const fetching = source.next(site).then(
      (page): IteratorResult<T[], undefined> => {
        this.#fetching = undefined;
        if (this.source !== source) return DONE;
        if (page === undefined) {
          this.end();
          return DONE;
        }
        return { value: page, done: false };
      },
      (err: unknown) => {
        this.#fetching = undefined;
        if (this.source === source) this.end();
        // A command's error carries `site` already; others (the shard list, a reply's shape) get it here.
        throw site !== undefined && err instanceof Error ? withOwnCallSite(err, site) : err;
      },
    );
    this.#fetching = fetching;
    return fetching;
  }
}

/**
 * The items of `items` not yielded before: `items` itself when all are new
 * (the usual case: no copy), else a copy without the repeats. Never changes
 * `items` (a reply the target may have handed out elsewhere).
 */
function firstTimes(seen: SeenKeys, items: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (seen.add(item)) out?.push(item);
    else out ??= items.slice(0, i);
  }
  return out ?? items;
}

/** The cursor of a SCAN reply ('0' ends): a string, or a Buffer under decode: 'buffer'. */
function cursorOf(reply: unknown, command: string): string {
  const head = Array.isArray(reply) ? reply[0] : undefined;
  if (typeof head === 'string') return head;
  if (Buffer.isBuffer(head)) return head.toString('latin1');
  throw new ProtocolError(`${command} answered something that is not a cursor and a page`, { command });
}

/** The items of a SCAN-family reply (an empty array when it has none). */
function itemsOf(reply: unknown): unknown[] {
  const items = (reply as unknown[])[1];
  return Array.isArray(items) ? items : [];
}

/** `prefix` with the glob characters *, ?, [, ], \ escaped, as bytes. */
function escapedPrefix(prefix: KeyPrefix): Buffer {
  const out: number[] = [];
  for (const b of prefix.bytes) {
    if (b === 0x2a || b === 0x3f || b === 0x5b || b === 0x5d || b === 0x5c) out.push(0x5c);
    out.push(b);
  }
  return Buffer.from(out);
}

/**
 * `db.scan(options)`: every key of `shards()` (one for a server, one per
 * master for a cluster), in pages. Options are checked at once.
 */
export function keyScan(options: ScanOptions | undefined, shards: () => Promise<ScanShard[]>, prefix: KeyPrefix | undefined, made?: CallSite): ScanIterator<string | Buffer> {
  const opts = options ?? {};
  checkObject(opts, SCAN, '', { where: 'db.scan()' });
  const extra: Arg[] = [];
  if (prefix !== undefined) {
    const match = opts.match === undefined ? Buffer.from('*') : typeof opts.match === 'string' ? Buffer.from(opts.match, 'utf8') : opts.match;
    extra.push('MATCH', Buffer.concat([escapedPrefix(prefix), match]));
  } else if (opts.match !== undefined) extra.push('MATCH', opts.match);
  if (opts.count !== undefined) extra.push('COUNT', opts.count);
  if (opts.type !== undefined) extra.push('TYPE', opts.type);
  const dedupe = opts.dedupe !== false;
  return new ScanIterator<string | Buffer>(() => new KeyWalk(shards, extra, prefix, dedupe), made);
}

/** One iteration of `db.scan()`: the shards one after the other, each from cursor 0 to cursor 0. */
class KeyWalk implements PageSource<string | Buffer> {
  #shards: ScanShard[] | undefined = undefined;
  #shard = 0;
  /** The node the current shard is walked on: its master, or a successor after a failover. */
  #target: ScanTarget | undefined = undefined;
  #restarts = 0;
  #cursor = '0';
  /** Keys yielded so far (dedupe), released when the iteration ends. */
  #seen: SeenKeys | undefined;
  #stopped = false;
  /** The prefix as keys carry it (its UTF-8 reading for string keys: commands/unprefix-reply.ts), made on the first page. */
  #stripped: ReplyPrefix | undefined;

  constructor(
    private readonly listShards: () => Promise<ScanShard[]>,
    private readonly extra: readonly Arg[],
    private readonly prefix: KeyPrefix | undefined,
    dedupe: boolean,
  ) {
    this.#seen = dedupe ? new SeenKeys() : undefined;
  }

  async next(site: CallSite | undefined): Promise<(string | Buffer)[] | undefined> {
    if (this.#shards === undefined) {
      const shards = await this.listShards(); // the slot map when the first page is asked for
      if (this.#stopped) return undefined;
      this.#shards = shards;
    }
    for (;;) {
      const shard = this.#shards[this.#shard];
      if (shard === undefined || this.#stopped) {
        this.stop();
        return undefined;
      }
      const reply = await this.#ask(shard, site);
      if (this.#stopped) return undefined;
      this.#cursor = cursorOf(reply, 'SCAN');
      if (this.#cursor === '0') {
        this.#shard++; // the next shard starts at cursor 0 on its master
        this.#target = undefined;
        this.#restarts = 0;
      }
      const keys = this.#keep(itemsOf(reply));
      if (keys.length > 0) return keys as (string | Buffer)[];
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#seen = undefined;
  }

  /** One page of `shard` at the current cursor. */
  async #ask(shard: ScanShard, site: CallSite | undefined): Promise<unknown> {
    for (;;) {
      try {
        return await ask(this.#target ?? shard.target, site, 'SCAN', [this.#cursor, ...this.extra]);
      } catch (err) {
        // The node is gone: if its slots have a new master (failover), walk that one from the
        // start (its cursor means nothing there). Keys already yielded are skipped by dedupe.
        const next = err instanceof ConnectionError || err instanceof TimeoutError ? await shard.successor?.() : undefined;
        if (next === undefined || ++this.#restarts > MAX_RESTARTS) throw err;
        if (this.#stopped) return undefined; // returned while the successor was looked up: nothing more is sent
        this.#target = next;
        this.#cursor = '0';
      }
    }
  }

  /** The keys of a page to yield: without the view's prefix, repeats removed (the reply's own array when nothing changes). */
  #keep(keys: unknown[]): unknown[] {
    const seen = this.#seen;
    const prefix = this.prefix;
    if (prefix === undefined) return seen === undefined ? keys : firstTimes(seen, keys);
    const out: unknown[] = [];
    const stripped = (this.#stripped ??= replyPrefix(prefix.text, prefix.bytes));
    for (let i = 0; i < keys.length; i++) {
      const key = unprefixed(keys[i] as Reply, stripped);
      if (seen === undefined || seen.add(key)) out.push(key);
    }
    return out;
  }
}

/** A ZSCAN score: the server's text, 'inf' and '-inf' included, as a number. */
export function scoreOf(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  const text = String(raw);
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

type CollectionCommand = 'HSCAN' | 'SSCAN' | 'ZSCAN';

/** HSCAN (pairs [field, value]), SSCAN (members) or ZSCAN (pairs [member, score]) of `key` on `target`. */
export function collectionScan(command: CollectionCommand, key: Arg, options: CollectionScanOptions | undefined, target: ScanTarget, made?: CallSite): ScanIterator<unknown> {
  const where = `db.${command.toLowerCase()}()`;
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new InvalidArgumentError(`${where}: the key must be a string or a Buffer`, { command });
  const opts = options ?? {};
  checkObject(opts, COLLECTION, '', { where });
  const extra: Arg[] = [];
  if (opts.match !== undefined) extra.push('MATCH', opts.match);
  if (opts.count !== undefined) extra.push('COUNT', opts.count);
  const dedupe = opts.dedupe === true;
  return new ScanIterator<unknown>(() => new CollectionWalk(command, key, extra, target, dedupe), made);
}

/** One iteration of `db.hscan()` / `sscan()` / `zscan()`: cursor 0 to cursor 0 on the key's node. */
class CollectionWalk implements PageSource<unknown> {
  #cursor: string | undefined = '0';
  /** Fields / members yielded so far (`dedupe: true`), released when the iteration ends. */
  #seen: SeenKeys | undefined;
  #stopped = false;

  constructor(
    private readonly command: CollectionCommand,
    private readonly key: Arg,
    private readonly extra: readonly Arg[],
    private readonly target: ScanTarget,
    dedupe: boolean,
  ) {
    this.#seen = dedupe ? new SeenKeys() : undefined;
  }

  async next(site: CallSite | undefined): Promise<unknown[] | undefined> {
    for (;;) {
      if (this.#cursor === undefined || this.#stopped) {
        this.stop();
        return undefined;
      }
      const reply = await ask(this.target, site, this.command, [this.key, this.#cursor, ...this.extra]);
      if (this.#stopped) return undefined;
      const cursor = cursorOf(reply, this.command);
      this.#cursor = cursor === '0' ? undefined : cursor;
      const items = this.#items(itemsOf(reply));
      if (items.length > 0) return items;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#seen = undefined;
  }

  /** SSCAN: the members (in place, repeats removed when asked); HSCAN / ZSCAN: [field, value] / [member, score] pairs. */
  #items(flat: unknown[]): unknown[] {
    const seen = this.#seen;
    if (this.command === 'SSCAN') {
      return seen === undefined ? flat : firstTimes(seen, flat);
    }
    const scores = this.command === 'ZSCAN';
    const pairs: unknown[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (seen !== undefined && !seen.add(flat[i])) continue;
      pairs.push([flat[i], scores ? scoreOf(flat[i + 1]) : flat[i + 1]]);
    }
    return pairs;
  }
}
