/**
 * The routing a client starts with: a single server, a cluster, or 'auto',
 * which connects to the configured server and lets its first handshake decide
 * (HELLO's `mode`). When the server turns out to be a cluster node, the
 * commands queued so far (none was written: the handshake comes first) are
 * handed to the cluster routing, and the probe connection is closed.
 */
import type { Command } from '../connection/command.js';
import type { Lease } from '../connection/pool.js';
import type { ResolvedOptions } from '../options.js';
import type { Hub, Kind } from '../pubsub/hub.js';
import type { Arg } from '../resp/encoder.js';
import type { AskError, ConnectionError, ServerError } from '../errors.js';
import { Cluster } from './cluster/cluster.js';
import type { ClusterNode } from './cluster/slot-map.js';
import { Sentinel } from './sentinel/sentinel.js';
import { EndpointFailover } from './failover/endpoints.js';
import { Standalone, type Topology, type TopologyHooks, type TopologyStats } from './standalone.js';

export type TopologyMode = 'standalone' | 'cluster' | 'sentinel' | 'failover';

export class AutoTopology implements Topology {
  #current: Topology;
  #mode: TopologyMode | undefined;
  /** close() or disconnect() was called: a late first handshake must not open a cluster. */
  #ending = false;
  /** Settles once the first handshake said which routing it is (auto mode). */
  readonly #decided: Promise<void>;
  /** Settles `#decided` (the first handshake; close() and disconnect(): nothing waits for one any more). */
  #decide: () => void = () => {};
  readonly #connectTimeout: number;
  /** Reads routed to a cluster's replicas (`readFrom`): the cache files what they answer apart from masters' answers. */
  readonly replicaReads: boolean;

