/**
 * When the commands encoded for a socket are handed to it (auto-pipelining):
 * a lone command on an idle connection at once (lowest latency), the commands
 * of one turn of the event loop together at `setImmediate` (one write,
 * corked), or at once past a byte threshold. A socket that asks to wait for
 * 'drain' stops the writing (`Link.blocked`): new commands wait, bounded, in
 * the connection's queue until it drains.
 *
 * The state is the socket's own (Link: encoded bytes, unflushed count,
 * scheduled flag); this file decides when it moves.
 */
import type { Link } from './link.js';
import type { MultiplexerStats } from './options.js';

export interface FlushHost {
  /** Whether `link` is still the connection's socket (a lost one's bytes are dropped with it). */
  current(link: Link): boolean;
  readonly stats: MultiplexerStats;
  /** Write what waited behind a full socket, now that it drained. */
  pump(): void;
}

export class Flusher {
  constructor(
    private readonly host: FlushHost,
    /** Encoded bytes past which a flush does not wait for the end of the turn. */
    private readonly threshold: number,
  ) {}

  /** A command was just encoded for `link`; `inflight`: how many are in flight on the connection, it included. */
  wrote(link: Link, inflight: number): void {
    // An idle connection writes at once (lowest latency for a lone caller);
    // otherwise the tick's commands go out together at setImmediate.
    if (link.unflushed === 1 && inflight === 1 && !link.flushScheduled) this.flush(link);
    else if (link.encoder.pendingBytes >= this.threshold) this.flush(link);
    else if (!link.flushScheduled) this.schedule(link);
  }

  /**
   * Flush at setImmediate. Its own method so that `wrote` captures nothing: a
   * closure over `link` there would make V8 allocate a context on every call
   * (about 50 bytes a command), not only when a flush is scheduled.
   */
  private schedule(link: Link): void {
    link.flushScheduled = true;
    setImmediate(() => this.flush(link));
  }

  /** Hand what is encoded for `link` to its socket now (the reader flushes mid-read too: reader.ts). */
  flush(link: Link): void {
    link.flushScheduled = false;
    if (!this.host.current(link) || link.unflushed === 0) return;
    const socket = link.socket;
    const bytes = link.writeOut();
    const stats = this.host.stats;
    stats.writes++;
    stats.bytesOut += bytes;
    if (socket.writableNeedDrain && !link.blocked) {
      // Backpressure: stop encoding; new commands wait (bounded) in the queue until drain.
      link.blocked = true;
      socket.once('drain', () => {
        link.blocked = false;
        this.host.pump();
      });
    }
  }
}
