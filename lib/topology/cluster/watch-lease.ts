/**
 * A db.watch connection on a cluster: leased on the master of the watched
 * keys' slot, it carries commands of that slot only, in database 0. DESIGN:
 * multi and watch need every key in one slot (else CrossSlotError, nothing
 * sent). What fn sent through `conn` with keys of another slot went to the
 * watch's node all the same: answered MOVED (conn.multi: EXECABORT) when
 * another master serves that slot, run there when the same node does, so the
 * outcome hung on where slots happened to be. And a `redis.database(n)`
 * handle made before auto mode knew it talks to a cluster sent SELECT n.
 * Both are refused here, before anything is written, and so are commands
 * that go to every master or node (DBSIZE, KEYS, FLUSHALL...: route.ts
 * everyNodeOnly), which on this one node would answer for it only.
 */
import { failCommand, type Command } from '../../connection/command.js';
import type { Lease } from '../../connection/pool.js';
import { onlyDatabaseZero, slotOf } from './pinned.js';
import { crossSlot, everyNodeOnly } from './route.js';

/** Why `cmd` may not go on a lease watching `slot` (-1: no key watched), or undefined. `block`: the MULTI it is part of. */
function refusal(cmd: Command, slot: number, block?: string): Error | undefined {
  if (cmd.db > 0) return onlyDatabaseZero(block ?? cmd.info.name);
  try {
    const s = slotOf(cmd, block);
    if (s === -1) return everyNodeOnly(cmd.info, block === undefined ? 'watch' : 'block'); // DBSIZE, KEYS...: this node's answer only
    return slot !== -1 && s !== slot ? crossSlot(block ?? cmd.info.name) : undefined;
  } catch (err) {
    return err as Error; // its own keys span slots, or cannot be found
  }
}

/** `lease`, refusing (settled, never written) what does not belong to `slot` or to database 0. */
export function watchLease(lease: Lease, slot: number, report: (err: Error, cmd: Command) => void): Lease {
  const bound = Object.create(lease) as Lease; // reads fall through to the lease; every method it has is delegated below
  bound.send = (cmd, timeout, custom) => {
    const no = refusal(cmd, slot);
    if (no === undefined) lease.send(cmd, timeout, custom);
    else failCommand(cmd, no, report);
  };
  bound.reply = <T>(cmd: Command<T>): Promise<T> => {
    const no = refusal(cmd, slot);
    if (no === undefined) return lease.reply(cmd);
    const reply = cmd.toPromise();
    cmd.reject(no);
    return reply;
  };
  bound.sendGroup = (cmds, timeout, custom) => {
    // MULTI and EXEC stand around the block's commands. Throwing is how routing refuses a block: runMulti settles it whole.
    for (let i = 0; i < cmds.length; i++) {
      const no = refusal(cmds[i]!, i === 0 || i === cmds.length - 1 ? -1 : slot, 'MULTI');
      if (no !== undefined) throw no;
    }
    lease.sendGroup(cmds, timeout, custom);
  };
  bound.release = (clean) => lease.release(clean);
  return bound;
}
