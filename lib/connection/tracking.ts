/**
 * The hook between a shared connection and a client-side cache (lib/cache/).
 * A multiplexer given a `TrackingSink` turns RESP3 key tracking on in its
 * handshake (`CLIENT TRACKING ON`, so a reconnect re-enables it before any
 * queued command runs) and reports what the cache must know: a new
 * connection, a lost one, and the server's `invalidate` pushes, which arrive
 * on the same connection, in order with the replies (the Redis docs,
 * "Client-side caching": "the two connections mode" is not used).
 *
 * A multiplexer without a sink does nothing of this: no cost when no cache is
 * configured.
 */
import type { Reply } from '../resp/types.js';

/**
 * `slots` below: the hash slots whose keys a connection serves, when the
 * routing knows them (a cluster node: the slots of its shard). Then a loss, a
 * new connection or a flush there concerns only those slots; without them,
 * everything cached.
 */
export interface TrackingSink {
  /** A connection finished its handshake; `tracking` says whether the server turned tracking on for it. */
  connected(node: string, tracking: boolean, slots?: readonly number[]): void;
  /** A connection was lost (or failed to open): what the server tracked for it is gone. */
  lost(node: string, slots?: readonly number[]): void;
  /** An `invalidate` push: the keys written (strings or Buffers, per the push decoding), or null for "everything" (FLUSHALL, FLUSHDB). */
  invalidate(keys: Reply[] | null, slots?: readonly number[]): void;
  /**
   * Cluster routing: these hash slots have another owner now (a MOVED, an
   * ASK, a new slot map). The new owner never tracked what this client read
   * from the old one, and the old one may never invalidate it (a key that did
   * not exist there is not deleted by the migration).
   */
  slotsMoved(slots: readonly number[]): void;
  /** Cluster routing: node `node` left the slot map; its connections are closed and answer nothing any more. */
  gone?(node: string): void;
}

/** Whether a push frame is a tracking invalidation: `>2 invalidate <keys | null>`. */
export function isInvalidation(frame: Reply[]): boolean {
  if (frame.length !== 2) return false;
  const kind = frame[0];
  const name = typeof kind === 'string' ? kind : Buffer.isBuffer(kind) ? kind.toString('latin1') : undefined;
  return name === 'invalidate' && (frame[1] === null || Array.isArray(frame[1]));
}
