/**
 * A private Redis Cluster for tests: `masters` masters with `replicasPerMaster`
 * replicas each, every node a redis-server in cluster mode on a free loopback
 * port (never 6379) in its own temp dir, no persistence.
 *
 * The cluster is joined by hand rather than with `redis-cli --cluster create`,
 * which polls once a second while the nodes join: ADDSLOTS on the masters,
 * distinct config epochs (so no epoch collision has to be resolved), MEET,
 * REPLICATE once every node knows every other, then wait until every node
 * says `cluster_state:ok` and all agree. Most of the ~2 s it takes is the
 * server's own rule that a freshly started master stays `fail` for 2 s
 * (CLUSTER_WRITABLE_DELAY).
 *
 * The harness talks to the nodes with `NodeClient` (./node-client.ts), a raw
 * connection on our codec (no routing, no retries), re-exported here for
 * specs that want a node's raw replies in RESP2 or RESP3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ServerError } from '../../lib/errors.js';
import type { Arg } from '../../lib/resp/encoder.js';
import type { Reply } from '../../lib/resp/types.js';
import { NodeClient } from './node-client.js';
import { ensureRedisInstalled, freePort } from './redis-server.js';

export { NodeClient, type NodeClientOptions } from './node-client.js';

export type ClusterRole = 'master' | 'replica';

export interface ClusterNodeInfo {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The node's cluster id (CLUSTER MYID). */
  readonly id: string;
  /** Role as last seen by the harness (updated by waitOk, failover, ...). */
  readonly role: ClusterRole;
  /** Id of its master, for a replica. */
  readonly masterId: string | undefined;
  /** Pid of the running process, undefined while killed. */
  readonly pid: number | undefined;
  readonly alive: boolean;
}

