/**
 * Endpoint failover for active-active deployments: several equivalent
 * endpoints (`endpoints: [primary, secondary, ...]`), a circuit breaker per
 * endpoint fed by health checks, and every connection of the client on the
 * healthiest available one (highest weight among those whose breaker is
 * closed).
 *
 * It is the standalone routing with an endpoint that can change (the
 * multiplexer's `locate` option, as for Sentinel): a switch drops every
 * connection not on the new endpoint and reconnects it there, so the safety
 * rules hold as at any reconnect (never-written commands go to the new
 * endpoint, written unsafe ones fail with `maybeExecuted: true`, subscribers
 * resubscribe there).
 *
 * Breaker: closed --(failureThreshold failed checks within failureWindow)-->
 * open --(gracePeriod)--> half-open --(a check passes)--> closed (a check that
 * fails sends it back to open). A health check is a PING on a small
 * connection of its own per endpoint, every `healthCheckInterval` ms, due
 * within `healthCheckTimeout`.
 */
import { commandInfo } from '../../commands/index.js';
import { Command } from '../../connection/command.js';
import { Multiplexer, type Located, type MultiplexerOptions } from '../../connection/multiplexer.js';
import type { PoolSettings } from '../../connection/pool.js';
import { describeEndpoint, type Endpoint } from '../../connection/socket.js';
import { ConnectError, NoPermError } from '../../errors.js';
import { OneUnitTopology } from '../one-unit.js';
import { Standalone, type TopologyHooks } from '../standalone.js';

export interface FailoverSettings {
  endpoints: (Endpoint & { weight: number })[];
  failureThreshold: number;
  failureWindow: number;
  gracePeriod: number;
  healthCheckInterval: number;
  healthCheckTimeout: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the client emits as 'failover' at every switch. */
export interface FailoverEvent {
  from: string | undefined;
  to: string | undefined;
  /** Every endpoint's breaker, by address. */
  states: Record<string, BreakerState>;
}

class Breaker {
  state: BreakerState = 'closed';
  private failures: number[] = [];
  private openedAt = 0;

  constructor(private readonly s: FailoverSettings) {}

  /** A health check's outcome; returns whether the state changed. */
  record(ok: boolean, now: number): boolean {
    const before = this.state;
    if (this.state === 'open' && now - this.openedAt >= this.s.gracePeriod) this.state = 'half-open';
    if (ok) {
      if (this.state === 'half-open') this.state = 'closed';
      if (this.state === 'closed') this.failures = [];
    } else if (this.state === 'half-open') {
      this.open(now);
    } else if (this.state === 'closed') {
      this.failures = this.failures.filter((t) => now - t < this.s.failureWindow);
      this.failures.push(now);
      if (this.failures.length >= this.s.failureThreshold) this.open(now);
    }
    return this.state !== before;
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.failures = [];
  }
}

const PING = commandInfo('PING');

export class EndpointFailover extends OneUnitTopology {
  protected readonly unit: Standalone;
  private readonly breakers: Breaker[];
  private readonly checkers: Multiplexer[];
  private readonly timer: NodeJS.Timeout;
  private active: number;
  private closed = false;
  /** The last failed health check's error (a refused password, a timeout, ...). */
  private lastFailure: Error | undefined;

  constructor(
    connection: MultiplexerOptions,
    pool: PoolSettings,
    private readonly hooks: TopologyHooks,
    private readonly s: FailoverSettings,
  ) {
    super();
    this.breakers = s.endpoints.map(() => new Breaker(s));
    this.active = this.best();
    const locate = (): Promise<Located> => {
      const i = this.best();
      if (i < 0) return Promise.reject(new ConnectError(`no endpoint is available (every circuit breaker is open: ${this.names().join(', ')})`, { cause: this.lastFailure }));
      return Promise.resolve({ endpoint: s.endpoints[i]! });
    };
    this.unit = new Standalone({ ...connection, endpoint: s.endpoints[this.active]!, locate, otherEndpoints: true }, pool, hooks);
    // Health connections: PING only, no handshake extras, reconnecting on their own.
    this.checkers = s.endpoints.map(
      (endpoint) =>
        new Multiplexer(
          { ...connection, endpoint, tracking: undefined, maintenance: undefined, discoverModules: false, pingInterval: 0, db: 0, commandTimeout: s.healthCheckTimeout, reconnect: (n) => Math.min(1000, 50 * n) },
          { ready() {}, error() {}, reconnecting() {}, close() {}, unobservedError() {}, push() {} },
        ),
    );
    this.timer = setInterval(() => this.check(), s.healthCheckInterval);
    this.timer.unref();
  }

  /** The endpoint the connections go to now (address), or undefined when none is available. */
  get current(): string | undefined {
    return this.active < 0 ? undefined : describeEndpoint(this.s.endpoints[this.active]!);
  }

  states(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = Object.create(null);
    this.s.endpoints.forEach((e, i) => (out[describeEndpoint(e)] = this.breakers[i]!.state));
    return out;
  }

  private names(): string[] {
    return this.s.endpoints.map((e) => describeEndpoint(e));
  }

  /** The available endpoint of highest weight (the first of equals), or -1. */
  private best(): number {
    let best = -1;
    this.s.endpoints.forEach((e, i) => {
      if (this.breakers[i]!.state === 'closed' && (best < 0 || e.weight > this.s.endpoints[best]!.weight)) best = i;
    });
    return best;
  }

  private check(): void {
    this.checkers.forEach((mux, i) => {
      const ping = new Command('PING', [], PING, 0, -1);
      ping.then(
        () => this.outcome(i, true),
        // An ACL user without PING is refused (NOPERM): an answer from a live server, not a failure.
        (err: unknown) => {
          if (!(err instanceof NoPermError) && err instanceof Error) this.lastFailure = err; // why no endpoint is available, if none is
          this.outcome(i, err instanceof NoPermError);
        },
      );
      mux.send(ping, this.s.healthCheckTimeout, true);
    });
  }

  private outcome(i: number, ok: boolean): void {
    if (this.closed || !this.breakers[i]!.record(ok, Date.now())) return;
    const next = this.best();
    if (next === this.active) return;
    const from = this.current;
    this.active = next;
    const to = this.current;
    this.hooks.failover?.({ from, to, states: this.states() });
    if (to !== undefined) this.unit.relocate(`endpoint failover: ${from ?? 'none'} -> ${to}`, (node) => node === to);
  }

  /**
   * The checkers carry only our own PINGs: they are dropped, not drained. A check waiting on an endpoint that
   * stopped answering would otherwise hold close() for its healthCheckTimeout (a checker's attempt, connectTimeout).
   */
  async close(): Promise<void> {
    this.stop();
    for (const m of this.checkers) m.disconnect();
    await this.unit.close();
  }

  disconnect(): void {
    this.stop();
    this.unit.disconnect();
    for (const m of this.checkers) m.disconnect();
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}
