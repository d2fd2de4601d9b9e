/**
 * Redis Cluster routing behind the same `Topology` seam as a single server.
 * One per-node unit (a `Standalone`: its multiplexer, its lazy blocking pool,
 * its lazy pub/sub hub) per node, opened when first needed; a slot map built
 * from CLUSTER SHARDS (or SLOTS) and kept fresh by a single-flight refresher;
 * and the routing: a command goes to the master of its keys' slot (reads to a
 * replica with `readFrom`), keyless ones to any master or, per the command's
 * tips, to every master / node with the replies combined, and multi-key
 * commands whose keys span slots (MGET, MSET, DEL, ...) are split by slot.
 *
 * Redirects (follow-redirect.ts): a node answering MOVED or ASK did not run the command, so it is
 * sent again where the node says, whatever it is (ASK as ASKING + the command,
 * contiguous); MOVED also fixes the slot map at once and schedules a refresh.
 * More than `maxRedirects` is a ClusterRedirectError. TRYAGAIN / CLUSTERDOWN
 * are retried by the node's connection per the retry policy (refused before
 * running), within the command's deadline.
 *
 * Losing a node schedules a refresh; when the new map no longer routes a
 * node's never-written commands to it, they are handed to their new owner.
 * Written commands lost with a node follow rule 2 on their own connection.
 */
import { Command, failCommand } from '../../connection/command.js';
import type { HandshakeResult } from '../../connection/handshake.js';
import type { MultiplexerOptions } from '../../connection/multiplexer.js';
import { PoolLeftError, type HandBack, type Lease, type PoolSettings } from '../../connection/pool.js';
import type { Endpoint } from '../../connection/socket.js';
import { AskError, ClosedError, ConnectError, type ConnectionError, MovedError, ServerError } from '../../errors.js';
import { SHARD, type Hub, type Kind } from '../../pubsub/hub.js';
import type { Arg } from '../../resp/encoder.js';
import { Standalone, type Topology, type TopologyHooks, type TopologyStats } from '../standalone.js';
import { Refresher } from './refresher.js';
import { crossSlot, everyNodeOnly, fixedKeySlot, routeOf, singleSlot, TO_ALL_NODES, TO_ALL_SHARDS, TO_SLOT, TO_SPLIT } from './route.js';
import { SlotMap, type ClusterNode } from './slot-map.js';
import { shardTracking } from './shard-tracking.js';
import { fanOut, splitCall } from './fanout.js';
import { querySlotMap } from './map-query.js';
import { READONLY } from '../../commands/flags.js';
import { redirectTarget } from './redirect.js';
import { asking } from '../../connection/asking.js';
import { mapAddress, mappedEndpoint, movedLocator } from '../address-map.js';
import { MIN_REFRESH_GAP, type ClusterSettings } from './settings.js';
import { Redirects, remainingTime } from './follow-redirect.js';
import { SlotFences } from './slot-fence.js';
import { leftAfterWait, ownDeadline } from './wait-deadline.js';
import { sumStats } from './stats.js';
import { keySlot } from '../../commands/slot.js';
import { onlyDatabaseZero, pinnedRouting } from './pinned.js';
import { FirstMap } from './first-map.js';
import { PlaceWaits } from '../place-waits.js';
import { ReplicaReads } from './replica-reads.js';
import { ConnectRefusals } from './connect-refusals.js';
import { watchLease } from './watch-lease.js';

