/**
 * The connection attempt under way (dial.ts: locate, socket, credentials
 * provider; then the handshake), as close() and disconnect() must end it: at
 * once, not after connectTimeout, which alone bounds each of those steps.
 * Ending it destroys its socket, clears its timers and settles the
 * handshake's own commands (their promise clears the handshake's timer), so
 * nothing of it keeps the process alive and nothing more is written.
 */
import { ClosedError } from '../errors.js';
import { InternalCommand, SETTLED, type Command } from './command.js';
import type { CommandQueue } from './queue.js';

export class Attempt {
  private controller: AbortController | undefined;

  /** A new attempt starts (an older one still under way is abandoned): its signal, for dial(). */
  start(node: string): AbortSignal {
    this.controller?.abort(new ClosedError('a newer connection attempt superseded this one', { node }));
    return (this.controller = new AbortController()).signal;
  }

  /** End the attempt under way: its socket and timers, and the handshake's commands among `inflight`. */
  abandon(node: string, inflight: Command[]): void {
    this.controller?.abort(new ClosedError('the client closed', { node }));
    this.controller = undefined;
    for (const cmd of inflight) {
      if (cmd instanceof InternalCommand && cmd.state !== SETTLED) cmd.reject(new ClosedError('the client closed before the connection was ready', { command: cmd.info.name, node }));
    }
  }
}

/** A caller's command waits to be written (or waits out a retry backoff): close() lets an attempt under way deliver it. */
export function owesCommands(queue: CommandQueue, retrying: number): boolean {
  for (let i = 0; i < queue.length; i++) if (queue.peekAt(i)!.state !== SETTLED) return true;
  return retrying > 0;
}
