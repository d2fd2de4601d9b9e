/**
 * Shared vocabulary of the codec: what a decoded reply can be, the per-reply
 * decoding flags and the bounds that keep a hostile server from making us
 * allocate without end.
 */
import type { ServerError } from '../errors.js';

/** A decoded reply, as the table in DESIGN.md maps RESP types to JavaScript. */
export type Reply =
  | string
  | Buffer
  | number
  | bigint
  | boolean
  | null
  | ServerError
  | Reply[]
  | { [key: string]: Reply }
  | Map<Reply, Reply>
  | Set<Reply>
  | Attributed;

/**
 * With `attributes: true`, a reply that the server sent with an attribute
 * frame (`|`) comes wrapped: the value and the attribute map side by side.
 */
export class Attributed {
  constructor(
    readonly value: Reply,
    readonly attributes: Reply,
  ) {}
}

/** Decode bulk strings as Buffers instead of UTF-8 strings. */
export const DECODE_BUFFERS = 1;
/** Decode RESP3 maps as `Map` instead of null-prototype objects. */
export const DECODE_MAPS = 2;
/** Decode RESP3 sets as `Set` instead of arrays. */
export const DECODE_SETS = 4;
/** Keep attribute frames (wrap values in `Attributed`). */
export const DECODE_ATTRIBUTES = 8;
/** Not the decoder's: on a RESP2 connection, hand replies over in their RESP3 shapes (commands/resp3-shapes.ts). */
export const DECODE_RESP3_SHAPES = 16;

/**
 * What the server may send; past any bound the decoder throws `ProtocolError`
 * and the connection is dropped (RESP cannot skip a frame it did not read).
 *
 * Together they bound the heap one reply can cost: its bytes (strings take at
 * most about two bytes of heap per byte on the wire) plus its values (each
 * costs a fixed overhead whatever its size on the wire: an empty map is 4
 * bytes on the wire and about 200 bytes of heap). Bounding bytes alone let a
 * flood of `%0\r\n` cost ~48 bytes of heap per byte received.
 */
export interface DecoderLimits {
  /**
   * Largest bulk string accepted, in bytes (also the total of a streamed
   * string). Redis's own default `proto-max-bulk-len` is 512 MiB.
   */
  maxBulkLength: number;
  /**
   * Largest element count of one aggregate (array, map, set, push, attribute;
   * a map's entries are counted, not its keys and values). Applies to declared
   * lengths and to streamed aggregates (`*?` ... `.`) as they arrive.
   */
  maxAggregateLength: number;
  /** Deepest nesting of aggregates. */
  maxDepth: number;
  /** Longest line (simple string, error, number, header) before its CRLF. */
  maxLineLength: number;
  /**
   * Most bytes one reply may span on the wire, from its first byte to its
   * last, whatever the chunks it arrives in (each pipelined reply is counted
   * on its own). Covers every reply: a bulk string, an aggregate, a push
   * frame, an attribute with its value.
   */
  maxReplyBytes: number;
  /**
   * Most values one reply may hold, at any depth: every element counts one,
   * aggregates included (an array of 10 strings is 11), and so does each
   * chunk of a streamed string.
   */
  maxReplyElements: number;
}

/**
 * Defaults a legitimate server never meets and a hostile one cannot turn into
 * unbounded heap.
 *
 * `maxReplyElements`, 2^21: the costliest value per element is an empty
 * map, set or Buffer at ~200 bytes of heap (measured on Node 20/22; an error
 * inside an aggregate is built without a stack trace for the same reason), so
 * a reply can cost at most ~400 MiB in overhead. That still admits an LRANGE,
 * SMEMBERS or KEYS of 2 million members or an HGETALL of a million fields;
 * raise it for more. `maxReplyBytes` (1 GiB) and `maxBulkLength` (512 MiB,
 * the server's own limit) bound the bytes: a reply that large is what the
 * server was allowed to store, not an amplification.
 */
export const DEFAULT_LIMITS: DecoderLimits = {
  maxBulkLength: 512 * 1024 * 1024,
  maxAggregateLength: 2 ** 32 - 1,
  maxDepth: 128,
  maxLineLength: 64 * 1024,
  maxReplyBytes: 1024 * 1024 * 1024,
  maxReplyElements: 2 ** 21,
};

/** Where the decoder delivers complete top-level frames. */
export interface DecoderSink {
  /** Flags (`DECODE_*`) for the next top-level frame; asked once per frame. `push` is true for a `>` frame. */
  replyFlags(push: boolean): number;
  /** A complete reply (a `ServerError` instance for error replies). */
  onReply(value: Reply): void;
  /** A RESP3 push frame (`>`): pub/sub messages, invalidations. Never a FIFO reply. */
  onPush(value: Reply[]): void;
}
