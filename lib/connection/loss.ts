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
  const safe = (cmd.info.flags & READONLY) !== 0 || cmd.idempotent;
  if (safe && canQueue && cmd.retry && cmd.retry.delayFor(cmd.attempts, cause) >= 0) return 'requeue';
  return new ConnectionLostError('the connection was lost after the command was sent; it may have run', true, ctx);
}
