/**
 * What a cluster node's connection tells the client-side cache, placed on the
 * slot map: the slots whose keys that node serves (its shard's, whether it is
 * the master or a replica). A loss, a new connection or a FLUSHALL on one node
 * then drops only those slots' entries, and the other shards' stay warm;
 * before, any node's reconnect emptied the whole cache. A node the current map
 * does not place (a seed before the first map, a node that left) still resets
 * everything.
 *
 * Why the current map is the right one: an entry is kept only from a reply of
 * the node that owned its slot when the read was issued, and every change of
 * owner since (MOVED, ASK, a new map) dropped that slot's entries and reads
 * in flight (TrackingSink.slotsMoved).
 */
import type { TrackingSink } from '../../connection/tracking.js';
import { nodeAddress, type SlotMap } from './slot-map.js';

/** The slots of the shard `host:port` belongs to in `map` (as master or replica), or undefined if it is not in the map. */
export function shardSlots(map: SlotMap, host: string, port: number): number[] | undefined {
  const address = nodeAddress(host, port);
  const shard = map.shards.findIndex((s) => s.master.address === address || s.replicas.some((r) => r.address === address));
  if (shard < 0) return undefined;
  const slots: number[] = [];
  for (const r of map.ranges()) {
    if (r.shard !== shard) continue;
    for (let slot = r.start; slot <= r.end; slot++) slots.push(slot);
  }
  return slots;
}

/** The sink for the connections of node `host:port`: `sink`, told which slots each event concerns. */
export function shardTracking(sink: TrackingSink | undefined, host: string, port: number, map: () => SlotMap): TrackingSink | undefined {
  if (sink === undefined) return undefined;
  return {
    connected: (node, tracking) => sink.connected(node, tracking, shardSlots(map(), host, port)),
    lost: (node) => sink.lost(node, shardSlots(map(), host, port)),
    invalidate: (keys) => sink.invalidate(keys, keys === null ? shardSlots(map(), host, port) : undefined),
    slotsMoved: (slots) => sink.slotsMoved(slots),
  };
}