  constructor(resolved: ResolvedOptions, hooks: TopologyHooks) {
    this.#connectTimeout = resolved.connection.connectTimeout;
    this.replicaReads = resolved.cluster.readFrom !== 'master';
    const pool = { ...resolved.pool, blockingMargin: resolved.blockingMargin };
    const settings = { seeds: resolved.seeds, ...resolved.cluster };
    // Made outside this scope: a closure made here would share its context, whose `probe` the cluster would keep for the client's life.
    const clusterHooks = this.#clusterHooks(hooks);
    this.#decided = new Promise<void>((resolve) => (this.#decide = resolve));
    const decide = this.#decide;
    if (resolved.failover !== undefined) {
      this.#current = new EndpointFailover(resolved.connection, pool, hooks, resolved.failover);
      this.#mode = 'failover'; // known from the options
      decide();
      return;
    }
    if (resolved.sentinel !== undefined) {
      this.#current = new Sentinel(resolved.connection, pool, hooks, resolved.sentinel);
      this.#mode = 'sentinel'; // known from the options: the routing does not depend on what the server says
      decide();
      return;
    }
    // Several seeds can only be a cluster ('standalone' refuses them): every seed is asked, not only the first.
    if (resolved.mode === 'cluster' || resolved.seeds.length > 1) {
      this.#current = new Cluster(resolved.connection, pool, clusterHooks, settings);
      decide();
      return;
    }
    const { host, port } = resolved.connection.endpoint;
    // Over RESP2 there is no HELLO map: the probe asks INFO server for the mode (handshake.ts).
    const probe: Standalone = new Standalone({ ...resolved.connection, askMode: resolved.mode === 'auto' }, pool, {
      ...hooks,
      ready: (info) => {
        decide();
        if (this.#current !== probe) return;
        if (resolved.mode === 'auto' && info.server?.mode === 'cluster' && !this.#ending) {
          // The probe becomes one of the cluster's units (its pool and subscriptions stay);
          // what it queued before the handshake is routed by slot (none was written).
          const cluster = new Cluster(resolved.connection, pool, clusterHooks, settings, { host, port, unit: probe });
          this.#current = cluster;
          this.#mode = 'cluster'; // known now; 'ready' waits for the first slot map
          cluster.adopt(probe.takeQueued());
          return;
        }
        this.#mode = 'standalone';
        return hooks.ready(info);
      },
      close: () => {
        if (this.#current === probe) hooks.close();
      },
      redirect: (cmd, err) => this.#current instanceof Cluster && this.#current.redirected(cmd, err, host),
      // Adopted by a cluster, it is a master's unit like the others: a blocking command that cannot reach it waits for the map.
      unreachable: (cmd, err, since) => (this.#current instanceof Cluster ? this.#current.placeAgain(cmd, err, since) : Promise.resolve(undefined)),
    });
    this.#current = probe;
  }

  /** A cluster's hooks: its first slot map says the mode. */
  #clusterHooks(hooks: TopologyHooks): TopologyHooks {
    return {
      ...hooks,
      ready: (info) => {
        this.#mode = 'cluster';
        return hooks.ready(info);
      },
    };
  }

  /** 'standalone' or 'cluster' once known (the first handshake, or the first slot map); 'sentinel' from the start. */
  get mode(): TopologyMode | undefined {
    return this.#mode;
  }

  /** The cluster routing, when this client talks to a cluster. */
  get cluster(): Cluster | undefined {
    return this.#current instanceof Cluster ? this.#current : undefined;
  }

  /**
   * The masters a SCAN must walk, once the first handshake said what this is
   * (waiting at most the connect timeout): undefined for a single server.
   */
  async masters(): Promise<readonly ClusterNode[] | undefined> {
    if (this.#mode === undefined) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#connectTimeout || 10_000)));
      await Promise.race([this.#decided, late]);
      clearTimeout(timer);
    }
    return this.cluster?.masters();
  }

  /** The Sentinel routing, when this client follows a master (or replica) through its sentinels. */
  get sentinel(): Sentinel | undefined {
    return this.#current instanceof Sentinel ? this.#current : undefined;
  }

  /** The endpoint-failover routing, when the `endpoints` option was given. */
  get failover(): EndpointFailover | undefined {
    return this.#current instanceof EndpointFailover ? this.#current : undefined;
  }

  /** The routing in use (a `Standalone` for one server). */
  get current(): Topology {
    return this.#current;
  }

  send(cmd: Command, timeout: number, custom: boolean): void {
    this.#current.send(cmd, timeout, custom);
  }

  sendGroup(cmds: Command[], timeout: number, custom: boolean, via?: AskError): void {
    this.#current.sendGroup(cmds, timeout, custom, via);
  }

  /**
   * A WATCH lease goes to the node of its keys: in auto mode, once the mode is known, waiting at most the connect
   * timeout (then the configured server's: its lease's own connection and deadlines bound the rest), as `masters()`.
   */
  async lease(keys?: readonly Arg[], maxWait?: number): Promise<Lease> {
    if (this.#mode === undefined) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#connectTimeout || 10_000)));
      await Promise.race([this.#decided, late]);
      clearTimeout(timer);
    }
    return this.#current.lease(keys, maxWait);
  }

  pubsub(kind: Kind, name: Buffer): Hub {
    return this.#current.pubsub(kind, name);
  }

  /** A cluster's pub/sub calls wait for its first slot map; a single server's (and a probe's, before its handshake) go at once. */
  placed(within: number, command: string): Promise<void> | undefined {
    return this.#current.placed?.(within, command);
  }

  moved(err: ServerError): void {
    this.#current.moved?.(err);
  }

  unreachable(err: ConnectionError, since: number): Promise<boolean> {
    return this.#current.unreachable?.(err, since) ?? Promise.resolve(false);
  }

  close(): Promise<void> {
    this.#ending = true;
    const closed = this.#current.close();
    this.#decide(); // a lease waiting for the mode asks the closed routing now: ClosedError
    return closed;
  }

  disconnect(): void {
    this.#ending = true;
    this.#current.disconnect();
    this.#decide();
  }

  stats(): TopologyStats {
    return this.#current.stats();
  }
}
