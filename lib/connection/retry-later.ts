/**
 * Commands the server refused before running them (LOADING, BUSY, READONLY,
 * ...) wait here for their retry policy's backoff, then go back to the front
 * of the queue. They are tracked so that close() can wait for them and
 * disconnect() can settle them.
 */
import { SETTLED, type Command } from './command.js';

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