export interface StartClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout` in ms (default 1000): failure detection takes about this, failover about twice. */
  nodeTimeout?: number;
  /** More redis-server arguments for every node. */
  extraArgs?: string[];
  /** Bound of every wait, in ms (default 20 s). */
  timeout?: number;
}

export interface MoveSlotOptions {
  /** Keys per MIGRATE (default 100). */
  batch?: number;
  /**
   * Leave the slot half-migrated: `'migrating'` after both SETSLOT
   * IMPORTING / MIGRATING (every key still at the source), a number after at
   * least that many keys moved. `finish()` on the result completes the move.
   */
  stopAt?: 'migrating' | number;
  /** Called after each MIGRATE batch with the keys moved so far (e.g. to spread a move over time under load). */
  onBatch?: (moved: number) => void | Promise<void>;
}

export interface SlotMove {
  readonly slot: number;
  readonly fromPort: number;
  readonly toPort: number;
  /** Keys moved so far. */
  readonly moved: number;
  /** True once every node was told the new owner. */
  readonly done: boolean;
  /** Move the remaining keys and assign the slot to the target (waits until the cluster agrees). */
  finish(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNodeInfo[];
  /** URL of the first node (any node is a valid seed). */
  readonly seedUrl: string;
  /** URL of every node, e.g. for a `nodes: [...]` option. */
  readonly urls: readonly string[];
  node(port: number): ClusterNodeInfo;
  /** Nodes with this role right now (as last seen by the harness). */
  masters(): ClusterNodeInfo[];
  replicas(of?: number): ClusterNodeInfo[];
  /** One command to one node (connections are cached per node). */
  call(port: number, ...args: Arg[]): Promise<Reply>;
  /** Port of the master that owns `slot`, as an alive node reports it. */
  ownerOf(slot: number): Promise<number>;
  /** Wait until every alive node says `cluster_state:ok`, knows every other alive node as healthy, and all agree on roles and slots. */
  waitOk(timeout?: number): Promise<void>;
  /** kill -9 one node; nothing else (no waiting for the cluster). */
  kill(port: number): Promise<void>;
  /** Start a killed node again on its port, with its nodes.conf, and wait until the cluster is ok. */
  restart(port: number): Promise<void>;
  /** kill -9 a master, wait until one of its replicas is promoted and the cluster is ok; resolves with the new master's port. */
  failover(masterPort: number): Promise<number>;
  /** CLUSTER FAILOVER on a replica; waits until it is master and the cluster is ok. */
  manualFailover(replicaPort: number): Promise<void>;
  /** Migrate a slot (and its keys) to the master on `toPort`; see `MoveSlotOptions`. */
  moveSlot(slot: number, toPort: number, opts?: MoveSlotOptions): Promise<SlotMove>;
  /** kill -9 every node and remove their directories. */
  stop(): Promise<void>;
}

interface NodeState {
  port: number;
  dir: string;
  id: string;
  role: ClusterRole;
  masterId: string | undefined;
  child: ChildProcess | undefined;
}

/** One line of CLUSTER NODES, the parts the harness checks. */
interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string | undefined;
  /** Slot ranges served (open migrations `[...]` left out). */
  ranges: [number, number][];
}

const serves = (l: NodeLine, slot: number) => l.ranges.some(([a, b]) => slot >= a && slot <= b);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function text(reply: Reply): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  throw new Error(`expected a string reply, got ${typeof reply}`);
}

function parseNodes(raw: string): NodeLine[] {
  return raw
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const f = line.trim().split(' ');
      const addr = f[1]!.split(',')[0]!; // ip:port@cport[,hostname]
      const port = Number(addr.slice(addr.lastIndexOf(':') + 1).split('@')[0]);
      return {
        id: f[0]!,
        port,
        flags: f[2]!.split(',').map((x) => (x === 'slave' ? 'replica' : x)),
        masterId: f[3] === '-' ? undefined : f[3],
        ranges: f
          .slice(8)
          .filter((r) => !r.startsWith('['))
          .map((r) => {
            const [a, b = a] = r.split('-').map(Number);
            return [a!, b!] as [number, number];
          }),
      };
    });
}

/** Node id -> `health` from a RESP2 CLUSTER SHARDS reply. */
function shardHealth(reply: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const shard of reply as Reply[][]) {
    const nodes = shard[shard.indexOf('nodes') + 1] as Reply[][];
    for (const node of nodes) {
      const id = node[node.indexOf('id') + 1] as string;
      out.set(id, node[node.indexOf('health') + 1] as string);
    }
  }
  return out;
}

/** A port for a node: below 55535, since the cluster bus listens on port + 10000, and both free. */
async function nodePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port >= 55535 || taken.has(port) || taken.has(port + 10000)) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port + 10000, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (!busFree) continue;
    taken.add(port);
    taken.add(port + 10000);
    return port;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`cluster: ${what} did not happen within ${timeoutMs} ms` + (last ? ` (last error: ${(last as Error).message})` : ''));
    }
    await sleep(50);
  }
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<RedisCluster> {
  ensureRedisInstalled();
  const masters = opts.masters ?? 3;
  const perMaster = opts.replicasPerMaster ?? 1;
  const nodeTimeout = opts.nodeTimeout ?? 1000;
  const waitBound = opts.timeout ?? 20_000;
  if (masters < 1) throw new Error('a cluster needs at least one master');
  const taken = new Set<number>();
  const states: NodeState[] = [];
  const clients = new Map<number, NodeClient>();

  let shardsSupported = true;
  const alive = (s: NodeState) => s.child !== undefined && s.child.exitCode === null && s.child.signalCode === null;

  // Every node's dir lives under one home dir, which also holds the pids of
  // the running nodes for a watchdog: vitest ends its workers with a signal,
  // so no 'exit' handler runs when a file forgets stop() or a hook times out.
  // The watchdog (its own process group, so it outlives the worker) kills
  // those pids and removes the home dir once this process is gone.
  const home = mkdtempSync(path.join(os.tmpdir(), 'redmux-cluster-'));
  const pidsFile = path.join(home, 'pids');
  const writePids = () => {
    try {
      writeFileSync(pidsFile, states.filter(alive).map((s) => s.child!.pid).join(' '));
    } catch {
      // stopped: the home dir is gone, and so are the nodes
    }
  };
  writePids();
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; kill -9 $(cat '${pidsFile}') 2>/dev/null; rm -rf '${home}'`],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const stateOf = (port: number) => {
    const s = states.find((x) => x.port === port);
    if (!s) throw new Error(`no node on port ${port} in this cluster`);
    return s;
  };

  const clientOf = async (port: number): Promise<NodeClient> => {
    let c = clients.get(port);
    if (!c || c.closed) {
      c = await NodeClient.connect(port);
      clients.set(port, c);
    }
    return c;
  };
  const call = async (port: number, ...args: Arg[]): Promise<Reply> => (await clientOf(port)).call(...args);
  const callBuffers = async (port: number, ...args: Arg[]): Promise<Reply> => (await clientOf(port)).callBuffers(...args);

  const nodesOf = async (port: number) => parseNodes(text(await call(port, 'CLUSTER', 'NODES')));
  const myself = async (port: number) => (await nodesOf(port)).find((l) => l.flags.includes('myself'));

  const launch = async (s: NodeState): Promise<void> => {
    const args = [
      '--port', String(s.port), '--bind', '127.0.0.1', '--dir', s.dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', path.join(s.dir, 'nodes.conf'),
      '--cluster-node-timeout', String(nodeTimeout),
      // A replica may be promoted however long its link was down (tests kill and restart freely).
      '--cluster-replica-validity-factor', '0',
      // Replicas stay with their master: no replica migration to an orphaned master.
      '--cluster-migration-barrier', '999',
      '--save', '', '--appendonly', 'no',
      // Replicas sync at once (the default waits 5 s for more replicas to share the transfer).
      '--repl-diskless-sync-delay', '0',
      '--logfile', path.join(s.dir, 'redis.log'),
      ...(opts.extraArgs ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    s.child = child;
    writePids();
    child.once('exit', writePids);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${s.port} exited with code ${child.exitCode} (see ${s.dir}/redis.log)`);
      const ok = await new Promise<boolean>((resolve) => {
        const sock = net.connect(s.port, '127.0.0.1');
        sock.once('connect', () => {
          sock.destroy();
          resolve(true);
        });
        sock.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${s.port}`);
      await sleep(10);
    }
  };

  const exited = (s: NodeState) =>
    new Promise<void>((resolve) => {
      const child = s.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });

  const killNode = async (s: NodeState) => {
    clients.get(s.port)?.close();
    clients.delete(s.port);
    s.child?.kill('SIGKILL');
    await exited(s);
  };

  /** Every alive node's view, once they all agree; throws (to retry) otherwise. */
  const agreedView = async (checkHealth = true): Promise<NodeLine[] | undefined> => {
    const live = states.filter(alive);
    const liveIds = new Set(live.map((s) => s.id));
    let reference: string | undefined;
    let view: NodeLine[] | undefined;
    for (const s of live) {
      const info = text(await call(s.port, 'CLUSTER', 'INFO'));
      if (!/^cluster_state:ok\r?$/m.test(info)) return undefined;
      const lines = (await nodesOf(s.port)).filter((l) => liveIds.has(l.id));
      if (lines.length !== live.length) return undefined; // not every alive node is known yet
      for (const l of lines) {
        if (l.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr')) return undefined;
      }
      const canonical = lines
        .map((l) => `${l.id} ${l.port} ${l.flags.includes('master') ? 'master' : 'replica'} ${l.masterId ?? '-'} ${l.ranges.join(' ')}`)
        .sort()
        .join('\n');
      if (reference === undefined) {
        reference = canonical;
        view = lines;
      } else if (canonical !== reference) {
        return undefined;
      }
    }
    // Replicas of alive masters have finished their sync (a promotion needs a synced replica).
    for (const l of view ?? []) {
      if (!l.flags.includes('replica') || !l.masterId || !liveIds.has(l.masterId)) continue;
      const repl = text(await call(l.port, 'INFO', 'replication'));
      if (!/^master_link_status:up\r?$/m.test(repl)) return undefined;
    }
    // ... and every node's CLUSTER SHARDS says so: Redis 7.0 reports a replica
    // whose replication offset is still 0 as `loading` (hence the FLUSHALL
    // after creation), and learns offsets by gossip.
    if (checkHealth && shardsSupported) {
      for (const s of live) {
        let reply: Reply;
        try {
          reply = await call(s.port, 'CLUSTER', 'SHARDS');
        } catch (err) {
          if (err instanceof ServerError && /unknown subcommand/i.test(err.message)) {
            shardsSupported = false; // Redis < 7
            break;
          }
          throw err;
        }
        for (const [id, health] of shardHealth(reply)) if (liveIds.has(id) && health !== 'online') return undefined;
      }
    }
    return view;
  };

  const waitOk = async (timeout = waitBound): Promise<void> => {
    const view = await until('cluster_state:ok with every node agreeing', timeout, () => agreedView());
    for (const l of view) {
      const s = states.find((x) => x.id === l.id);
      if (!s) continue;
      s.role = l.flags.includes('master') ? 'master' : 'replica';
      s.masterId = s.role === 'replica' ? l.masterId : undefined;
    }
  };

  const stop = async (): Promise<void> => {
    await Promise.all(states.map((s) => killNode(s)));
    if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };

  // ---- start the processes
  const total = masters * (1 + perMaster);
  try {
    await Promise.all(
      Array.from({ length: total }, async () => {
        const dir = mkdtempSync(path.join(home, 'node-'));
        const s: NodeState = { port: 0, dir, id: '', role: 'master', masterId: undefined, child: undefined };
        states.push(s);
        for (let tries = 0; ; tries++) {
          s.port = await nodePort(taken);
          try {
            await launch(s);
            return;
          } catch (err) {
            if (tries >= 3) throw err; // someone took the port between probe and bind
          }
        }
      }),
    );
    states.sort((a, b) => a.port - b.port);
    const masterStates = states.slice(0, masters);
    const replicaStates = states.slice(masters);

    // ---- ids, slots, epochs, then meet
    await Promise.all(states.map(async (s) => (s.id = text(await call(s.port, 'CLUSTER', 'MYID')))));
    await Promise.all(
      masterStates.map((s, i) => {
        const from = Math.floor((i * 16384) / masters);
        const to = Math.floor(((i + 1) * 16384) / masters);
        return call(s.port, 'CLUSTER', 'ADDSLOTS', ...Array.from({ length: to - from }, (_, k) => from + k));
      }),
    );
    await Promise.all(states.map((s, i) => call(s.port, 'CLUSTER', 'SET-CONFIG-EPOCH', i + 1)));
    await Promise.all(states.slice(1).map((s) => call(states[0]!.port, 'CLUSTER', 'MEET', '127.0.0.1', s.port)));

    // ---- replicas, once they know their master
    await Promise.all(
      replicaStates.map(async (s, i) => {
        const master = masterStates[i % masters]!;
        s.role = 'replica';
        s.masterId = master.id;
        await until(`node ${s.port} learning its master`, waitBound, async () => {
          const known = (await nodesOf(s.port)).find((l) => l.id === master.id);
          return known && !known.flags.includes('handshake') ? true : undefined;
        });
        await call(s.port, 'CLUSTER', 'REPLICATE', master.id);
      }),
    );
    // Once the replicas are in sync, a FLUSHALL (replicated even on an empty
    // dataset) moves every replication offset above 0, which CLUSTER SHARDS
    // needs to call a replica online; else that waits for the master's next
    // PING to its replicas (repl-ping-replica-period, 10 s).
    await until('replicas in sync', waitBound, () => agreedView(false));
    await Promise.all(masterStates.map((s) => call(s.port, 'FLUSHALL')));
    await waitOk();
  } catch (err) {
    await stop();
    throw err;
  }

  const info = (s: NodeState): ClusterNodeInfo => ({
    port: s.port,
    url: `redis://127.0.0.1:${s.port}`,
    dir: s.dir,
    get id() {
      return s.id;
    },
    get role() {
      return s.role;
    },
    get masterId() {
      return s.masterId;
    },
    get pid() {
      return alive(s) ? s.child!.pid : undefined;
    },
    get alive() {
      return alive(s);
    },
  });
  const infos = states.map(info);
  const infoOf = (port: number) => infos[states.indexOf(stateOf(port))]!;

  const ownerOf = async (slot: number): Promise<number> => {
    for (const s of states.filter(alive)) {
      const owner = (await nodesOf(s.port)).find((l) => l.flags.includes('master') && serves(l, slot));
      if (owner) return owner.port;
    }
    throw new Error(`no alive node knows an owner of slot ${slot}`);
  };

  const moveSlot = async (slot: number, toPort: number, mo: MoveSlotOptions = {}): Promise<SlotMove> => {
    const fromPort = await ownerOf(slot);
    const to = stateOf(toPort);
    const from = stateOf(fromPort);
    if (fromPort === toPort) throw new Error(`slot ${slot} is already on ${toPort}`);
    const batch = mo.batch ?? 100;
    const state = { slot, fromPort, toPort, moved: 0, done: false, finish };
    // The documented order: the target imports before the source migrates, so
    // no ASK can point at a node that does not accept the slot yet.
    await call(toPort, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
    await call(fromPort, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
    const migrate = async (limit: number) => {
      for (;;) {
        if (state.moved >= limit) return;
        const keys = (await callBuffers(fromPort, 'CLUSTER', 'GETKEYSINSLOT', slot, batch)) as Buffer[];
        if (keys.length === 0) return;
        await call(fromPort, 'MIGRATE', '127.0.0.1', toPort, '', 0, 10_000, 'KEYS', ...keys);
        state.moved += keys.length;
        await mo.onBatch?.(state.moved);
      }
    };
    async function finish(): Promise<void> {
      if (state.done) return;
      await migrate(Infinity);
      // Target first (it stops answering ASK-only), then the source, then everyone else.
      await call(toPort, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
      await call(fromPort, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
      for (const s of states.filter((x) => alive(x) && x.role === 'master' && x !== to && x !== from)) {
        await call(s.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
      }
      state.done = true;
      await until(`slot ${slot} on ${toPort} everywhere`, waitBound, async () => {
        for (const s of states.filter(alive)) {
          const owner = (await nodesOf(s.port)).find((l) => serves(l, slot));
          if (owner?.id !== to.id) return undefined;
        }
        return true;
      });
      await waitOk();
    }
    if (mo.stopAt === 'migrating') return state;
    if (typeof mo.stopAt === 'number') {
      await migrate(mo.stopAt);
      return state;
    }
    await finish();
    return state;
  };

  const failover = async (masterPort: number): Promise<number> => {
    const master = stateOf(masterPort);
    // A failure is only agreed on (FAIL) by a majority of the masters.
    if (masters < 3) throw new Error('automatic failover needs at least 3 masters (a majority must see the failure)');
    const candidates = states.filter((s) => alive(s) && s.masterId === master.id);
    if (candidates.length === 0) throw new Error(`master ${masterPort} has no alive replica to promote`);
    await killNode(master);
    const promoted = await until(`a replica of ${masterPort} being promoted`, waitBound, async () => {
      for (const s of candidates) {
        const me = await myself(s.port);
        if (me?.flags.includes('master') && me.ranges.length > 0) return s;
      }
      return undefined;
    });
    await waitOk();
    return promoted.port;
  };

  const manualFailover = async (replicaPort: number): Promise<void> => {
    const s = stateOf(replicaPort);
    await call(replicaPort, 'CLUSTER', 'FAILOVER');
    await until(`${replicaPort} becoming master`, waitBound, async () => {
      const me = await myself(s.port);
      return me?.flags.includes('master') ? true : undefined;
    });
    await waitOk();
  };

  return {
    nodes: infos,
    seedUrl: infos[0]!.url,
    urls: infos.map((n) => n.url),
    node: infoOf,
    masters: () => infos.filter((n) => n.alive && n.role === 'master'),
    replicas: (of?: number) =>
      infos.filter((n) => n.alive && n.role === 'replica' && (of === undefined || n.masterId === infoOf(of).id)),
    call,
    ownerOf,
    waitOk,
    async kill(port) {
      await killNode(stateOf(port));
    },
    async restart(port) {
      const s = stateOf(port);
      if (alive(s)) throw new Error(`node ${port} is running`);
      await launch(s);
      await waitOk();
    },
    failover,
    manualFailover,
    moveSlot,
    stop,
  };
}
