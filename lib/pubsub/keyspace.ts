/**
 * Keyspace notifications. When `notify-keyspace-events` includes `K` and an
 * event's class, the server publishes the event's name on the channel
 * `__keyspace@<db>__:<key>`. `sub.keyspace(pattern, { db, events })`
 * subscribes to the pattern `__keyspace@<db>__:<pattern>` and turns each
 * message into `{ key, event, db }`: no string surgery for the user, and a
 * binary key stays its bytes with `decode: 'buffer'`.
 *
 * A `Keyspace` is one such subscription: an EventEmitter ('event') and an
 * async iterable (each iterator with its own bounded buffer, as a
 * subscriber's), closed with `close()` or with its subscriber.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Listener } from '../events.js';
import { checkObject, schema, type Validator } from '../option-check.js';
import { EventEmitter } from 'node:events';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import { AbandonedWaits, BoundedIterator, iterationOnly } from './iterator.js';
import { LISTENER_REJECTIONS, callEach, reportRejections, safeEmit } from './listeners.js';

export interface KeyspaceOptions {
  /** Database whose keys to watch (default: the client's `db`), or '*' for every database. */
  db?: number | '*';
  /** Only these events (e.g. ['set', 'del', 'expired']); default: every event. */
  events?: readonly string[];
  /**
   * Turn keyspace notifications on first: adds `K` and `A` to the server's
   * `notify-keyspace-events` with CONFIG GET / CONFIG SET (default false).
   * Needs the permission to run CONFIG; refused, the call rejects with the
   * server's error. Without it, the server must already be configured.
   */
  configure?: boolean;
}

export interface KeyspaceEvent<T extends string | Buffer = string | Buffer> {
  key: T;
  /** The event's name as the server publishes it: 'set', 'del', 'expired', 'hset', ... */
  event: string;
  db: number;
}

const keyspaceDb: Validator = (v, name) => {
  if (v !== '*' && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
    throw new InvalidArgumentError(`option ${name} must be a database index (a non-negative integer) or '*'`);
  }
};
const eventNames: Validator = (v, name) => {
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'string')) throw new InvalidArgumentError(`option ${name} must be an array of event names (strings)`);
};
const KEYSPACE = schema({
  db: keyspaceDb,
  events: eventNames,
  configure: (v, name) => {
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`option ${name} must be a boolean`);
  },
});

/** sub.keyspace()'s options, checked before anything is sent. */
export function checkKeyspaceOptions(opts: KeyspaceOptions): void {
  checkObject(opts, KEYSPACE, '', { where: 'sub.keyspace()' });
}

const PREFIX = Buffer.from('__keyspace@');

/** The channel pattern `__keyspace@<db>__:<pattern>`. */
export function keyspacePattern(db: number | '*', pattern: Buffer): Buffer {
  return Buffer.concat([PREFIX, Buffer.from(`${db}__:`), pattern]);
}

/** The database and key of a keyspace channel, or undefined if it is not one. */
export function parseKeyspaceChannel(channel: Buffer): { db: number; key: Buffer } | undefined {
  const n = PREFIX.length;
  if (channel.length < n + 4 || channel.compare(PREFIX, 0, n, 0, n) !== 0) return undefined;
  let i = n;
  let db = 0;
  while (i < channel.length && channel[i]! >= 0x30 && channel[i]! <= 0x39 && i - n < 10) db = db * 10 + channel[i++]! - 0x30;
  if (i === n || channel[i] !== 0x5f || channel[i + 1] !== 0x5f || channel[i + 2] !== 0x3a) return undefined; // "__:"
  return { db, key: channel.subarray(i + 3) };
}

/** The value of a CONFIG GET reply for one parameter (a map in RESP3, a flat array in RESP2). */
function configValue(reply: Reply): string {
  if (Array.isArray(reply)) return String(reply[1] ?? '');
  if (reply !== null && typeof reply === 'object' && !Buffer.isBuffer(reply)) {
    const v = Object.values(reply as Record<string, Reply>)[0];
    return v === undefined || v === null ? '' : String(v);
  }
  return '';
}

/** Add `K` (keyspace channels) and `A` (every event class) to the server's notify-keyspace-events. */
export async function enableKeyspaceEvents(command: (name: string, ...args: Arg[]) => Promise<Reply>): Promise<void> {
  const current = configValue(await command('CONFIG', 'GET', 'notify-keyspace-events'));
  let flags = current;
  if (!flags.includes('K')) flags += 'K';
  if (!flags.includes('A')) flags += 'A';
  if (flags !== current) await command('CONFIG', 'SET', 'notify-keyspace-events', flags);
}

/** How a subscriber feeds a `Keyspace` (kept out of the public object). */
export interface KeyspaceSink<T extends string | Buffer> {
  deliver(event: KeyspaceEvent<T>): void;
  /** It receives nothing more; iterators hand out what they hold, then `err` (if any), then finish. */
  end(err?: Error): void;
}

export interface KeyspaceSettings {
  maxBuffered: number;
  dropOldest: boolean;
}

/** What a `Keyspace` emits: event name -> the listener's arguments. */
export interface KeyspaceEvents<T extends string | Buffer = string> {
  event: [event: KeyspaceEvent<T>];
  /** A listener threw, or the stream ended on an error (its subscription dropped, the connection gave up): emitted while someone listens. */
  error: [err: Error];
  close: [none?: undefined];
}

