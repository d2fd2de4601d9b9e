/**
 * The routing of a per-node handle (`redis.nodes()`): everything goes to one
 * node's unit, marked pinned so that no redirection, hand back or reroute
 * ever sends it elsewhere (it fails instead when the node leaves).
 */
import { CANNOT_FIND_KEYS, commandKeys, keysProblem } from '../../commands/index.js';
import { keySlot } from '../../commands/slot.js';
import type { Command } from '../../connection/command.js';
import { InvalidArgumentError } from '../../errors.js';
import type { Arg } from '../../resp/encoder.js';
import type { Standalone, Topology } from '../standalone.js';
import { crossSlot } from './route.js';

/**
 * A cluster has only database 0. `redis.database(n)` refuses n ≠ 0 once the
 * client knows it talks to a cluster; a handle made before (auto mode, the
 * first handshake still under way) is refused here, by the routing, before
 * anything is sent (the nodes would answer SELECT with an error).
 */
export function onlyDatabaseZero(command: string): InvalidArgumentError {
  return new InvalidArgumentError('a cluster has only database 0: this handle was made with redis.database(n), n ≠ 0, before the client knew it talks to a cluster; nothing was sent', { command });
}

const keys: number[] = [];

/**
 * The slot of `cmd`'s keys (-1: keyless, or keys the table cannot find).
 * One node cannot split a command: keys in several slots are a
 * CrossSlotError here, nothing sent (the node would refuse it with CROSSSLOT).
 */
export function slotOf(cmd: Command, command = cmd.info.name): number {
  const n = commandKeys(cmd.info, cmd.args as Arg[], keys);
  if (n === CANNOT_FIND_KEYS) throw new InvalidArgumentError(keysProblem(cmd.info, n), { command: cmd.info.name });
  if (n <= 0) return -1;
  const slot = keySlot((cmd.args as Arg[])[keys[0]!]!);
  for (let i = 1; i < n; i++) if (keySlot((cmd.args as Arg[])[keys[i]!]!) !== slot) throw crossSlot(command);
  return slot;
}

/** A MULTI block on one node: every key of its commands in one slot. */
function checkBlock(cmds: readonly Command[]): void {
  let slot = -1;
  for (let i = 1; i < cmds.length - 1; i++) {
    const s = slotOf(cmds[i]!, 'MULTI');
    if (s === -1) continue;
    if (slot === -1) slot = s;
    else if (s !== slot) throw crossSlot('MULTI');
  }
}

/** `unit` is asked on every call: the node's unit may have been opened afresh since. */
export function pinnedRouting(unit: () => Standalone, replica: boolean): Topology {
  return {
    replicaReads: replica, // a replica's answers are cached apart from the masters'
    send: (cmd, timeout, custom) => {
      if (cmd.db > 0) throw onlyDatabaseZero(cmd.info.name);
      slotOf(cmd);
      cmd.pinned = true;
      unit().send(cmd, timeout, custom);
    },
    sendGroup: (cmds, timeout, custom) => {
      if (cmds.some((c) => c.db > 0)) throw onlyDatabaseZero('MULTI');
      checkBlock(cmds);
      for (const c of cmds) c.pinned = true;
      unit().sendGroup(cmds, timeout, custom);
    },
    lease: (keys, maxWait) => unit().lease(keys, maxWait),
    pubsub: (kind, name) => unit().pubsub(kind, name),
    close: () => Promise.resolve(), // the client closes its nodes
    disconnect: () => {},
    stats: () => unit().stats(),
  };
}
