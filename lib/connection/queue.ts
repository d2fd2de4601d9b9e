/**
 * The FIFO of commands waiting to be written (offline, behind a probe SELECT,
 * behind a full socket), bounded in count and in (approximate) bytes.
 */
import Denque from 'denque';
import { OfflineQueueFullError, type ErrorContext } from '../errors.js';
import { SETTLED, type Command } from './command.js';

/** Rough size of a command once encoded; counted only for queued commands, never on the fast path. */
export function approximateBytes(cmd: Command): number {
  let n = cmd.name.length + 16;
  const args = cmd.args;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    n += (typeof a === 'string' ? a.length : a instanceof Uint8Array ? a.length : 20) + 16;
  }
  return n;
}

export class CommandQueue {
  private readonly items = new Denque<Command>();
  /** Approximate bytes of the queued commands. */
  bytes = 0;
  /** Refusal checks over a bound since the last compaction. */
  private checksSinceCompaction = Infinity;

  get length(): number {
    return this.items.length;
  }

  peekFront(): Command | undefined {
    return this.items.peekFront();
  }

  peekAt(i: number): Command | undefined {
    return this.items.peekAt(i);
  }

  push(cmd: Command): void {
    this.track(cmd);
    this.items.push(cmd);
  }

  unshift(cmd: Command): void {
    this.track(cmd);
    this.items.unshift(cmd);
  }

  shift(): Command | undefined {
    const cmd = this.items.shift();
    if (cmd !== undefined) {
      this.bytes -= cmd.queuedBytes;
      cmd.queuedBytes = 0;
    }
    return cmd;
  }

  /**
   * Take the next unit from the front: one command, or a whole contiguous group
   * (MULTI ... EXEC), never part of one. A unit whose deadline passed (a
   * group's is its last command's) is never sent: its members are settled with
   * what `expired` makes, and it comes back empty.
   */
  shiftUnit(expired: (cmd: Command) => Error): Command[] {
    const first = this.shift()!;
    if (first.groupSize <= 1) return first.state === SETTLED ? [] : [first];
    const group = [first];
    for (let i = 1; i < first.groupSize; i++) group.push(this.shift()!);
    if (group[group.length - 1]!.state !== SETTLED) return group;
    for (const c of group) c.reject(expired(c)); // the timed-out last one is settled already
    return [];
  }

  /**
   * Why `cmds` may not join the queue (past `maxQueued` commands or
   * `maxQueuedBytes` approximate bytes), or undefined when they may.
   */
  refusal(cmds: readonly Command[], limits: { maxQueued: number; maxQueuedBytes: number }, ctx: ErrorContext, expired: (cmd: Command) => Error): Error | undefined {
    const over = () => this.length + cmds.length > limits.maxQueued || this.bytes + cmds.reduce((n, c) => n + approximateBytes(c), 0) > limits.maxQueuedBytes;
    // Commands given up while queued (deadline, abort) stay in place until written or compacted out:
    // over a bound, compact first. At most once per length/8 refusals, so a flood against a queue
    // of live commands costs O(1) amortised per call, not a scan each.
    if (over() && ++this.checksSinceCompaction * 8 >= this.length) {
      this.checksSinceCompaction = 0;
      this.compact(expired);
    }
    if (this.length + cmds.length > limits.maxQueued) {
      return new OfflineQueueFullError(`${this.length} commands already wait to be written; it was not sent`, ctx);
    }
    if (this.bytes + cmds.reduce((n, c) => n + approximateBytes(c), 0) > limits.maxQueuedBytes) {
      return new OfflineQueueFullError(`about ${this.bytes} bytes already wait to be written; it was not sent`, ctx);
    }
    return undefined;
  }

  /** Drop settled commands (and groups whose deadline passed: `expired` settles their members), keeping the rest in order. */
  private compact(expired: (cmd: Command) => Error): void {
    const kept: Command[] = [];
    while (this.items.length > 0) for (const c of this.shiftUnit(expired)) kept.push(c);
    for (const c of kept) this.push(c);
  }

  /** Take out every command matching `pred`, keeping the others in order. */
  removeWhere(pred: (cmd: Command) => boolean): Command[] {
    const removed: Command[] = [];
    const kept: Command[] = [];
    while (this.items.length > 0) {
      const cmd = this.shift()!;
      (pred(cmd) ? removed : kept).push(cmd);
    }
    for (const cmd of kept) this.push(cmd);
    return removed;
  }

  // The size rides on the command itself: a WeakMap entry per queued command
  // cost about a quarter of the CPU (and its GC) on a 100k burst.
  private track(cmd: Command): void {
    const size = approximateBytes(cmd);
    cmd.queuedBytes = size;
    this.bytes += size;
  }
}
