/**
 * What a pub/sub call is refused with once its connection gave up for good
 * (reconnecting exhausted, or a configuration the server refuses), from the
 * last connection error: each call gets an error of its own, naming its
 * command, with that error as the cause.
 */
import { ConnectError, ConnectionLostError, ServerError, couldNotConnect } from '../errors.js';

export function gaveUpError(cause: Error | undefined, node: string): (command: string) => Error {
  return (command) =>
    cause instanceof ServerError
      ? new ConnectError('the server refused the pub/sub connection\'s configuration; fix the options. Not reconnecting', { command, node, cause })
      : cause instanceof ConnectError
        ? couldNotConnect('the pub/sub connection could not connect and reconnecting is over', { command, node, cause })
        : new ConnectionLostError('the pub/sub connection was lost and reconnecting is over', false, { command, node, cause });
}
