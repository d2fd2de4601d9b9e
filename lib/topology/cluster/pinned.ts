/**
 * The routing of a per-node handle (`redis.nodes()`): everything goes to one
 * node's unit, marked pinned so that no redirection, hand back or reroute
 * ever sends it elsewhere (it fails instead when the node leaves).
 */
import type { Standalone, Topology } from '../standalone.js';

/** `unit` is asked on every call: the node's unit may have been opened afresh since. */
export function pinnedRouting(unit: () => Standalone, replica: boolean): Topology {
  return {
    replicaReads: replica, // a replica's answers are cached apart from the masters'
    send: (cmd, timeout, custom) => {
      cmd.pinned = true;
      unit().send(cmd, timeout, custom);
    },
    sendGroup: (cmds, timeout, custom) => {
      for (const c of cmds) c.pinned = true;
      unit().sendGroup(cmds, timeout, custom);
    },
    lease: (keys) => unit().lease(keys),
    pubsub: (kind, name) => unit().pubsub(kind, name),
    close: () => Promise.resolve(), // the client closes its nodes
    disconnect: () => {},
    stats: () => unit().stats(),
  };
}
