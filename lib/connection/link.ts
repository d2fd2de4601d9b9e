/**
 * One socket and everything that is true of it alone: whether its handshake
 * is done, which database the last SELECT written on it selects, and the
 * bytes encoded for it but not yet written.
 *
 * The multiplexer outlives its sockets; a `Link` does not. Keeping this state
 * per socket (instead of on the multiplexer, reset by hand on reconnect) is
 * what makes safety rule 3 structural: bytes encoded for one socket can never
 * reach another, a SELECT answered on a dead socket cannot change the
 * database of the next one, and nothing is written to a socket whose
 * handshake is not done, whatever a listener does while a loss is handled.
 */
import type * as net from 'node:net';
import { Encoder } from '../resp/encoder.js';

/** `Link.db` before any SELECT ran: the handshake's was refused while the server was busy (select.ts selectWhenFree). */
export const NO_DATABASE = -1;

export class Link {
  /** Commands encoded for this socket and not yet handed to it. */
  readonly encoder = new Encoder();
  /** The handshake (AUTH, HELLO, SELECT, ...) completed: callers' commands may be written. */
  ready = false;
  /** The database selected on this socket by the last SELECT written (or the handshake's); NO_DATABASE: none yet. */
  db = 0;
  /** Why no database is selected yet (the handshake's SELECT was refused before running: BUSY, LOADING); asked again when free. */
  unselected: Error | undefined = undefined;
  /** A SELECT is in flight, or asked again while the server is busy: the queue waits for its answer (select.ts). */
  probing = false;
  /** The socket asked us to wait for 'drain'. */
  blocked = false;
  /** READONLY seen: write nothing more, and reconnect once the in-flight replies are in. */
  recycling = false;
  /** Connected to a replica on purpose (Sentinel role 'replica'): READONLY is an answer, not a failover. */
  replica = false;
  /** A planned move (MOVING, maintenance.ts): once the in-flight replies are in, reconnect at once, for this reason. */
  handover: string | undefined = undefined;
  /** How many entries at the tail of the in-flight FIFO are encoded but not yet written. */
  unflushed = 0;
  /** A flush is scheduled for the end of this turn of the event loop. */
  flushScheduled = false;
  /** When to re-authenticate before the token expires (reauth.ts); cleared when the socket is dropped. */
  reauth: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly socket: net.Socket,
    /** Told when the socket is dropped (diagnostics.ts). */
    private readonly life?: { closed(): void },
  ) {}

  /** Hand every encoded chunk to the socket (corked when several); returns the bytes written. */
  writeOut(): number {
    const socket = this.socket;
    const chunks = this.encoder.take();
    this.unflushed = 0;
    if (chunks.length === 1) {
      socket.write(chunks[0]!);
      return chunks[0]!.length;
    }
    let bytes = 0;
    socket.cork();
    for (const c of chunks) {
      bytes += c.length;
      socket.write(c);
    }
    socket.uncork();
    return bytes;
  }

  /** A planned move: write nothing more here; the owner reconnects once the in-flight replies are in. */
  handOver(why: string): true {
    this.recycling = true;
    this.handover = why;
    return true;
  }

  /** The client is closing: a planned move is dropped, what is queued is written here. */
  stayForClose(): void {
    this.recycling = false;
    this.handover = undefined;
  }

  /** Detach and close the socket: gracefully (FIN after pending writes) or at once. */
  drop(graceful: boolean): void {
    const socket = this.socket;
    this.life?.closed();
    this.ready = false;
    clearTimeout(this.reauth);
    socket.removeAllListeners('data');
    socket.removeAllListeners('close');
    socket.on('error', () => {}); // late errors of a socket we gave up on are expected
    if (graceful) {
      // Anything still encoded goes out before the FIN (close() waited for it to be written).
      for (const c of this.encoder.take()) socket.write(c);
      socket.destroySoon(); // ends after pending writes, then closes
    } else socket.destroy();
  }

  /** Whether a caller's command for database `db` may be written now, ahead of nothing. */
  canWrite(db: number): boolean {
    return this.ready && !this.blocked && !this.probing && !this.recycling && (db === this.db || db < 0);
  }

  /** Whether a command that runs in no database (select.ts) may be written now, ahead of a queue waiting for a SELECT. */
  canWriteAhead(): boolean {
    return this.ready && this.probing && !this.blocked && !this.recycling;
  }
}
