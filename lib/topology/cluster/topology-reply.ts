/**
 * Reading a cluster's topology from a node's reply: CLUSTER SHARDS (Redis 7+)
 * or CLUSTER SLOTS (older servers), in RESP2 or RESP3, decoded with any of
 * our decoder's options (strings or Buffers, maps as objects or `Map`s,
 * attributes kept or not). Pure functions: no IO.
 *
 * Which address a node gets (`host`):
 *
 * - The server's preferred endpoint (`endpoint` in SHARDS, the first element
 *   in SLOTS), which already follows the operator's
 *   `cluster-preferred-endpoint-type` (ip, hostname or unknown-endpoint).
 * - An empty endpoint, or a null one (SLOTS), means "the address this reply
 *   came from" (unknown-endpoint, e.g. behind a load balancer, or a node that
 *   does not know its own IP yet): the caller passes that host as `from`, and
 *   the node's own port is kept.
 * - `?` means the node is configured for hostnames but announces none: per
 *   the Redis docs it is an unknown node, not the one we asked. It is left
 *   out (a master left out leaves its slots without an owner; a refresh or a
 *   MOVED will tell more).
 * - Only when a reply has no endpoint field at all (not a Redis reply we
 *   know) do `ip` and then `hostname` stand in.
 *
 * Which nodes are kept: replicas whose `health` is not `online` (SHARDS:
 * `loading`, `fail`) cannot serve reads and are left out; a master is kept
 * whatever its health while it owns slots (it is still where they are served
 * until a failover says otherwise), and left out when it owns none and is not
 * online (a dead master after a failover lingers in the reply until it is
 * forgotten). Nodes without a usable address or port are left out.
 *
 * Port: `port`, or with `tls: true` the `tls-port` when the reply gives one
 * (CLUSTER SHARDS lists both; CLUSTER SLOTS already answers with the port for
 * the asking connection's transport).
 *
 * A reply that is not the documented shape is a `ProtocolError`.
 */
import { ProtocolError } from '../../errors.js';
import { Attributed, type Reply } from '../../resp/types.js';
import { SLOT_COUNT } from '../../commands/slot.js';
import { SlotMap, type NodeInput, type ShardInput } from './slot-map.js';

export interface TopologyReplyOptions {
  /** Host of the node that sent the reply: the address of nodes whose endpoint is empty or null. */
  from: string;
  /** The client connects with TLS: use a node's `tls-port` when the reply gives one. */
  tls?: boolean;
}

type Command = 'CLUSTER SHARDS' | 'CLUSTER SLOTS';

function malformed(command: Command, what: string, from: string): never {
  throw new ProtocolError(`unexpected ${command} reply: ${what}`, { command, node: from });
}

function unwrap(v: Reply | undefined): Reply | undefined {
  return v instanceof Attributed ? v.value : v;
}

