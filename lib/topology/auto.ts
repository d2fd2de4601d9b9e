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
import { Cluster } from './cluster/cluster.js';
import { Standalone, type Topology, type TopologyHooks, type TopologyStats } from './standalone.js';

export type TopologyMode = 'standalone' | 'cluster';

export class AutoTopology implements Topology {
  #current: Topology;
  #mode: TopologyMode | undefined;

  constructor(resolved: ResolvedOptions, hooks: TopologyHooks) {
    const pool = { ...resolved.pool, blockingMargin: resolved.blockingMargin };
    const cluster = () =>
      new Cluster(resolved.connection, pool, {
        ...hooks,
        ready: (info) => {
          this.#mode = 'cluster';
          return hooks.ready(info);
        },
      }, { seeds: resolved.seeds, ...resolved.cluster });
    if (resolved.mode === 'cluster') {
      this.#current = cluster();
      return;
    }
    const standalone: Standalone = new Standalone(resolved.connection, pool, {
      ...hooks,
      ready: (info) => {
        if (this.#current !== standalone) return;
        if (resolved.mode === 'auto' && info.server?.mode === 'cluster') {
          const c = cluster();
          this.#current = c;
          c.adopt(standalone.takeQueued());
          void standalone.close();
          return;
        }
        this.#mode = 'standalone';
        return hooks.ready(info);
      },
      close: () => {
        if (this.#current === standalone) hooks.close();
      },
    });
    this.#current = standalone;
  }

  /** 'standalone' or 'cluster' once known (the first handshake, or the first slot map). */
  get mode(): TopologyMode | undefined {
    return this.#mode;
  }

  /** The cluster routing, when this client talks to a cluster. */
  get cluster(): Cluster | undefined {
    return this.#current instanceof Cluster ? this.#current : undefined;
  }

  /** The routing in use (a `Standalone` for one server). */
  get current(): Topology {
    return this.#current;
  }

  send(cmd: Command, timeout: number, custom: boolean): void {
    this.#current.send(cmd, timeout, custom);
  }

  sendGroup(cmds: Command[], timeout: number, custom: boolean): void {
    this.#current.sendGroup(cmds, timeout, custom);
  }

  lease(keys?: readonly Arg[]): Promise<Lease> {
    return this.#current.lease(keys);
  }

  pubsub(kind: Kind, name: Buffer): Hub {
    return this.#current.pubsub(kind, name);
  }

  close(): Promise<void> {
    return this.#current.close();
  }

  disconnect(): void {
    this.#current.disconnect();
  }

  stats(): TopologyStats {
    return this.#current.stats();
  }
}
