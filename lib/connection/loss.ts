/**
 * What happens to a command whose connection was lost before its reply came
 * (DESIGN rule 2: nothing runs twice behind the user's back).
 */
import { READONLY } from '../commands/flags.js';
import { ConnectionLostError, ProtocolError } from '../errors.js';
import { InternalCommand, type Command } from './command.js';

/**
 * `'requeue'` to send the command again on the next connection, or the error
 * to settle it with.
 *  - never handed to the socket: always requeued (it cannot have run);
 *  - internal commands (handshake, SELECT, transaction parts): never resent, their owner decides;
 *  - a corrupt stream (ProtocolError): every written command fails with it;
 *  - written: resent only if read-only (or the caller declared it idempotent)
 *    and its retry policy agrees; else ConnectionLostError{maybeExecuted: true}.
 */
export function afterLoss(cmd: Command, neverSent: boolean, cause: Error, node: string, canQueue: boolean): 'requeue' | Error {
  const ctx = { command: cmd.info.name, node, cause };
  if (cmd instanceof InternalCommand) {
    return neverSent
      ? new ConnectionLostError('the connection was lost before the command was sent', false, ctx)
      : new ConnectionLostError('the connection was lost after the command was sent; it may have run', true, ctx);
  }
  if (neverSent) return 'requeue';
  if (cause instanceof ProtocolError) return new ProtocolError(cause.message.replace(/ \(node [^)]*\)$/, ''), ctx);
  if (canQueue && resendDelay(cmd, cmd.attempts, cause, true) >= 0) return 'requeue';
  return new ConnectionLostError('the connection was lost after the command was sent; it may have run', true, ctx);
}

/**
 * Rule 2 in one place: the delay before sending `cmd` again after `attempt`
 * tries failed with `err`, or -1. A command that may have run is resent only
 * if it is read-only or the caller declared it idempotent, and only if its
 * retry policy agrees.
 */
export function resendDelay(cmd: Command, attempt: number, err: Error, maybeExecuted: boolean): number {
  if (!cmd.retry) return -1;
  if (maybeExecuted && (cmd.info.flags & READONLY) === 0 && !cmd.idempotent) return -1;
  return cmd.retry.delayFor(attempt, err);
}
