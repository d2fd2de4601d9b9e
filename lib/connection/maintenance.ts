/**
 * Maintenance notifications ("smart client handoffs"): servers that support
 * them (Redis Software, Redis Cloud; asked with `CLIENT MAINT_NOTIFICATIONS
 * ON` in the handshake) push, on each connection, before planned work:
 *
 *   MIGRATING <seq> <time> <shards>   FAILING_OVER <seq> <time> <shards>
 *       the node is about to be slow: deadlines are relaxed (every deadline,
 *       set before or after, gets `relaxedTimeout` ms more) ...
 *   MIGRATED <seq> <shards>           FAILED_OVER <seq> <shards>
 *       ... until it is over (counted: overlapping periods end with the last);
 *   MOVING <seq> <seconds> <host:port | null>
 *       the connection will be closed in <seconds>: stop writing to it, let
 *       what was written be answered, then connect to <host:port> (null: to
 *       the same endpoint, after half the grace period) and write what was
 *       queued meanwhile there. Nothing in flight fails; new connections go
 *       to the new endpoint for the grace period. Deadlines are relaxed until
 *       the new connection is ready.
 *
 * The frames are consumed here (never reach the client's 'push' listeners).
 */
import type { MultiplexerOptions } from './options.js';
import { describeEndpoint, type Endpoint } from './socket.js';
import type { Reply } from '../resp/types.js';

export interface MaintenanceHost {
  /** Give every deadline `ms` more (0: none). */
  relax(ms: number): void;
  /** Stop writing to the current connection; once its replies are in, reconnect at once (to `endpoint()`). */
  handOver(why: string): void;
}

const MAX_TIMER = 2 ** 31 - 1;

const KINDS = new Set(['MOVING', 'MIGRATING', 'MIGRATED', 'FAILING_OVER', 'FAILED_OVER']);

function text(v: Reply | undefined): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'number' ? String(v) : undefined;
}

/** `host:port` (the last colon splits, so a bare IPv6 address works; `[v6]:port` too). */
function parseAddress(s: string, tls: Endpoint['tls']): Endpoint | undefined {
  const i = s.lastIndexOf(':');
  if (i <= 0) return undefined;
  const port = Number(s.slice(i + 1));
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  if (!Number.isInteger(port) || port < 1 || port > 65535 || host.length === 0) return undefined;
  return { host, port, tls };
}

export class Maintenance {
  /** Maintenance periods under way (MIGRATING / FAILING_OVER / MOVING not yet ended). */
  private periods = 0;
  /** Where new connections go while a MOVING grace period lasts. */
  private moved: Endpoint | undefined;
  private movedUntil = 0;
  /** A MOVING handover is waiting for the new connection to be ready. */
  private moving = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: MaintenanceHost,
    private readonly relaxedTimeout: number,
    private readonly tls: Endpoint['tls'],
  ) {}

  /** The endpoint for the next connection, if a MOVING says it is not the configured one. */
  endpoint(): Endpoint | undefined {
    if (this.moved !== undefined && Date.now() >= this.movedUntil) this.moved = undefined;
    return this.moved;
  }

  /**
   * A push frame: true when it was a maintenance notification (handled here).
   * Every frame of a pub/sub connection comes here first: a message (kinds in
   * lower case) is told apart by its first byte, without making a string.
   */
  push(frame: Reply[]): boolean {
    const first = frame[0];
    const c = typeof first === 'string' ? first.charCodeAt(0) : Buffer.isBuffer(first) ? first[0] : -1;
    if (c !== 0x4d && c !== 0x46) return false; // 'M' (MOVING, MIGRATING, MIGRATED) or 'F' (FAILING_OVER, FAILED_OVER)
    const kind = text(first);
    if (kind === undefined || !KINDS.has(kind)) return false;
    if (kind === 'MIGRATING' || kind === 'FAILING_OVER') this.begin();
    else if (kind === 'MIGRATED' || kind === 'FAILED_OVER') this.end();
    else this.onMoving(Number(text(frame[2])), text(frame[3]));
    return true;
  }

  /**
   * A new connection is being opened; returns where to (a MOVING's endpoint, during its grace period).
   * Notifications are per connection: a period the previous one announced would end there, never here, so it ends
   * now (else every deadline stayed relaxed for good after a node lost mid-maintenance), and so does a reconnect
   * scheduled for it. A MOVING handover stays relaxed until the new connection is ready.
   */
  connecting(): Endpoint | undefined {
    clearTimeout(this.timer);
    this.timer = undefined;
    const kept = this.moving ? 1 : 0;
    if (this.periods !== kept) {
      this.periods = kept;
      this.host.relax(kept ? this.relaxedTimeout : 0);
    }
    return this.endpoint();
  }

  /** A connection's handshake is done: a MOVING handover (if any) is complete. */
  connected(): void {
    if (!this.moving) return;
    this.moving = false;
    this.end();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.moving = false;
    this.periods = 0;
    this.host.relax(0);
  }

  private begin(): void {
    if (this.periods++ === 0) this.host.relax(this.relaxedTimeout);
  }

  private end(): void {
    if (this.periods === 0) return;
    if (--this.periods === 0) this.host.relax(0);
  }

  private onMoving(seconds: number, address: string | undefined): void {
    const grace = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
    const to = address !== undefined && address !== 'null' ? parseAddress(address, this.tls) : undefined;
    if (!this.moving) {
      this.moving = true;
      this.begin();
    }
    if (to !== undefined) {
      this.moved = to;
      this.movedUntil = Date.now() + Math.max(grace, 1000);
      this.host.handOver(`the server is moving this connection to ${describeEndpoint(to)} (MOVING)`);
      return;
    }
    // No address: the same endpoint will serve elsewhere; reconnect to it after half the grace period.
    clearTimeout(this.timer);
    // A garbage grace past what a timer holds would be clamped by Node to 1 ms (and warned about): cap it.
    this.timer = setTimeout(() => this.host.handOver('the server is moving this connection (MOVING); reconnecting'), Math.min(grace / 2, MAX_TIMER));
    this.timer.unref();
  }
}

/**
 * What a connection dials during a MOVING's grace period: the announced
 * endpoint, through `locateMoved` when set (cluster.addressMap), never the
 * connection's own `locate` (a MOVING names where to go ahead of it).
 */
export function movedOptions(opts: MultiplexerOptions, moved: Endpoint): MultiplexerOptions {
  const map = opts.locateMoved;
  return { ...opts, endpoint: moved, locate: map && (async () => ({ endpoint: map(moved) })) };
}

/** `moving-endpoint-type` for a configured host: from TLS and whether the host is a private (or loopback) IP. */
export function endpointType(host: string, tls: boolean): string {
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  const ip = v4 !== null || host.includes(':');
  const a = v4 ? Number(v4[1]) : -1;
  const b = v4 ? Number(v4[2]) : -1;
  const isPrivate = v4
    ? a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)
    : host === '::1' || /^f[cd]/i.test(host) || /^fe80/i.test(host);
  if (tls || !ip) return isPrivate ? 'internal-fqdn' : 'external-fqdn';
  return isPrivate ? 'internal-ip' : 'external-ip';
}
