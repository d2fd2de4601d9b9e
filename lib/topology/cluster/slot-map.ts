/**
 * The slot map of a Redis Cluster: which shard (a master and its replicas)
 * serves each of the 16384 hash slots. Immutable and IO-free: built from a
 * topology reply (see topology-reply.ts) or from a MOVED redirect applied to
 * an existing map (`withMoved`), compared with `equals` to tell whether a
 * refresh changed anything.
 *
 * The lookup is O(1): one Uint16Array of shard indexes, NO_SHARD for a slot
 * nobody serves (not yet assigned, or its master's address is unknown).
 *
 * Shapes are canonical: replicas are ordered by address and shards by their
 * lowest slot (slotless shards last), so the same cluster read twice, or read
 * through CLUSTER SHARDS and through CLUSTER SLOTS, gives maps that are
 * `equals` and list the same shards in the same order.
 */
import { InvalidArgumentError } from '../../errors.js';
import { SLOT_COUNT } from '../../commands/slot.js';

/** Value of the slot lookup for a slot no shard serves. */
export const NO_SHARD = 0xffff;

export type NodeRole = 'master' | 'replica';

export interface ClusterNode {
  /** The node's cluster id; `''` when unknown (CLUSTER SLOTS before Redis 4, a MOVED to a node not in the map). */
  readonly id: string;
  /** Where to connect: see topology-reply.ts for how it is chosen. */
  readonly host: string;
  /** The port to connect to (the TLS port when the map was read for a TLS client). */
  readonly port: number;
  /** The node's announced TLS port, when the reply gave one. */
  readonly tlsPort?: number;
  readonly role: NodeRole;
  /** `online`, `loading`, `fail`/`failed`, as CLUSTER SHARDS says; absent when read from CLUSTER SLOTS. */
  readonly health?: string;
  /** `host:port`, the key nodes are known by (unambiguous even for IPv6 hosts: the port is after the last colon). */
  readonly address: string;
}

export interface Shard {
  readonly master: ClusterNode;
  /** Replicas that may serve reads, ordered by address. */
  readonly replicas: readonly ClusterNode[];
}

/** A contiguous run of slots (inclusive bounds) and the index of the shard serving it. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly shard: number;
}

/** A node as a parser (or a test) describes it. */
export interface NodeInput {
  id?: string;
  host: string;
  port: number;
  tlsPort?: number;
  health?: string;
}

/** A shard as a parser (or a test) describes it: inclusive slot ranges. */
export interface ShardInput {
  master: NodeInput;
  replicas?: readonly NodeInput[];
  slots: readonly (readonly [number, number])[];
}

/** `host:port`, the key of a node. */
export function nodeAddress(host: string, port: number): string {
  return `${host}:${port}`;
}

function makeNode(input: NodeInput, role: NodeRole): ClusterNode {
  const node: { -readonly [K in keyof ClusterNode]: ClusterNode[K] } = {
    id: input.id ?? '',
    host: input.host,
    port: input.port,
    role,
    address: nodeAddress(input.host, input.port),
  };
  if (input.tlsPort !== undefined) node.tlsPort = input.tlsPort;
  if (input.health !== undefined) node.health = input.health;
  return Object.freeze(node);
}

function checkNode(n: NodeInput): void {
  if (typeof n.host !== 'string' || n.host === '') throw new InvalidArgumentError('a cluster node needs a non-empty host');
  if (!Number.isInteger(n.port) || n.port < 1 || n.port > 65535) throw new InvalidArgumentError('a cluster node port must be an integer in 1..65535');
}

const EMPTY_NODES: readonly ClusterNode[] = Object.freeze([]);

/** Whether shard `now` has the master of `old`, and each of its replicas. */
function servedBy(old: Shard, now: Shard): boolean {
  if (old.master.address !== now.master.address) return false;
  return old.replicas.every((r) => now.replicas.some((n) => n.address === r.address));
}

export class SlotMap {
  /** A map in which no slot is served. */
  static readonly EMPTY = new SlotMap([], new Uint16Array(SLOT_COUNT).fill(NO_SHARD));

  /** Shards in canonical order (see the file comment); indexes are what `shardIndex` returns. */
  readonly shards: readonly Shard[];
  readonly #owners: Uint16Array;
  /** Master address -> shard index. */
  readonly #byMaster = new Map<string, number>();
  #fingerprint: string | undefined;
  #ranges: readonly SlotRange[] | undefined;
  #nodes: readonly ClusterNode[] | undefined;