export class Cluster implements Topology {
  #map = SlotMap.EMPTY;
  /** The master unit of each shard of `#masterUnitsOf` (a cache of #unit for #forSlot). */
  #masterUnits: (Standalone | undefined)[] = [];
  #masterUnitsOf: SlotMap | undefined;
  /** Per-node units by address (`host:port`; `host:port/ro` for replica connections in READONLY mode). */
  readonly #units = new Map<string, Standalone>();
  readonly #refresher: Refresher<SlotMap>;
  /** The unit whose hub carries channel and pattern subscriptions (shard channels go to their slot's master). */
  #pubsubUnit: Standalone | undefined;
  /** Commands, blocks and leases waiting for the first slot map (first-map.ts). */
  readonly #first = new FirstMap(() => this.#refresher.soon());
  /** Fingerprint of the slot map last announced with the 'topology' hook. */
  #announced = '';
  /** Slots that just moved: their new commands wait for the old owner's older replies (slot-fence.ts). */
  readonly #fences = new SlotFences();
  /** MOVED / ASK / TRYAGAIN / CLUSTERDOWN followed (follow-redirect.ts). */
  readonly #redirects: Redirects;
  /** Units whose node left the map, until their busy leases are back: the client's close() still ends them. */
  readonly #leaving = new Set<Standalone>();
  /** Calls waiting for the slot map to place them again (see unreachable): close() and disconnect() end them. */
  readonly #placing = new PlaceWaits(() => this.#closed, 'the slot map to place it');
  /** Which replica serves a read (`readFrom`), and which refused READONLY. */
  readonly #reads = new ReplicaReads();
  /** Slot map questions waiting on a node's connection: a refused one answers at once. */
  readonly #refusals = new ConnectRefusals();
  #closed = false;
  #next = 0;

