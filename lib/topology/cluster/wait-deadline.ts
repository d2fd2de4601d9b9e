/**
 * A command's deadline after it waited in cluster routing (for the first
 * slot map, behind a slot fence) before it could be handed to a node.
 *
 * Most commands keep what is left of their deadline, as a per-call one (a
 * shorter deadline than the command timeout, out of FIFO order). A blocking
 * command without a per-call `timeout` has none of its own here: its pool
 * computes it from the command's own block timeout plus blockingMargin
 * (README, blocking commands) when it runs it, so it is passed on as it came.
 * Handed over as a per-call deadline, what was left of the command timeout
 * would cut a `BLPOP q 30` short, sent, and an item it popped would be lost
 * to an orphaned reply.
 */
import { isBlockingCall } from '../../commands/index.js';
import type { Command } from '../../connection/command.js';

/** The deadline is the pool's to compute (a blocking command without a per-call timeout). */
export function ownDeadline(cmd: Command, custom: boolean): boolean {
  return !custom && isBlockingCall(cmd.info, cmd.args, 0);
}

/** `timeout` and `custom` for routing `cmd` again after a wait begun at `start` (`timeout` 0: none). */
export function leftAfterWait(cmd: Command, timeout: number, start: number, custom: boolean): [timeout: number, custom: boolean] {
  if (ownDeadline(cmd, custom)) return [timeout, false];
  return [timeout > 0 ? Math.max(1, timeout - (Date.now() - start)) : 0, true];
}
