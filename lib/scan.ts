/**
 * SCAN, HSCAN, SSCAN and ZSCAN as async iterators (`db.scan(opts)`, ...).
 *
 * - Lazy: a page is asked for only when the consumer has taken every item of
 *   the previous one; breaking out of `for await` ends the iteration and no
 *   further SCAN is sent.
 * - SCAN may return a key more than once within one iteration (the server's
 *   guarantee is "at least once" for keys present throughout). `db.scan()`
 *   removes those duplicates by default, remembering every key it yielded: a
 *   Set of one string per distinct key (the key's length plus ~50 bytes), held
 *   until the iteration ends. `dedupe: false` yields what the server sends, in
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
 */
import { ConnectionError, InvalidArgumentError, ProtocolError, TimeoutError } from './errors.js';
import { boolean, checkObject, either, integer, nonEmptyString, schema } from './option-check.js';
import type { KeyPrefix } from './commands/prefix.js';
import type { Arg } from './resp/encoder.js';

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

/** An async iterator of single items, and `pages()` for the server's batches. */
export class ScanIterator<T> implements AsyncIterable<T> {
  readonly #pages: () => AsyncGenerator<T[], void, undefined>;

  /** @internal made by `db.scan()`, `db.hscan()`, ... */
  constructor(pages: () => AsyncGenerator<T[], void, undefined>) {
    this.#pages = pages;
  }

  /** The server's pages (never empty), each fetched when the previous one was taken. */
  pages(): AsyncIterableIterator<T[]> {
    return this.#pages();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.#pages()) {
      for (let i = 0; i < page.length; i++) yield page[i]!;
    }
  }
}

/** A key or member as a Set entry: strings as they are, bytes as latin1 (one char per byte, exact). */
function identity(v: unknown): string {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
}

/** The cursor of a SCAN reply ('0' ends): a string, or a Buffer under decode: 'buffer'. */
function cursorOf(reply: unknown, command: string): string {
  const head = Array.isArray(reply) ? reply[0] : undefined;
  if (typeof head === 'string') return head;
  if (Buffer.isBuffer(head)) return head.toString('latin1');
  throw new ProtocolError(`${command} answered something that is not a cursor and a page`, { command });
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

function unprefixed(key: unknown, prefix: KeyPrefix): unknown {
  if (typeof key === 'string') return prefix.text !== undefined && key.startsWith(prefix.text) ? key.slice(prefix.text.length) : key;
  if (Buffer.isBuffer(key) && key.subarray(0, prefix.bytes.length).equals(prefix.bytes)) return key.subarray(prefix.bytes.length);
  return key;
}

/**
 * `db.scan(options)`: every key of `targets()` (one target for a server, one
 * per master for a cluster), in pages. Options are checked at once.
 */
export function keyScan(options: ScanOptions | undefined, shards: () => Promise<ScanShard[]>, prefix: KeyPrefix | undefined): ScanIterator<string | Buffer> {
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
  return new ScanIterator<string | Buffer>(async function* () {
    const seen = dedupe ? new Set<string>() : undefined;
    for (const shard of await shards()) {
      let target = shard.target;
      let restarts = 0;
      let cursor = '0';
      do {
        let reply: unknown;
        for (;;) {
          try {
            reply = await target.reply('SCAN', cursor, ...extra);
            break;
          } catch (err) {
            // The node is gone: if its slots have a new master (failover), walk that one from the
            // start (its cursor means nothing there). Keys already yielded are skipped by dedupe.
            const next = err instanceof ConnectionError || err instanceof TimeoutError ? await shard.successor?.() : undefined;
            if (next === undefined || ++restarts > MAX_RESTARTS) throw err;
            target = next;
            cursor = '0';
          }
        }
        cursor = cursorOf(reply, 'SCAN');
        let keys = (reply as (string | Buffer)[][])[1] ?? [];
        if (prefix !== undefined) keys = keys.map((k) => unprefixed(k, prefix) as string | Buffer);
        if (seen !== undefined) {
          keys = keys.filter((k) => {
            const id = identity(k);
            if (seen.has(id)) return false;
            seen.add(id);
            return true;
          });
        }
        if (keys.length > 0) yield keys;
      } while (cursor !== '0');
    }
  });
}

/** A ZSCAN score: the server's text, 'inf' and '-inf' included, as a number. */
export function scoreOf(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  const text = String(raw);
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

/** HSCAN (pairs [field, value]), SSCAN (members) or ZSCAN (pairs [member, score]) of `key` on `target`. */
export function collectionScan(
  command: 'HSCAN' | 'SSCAN' | 'ZSCAN',
  key: Arg,
  options: CollectionScanOptions | undefined,
  target: ScanTarget,
): ScanIterator<unknown> {
  const where = `db.${command.toLowerCase()}()`;
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new InvalidArgumentError(`${where}: the key must be a string or a Buffer`, { command });
  const opts = options ?? {};
  checkObject(opts, COLLECTION, '', { where });
  const extra: Arg[] = [];
  if (opts.match !== undefined) extra.push('MATCH', opts.match);
  if (opts.count !== undefined) extra.push('COUNT', opts.count);
  const dedupe = opts.dedupe === true;
  const pairs = command !== 'SSCAN';
  return new ScanIterator(async function* () {
    const seen = dedupe ? new Set<string>() : undefined;
    let cursor = '0';
    do {
      const reply = await target.reply(command, key, cursor, ...extra);
      cursor = cursorOf(reply, command);
      const flat = (reply as unknown[][])[1] ?? [];
      let items: unknown[];
      if (pairs) {
        items = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          if (seen !== undefined) {
            const id = identity(flat[i]);
            if (seen.has(id)) continue;
            seen.add(id);
          }
          items.push([flat[i], command === 'ZSCAN' ? scoreOf(flat[i + 1]) : flat[i + 1]]);
        }
      } else if (seen !== undefined) {
        items = flat.filter((m) => {
          const id = identity(m);
          if (seen.has(id)) return false;
          seen.add(id);
          return true;
        });
      } else items = flat;
      if (items.length > 0) yield items;
    } while (cursor !== '0');
  });
}
