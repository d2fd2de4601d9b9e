/**
 * Feeds one socket's bytes to the decoder, and lets client and server work at
 * the same time when a read holds many replies (issue 15, "overlap").
 *
 * Without it, a read of 128 replies is decoded whole; their callers' next
 * commands are issued in the microtasks that follow and leave in one write at
 * the end of the turn. The server idles while the client resolves, then the
 * client idles while the server works: on two cores, one of them waits.
 *
 * So once per read, after `REPLIES_BEFORE_FLUSH` replies, unless the server
 * has plenty queued already (`MAX_DEPTH_FOR_STOP`), the decoder stops at a
 * reply boundary and the rest of the read waits for a `setImmediate`. By
 * then the resolved callers' continuations (microtasks) have issued their next
 * commands; those are written first (`flush`), and the server works on them
 * while the client decodes the rest of the read. A read with fewer replies
 * (a lone caller, a few) never stops.
 *
 * Measured (bench, redmux against its build without the stop, in one run, 5
 * repetitions, 2 cores): 1.9x at 128 callers (GET and SET, 16 B: about 53%
 * of redis-benchmark -P 16 instead of 26%), and CPU per op down a third;
 * level (0.97-1.05x, within noise) with one and 16 callers, 1024 callers, a
 * burst and pub/sub. Stopping more often (every 32 replies, or at 32, 96,
 * 224...) gained as much at 128 callers but lost a quarter at 1024 callers.
 *
 * Order is untouched: replies and pushes are decoded strictly in stream order;
 * a read that arrives during a stop waits behind the bytes already held.
 */
import type { Decoder } from '../resp/decoder.js';

/** Replies of one read resolved before what their callers issued is written. */
export const REPLIES_BEFORE_FLUSH = 64;
/**
 * No stop while more commands than this are still in flight: the server has
 * work queued already (1024 callers, a burst of un-awaited commands, a
 * publisher), and a stop would only cost a write and a turn.
 */
export const MAX_DEPTH_FOR_STOP = 256;

export class Reader {
  /** Reads that arrived while the decoder was stopped, in order. */
  private backlog: Buffer[] = [];
  /** Replies delivered from the current read, or -1 once it stopped (a read stops once). */
  private replies = 0;
  /** A resumption is scheduled. */
  private stopped = false;

  constructor(
    private readonly decoder: Decoder,
    private readonly hooks: {
      /** Whether this socket is still the connection's (a lost one's bytes are dropped). */
      current(): boolean;
      /** Commands written and not yet answered. */
      inFlight(): number;
      /** Write what the callers issued so far. */
      flush(): void;
      /** The bytes were not RESP, or the sink threw: drop the connection. */
      failed(err: unknown): void;
    },
  ) {}

  /** The sink delivered one more reply. */
  replied(): void {
    if (this.replies >= 0 && ++this.replies === REPLIES_BEFORE_FLUSH && this.hooks.inFlight() <= MAX_DEPTH_FOR_STOP) this.decoder.pause();
  }

  /** A read from the socket. */
  data(chunk: Buffer): void {
    if (this.stopped) {
      this.backlog.push(chunk);
      return;
    }
    this.feed(chunk);
  }

  private feed(chunk: Buffer): boolean {
    this.replies = 0;
    try {
      if (!this.decoder.feed(chunk)) return false;
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.stopped = true;
    setImmediate(this.resume);
    return true;
  }

  private readonly resume = (): void => {
    this.stopped = false;
    if (!this.hooks.current()) {
      this.backlog = [];
      return;
    }
    this.hooks.flush(); // the server works on these while the rest is decoded
    this.replies = -1; // the rest of this read goes through without another stop
    try {
      this.decoder.resume();
    } catch (err) {
      this.failed(err);
      return;
    }
    while (this.backlog.length > 0 && !this.stopped && this.hooks.current()) this.feed(this.backlog.shift()!);
  };

  private failed(err: unknown): void {
    this.backlog = [];
    this.hooks.failed(err);
  }
}
