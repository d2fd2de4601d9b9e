/**
 * What happens to a command whose connection was lost before its reply came
 * (DESIGN rule 2: nothing runs twice behind the user's back).
 */
import { RESENDABLE } from '../commands/flags.js';
import { ConnectionLostError, ProtocolError } from '../errors.js';
import { InternalCommand, QUEUED, SETTLED, type Command } from './command.js';

/**
 * Sort the commands that were written (or encoded) on a lost connection, oldest
 * first; the last `unsent` of them never reached the socket. Returns those to
 * send again as soon as the next connection is up, in order; the others are
 * failed or handed to `later` with the retry policy's backoff.
 */
export function sortLost(
  written: Command[],
  unsent: number,
  cause: Error,
  node: string,
  canQueue: boolean,
  settle: { fail(cmd: Command, err: Error): void; later(cmd: Command, delay: number): void },
): Command[] {
  const now = Date.now();
  const again: Command[] = [];
  for (let i = 0; i < written.length; i++) {
    const cmd = written[i]!;
    if (cmd.state === SETTLED) continue; // timed out: its slot is gone with the connection
    const neverSent = i >= written.length - unsent;
    const outcome = afterLoss(cmd, neverSent, cause, node, canQueue, now);
    if (typeof outcome !== 'number') settle.fail(cmd, outcome);
    else if (outcome > 0) settle.later(cmd, outcome);
    else {
      if (neverSent) cmd.attempts--; // it was never tried
      cmd.state = QUEUED;
      again.push(cmd);
    }
  }
  return again;
}

/**
 * The delay in ms after which to send the command again on the next
 * connection (0: as soon as it is up), or the error to settle it with.
 *  - never handed to the socket: always sent again (it cannot have run);
 *  - internal commands (handshake, SELECT, transaction parts): never resent, their owner decides;
 *  - a corrupt stream (ProtocolError): every written command fails with it;
 *  - written: resent only if it is safe to send twice (or the caller declared
 *    it idempotent) and its retry policy agrees, after the policy's backoff,
 *    and only if that backoff ends before the command's deadline; else
 *    ConnectionLostError{maybeExecuted: true}.
 */
export function afterLoss(cmd: Command, neverSent: boolean, cause: Error, node: string, canQueue: boolean, now: number): number | Error {
  const ctx = { command: cmd.info.name, node, cause };
  if (cmd instanceof InternalCommand) {
    return neverSent
      ? new ConnectionLostError('the connection was lost before the command was sent', false, ctx)
      : new ConnectionLostError('the connection was lost after the command was sent; it may have run', true, ctx);
  }
  if (neverSent) return 0;
  if (cause instanceof ProtocolError) return new ProtocolError(cause.message.replace(/ \(node [^)]*\)$/, ''), ctx);
  const delay = canQueue ? resendDelay(cmd, cmd.attempts, cause, true) : -1;
  if (delay >= 0 && (cmd.deadline === 0 || now + delay < cmd.deadline)) return delay;
  return new ConnectionLostError('the connection was lost after the command was sent; it may have run', true, ctx);
}

/**
 * Rule 2 in one place: the delay before sending `cmd` again after `attempt`
 * tries failed with `err`, or -1. A command that may have run is resent only
 * if it is safe to send twice (the command table's RESENDABLE: read-only, or
 * without side effects such as PING, ECHO, TIME) or the caller declared it
 * idempotent, and only if its retry policy agrees.
 */
export function resendDelay(cmd: Command, attempt: number, err: Error, maybeExecuted: boolean): number {
  if (!cmd.retry) return -1;
  if (maybeExecuted && (cmd.info.flags & RESENDABLE) === 0 && !cmd.idempotent) return -1;
  return cmd.retry.delayFor(attempt, err);
}
