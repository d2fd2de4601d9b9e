/**
 * RESP2 has no push type: on a subscribed RESP2 connection, messages and
 * subscription confirmations arrive as ordinary arrays. This tells them apart.
 */
import type { Reply } from '../resp/types.js';

const PUBSUB_KINDS = new Set(['message', 'pmessage', 'smessage', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe']);

export function isPubSubArray(value: Reply): boolean {
  if (!Array.isArray(value) || value.length < 3) return false;
  const kind = value[0];
  return PUBSUB_KINDS.has(typeof kind === 'string' ? kind : Buffer.isBuffer(kind) ? kind.toString('latin1') : '');
}
