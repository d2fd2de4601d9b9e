/**
 * Pub/sub on a dedicated connection, opened on first use. Messages arrive as
 * 'message' events and through an async iterator with a bounded buffer. Every
 * channel, pattern and shard channel is subscribed again after a reconnect.
 *
 * Slow consumers: the iterator buffers at most `maxBuffered` messages. With the
 * default policy `overflow: 'error'` the iterator then throws
 * `SubscriberOverflowError` (after handing out what it buffered), because
 * silently dropping messages is worse than failing loudly; `'drop-oldest'`
 * keeps the newest messages and counts the dropped ones in `dropped`.
 */
import { EventEmitter } from 'node:events';
import { commandInfo } from './commands/index.js';
import { Command } from './connection/command.js';
import { Multiplexer } from './connection/multiplexer.js';
import { ClientError, ClosedError, InvalidArgumentError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { validateArgs, type Arg } from './resp/encoder.js';
import { DECODE_BUFFERS, type Reply } from './resp/types.js';

export interface SubscriberOptions {
  /** 'utf8' (default): messages as strings; 'buffer': messages as Buffers (channel names stay strings). */
  decode?: 'utf8' | 'buffer';
  /** Most messages the async iterator holds for a slow consumer (default 10000). */
  maxBuffered?: number;
  /** What happens past `maxBuffered`: 'error' (default) or 'drop-oldest'. */
  overflow?: 'error' | 'drop-oldest';
}

export interface Message {
  channel: string;
  /** The pattern that matched, for psubscribe deliveries. */
  pattern?: string;
  message: string | Buffer;
  /** True for sharded (ssubscribe) deliveries. */
  sharded?: boolean;
}

/** The async iterator's buffer overflowed (`overflow: 'error'`). */
export class SubscriberOverflowError extends ClientError {
  constructor(limit: number) {
    super(`the subscriber's consumer fell more than ${limit} messages behind`, 'ERR_SUBSCRIBER_OVERFLOW');
  }
}

type Kind = 'subscribe' | 'psubscribe' | 'ssubscribe';
const UNSUB: Record<Kind, string> = { subscribe: 'UNSUBSCRIBE', psubscribe: 'PUNSUBSCRIBE', ssubscribe: 'SUNSUBSCRIBE' };

function str(v: Reply | undefined): string {
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

export class Subscriber extends EventEmitter {
  private mux: Multiplexer | undefined;
  private readonly subs: Record<Kind, Set<string>> = { subscribe: new Set(), psubscribe: new Set(), ssubscribe: new Set() };
  /** Confirmations awaited: "kind:name" -> resolvers. */
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly buffer: Message[] = [];
  private readonly readers: ((r: IteratorResult<Message>) => void)[] = [];
  private overflowed = false;
  private ended = false;
  /** Messages dropped under `overflow: 'drop-oldest'`. */
  dropped = 0;
  private readonly maxBuffered: number;

  /** @internal */
  constructor(
    private readonly client: ResolvedOptions,
    private readonly opts: SubscriberOptions = {},
  ) {
    super();
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    if (opts.decode !== undefined && opts.decode !== 'utf8' && opts.decode !== 'buffer') {
      throw new InvalidArgumentError("option decode must be 'utf8' or 'buffer'");
    }
  }

  private connection(): Multiplexer {
    if (this.ended) throw new ClosedError('the subscriber is closed');
    if (!this.mux) {
      this.mux = new Multiplexer(
        {
          ...this.client.connection,
          // The subscriber always asks for RESP3 (push frames); on servers without HELLO it falls back to RESP2 arrays.
          protocol: 3,
          pubsub: true,
          discoverModules: false,
          pushFlags: this.opts.decode === 'buffer' ? DECODE_BUFFERS : 0,
        },
        {
          ready: () => {
            // After a reconnect, subscribe to everything again before anything else is written.
            for (const kind of Object.keys(this.subs) as Kind[]) {
              if (this.subs[kind].size > 0) this.write(kind.toUpperCase(), [...this.subs[kind]]);
            }
            this.emit('ready');
          },
          error: (err) => {
            if (this.listenerCount('error') > 0) this.emit('error', err);
          },
          reconnecting: (info) => this.emit('reconnecting', info),
          close: () => this.emit('close'),
          unobservedError: (err) => {
            if (this.listenerCount('error') > 0) this.emit('error', err);
          },
          push: (frame) => this.onPush(frame),
        },
      );
    }
    return this.mux;
  }

  private write(name: string, args: Arg[]): void {
    const cmd = new Command(name, args, commandInfo(name), 0, -1);
    cmd.then(
      () => {},
      () => {},
    );
    this.connection().send(cmd, 0);
  }

  private change(kind: Kind, subscribe: boolean, names: Arg[]): Promise<void> {
    try {
      validateArgs(kind, names);
      this.connection(); // opens it on first use (and throws once closed)
      const list = names.map((n) => (Buffer.isBuffer(n) || n instanceof Uint8Array ? Buffer.from(n).toString('utf8') : String(n)));
      const confirm = subscribe ? kind : UNSUB[kind].toLowerCase();
      if (!subscribe && list.length === 0) list.push(...this.subs[kind]);
      const waits = list.map(
        (name) =>
          new Promise<void>((resolve) => {
            const key = `${confirm}:${name}`;
            const arr = this.waiting.get(key);
            if (arr) arr.push(resolve);
            else this.waiting.set(key, [resolve]);
          }),
      );
      for (const name of list) {
        if (subscribe) this.subs[kind].add(name);
        else this.subs[kind].delete(name);
      }
      if (list.length === 0) return Promise.resolve();
      this.write(subscribe ? kind.toUpperCase() : UNSUB[kind], list);
      return Promise.all(waits).then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  subscribe(...channels: Arg[]): Promise<void> {
    if (channels.length === 0) return Promise.reject(new InvalidArgumentError('subscribe needs at least one channel'));
    return this.change('subscribe', true, channels);
  }
  unsubscribe(...channels: Arg[]): Promise<void> {
    return this.change('subscribe', false, channels);
  }
  psubscribe(...patterns: Arg[]): Promise<void> {
    if (patterns.length === 0) return Promise.reject(new InvalidArgumentError('psubscribe needs at least one pattern'));
    return this.change('psubscribe', true, patterns);
  }
  punsubscribe(...patterns: Arg[]): Promise<void> {
    return this.change('psubscribe', false, patterns);
  }
  ssubscribe(...channels: Arg[]): Promise<void> {
    if (channels.length === 0) return Promise.reject(new InvalidArgumentError('ssubscribe needs at least one channel'));
    return this.change('ssubscribe', true, channels);
  }
  sunsubscribe(...channels: Arg[]): Promise<void> {
    return this.change('ssubscribe', false, channels);
  }

  /** Channels, patterns and shard channels currently subscribed. */
  get subscriptions(): { channels: string[]; patterns: string[]; shardChannels: string[] } {
    return { channels: [...this.subs.subscribe], patterns: [...this.subs.psubscribe], shardChannels: [...this.subs.ssubscribe] };
  }

  private onPush(frame: Reply[]): void {
    const kind = str(frame[0]);
    let msg: Message | undefined;
    if (kind === 'message') msg = { channel: str(frame[1]), message: frame[2] as string | Buffer };
    else if (kind === 'smessage') msg = { channel: str(frame[1]), message: frame[2] as string | Buffer, sharded: true };
    else if (kind === 'pmessage') msg = { pattern: str(frame[1]), channel: str(frame[2]), message: frame[3] as string | Buffer };
    else {
      // subscribe / unsubscribe confirmations (one per name), or an unrelated push.
      const name = frame[1] === null ? '' : str(frame[1]);
      const resolvers = this.waiting.get(`${kind}:${name}`);
      if (resolvers) {
        this.waiting.delete(`${kind}:${name}`);
        for (const r of resolvers) r();
      }
      return;
    }
    this.emit('message', msg);
    this.deliver(msg);
  }

  private deliver(msg: Message): void {
    const reader = this.readers.shift();
    if (reader) {
      reader({ value: msg, done: false });
      return;
    }
    if (this.buffer.length >= this.maxBuffered) {
      if (this.opts.overflow === 'drop-oldest') {
        this.buffer.shift();
        this.dropped++;
      } else {
        this.overflowed = true;
        return;
      }
    }
    this.buffer.push(msg);
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        const msg = this.buffer.shift();
        if (msg) return Promise.resolve({ value: msg, done: false });
        if (this.overflowed) {
          this.overflowed = false;
          return Promise.reject(new SubscriberOverflowError(this.maxBuffered));
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.readers.push(resolve));
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  private end(): void {
    this.ended = true;
    for (const r of this.readers.splice(0)) r({ value: undefined, done: true });
    for (const resolvers of this.waiting.values()) for (const r of resolvers) r();
    this.waiting.clear();
  }

  /** Close the subscriber's connection; iterators finish. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.end();
    await this.mux?.close();
  }

  disconnect(): void {
    this.end();
    this.mux?.disconnect();
  }
}
