/**
 * Key prefixes (`db.with({ prefix: 'app:' })`, ioredis's `keyPrefix`): the
 * prefix is prepended to every argument the command table says is a key
 * (keys.ts: fixed positions, and the movable keys of EVAL numkeys, XREAD
 * STREAMS, SORT ... STORE, MIGRATE ... KEYS, ...), and to nothing else: not
 * values, not patterns (KEYS, SCAN MATCH, SORT BY/GET), not channels (shard
 * channels are `not_key`). It runs before routing, so a cluster hashes the
 * prefixed key, as the server will.
 *
 * A command whose keys the table cannot find is refused rather than sent
 * unprefixed: running it on the un-prefixed keyspace would touch another
 * tenant's keys.
 *
 * Replies that name keys (XREAD's streams, BLPOP's key, ...) get the prefix
 * taken off again: unprefix-reply.ts.
 */
import { InvalidArgumentError } from '../errors.js';
import { numberText } from '../resp/encoder.js';
import { commandKeys, keysProblem, type KeyedInfo } from './keys.js';
import { replyUnprefixer, replyUnprefixers, type ReplyUnprefixer, type ReplyUnprefixers } from './unprefix-reply.js';

/** A prefix as given, and its bytes for Buffer keys (made once per view). */
export interface KeyPrefix {
  readonly text: string | undefined;
  readonly bytes: Buffer;
  /** What takes it off the key names in replies. */
  readonly replies: ReplyUnprefixers;
}

export function keyPrefix(prefix: string | Uint8Array): KeyPrefix {
  if (typeof prefix === 'string') {
    const bytes = Buffer.from(prefix, 'utf8');
    return { text: prefix, bytes, replies: replyUnprefixers(prefix, bytes) };
  }
  // A binary prefix: string keys become Buffers (the prefix may not be valid UTF-8). A copy: the
  // caller may reuse its buffer, and a view on it would change every key this view writes from then on.
  const bytes = Buffer.from(prefix);
  return { text: undefined, bytes, replies: replyUnprefixers(undefined, bytes) };
}

/** Reused for key positions: never escapes. */
const positions: number[] = [];

/**
 * Prefix the keys of a call, in place in `args` (an array the caller owns:
 * the rest parameter of `reply(name, ...args)`). Arguments must be valid
 * (validateArgs). Strings stay strings (with a string prefix), Buffers and
 * Uint8Arrays become Buffers, numbers and bigints become strings. Returns
 * what takes the prefix off its reply, when its reply names keys.
 */
export function prefixKeys(info: KeyedInfo, args: unknown[], prefix: KeyPrefix): ReplyUnprefixer | undefined {
  const n = commandKeys(info, args, positions);
  if (n < 0) throw new InvalidArgumentError(`${keysProblem(info, n)}; with a key prefix, nothing is sent`, { command: info.name });
  for (let i = 0; i < n; i++) {
    const at = positions[i]!;
    args[at] = prefixed(args[at], prefix);
  }
  return replyUnprefixer(info.name, prefix.replies);
}

/** One key with the prefix; a number key is prefixed on the text the encoder would send for it. */
export function prefixed(key: unknown, prefix: KeyPrefix): string | Buffer {
  if (key instanceof Uint8Array) return Buffer.concat([prefix.bytes, key]);
  const text = typeof key === 'string' ? key : typeof key === 'number' ? numberText(key) : String(key);
  return prefix.text !== undefined ? prefix.text + text : Buffer.concat([prefix.bytes, Buffer.from(text, 'utf8')]);
}
