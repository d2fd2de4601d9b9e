/**
 * A side connection leased from the blocking pool: a Multiplexer of its own
 * that never reconnects (the pool replaces a dead lease) and is never
 * health-pinged while leased (a PING would queue behind a BLPOP, "time out"
 * and kill it; the pool checks idle leases itself).
 */
import { commandInfo } from '../commands/index.js';
import { refusedBeforeRunning } from '../errors.js';
import { Command } from './command.js';
import type { HandshakeResult } from './handshake.js';
import { Multiplexer, type MultiplexerOptions } from './multiplexer.js';

export interface LeaseOwner {
  /** Take the lease back (`clean`: nothing in flight, no state left on the connection). */
  release(lease: Lease, clean: boolean): void;
  /** The lease's connection is gone. */
  closed(lease: Lease): void;
  unobservedError(err: Error, cmd: Command): void;
}

export class Lease {
  readonly mux: Multiplexer;
  /**
   * Server-side id of the connection, for CLIENT UNBLOCK: from the HELLO
   * reply, or CLIENT ID on RESP2. Undefined while unknown (or when the ACL
   * refuses CLIENT ID).
   */
  id: number | undefined = undefined;
  /**
   * Set while a blocking command runs on the lease: gives the command up (its
   * caller is told why) and drains the lease of whatever it still owes.
   */
  abandon: ((why: 'deadline' | 'closing' | 'abort', reason?: unknown) => void) | undefined = undefined;
  /** Date.now() when it last went idle, for the pool's idle health check. */
  idleSince = 0;
  /** @internal set by the pool each time the lease is handed out. */
  released = false;
  private askedId = false;
  /**
   * CLIENT ID was answered BUSY or LOADING (a lease opened during another
   * client's runaway script): no refusal, so it is asked again ahead of the
   * next command, which a blocking command must not be written before (an
   * abandoned `BLPOP q 0` could not be unblocked, and held its lease).
   */
  private idAskedAgain = false;

  constructor(connection: MultiplexerOptions, private readonly owner: LeaseOwner) {
    this.mux = new Multiplexer(
      { ...connection, reconnect: () => -1, endAtHandover: true, offlineQueue: true, discoverModules: false, pingInterval: 0 },
      {
        ready: (info) => this.onReady(info),
        error() {},
        reconnecting() {},
        close: () => owner.closed(this),
        unobservedError: (err, cmd) => owner.unobservedError(err, cmd),
        push() {},
      },
    );
    // Without HELLO there is no id in the handshake: ask first, ahead of any command.
    if (connection.protocol === 2) this.askId();
  }

  private onReady(info: HandshakeResult): void {
    const id = info.server?.id;
    if (typeof id === 'number') this.id = id;
    else this.askId(); // a server that fell back to RESP2
  }

  private askId(): void {
    if (this.askedId && !this.idAskedAgain) return;
    this.askedId = true;
    this.idAskedAgain = false;
    const cmd = new Command<number>('CLIENT', ['ID'], commandInfo('CLIENT', 'ID'), 0, -1);
    // Refused by an ACL without `client|id`: the id stays unknown and the pool drains without it.
    cmd.then(
      (id) => (this.id = typeof id === 'number' ? id : undefined),
      (err: unknown) => (this.idAskedAgain = refusedBeforeRunning(err)),
    );
    this.mux.send(cmd);
  }

  send(cmd: Command, timeout?: number, custom = false): void {
    if (this.idAskedAgain) this.askId();
    this.mux.send(cmd, timeout, custom);
  }

  sendGroup(cmds: Command[], timeout?: number, custom = false): void {
    if (this.idAskedAgain) this.askId();
    this.mux.sendGroup(cmds, timeout, custom);
  }

  reply<T = unknown>(cmd: Command<T>): Promise<T> {
    const p = cmd.toPromise();
    this.mux.send(cmd);
    return p;
  }

  /** Give the lease back. `clean`: no command in flight and no state left on the connection. */
  release(clean: boolean): void {
    if (this.released) return;
    this.released = true;
    this.owner.release(this, clean);
  }
}
