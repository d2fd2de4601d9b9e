/**
 * The routing of a per-node handle (`redis.nodes()`): everything goes to one
 * node's unit, marked pinned so that no redirection, hand back or reroute
 * ever sends it elsewhere (it fails instead when the node leaves).
 */
import { InvalidArgumentError } from '../../errors.js';
import type { Standalone, Topology } from '../standalone.js';

/**
 * A cluster has only database 0. `redis.database(n)` refuses n ≠ 0 once the
 * client knows it talks to a cluster; a handle made before (auto mode, the
 * first handshake still under way) is refused here, by the routing, before
 * anything is sent (the nodes would answer SELECT with an error).
 */
export function onlyDatabaseZero(command: string): InvalidArgumentError {
  return new InvalidArgumentError('a cluster has only database 0: this handle was made with redis.database(n), n ≠ 0, before the client knew it talks to a cluster; nothing was sent', { command });
}

/** `unit` is asked on every call: the node's unit may have been opened afresh since. */
export function pinnedRouting(unit: () => Standalone, replica: boolean): Topology {
  return {
    replicaReads: replica, // a replica's answers are cached apart from the masters'
    send: (cmd, timeout, custom) => {
      if (cmd.db > 0) throw onlyDatabaseZero(cmd.info.name);
      cmd.pinned = true;
      unit().send(cmd, timeout, custom);
    },
    sendGroup: (cmds, timeout, custom) => {
      if (cmds.some((c) => c.db > 0)) throw onlyDatabaseZero('MULTI');
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
