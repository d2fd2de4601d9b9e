/**
 * A routing that is a single per-node unit whose endpoint moves: Sentinel
 * (the master the sentinels name) and endpoint failover (the healthiest
 * endpoint). Commands, groups, leases and pub/sub hubs all go to that unit;
 * a subclass decides where it points (its `locate` option) and when it moves
 * (`relocate`), and what else it must close.
 */
import type { Command } from '../connection/command.js';
import type { Lease } from '../connection/pool.js';
import type { Hub, Kind } from '../pubsub/hub.js';
import type { Arg } from '../resp/encoder.js';
import type { Standalone, Topology, TopologyStats } from './standalone.js';

export abstract class OneUnitTopology implements Topology {
  protected abstract readonly unit: Standalone;

  send(cmd: Command, timeout: number, custom: boolean): void {
    this.unit.send(cmd, timeout, custom);
  }

  /** No redirections outside a cluster: an ASK never names another node here. */
  sendGroup(cmds: Command[], timeout: number, custom: boolean): void {
    this.unit.sendGroup(cmds, timeout, custom);
  }

  lease(keys?: readonly Arg[], maxWait?: number): Promise<Lease> {
    return this.unit.lease(keys, maxWait);
  }

  pubsub(kind: Kind, name: Buffer): Hub {
    return this.unit.pubsub(kind, name);
  }

  stats(): TopologyStats {
    return this.unit.stats();
  }

  abstract close(): Promise<void>;
  abstract disconnect(): void;
}
