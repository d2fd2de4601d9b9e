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
 * a node of the shard that owned its slot when the read was issued (its
 * master, or a replica with cluster.readFrom or through a replica's per-node
 * handle: filed apart, FillTarget.replicaReads), and every change since that
 * takes the slot from such a node (MOVED, ASK, a new map with another master,
 * or without that replica in the slot's shard: SlotMap.slotsMovedFrom)
 * dropped that slot's entries and reads in flight (TrackingSink.slotsMoved).
 * A replica moved to another shard is then placed in its new one only.
 */
import type { TrackingSink } from '../../connection/tracking.js';
import { nodeAddress, type SlotMap } from './slot-map.js';

/**
 * The slots of the shards `host:port` belongs to in `map` (as master or
 * replica), or undefined if it is not in the map. Usually one shard; two
 * after a MOVED to a promoted replica (SlotMap.withMoved lists it as the
 * moved slot's master and still as its old shard's replica until a refresh).
 */
export function shardSlots(map: SlotMap, host: string, port: number): number[] | undefined {
  const address = nodeAddress(host, port);
  const shards = new Set<number>();
  map.shards.forEach((s, i) => {
    if (s.master.address === address || s.replicas.some((r) => r.address === address)) shards.add(i);
  });
  if (shards.size === 0) return undefined;
  const slots: number[] = [];
  for (const r of map.ranges()) {
    if (!shards.has(r.shard)) continue;
    for (let slot = r.start; slot <= r.end; slot++) slots.push(slot);
  }
  return slots;
}

/** The sink for the connections of node `host:port`: `sink`, told which slots each event concerns. */
export function shardTracking(sink: TrackingSink | undefined, host: string, port: number, map: () => SlotMap): TrackingSink | undefined {
  if (sink === undefined) return undefined;
  // Named by its announced address, whatever it was dialled as (cluster.addressMap): what `gone` names it by.
  const address = nodeAddress(host, port);
  return {
    connected: (_node, tracking) => sink.connected(address, tracking, shardSlots(map(), host, port)),
    lost: () => sink.lost(address, shardSlots(map(), host, port)),
    invalidate: (keys) => sink.invalidate(keys, keys === null ? shardSlots(map(), host, port) : undefined),
    slotsMoved: (slots) => sink.slotsMoved(slots),
  };
}