export interface Keyspace<T extends string | Buffer = string> {
  on<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
  once<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
  off<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
  addListener<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
  removeListener<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
  prependListener<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
  prependOnceListener<K extends keyof KeyspaceEvents<T>>(event: K, listener: Listener<KeyspaceEvents<T>[K]>): this;
}

export class Keyspace<T extends string | Buffer = string> extends EventEmitter implements AsyncIterable<KeyspaceEvent<T>> {
  /** The channel pattern subscribed, e.g. `__keyspace@0__:user:*`. */
  readonly pattern: T;
  /** Events dropped by iterators under `overflow: 'drop-oldest'`. */
  dropped = 0;
  readonly #settings: KeyspaceSettings;
  // Not typed by T: a Keyspace<string> stays assignable to Keyspace<string | Buffer>.
  readonly #iterators = new Set<BoundedIterator<KeyspaceEvent>>();
  /** Its iterators dropped while a next() waits: at most `maxBuffered` (see AbandonedWaits). */
  readonly #abandonedWaits: AbandonedWaits;
  readonly #unsubscribe: () => Promise<void>;
  #ended = false;
  #closing: Promise<void> | undefined;

  /** @internal made by `sub.keyspace()`. `attach` receives the feed. */
  constructor(pattern: T, settings: KeyspaceSettings, unsubscribe: () => Promise<void>, attach: (sink: KeyspaceSink<T>) => void) {
    super(LISTENER_REJECTIONS);
    reportRejections(this);
    this.pattern = pattern;
    this.#settings = settings;
    this.#abandonedWaits = new AbandonedWaits(settings.maxBuffered);
    this.#unsubscribe = unsubscribe;
    attach({
      deliver: (event) => {
        callEach(this, 'event', event);
        for (const it of this.#iterators) it.push(event);
      },
      end: (err) => this.#end(err),
    });
  }

  /** A new iterator: every event from now on, in its own buffer of `maxBuffered`. */
  [Symbol.asyncIterator](): AsyncIterableIterator<KeyspaceEvent<T>> {
    const it = new BoundedIterator<KeyspaceEvent>(
      this.#settings.maxBuffered,
      this.#settings.dropOldest,
      (done) => this.#iterators.delete(done),
      () => this.dropped++,
      this.#abandonedWaits,
    );
    if (this.#ended) it.stop();
    else this.#iterators.add(it);
    return iterationOnly(it) as AsyncIterableIterator<KeyspaceEvent<T>>;
  }

  /** Unsubscribe (the server-side subscription stays while another subscriber wants it); iterators finish. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#end();
      this.#closing = this.#unsubscribe().catch(() => {});
    }
    return this.#closing;
  }

  #end(err?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const it of [...this.#iterators]) it.stop(err);
    // Why it ended (dropped by the server, the connection gave up), for a stream used through events; as a subscriber's.
    if (err !== undefined && this.listenerCount('error') > 0) safeEmit(this, 'error', err);
    safeEmit(this, 'close');
  }
}

/**
 * What `sub.keyspace()` answers: a promise of the stream, which is also what a
 * `for await` loop takes (DESIGN.md: keyspace "yields { key, event, db }").
 * A loop over the call owns the stream it made: ending the loop (break, throw,
 * the stream's end) closes it; a refused call throws out of the loop.
 */
export type KeyspaceRequest<T extends string | Buffer> = Promise<Keyspace<T>> & AsyncIterable<KeyspaceEvent<T>>;

/**
 * Make `start`'s promise iterable. `start` calls `made` with the stream as
 * soon as it exists, before the subscription is confirmed: a loop's iterator
 * is opened there, so an event that arrives in the same read as the
 * confirmation is not missed.
 */
export function iterableRequest<T extends string | Buffer>(start: (made: (ks: Keyspace<T>) => void) => Promise<Keyspace<T>>): KeyspaceRequest<T> {
  let stream: Keyspace<T> | undefined;
  const waiting: ((ks: Keyspace<T>) => void)[] = [];
  const request = start((ks) => {
    stream = ks;
    for (const open of waiting.splice(0)) open(ks);
  });
  const loop = (): AsyncIterableIterator<KeyspaceEvent<T>> => {
    let inner: AsyncIterator<KeyspaceEvent<T>> | undefined;
    let finished = false;
    const open = (ks: Keyspace<T>) => {
      if (!finished) inner = ks[Symbol.asyncIterator]();
    };
    if (stream !== undefined) open(stream);
    else waiting.push(open);
    const finish = async (): Promise<IteratorReturnResult<undefined>> => {
      if (!finished) {
        finished = true;
        await inner?.return?.();
        const ks = await request.catch(() => undefined);
        await ks?.close();
      }
      return { value: undefined, done: true };
    };
    return {
      async next() {
        try {
          await request;
        } catch (err) {
          finished = true;
          throw err;
        }
        if (finished || inner === undefined) return finish();
        const r = await inner.next();
        return r.done ? finish() : r;
      },
      return: finish,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  return Object.assign(request, { [Symbol.asyncIterator]: loop });
}
