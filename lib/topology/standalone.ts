/**
 * Routing for a single server: commands go to the one shared multiplexer;
 * blocking commands and WATCH go to connections leased from the pool;
 * subscriptions go to the one pub/sub hub. This is the seam cluster and
 * sentinel routing slot into: the API hands commands to a `Topology`, never
 * to a connection.
 */
import { isBlockingCall } from '../commands/index.js';
import { asking } from '../connection/asking.js';
import { SETTLED, type Command } from '../connection/command.js';
import { Multiplexer, type MultiplexerHooks, type MultiplexerOptions, type MultiplexerStats } from '../connection/multiplexer.js';
import { BlockingPool, type HandBack, type Lease, type PoolHooks, type PoolSettings } from '../connection/pool.js';
import { Hub, type Kind, type PubSubStats } from '../pubsub/hub.js';
import type { Arg } from '../resp/encoder.js';
import type { FailoverEvent } from './failover/endpoints.js';
import { ClosedError, type AskError, type ConnectionError, type MovedError, type ServerError } from '../errors.js';

export interface TopologyStats extends MultiplexerStats {
  /** Side connections open for blocking commands and WATCH. */
  leased: number;
  /** The pub/sub connection(s) shared by every subscriber. */
  pubsub: PubSubStats;
  /** Cluster: each node's own counters, by address (the totals above add them up). */
  nodes?: Record<string, TopologyStats>;
}

export interface Topology {
  /** Route a validated command (blocking ones to a leased connection). `custom` marks a per-call deadline. */
  send(cmd: Command, timeout: number, custom: boolean): void;
  /**
   * Route a group that must stay contiguous on one connection (MULTI ...
   * EXEC). `via`: an ASK answered for it (cluster) names the node to send it
   * to, with ASKING first; routings without redirections ignore it.
   */
  sendGroup(cmds: Command[], timeout: number, custom: boolean, via?: AskError): void;
  /**
   * Lease a dedicated connection (WATCH), on the node of `keys` where that matters (cluster), waiting at most
   * `maxWait` ms for one to free up (default: the pool's `maxWait`).
   */
  lease(keys?: readonly Arg[], maxWait?: number): Promise<Lease>;
  /**
   * The pub/sub hub (one per node, its connection opened on first use) that
   * serves `kind` subscriptions to `name`. Cluster routing places shard
   * channels on the node that owns their slot; subscribers never know.
   */
  pubsub(kind: Kind, name: Buffer): Hub;
  /** Undefined when `pubsub` can place a call now; a cluster before its first slot map: resolves once it can (see SubscriberContext.placed). */
  placed?(within: number, command: string): Promise<void> | undefined;
  close(): Promise<void>;
  disconnect(): void;
  stats(): TopologyStats;
  /** A MOVED seen outside the shared connection (a WATCH lease): routing learns the slot's owner. */
  moved?(err: ServerError): void;
  /** A WATCH lease's connection failed, nothing watched (cluster: a failover?): true once a lease may be asked for again (see WatchRouting). */
  unreachable?(err: ConnectionError, since: number): Promise<boolean>;
  /** Its reads may be answered by a cluster replica: the client-side cache files them apart (cache/client-cache.ts FillTarget). */
  readonly replicaReads?: boolean;
}

/** What a routing tells its owner when the cluster's topology changed: the nodes now serving. */
export interface TopologyChange {
  masters: string[];
  replicas: string[];
}

export type TopologyHooks = MultiplexerHooks &
  Pick<PoolHooks, 'orphan' | 'unreachable'> & {
    /** The slot map changed (cluster): a failover, a resharding, a node added or gone. */
    topology?(change: TopologyChange): void;
    /** Endpoint failover switched endpoints (failover/endpoints.ts). */
    failover?(event: FailoverEvent): void;
    /** A shard subscription was answered MOVED (cluster): routing learns the slot's owner. */
    moved?(err: MovedError): void;
    /** This unit's pub/sub connection was lost after it was ready (cluster: its channels can move at once). */
    pubsubLost?(): void;
  };

/** The connection each group (MULTI ... EXEC) was last handed to, by its last command: see groupNode. */
const groupConnections = new WeakMap<Command, { readonly node: string }>();

/** The node that answers a group whose last command is `last` (read as it settles): what EXEC's per-command errors name. */
export function groupNode(last: Command): string | undefined {
  return groupConnections.get(last)?.node;
}

export class Standalone implements Topology {
  private readonly mux: Multiplexer;
  private readonly pool: BlockingPool;
  private readonly hub: Hub;