function text(v: Reply | undefined): string | undefined {
  v = unwrap(v);
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** An integer from a number, a bigint, or its decimal text (some versions send slots as strings). */
function int(v: Reply | undefined): number | undefined {
  v = unwrap(v);
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else {
    const t = text(v);
    if (t === undefined || !/^-?\d+$/.test(t)) return undefined;
    n = Number(t);
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

function list(v: Reply | undefined): Reply[] | undefined {
  v = unwrap(v);
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  return undefined;
}

/** Fields of a RESP3 map (object or `Map`) or a RESP2 flat key/value array; lower-case keys. */
function fields(v: Reply | undefined): Map<string, Reply> | undefined {
  v = unwrap(v);
  const out = new Map<string, Reply>();
  if (Array.isArray(v)) {
    if (v.length % 2 !== 0) return undefined;
    for (let i = 0; i < v.length; i += 2) {
      const k = text(v[i]);
      if (k === undefined) return undefined;
      out.set(k.toLowerCase(), v[i + 1]!);
    }
    return out;
  }
  if (v instanceof Map) {
    for (const [k, value] of v) {
      const key = text(k);
      if (key !== undefined) out.set(key.toLowerCase(), value);
    }
    return out;
  }
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Error) && !(v instanceof Set)) {
    for (const [k, value] of Object.entries(v)) out.set(k.toLowerCase(), value);
    return out;
  }
  return undefined;
}

function validPort(p: number | undefined): p is number {
  return p !== undefined && p >= 1 && p <= 65535;
}

/** The host to connect to, by the rules above; undefined for an unknown node. */
function chooseHost(endpoint: Reply | undefined, hasEndpoint: boolean, ip: string | undefined, hostname: string | undefined, from: string): string | undefined {
  if (hasEndpoint) {
    if (unwrap(endpoint) === null) return from;
    const e = text(endpoint);
    if (e === undefined || e === '?') return undefined;
    return e === '' ? from : e;
  }
  if (ip !== undefined && ip !== '' && ip !== '?') return ip;
  if (hostname !== undefined && hostname !== '' && hostname !== '?') return hostname;
  return ip === '' ? from : undefined;
}

/** Inclusive ranges from a flat `[start, end, start, end, ...]` list. */
function rangePairs(command: Command, raw: Reply[], from: string): [number, number][] {
  if (raw.length % 2 !== 0) malformed(command, 'an odd number of slot bounds', from);
  const out: [number, number][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push(checkRange(command, int(raw[i]), int(raw[i + 1]), from));
  return out;
}

function checkRange(command: Command, start: number | undefined, end: number | undefined, from: string): [number, number] {
  if (start === undefined || end === undefined || start < 0 || end >= SLOT_COUNT || start > end) {
    malformed(command, `a slot range outside 0..${SLOT_COUNT - 1}`, from);
  }
  return [start, end];
}

// ------------------------------------------------------------------ CLUSTER SHARDS

interface ShardsNode {
  node: NodeInput | undefined;
  role: string;
}

function shardsNode(raw: Reply, opts: TopologyReplyOptions): ShardsNode {
  const f = fields(raw);
  if (!f) malformed('CLUSTER SHARDS', 'a node that is not a map', opts.from);
  const role = text(f.get('role'))?.toLowerCase() ?? '';
  const plain = int(f.get('port'));
  const tlsPort = int(f.get('tls-port'));
  const port = opts.tls ? (validPort(tlsPort) ? tlsPort : plain) : plain;
  const host = chooseHost(f.get('endpoint'), f.has('endpoint'), text(f.get('ip')), text(f.get('hostname')), opts.from);
  if (host === undefined || !validPort(port)) return { node: undefined, role };
  const node: NodeInput = { id: text(f.get('id')) ?? '', host, port };
  if (validPort(tlsPort)) node.tlsPort = tlsPort;
  const health = text(f.get('health'));
  if (health !== undefined) node.health = health;
  return { node, role };
}

/** The slot map from a `CLUSTER SHARDS` reply (Redis 7+). */
export function slotMapFromShards(reply: Reply, opts: TopologyReplyOptions): SlotMap {
  const shards = list(reply);
  if (!shards) malformed('CLUSTER SHARDS', 'not an array of shards', opts.from);
  const input: ShardInput[] = [];
  for (const raw of shards) {
    const f = fields(raw);
    if (!f) malformed('CLUSTER SHARDS', 'a shard that is not a map', opts.from);
    const slotList = f.has('slots') ? list(f.get('slots')) : [];
    const nodeList = list(f.get('nodes'));
    if (!slotList || !nodeList) malformed('CLUSTER SHARDS', 'a shard without slots and nodes lists', opts.from);
    const slots = rangePairs('CLUSTER SHARDS', slotList, opts.from);
    const nodes = nodeList.map((n) => shardsNode(n, opts));
    // One master per shard; a shard whose master is unknown has no owner to route to.
    const master = nodes.find((n) => n.role === 'master')?.node;
    if (!master) continue;
    if (slots.length === 0 && master.health !== undefined && master.health !== 'online') continue;
    const replicas: NodeInput[] = [];
    for (const n of nodes) {
      if (n.role === 'master' || !n.node) continue;
      if (n.node.health !== undefined && n.node.health !== 'online') continue;
      replicas.push(n.node);
    }
    input.push({ master, replicas, slots });
  }
  return SlotMap.build(input);
}

// ------------------------------------------------------------------ CLUSTER SLOTS

/** `[endpoint, port, id?, metadata?]`; undefined when the node cannot be reached. */
function slotsNode(raw: Reply | undefined, opts: TopologyReplyOptions): NodeInput | undefined {
  const parts = list(raw);
  if (!parts || parts.length < 2) malformed('CLUSTER SLOTS', 'a node that is not [endpoint, port, ...]', opts.from);
  const meta = parts.length > 3 ? fields(parts[3]) : undefined;
  const host = chooseHost(parts[0], true, text(meta?.get('ip')), text(meta?.get('hostname')), opts.from);
  const port = int(parts[1]);
  if (host === undefined || !validPort(port)) return undefined;
  return { id: text(parts[2]) ?? '', host, port };
}

/**
 * The slot map from a `CLUSTER SLOTS` reply: one entry per contiguous range,
 * `[start, end, master, ...replicas]`. Ranges of the same master (by id, or
 * by address when the server gives no ids) form one shard. Failed replicas
 * are already left out by the server.
 */
export function slotMapFromSlots(reply: Reply, opts: TopologyReplyOptions): SlotMap {
  const entries = list(reply);
  if (!entries) malformed('CLUSTER SLOTS', 'not an array of slot ranges', opts.from);
  const byMaster = new Map<string, { master: NodeInput; replicas: NodeInput[]; slots: [number, number][] }>();
  for (const raw of entries) {
    const e = list(raw);
    if (!e || e.length < 3) malformed('CLUSTER SLOTS', 'a range that is not [start, end, master, ...]', opts.from);
    const range = checkRange('CLUSTER SLOTS', int(e[0]), int(e[1]), opts.from);
    const master = slotsNode(e[2], opts);
    if (!master) continue;
    const key = master.id || `${master.host}:${master.port}`;
    let shard = byMaster.get(key);
    if (!shard) byMaster.set(key, (shard = { master, replicas: [], slots: [] }));
    shard.slots.push(range);
    for (let i = 3; i < e.length; i++) {
      const replica = slotsNode(e[i], opts);
      if (replica) shard.replicas.push(replica);
    }
  }
  return SlotMap.build([...byMaster.values()]);
}
