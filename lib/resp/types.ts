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

export interface DecoderLimits {
  /** Largest bulk string accepted, in bytes. Redis's own default proto-max-bulk-len is 512 MiB. */
  maxBulkLength: number;
  /** Largest element count of one aggregate (array, map, set, push). */
  maxAggregateLength: number;
  /** Deepest nesting of aggregates. */
  maxDepth: number;
  /** Longest line (simple string, error, number, header) before its CRLF. */
  maxLineLength: number;
  /**
   * Most bytes one reply may span across chunks. Without it, a server that
   * declares a huge aggregate and streams its elements would make us allocate
   * as fast as it sends.
   */
  maxReplyBytes: number;
}

export const DEFAULT_LIMITS: DecoderLimits = {
  maxBulkLength: 512 * 1024 * 1024,
  maxAggregateLength: 2 ** 32 - 1,
  maxDepth: 128,
  maxLineLength: 64 * 1024,
  maxReplyBytes: 1024 * 1024 * 1024,
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
