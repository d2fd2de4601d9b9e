/**
 * What a hub does with a frame its connection received that no call was
 * owed (see connection/pubsub-frames.ts): a message goes to the members
 * holding its name, in the order they joined; an unsubscribe the server
 * initiated (a cluster slot moved away: `sunsubscribe`) of a name still
 * wanted and confirmed is handed back to be subscribed again. Anything else
 * (a duplicate confirmation, a malformed frame from a hostile server, a name
 * let go of meanwhile) is dropped.
 */
import { MESSAGE, PMESSAGE, PUNSUBSCRIBED, SMESSAGE, SUNSUBSCRIBED, UNSUBSCRIBED, frameKind, wellFormedMessage } from '../connection/pubsub-frames.js';
import type { Reply } from '../resp/types.js';
import { CHANNEL, PATTERN, SHARD, frameKey, type Entry, type Kind } from './subscriptions.js';

/**
 * @param entries the hub's entries, by kind
 * @param again a confirmed entry the server let go of: the hub subscribes it again
 *   (a shard channel whose slot moved is answered MOVED: its members move)
 */
export function dispatchFrame(frame: Reply[], entries: readonly Map<string, Entry>[], again: (e: Entry) => void): void {
  const type = frameKind(frame[0]);
  const kind = type === MESSAGE ? CHANNEL : type === PMESSAGE ? PATTERN : type === SMESSAGE ? SHARD : -1;
  const key = frameKey(frame[1]);
  if (key === undefined) return;
  if (kind < 0) {
    const dropped = type === UNSUBSCRIBED ? CHANNEL : type === PUNSUBSCRIBED ? PATTERN : type === SUNSUBSCRIBED ? SHARD : -1;
    const e = dropped < 0 ? undefined : entries[dropped as Kind]!.get(key);
    if (e === undefined || !e.confirmed) return;
    e.confirmed = false;
    again(e);
    return;
  }
  const e = entries[kind as Kind]!.get(key);
  if (e === undefined || !wellFormedMessage(frame, type)) return; // unsubscribed meanwhile; or no message (a hostile server)
  const holders = e.holders;
  for (let i = 0; i < holders.length; i++) holders[i]!.deliver(kind as Kind, frame);
}