  private constructor(shards: readonly Shard[], owners: Uint16Array) {
    this.shards = Object.freeze(shards.slice());
    this.#owners = owners;
    shards.forEach((s, i) => this.#byMaster.set(s.master.address, i));
  }

  /**
   * A map from shard descriptions. Shards with the same master address are
   * merged; a replica listed twice, or at its master's address, counts once;
   * a slot claimed by two shards goes to the later one.
   */
  static build(input: readonly ShardInput[]): SlotMap {
    // Merge by master address, keeping first-seen order for the claim rule.
    const merged: { master: NodeInput; replicas: Map<string, NodeInput>; slots: (readonly [number, number])[] }[] = [];
    const index = new Map<string, number>();
    for (const s of input) {
      checkNode(s.master);
      const addr = nodeAddress(s.master.host, s.master.port);
      let i = index.get(addr);
      if (i === undefined) {
        i = merged.length;
        index.set(addr, i);
        merged.push({ master: s.master, replicas: new Map(), slots: [] });
      }
      const m = merged[i]!;
      for (const r of s.replicas ?? []) {
        checkNode(r);
        const raddr = nodeAddress(r.host, r.port);
        if (raddr !== addr && !m.replicas.has(raddr)) m.replicas.set(raddr, r);
      }
      for (const range of s.slots) {
        const [start, end] = range;
        if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end >= SLOT_COUNT || start > end) {
          throw new InvalidArgumentError(`a slot range must be integers with 0 <= start <= end < ${SLOT_COUNT}`);
        }
        m.slots.push(range);
      }
    }
    // Claims in input order (later wins), by merged index.
    const claims = new Uint16Array(SLOT_COUNT).fill(NO_SHARD);
    for (let i = 0; i < merged.length; i++) {
      for (const [start, end] of merged[i]!.slots) claims.fill(i, start, end + 1);
    }
    // Canonical order: by lowest slot served, then slotless shards by master address.
    const lowest = new Array<number>(merged.length).fill(SLOT_COUNT);
    for (let slot = SLOT_COUNT - 1; slot >= 0; slot--) {
      const owner = claims[slot]!;
      if (owner !== NO_SHARD) lowest[owner] = slot;
    }
    const order = merged.map((_, i) => i);
    const addrOf = (i: number) => nodeAddress(merged[i]!.master.host, merged[i]!.master.port);
    order.sort((a, b) => lowest[a]! - lowest[b]! || (addrOf(a) < addrOf(b) ? -1 : addrOf(a) > addrOf(b) ? 1 : 0));
    const remap = new Uint16Array(merged.length);
    order.forEach((from, to) => (remap[from] = to));
    const owners = new Uint16Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const owner = claims[slot]!;
      owners[slot] = owner === NO_SHARD ? NO_SHARD : remap[owner]!;
    }
    const shards = order.map((i) => {
      const m = merged[i]!;
      const replicas = [...m.replicas.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, r]) => makeNode(r, 'replica'));
      return Object.freeze({ master: makeNode(m.master, 'master'), replicas: Object.freeze(replicas) });
    });
    return new SlotMap(shards, owners);
  }

  /** Index into `shards` of the shard serving `slot`, or NO_SHARD. The hot-path lookup. */
  shardIndex(slot: number): number {
    return this.#owners[slot] ?? NO_SHARD;
  }

  shardFor(slot: number): Shard | undefined {
    const i = this.#owners[slot];
    return i === undefined || i === NO_SHARD ? undefined : this.shards[i];
  }

  /** The master serving `slot`, or undefined if no known node does. */
  masterFor(slot: number): ClusterNode | undefined {
    return this.shardFor(slot)?.master;
  }

  /** The replicas of the shard serving `slot` (empty if none, or no owner). */
  replicasFor(slot: number): readonly ClusterNode[] {
    return this.shardFor(slot)?.replicas ?? EMPTY_NODES;
  }

  /** Every node once: masters in shard order, then replicas; or only one role. */
  nodes(role?: NodeRole): readonly ClusterNode[] {
    if (!this.#nodes) {
      const seen = new Map<string, ClusterNode>();
      for (const n of [...this.shards.map((s) => s.master), ...this.shards.flatMap((s) => s.replicas)]) {
        if (!seen.has(n.address)) seen.set(n.address, n);
      }
      this.#nodes = Object.freeze([...seen.values()]);
    }
    return role === undefined ? this.#nodes : this.#nodes.filter((n) => n.role === role);
  }

  /** The node at this address, if the map has one (a master if it is listed as both). */
  nodeAt(host: string, port: number): ClusterNode | undefined {
    const addr = nodeAddress(host, port);
    return this.nodes().find((n) => n.address === addr);
  }

  /** Index of the shard whose master is at this address, or NO_SHARD. */
  shardOfMaster(host: string, port: number): number {
    return this.#byMaster.get(nodeAddress(host, port)) ?? NO_SHARD;
  }

  /** Slots some shard serves (16384 when the cluster is fully covered). */
  get coveredSlots(): number {
    let n = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) if (this.#owners[slot] !== NO_SHARD) n++;
    return n;
  }

  /** The slot runs that have an owner, in slot order. */
  ranges(): readonly SlotRange[] {
    if (this.#ranges) return this.#ranges;
    const out: SlotRange[] = [];
    const owners = this.#owners;
    let start = 0;
    for (let slot = 1; slot <= SLOT_COUNT; slot++) {
      if (slot < SLOT_COUNT && owners[slot] === owners[start]) continue;
      if (owners[start] !== NO_SHARD) out.push(Object.freeze({ start, end: slot - 1, shard: owners[start]! }));
      start = slot;
    }
    return (this.#ranges = Object.freeze(out));
  }

  /**
   * A string that is equal for two maps exactly when they route every slot to
   * the same master (id and address) and list the same shards with the same
   * replicas, whatever their order. Health and TLS ports are left out: they
   * are not routing, and CLUSTER SLOTS does not report them.
   */
  get fingerprint(): string {
    if (this.#fingerprint !== undefined) return this.#fingerprint;
    const label = (n: ClusterNode) => `${n.id}@${n.address}`;
    const runs = this.ranges().map((r) => `${r.start}-${r.end}=${this.shards[r.shard]!.master.address}`);
    const shards = this.shards.map((s) => `${label(s.master)}>${s.replicas.map(label).join(',')}`).sort();
    return (this.#fingerprint = `${runs.join(' ')}|${shards.join(' ')}`);
  }

  /** Same routing and same shards (see `fingerprint`). */
  equals(other: SlotMap): boolean {
    return this === other || this.fingerprint === other.fingerprint;
  }

  /**
   * Slots whose master is another node than in `before` (a migration, a
   * failover, the first map), or whose shard lost a replica (moved to another
   * shard, or gone): a node that served the slot's reads in `before` and no
   * longer serves them, so whatever it answered is no longer kept fresh.
   */
  slotsMovedFrom(before: SlotMap): number[] {
    const moved: number[] = [];
    const kept = new Map<number, boolean>(); // per (old shard, new shard): whether every node of the old one serves the new one
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const was = before.#owners[slot]!, now = this.#owners[slot]!;
      if (was === NO_SHARD || now === NO_SHARD) {
        if (was !== now) moved.push(slot);
        continue;
      }
      const pair = was * 0x10000 + now;
      let same = kept.get(pair);
      if (same === undefined) kept.set(pair, (same = servedBy(before.shards[was]!, this.shards[now]!)));
      if (!same) moved.push(slot);
    }
    return moved;
  }

  /**
   * The map after `MOVED slot host:port`, applied at once (a full refresh
   * follows later): the slot now belongs to the shard whose master is at that
   * address, or to a new shard with no replicas when no master is (e.g. a
   * replica just promoted: it keeps its id if the map knew it). Only that
   * slot changes; existing shard indexes stay valid. Returns `this` when the
   * map already says so.
   */
  withMoved(slot: number, host: string, port: number): SlotMap {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) throw new InvalidArgumentError(`a slot must be an integer in 0..${SLOT_COUNT - 1}`);
    checkNode({ host, port });
    let shards = this.shards;
    let target = this.#byMaster.get(nodeAddress(host, port));
    if (target === undefined) {
      const known = this.nodeAt(host, port);
      const master = makeNode({ id: known?.id ?? '', host, port, ...(known?.tlsPort !== undefined ? { tlsPort: known.tlsPort } : {}) }, 'master');
      target = shards.length;
      shards = [...shards, Object.freeze({ master, replicas: EMPTY_NODES })];
    } else if (this.#owners[slot] === target) {
      return this;
    }
    const owners = this.#owners.slice();
    owners[slot] = target;
    return new SlotMap(shards, owners);
  }
}