  /** `sideOnly`: options of the side connections (leases, pub/sub) alone (a cluster replica's READONLY: see cluster/replica-reads.ts). */
  constructor(opts: MultiplexerOptions, pool: PoolSettings, hooks: TopologyHooks, sideOnly?: Partial<MultiplexerOptions>) {
    this.mux = new Multiplexer(opts, hooks);
    // Only the shared connection tracks keys for the client-side cache: never a pub/sub or leased one.
    const side = opts.tracking === undefined && sideOnly === undefined ? opts : { ...opts, tracking: undefined, ...sideOnly };
    this.hub = new Hub(side, hooks.moved, hooks.pubsubLost);
    this.pool = new BlockingPool(side, pool, {
      sendShared: (cmd, timeout) => this.mux.send(cmd, timeout, true),
      unobservedError: hooks.unobservedError,
      orphan: hooks.orphan,
      redirect: hooks.redirect,
      node: () => this.mux.node,
      unreachable: hooks.unreachable,
    });
  }

  send(cmd: Command, timeout: number, custom: boolean): void {
    if (cmd.state === SETTLED) return; // aborted on its way (a cluster waiting for its slot map): never sent
    if (cmd.trace !== undefined) cmd.trace.node = this.mux.node; // someone traces it (diagnostics.ts)
    if (isBlockingCall(cmd.info, cmd.args, 0)) this.pool.run(cmd, timeout, custom);
    else this.mux.send(cmd, timeout, custom);
  }

  /**
   * Send `cmd` where a cluster's ASK pointed: ASKING right before it, on the
   * shared connection, or on a lease for a blocking command (which would
   * block the shared one).
   */
  sendAsked(cmd: Command, timeout: number, custom: boolean): void {
    if (cmd.state === SETTLED) return;
    if (cmd.trace !== undefined) cmd.trace.node = this.mux.node;
    if (isBlockingCall(cmd.info, cmd.args, 0)) this.pool.run(cmd, timeout, custom, true);
    else this.mux.sendGroup([asking(), cmd], timeout, custom);
  }

  sendGroup(cmds: Command[], timeout: number, custom: boolean): void {
    const last = cmds[cmds.length - 1]!;
    if (last.state === SETTLED) return abortedGroup(cmds);
    if (last.trace !== undefined) last.trace.node = this.mux.node;
    groupConnections.set(last, this.mux);
    this.mux.sendGroup(cmds, timeout, custom);
  }

  /** One server: the keys do not matter. */
  lease(_keys?: readonly Arg[], maxWait?: number): Promise<Lease> {
    return this.pool.acquire(maxWait);
  }

  /** The shared connection is closed for good (closed, or reconnecting gave up). */
  get closed(): boolean {
    return this.mux.closed;
  }

  /** Its shared connection failed and has not come back. */
  get down(): boolean {
    return this.mux.down;
  }

  /** Hand back the commands not yet written (cluster: this node left, they go elsewhere). */
  takeQueued(): Command[] {
    return this.mux.takeQueued();
  }

  /** The server moved (Sentinel): every connection (but those on a node `keep` accepts) reconnects where `locate` says. */
  relocate(why: string, keep?: (node: string) => boolean): void {
    this.mux.relocate(why, keep);
    this.pool.relocate(why, keep);
    this.hub.relocate(why, keep);
  }

  /** The shared connection's server (Sentinel: the one found last). */
  get node(): string {
    return this.mux.node;
  }

  /** One server: one hub for every kind and name. */
  pubsub(_kind: Kind, _name: Buffer): Hub {
    return this.hub;
  }

  /** Shard channels held here that now belong to another node (see Hub.relocateShards). */
  relocateShards(stays: (name: Buffer) => boolean): void {
    this.hub.relocateShards(stays);
  }

  /** Channel and pattern subscriptions go to another node now (their connection here was lost): see Hub.moveChannels. */
  moveChannels(): void {
    this.hub.moveChannels();
  }

  /**
   * Its node left a cluster's slot map (gone, or alive under another name):
   * as close(), except that nothing is given up for it. Subscriptions move to
   * wherever routing now places them (Hub.handOver); blocking commands never
   * written here go back to routing through `handBack`, and those blocked
   * here finish where they are (BlockingPool.leave). close() or disconnect()
   * afterwards (the client's) still end what is left.
   */
  async leave(handBack: HandBack): Promise<void> {
    const hub = this.hub.handOver();
    await this.pool.leave(handBack);
    await this.mux.close();
    await hub;
  }

  /** The pool closes first: an abandoned lease may still need the shared connection for CLIENT UNBLOCK. */
  async close(): Promise<void> {
    const hub = this.hub.close();
    await this.pool.close();
    await this.mux.close();
    await hub;
  }

  disconnect(): void {
    this.hub.disconnect();
    this.pool.disconnect();
    this.mux.disconnect();
  }

  stats(): TopologyStats {
    const mux = this.mux.snapshot();
    return { ...mux, timeouts: mux.timeouts + this.pool.timedOut, leased: this.pool.size, pubsub: this.hub.stats() };
  }
}

/** A group whose EXEC settled (aborted) before it reached a connection: the rest settles, nothing is sent. */
function abortedGroup(cmds: Command[]): void {
  const why = new ClosedError('the transaction was given up before it was sent; it was never sent');
  for (const c of cmds) c.reject(why);
}