  constructor(
    private readonly opts: MultiplexerOptions,
    private readonly pool: PoolSettings,
    private readonly hooks: TopologyHooks,
    private readonly settings: ClusterSettings,
    /** A unit already open to a node (auto mode's probe): kept, with its pool and subscriptions. */
    adopted?: { host: string; port: number; unit: Standalone },
  ) {
    this.#redirects = new Redirects({
      maxRedirects: settings.maxRedirects,
      commandTimeout: opts.commandTimeout,
      closed: () => this.#closed,
      unit: (host, port) => this.#unit(host, port, false),
      existing: (address) => this.#units.get(address),
      moveSlot: (slot, host, port, from) => this.#moveSlot(slot, host, port, from),
      refreshSoon: () => this.#refresher.soon(),
      slotMigrating: (slot) => this.opts.tracking?.slotsMoved([slot]),
      send: (cmd, timeout, custom) => this.send(cmd, timeout, custom),
      fail: (cmd, err) => this.#fail(cmd, err),
      report: hooks.unobservedError,
    }, this.#fences);
    if (adopted) {
      this.#units.set(`${adopted.host}:${adopted.port}`, adopted.unit);
      this.#pubsubUnit = adopted.unit;
    }
    this.#refresher = new Refresher<SlotMap>(
      { query: () => this.#query(), apply: (map) => this.#apply(map), failed: (err) => (this.#first.failed(err), this.hooks.error(err)) },
      MIN_REFRESH_GAP,
      settings.refreshInterval,
    );
    this.#refresher.soon();
  }

  /** The current slot map (for per-node handles and tests). */
  get map(): SlotMap {
    return this.#map;
  }

  // ------------------------------------------------------------------ routing

  send(cmd: Command, timeout: number, custom: boolean): void {
    if (cmd.db > 0) throw onlyDatabaseZero(cmd.info.name); // a handle made before auto mode knew: nothing sent
    // The common case allocates nothing: no Route, no closure here (V8 would allocate a context per call).
    const slot = fixedKeySlot(cmd.info, cmd.args as Arg[]);
    if (slot >= 0 && this.#first.ready && this.#fences.of(slot) === undefined) {
      this.#forSlot(slot, cmd.info.flags & READONLY).send(cmd, timeout, custom);
      return;
    }
    const route = routeOf(cmd.info, cmd.args as Arg[]); // throws CrossSlotError / InvalidArgumentError: nothing sent
    if (!this.#first.ready) this.#afterFirstMap(cmd, timeout, custom);
    else if (route.to === TO_SLOT) {
      const fence = this.#fences.of(route.slot);
      if (fence !== undefined) this.#behindFence(fence, cmd, timeout, custom);
      else this.#forSlot(route.slot, cmd.info.flags & READONLY).send(cmd, timeout, custom);
    }
    else if (route.to === TO_SPLIT) this.#split(cmd, timeout, custom);
    else if (route.to === TO_ALL_SHARDS || route.to === TO_ALL_NODES) this.#fanOut(cmd, route.to, timeout, custom);
    else this.#anyMaster().send(cmd, timeout, custom); // keyless, or keys the table cannot find: MOVED corrects it
  }

  /** No slot map yet: wait for it (within the deadline) rather than guess a node. */
  #afterFirstMap(cmd: Command, timeout: number, custom: boolean): void {
    const start = Date.now();
    this.#first.wait(timeout > 0 ? timeout : this.opts.connectTimeout || 10_000, cmd.info.name).then(
      () => cmd.settled || this.#sendAfter(cmd, timeout, start, custom), // settled: given up while the map was coming (its signal fired)
      (err: Error) => this.#fail(cmd, err),
    );
  }

  /** Its slot just moved: older commands for it are still being redirected; keep the order. */
  #behindFence(fence: (() => void)[], cmd: Command, timeout: number, custom: boolean): void {
    const start = Date.now();
    this.#fences.hold(fence, cmd, ownDeadline(cmd, custom) ? 0 : timeout, () => this.#sendAfter(cmd, timeout, start, custom), this.hooks.unobservedError);
  }

  /** Route `cmd` after a wait begun at `start`, within what is left of its deadline (wait-deadline.ts); what routing refuses fails it (never sent). */
  #sendAfter(cmd: Command, timeout: number, start: number, custom: boolean): void {
    try {
      this.send(cmd, ...leftAfterWait(cmd, timeout, start, custom));
    } catch (err) {
      this.#fail(cmd, err as Error); // e.g. the client closed meanwhile and its node is gone
    }
  }

  /**
   * A MULTI ... EXEC block: every key of its commands in one slot, run on that
   * slot's master. Before the first slot map it waits for it (a block sent to
   * a guessed node would be refused whole with EXECABORT after a MOVED).
   */
  sendGroup(cmds: Command[], timeout: number, custom: boolean, via?: AskError): void {
    const ask = via === undefined ? undefined : redirectTarget(via.serverMessage, '');
    if (ask !== undefined && ask.host !== '') {
      // Its slot is being imported by that node: ASKING lets the block in there (the flag lasts until EXEC).
      this.#unit(ask.host, ask.port, false).sendGroup([asking(), ...cmds], timeout, custom);
      return;
    }
    if (cmds.some((c) => c.db > 0)) throw onlyDatabaseZero('MULTI');
    if (!this.#first.ready) {
      const last = cmds[cmds.length - 1]!;
      this.#first.wait(remainingTime(last) || timeout, 'MULTI').then(
        () => this.sendGroup(cmds, timeout, custom),
        (err: Error) => this.#fail(last, err),
      ).catch((err: Error) => this.#fail(last, err)); // routing refused it (cross-slot): the block settles through EXEC
      return;
    }
    let slot = -1;
    for (let i = 1; i < cmds.length - 1; i++) {
      const route = routeOf(cmds[i]!.info, cmds[i]!.args as Arg[]);
      if (route.to === TO_SPLIT) throw crossSlot('MULTI'); // a block cannot be split
      const oneNode = route.to === TO_ALL_SHARDS || route.to === TO_ALL_NODES ? everyNodeOnly(cmds[i]!.info, 'block') : undefined;
      if (oneNode !== undefined) throw oneNode; // DBSIZE, KEYS, FLUSHALL...: one node's answer would pass for the cluster's
      if (route.to !== TO_SLOT) continue;
      if (slot === -1) slot = route.slot;
      else if (route.slot !== slot) throw crossSlot('MULTI');
    }
    (slot === -1 ? this.#anyMaster() : this.#forSlot(slot, 0)).sendGroup(cmds, timeout, custom);
  }

  lease(keys?: readonly Arg[], maxWait?: number, left = 0): Promise<Lease> {
    if (!this.#first.ready) return this.#first.wait(this.opts.connectTimeout || 10_000, 'WATCH').then(() => this.lease(keys, maxWait));
    try {
      const slot = keys && keys.length > 0 ? singleSlot('WATCH', keys) : -1;
      const leased = (slot === -1 ? this.#anyMaster() : this.#forSlot(slot, 0)).lease(undefined, maxWait);
      // Its node left the map while it waited (nothing sent): ask where the map says now, a bounded number of times.
      return leased.then(
        (lease) => watchLease(lease, slot, this.hooks.unobservedError), // carries its slot's commands only, in database 0
        (err: Error) => (err instanceof PoolLeftError && left < this.settings.maxRedirects ? this.lease(keys, maxWait, left + 1) : Promise.reject(err)),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Pub/sub calls wait for the first slot map (within `within` ms; 0: the connect timeout), as commands do, rather than guess a seed. */
  placed(within: number, command: string): Promise<void> | undefined {
    return this.#first.ready ? undefined : this.#first.wait(within > 0 ? within : this.opts.connectTimeout || 10_000, command);
  }

  /** Shard channels on the master of their slot; channels and patterns on one stable node. */
  pubsub(kind: Kind, name: Buffer): Hub {
    if (kind === SHARD) return this.#forSlot(keySlot(name), 0).pubsub(kind, name);
    this.#pubsubUnit ??= this.#anyMaster(); // not one known down: a connection that never comes up moves nothing
    return this.#pubsubUnit.pubsub(kind, name);
  }

  /** The unit serving `slot`: its master, or a replica for reads when `readFrom` asks for it. */
  #forSlot(slot: number, readOnly: number): Standalone {
    if (readOnly && this.settings.readFrom !== 'master') {
      const unit = this.#reads.pick(this.#map.replicasFor(slot), (r) => this.#unit(r.host, r.port, true));
      if (unit !== undefined) return unit; // none up (or none took READONLY): the master
    }
    // Per shard, the master's unit is looked up once per slot map, not once per command
    // (the "host:port" key of #unit cost a string per command).
    const map = this.#map;
    if (this.#masterUnitsOf !== map) {
      this.#masterUnitsOf = map;
      this.#masterUnits = [];
    }
    const shard = map.shardIndex(slot);
    const known = this.#masterUnits[shard];
    if (known !== undefined && !known.closed) return known;
    const master = map.masterFor(slot);
    return master ? (this.#masterUnits[shard] = this.#unit(master.host, master.port, false)) : this.#anyMaster();
  }

  /** A master, round robin, passing over those whose connection is known down while another is not (keyless commands, channels). */
  #anyMaster(): Standalone {
    const masters = this.#map.nodes('master');
    for (let i = 0, start = this.#next++; i < masters.length; i++) {
      const m = masters[(start + i) % masters.length]!;
      if (i === masters.length - 1 || this.#units.get(m.address)?.down !== true) return this.#unit(m.host, m.port, false);
    }
    // No map yet: ask a seed; MOVED takes the command where it belongs.
    const seed = this.settings.seeds[this.#next++ % this.settings.seeds.length]!;
    return this.#unit(seed.host, seed.port, false);
  }

  #unit(host: string, port: number, replica: boolean): Standalone {
    const address = replica ? `${host}:${port}/ro` : `${host}:${port}`;
    let unit = this.#units.get(address);
    if (this.#closed) {
      // A graceful close lets each unit finish its in-flight commands; one asked for now refuses new ones
      // (ClosedError, never sent). Never cut it to start afresh, and open none.
      if (unit === undefined) throw new ClosedError('the client is closed');
      return unit;
    }
    if (unit !== undefined && unit.closed) {
      // Its connection gave up reconnecting: start afresh (not disconnect(): that fails what waits there with ClosedError).
      this.#units.delete(address);
      this.#retire(unit);
      unit = undefined;
      this.#refresher.soon();
    }
    if (unit === undefined) {
      const endpoint = { ...this.opts.endpoint, host, port, path: undefined };
      // Mapped, except the seeds (the user's own addresses): asked before every connection; a failure fails the node's commands.
      const map = this.settings.seeds.some((s) => s.host === host && s.port === port) ? undefined : this.settings.addressMap;
      const locate = map && (async () => ({ endpoint: mappedEndpoint(endpoint, { host, port }, mapAddress(map, host, port)) }));
      const locateMoved = this.settings.addressMap && movedLocator(this.settings.addressMap); // a seed's MOVING names an announced address too
      const tracking = shardTracking(this.opts.tracking, host, port, () => this.#map); // a node's events concern its shard's slots
      // A replica's shared connection is put in READONLY mode by routing (replica-reads.ts), its side connections by their handshake.
      unit = new Standalone({ ...this.opts, endpoint, locate, locateMoved, tracking, discoverModules: false }, this.pool, this.#nodeHooks(host, port, replica), { readOnly: replica });
      this.#units.set(address, unit);
    }
    return unit;
  }

  /** The masters once the first slot map is in (db.scan walks them); rejects after the connect timeout without one. */
  async masters(): Promise<readonly ClusterNode[]> {
    await this.#first.wait(this.opts.connectTimeout || 10_000, 'SCAN');
    return this.#map.nodes('master');
  }

  /** A routing that sends everything to `node` only (per-node handles): its commands are never sent elsewhere. */
  pinnedTo(node: ClusterNode): Topology {
    return pinnedRouting(() => this.#unit(node.host, node.port, node.role === 'replica'), node.role === 'replica');
  }

  /** A MOVED seen on a lease (WATCH): the slot map learns the new owner at once. */
  moved(err: ServerError): void {
    const target = err instanceof MovedError ? redirectTarget(err.serverMessage, '') : undefined;
    if (target !== undefined && target.host !== '') this.#moveSlot(target.slot, target.host, target.port);
    this.#refresher.soon();
  }

  /**
   * A lease (WATCH, blocking command) could not reach its node: true after the next refresh (a failover moves the slot), false
   * once the command timeout since `since` is over (a refresh may take longer); ClosedError when the client closes meanwhile.
   */
  unreachable(_err: ConnectionError, since: number): Promise<boolean> {
    return this.#placing.wait(since, this.opts.commandTimeout || this.opts.connectTimeout || 10_000, Infinity, () => this.#refresher.refresh());
  }

  /** A blocking command's node was unreachable (PoolHooks.unreachable of every unit, the adopted seed's too): routed again once the map may place it; one pinned stays. */
  async placeAgain(cmd: Command, err: ConnectionError, since: number): Promise<HandBack | undefined> {
    return !cmd.pinned && (await this.unreachable(err, since)) ? (c, t, x) => this.#handBack(c, t, x, false) : undefined;
  }

  /** A reply of the auto-mode probe's connection that redirects (it became one of this cluster's units). */
  redirected(cmd: Command, err: ServerError, replyingHost: string): boolean {
    return this.#redirects.redirect(cmd, err, replyingHost);
  }

  /**
   * A replica's connection failed: reads waiting for it go to the master (or
   * another replica) now rather than when it comes back or the cluster drops
   * it. Commands pinned to that node (per-node handles) stay.
   */
  #replicaDown(address: string): void {
    const unit = this.#units.get(address);
    if (unit === undefined || !unit.down) return;
    this.#reroute(unit.takeQueued(), unit);
  }

  #nodeHooks(host: string, port: number, replica: boolean): TopologyHooks {
    const h = this.hooks;
    return {
      // The cluster is ready once its first slot map is in; a replica's connection first takes READONLY.
      ready: () => (replica ? this.#reads.readOnly(this.#units.get(`${host}:${port}/ro`), (err) => this.hooks.error(err)) : undefined),
      error: (err) => {
        if (!replica) this.#refusals.failed(`${host}:${port}`, err); // a slot map question waiting there is answered
        this.hooks.error(err);
        this.#refresher.soon(); // a node lost: the map may have changed (failover)
        if (replica) this.#replicaDown(`${host}:${port}/ro`);
      },
      reconnecting: (info) => h.reconnecting(info),
      close: () => {},
      unobservedError: h.unobservedError,
      push: h.push,
      orphan: h.orphan,
      redirect: (cmd, err) => this.#redirects.redirect(cmd, err, host, port),
      moved: (err) => this.moved(err),
      unreachable: (cmd, err, since) => this.placeAgain(cmd, err, since),
      pubsubLost: () => this.#pubsubLost(`${host}:${port}`),
    };
  }

  /**
   * The node carrying channel and pattern subscriptions lost its connection:
   * PUBLISH reaches every node's subscribers, so they move to another master
   * at once rather than wait out a failover (shard channels stay: only their
   * slot's master serves them).
   */
  #pubsubLost(address: string): void {
    const unit = this.#units.get(address);
    const other = this.#map.nodes('master').find((n) => n.address !== address && this.#units.get(n.address)?.down !== true); // not one known dead
    if (unit === undefined || unit !== this.#pubsubUnit || other === undefined || this.#closed) return;
    this.#pubsubUnit = this.#unit(other.host, other.port, false);
    unit.moveChannels();
  }

  // ------------------------------------------------------------------ redirects (follow-redirect.ts)

  /** A MOVED (from node `from`): the slot map says so at once, and the client-side cache drops what the old owner answered for that slot. True: the map was wrong. */
  #moveSlot(slot: number, host: string, port: number, from?: string): boolean {
    const map = this.#map.withMoved(slot, host, port); // unchanged when a replica moved to another shard redirects to the master the map names:
    const wrong = map !== this.#map || this.#map.masterFor(slot)?.address === from || this.#map.replicasFor(slot).some((r) => r.address === from);
    if (wrong) this.opts.tracking?.slotsMoved([slot]); // what it answered goes too
    this.#map = map;
    return wrong; // the map named the redirecting node for the slot, or another owner: it was wrong
  }

  // ------------------------------------------------------------------ fan-out and split

  /** Send `cmd` to every master (or node) and settle it with the replies combined per its response policy. */
  #fanOut(cmd: Command, to: number, timeout: number, custom: boolean): void {
    const nodes = this.#map.nodes(to === TO_ALL_SHARDS ? 'master' : undefined);
    if (nodes.length === 0) {
      // No map yet: wait for the first one, within the command's deadline, then route.
      this.#first.wait(timeout || this.opts.connectTimeout || 10_000, cmd.info.name).then(
        () => this.#fanOut(cmd, to, timeout, custom),
        (err: Error) => this.#fail(cmd, err),
      );
      return;
    }
    const byAddress = new Map(nodes.map((n) => [n.address, n]));
    fanOut(
      cmd,
      [...byAddress.keys()],
      (address) => {
        // Each part's node is opened before any part is sent (#unit throws once the client is closed).
        const n = byAddress.get(address)!;
        const unit = this.#unit(n.host, n.port, n.role === 'replica');
        return (part) => unit.send(part, timeout, custom);
      },
      (err) => this.#fail(cmd, err),
    );
  }

  /** MGET, MSET, DEL, ... over several slots: see splitCall (each slot's unit is found before any part is sent). */
  #split(cmd: Command, timeout: number, custom: boolean): void {
    const readOnly = cmd.info.flags & READONLY;
    splitCall(
      cmd,
      (slot) => {
        const unit = this.#forSlot(slot, readOnly);
        return (part) => unit.send(part, timeout, custom);
      },
      (err) => this.#fail(cmd, err),
    );
  }

  #fail(cmd: Command, err: Error): void {
    failCommand(cmd, err, this.hooks.unobservedError);
  }

  // ------------------------------------------------------------------ topology refresh

  #query(): Promise<SlotMap> {
    const opts = this.opts;
    const unit = (host: string, port: number) => this.#unit(host, port, false);
    return querySlotMap({ known: this.#map, seeds: this.settings.seeds, unit, commandTimeout: opts.commandTimeout, tls: opts.endpoint.tls !== undefined, closed: () => this.#closed, refusals: this.#refusals });
  }

  #apply(map: SlotMap): void {
    if (this.#closed) return;
    if (map.coveredSlots === 0) throw new ConnectError('the cluster serves no slot (is it a cluster?)');
    const before = this.#map, changed = !map.equals(before);
    this.#map = map;
    if (changed) this.opts.tracking?.slotsMoved(map.slotsMovedFrom(before)); // the client-side cache drops what old owners answered
    if (!this.#first.ready) {
      this.#first.arrived();
      this.hooks.ready({ protocol: this.opts.protocol, server: { mode: 'cluster' } } as HandshakeResult);
    }
    if (map.fingerprint !== this.#announced) {
      // Compared with what was last announced: a MOVED may have changed the map already.
      this.#announced = map.fingerprint;
      this.hooks.topology?.({ masters: map.nodes('master').map((n) => n.address), replicas: map.nodes('replica').map((n) => n.address) });
    }
    if (!changed) return;
    // Shard channels whose slot has another master now (a failover, a migration): subscribed again there.
    for (const [address, unit] of this.#units) {
      if (address.endsWith('/ro')) continue;
      unit.relocateShards((name) => map.masterFor(keySlot(name))?.address === address);
    }
    // Nodes that left: hand their never-written commands to the new owners, then close them.
    // (A seed that is not in the map is a unit like any other: the next query opens it again if needed.)
    const live = new Set(map.nodes().map((n: ClusterNode) => n.address));
    for (const [address, unit] of [...this.#units]) {
      const base = address.endsWith('/ro') ? address.slice(0, -3) : address;
      if (live.has(base)) continue;
      const moved = unit.takeQueued();
      this.#units.delete(address);
      this.opts.tracking?.gone?.(base); // a node that refused tracking keeps the cache off only while it is there
      this.#retire(unit);
      this.#reroute(moved);
    }
  }

  /** Routed to no more (node left, or connection gave up): subscriptions and never-written blocking commands go where routing says. */
  #retire(unit: Standalone): void {
    if (this.#pubsubUnit === unit) this.#pubsubUnit = undefined;
    // The per-map cache is emptied only by the next keyed command: a client sending none would keep the unit (and its hub) for good.
    if (this.#masterUnits.includes(unit)) [this.#masterUnits, this.#masterUnitsOf] = [[], undefined];
    this.#leaving.add(unit);
    void unit.leave((cmd, timeout, custom) => this.#handBack(cmd, timeout, custom)).finally(() => this.#leaving.delete(unit));
  }

  /** A blocking command a leaving node's pool never wrote: routed again, a bounded number of times (a map may flap; `counted`: else bounded by time, see PoolHooks.unreachable); one pinned there fails. */
  #handBack(cmd: Command, timeout: number, custom: boolean, counted = true): void {
    try {
      if (cmd.pinned || (counted && ++cmd.redirects > this.settings.maxRedirects)) throw new ConnectError(`its node left the cluster's slot map before it was sent${cmd.pinned ? '' : ` (${cmd.redirects - 1} times)`}; it was never sent`, { command: cmd.info.name });
      this.send(cmd, timeout, custom);
    } catch (err) {
      this.#fail(cmd, err as Error);
    }
  }

  /** Route commands taken back from another routing (auto mode found a cluster): none was written. */
  adopt(cmds: Command[]): void {
    this.#reroute(cmds);
  }

  /**
   * Route again commands taken back from a node (their slot has a new owner,
   * or the node left). Commands pinned to that node go back to `stay` when it
   * is still there, else fail: never sent elsewhere.
   */
  #reroute(cmds: Command[], stay?: Standalone): void {
    for (let i = 0; i < cmds.length; i++) {
      const cmd = cmds[i]!;
      const group = cmds.slice(i, i + Math.max(1, cmd.groupSize));
      i += group.length - 1;
      const last = group[group.length - 1]!; // a group settles through its EXEC
      try {
        const to: Topology = cmd.pinned && stay ? stay : this;
        if (cmd.pinned && !stay) throw new ConnectError('its node left the cluster before it was sent; it was never sent', { command: cmd.info.name });
        if (group.length > 1) to.sendGroup(group, remainingTime(last), true);
        else to.send(cmd, remainingTime(cmd), true);
      } catch (err) {
        this.#fail(last, err as Error);
      }
    }
  }

  // ------------------------------------------------------------------ lifecycle

  async close(): Promise<void> {
    this.#closed = true;
    this.#refresher.stop();
    this.#first.end();
    this.#endWaits();
    await Promise.all([...this.#units.values(), ...this.#leaving].map((u) => u.close()));
    this.hooks.close();
  }

  disconnect(): void {
    this.#closed = true;
    this.#refresher.stop();
    this.#first.end();
    this.#endWaits();
    for (const u of [...this.#units.values(), ...this.#leaving]) u.disconnect();
    this.hooks.close();
  }

  /** Closing: calls waiting to be placed, or to be sent again after TRYAGAIN / CLUSTERDOWN, end now (never sent). */
  #endWaits(): void {
    this.#placing.endAll();
    this.#redirects.tryAgain.endAll((cmd) => this.#fail(cmd, new ClosedError('the client closed while the command waited to be sent again (TRYAGAIN / CLUSTERDOWN); it was never sent', { command: cmd.info.name })));
  }

  stats(): TopologyStats {
    return sumStats([...this.#units].map(([address, unit]) => [address, unit.stats()]), this.#fences.timeouts);
  }
}

