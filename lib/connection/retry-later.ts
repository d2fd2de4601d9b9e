/**
 * Commands the server refused before running them (LOADING, BUSY, READONLY,
 * ...) wait here for their retry policy's backoff, then go back to the front
 * of the queue. They are tracked so that close() can wait for them and
 * disconnect() can settle them.
 */
import { refusedBeforeRunning, type ServerError } from '../errors.js';
import { InternalCommand, SETTLED, type Command } from './command.js';

/**
 * The backoff before resending a command the server refused before running it
 * (so resending cannot make it run twice, writes included), or -1: not such a
 * refusal, not the caller's command, the policy says no, or the backoff would
 * end past the command's deadline.
 */
export function refusedRetryDelay(cmd: Command, err: ServerError, now: number): number {
  if (cmd instanceof InternalCommand || !cmd.retry || !refusedBeforeRunning(err)) return -1;
  const delay = cmd.retry.delayFor(cmd.attempts, err);
  return delay < 0 || (cmd.deadline > 0 && now + delay >= cmd.deadline) ? -1 : delay;
}

export class RetryLater {
  private readonly waiting = new Map<Command, NodeJS.Timeout>();

  get size(): number {
    return this.waiting.size;
  }

  /** After `delay` ms, hand `cmd` to `resend` (unless it settled meanwhile). */
  schedule(cmd: Command, delay: number, resend: (cmd: Command) => void): void {
    const timer = setTimeout(() => {
      this.waiting.delete(cmd);
      if (cmd.state !== SETTLED) resend(cmd);
    }, delay);
    this.waiting.set(cmd, timer);
  }

  /** Cancel every pending retry, settling each command with the error `make` builds. */
  cancelAll(fail: (cmd: Command) => void): void {
    for (const [cmd, timer] of this.waiting) {
      clearTimeout(timer);
      fail(cmd);
    }
    this.waiting.clear();
  }
}
