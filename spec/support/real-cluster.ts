/**
 * One private Redis Cluster for a spec file (./redis-cluster.ts), and the
 * clients its tests make: `const { cluster, client } = useCluster(defaults)`,
 * then `client(opts)` in a test. The cluster starts in beforeAll and is
 * stopped in afterAll (every node killed by its pid, its directories
 * removed); the clients are ended after each test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { keySlot } from '../../lib/commands/slot.js';
import { Redis, type RedisOptions } from '../../lib/index.js';
import { startCluster, type RedisCluster, type StartClusterOptions } from './redis-cluster.js';

export interface ClusterEnv {
  /**
   * The file's cluster, from its beforeAll on. A stand-in that forwards to
   * the cluster started then, so that `const { cluster } = useCluster()` can
   * sit at the top of a file, before the cluster exists.
   */
  readonly cluster: RedisCluster;
  /**
   * A client of the cluster, seeded with every node, then `defaults`, then
   * `opts`; 'error' and 'commandError' listened to; ended after the current test.
   */
  client(opts?: RedisOptions): Redis;
  /** End this client (made by the test itself) after the current test too. */
  track(redis: Redis): Redis;
}

export interface UseClusterOptions {
  /**
   * How clients are ended after each test: `close()`, awaited (the default),
   * or `disconnect()`, for files whose tests leave commands waiting on dead
   * nodes (they fail at once instead of holding close() up).
   */
  end?: 'close' | 'disconnect';
  /** The cluster's shape: startCluster's options. */
  start?: StartClusterOptions;
}

export function useCluster(defaults: RedisOptions | ((cluster: RedisCluster) => RedisOptions) = {}, how: UseClusterOptions = {}): ClusterEnv {
  let started: RedisCluster | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    started = await startCluster(how.start);
  }, 60_000);
  afterEach(async () => {
    const ending = clients.splice(0);
    if (how.end === 'disconnect') for (const c of ending) c.disconnect();
    else await Promise.all(ending.map((c) => c.close()));
  });
  afterAll(async () => {
    await started?.stop();
  });
  const current = (): RedisCluster => {
    if (!started) throw new Error('the cluster starts in beforeAll');
    return started;
  };
  const cluster: RedisCluster = {
    get nodes() {
      return current().nodes;
    },
    get seedUrl() {
      return current().seedUrl;
    },
    get urls() {
      return current().urls;
    },
    node: (port) => current().node(port),
    masters: () => current().masters(),
    replicas: (of) => current().replicas(of),
    call: (port, ...args) => current().call(port, ...args),
    ownerOf: (slot) => current().ownerOf(slot),
    waitOk: (timeout) => current().waitOk(timeout),
    kill: (port) => current().kill(port),
    restart: (port) => current().restart(port),
    failover: (masterPort) => current().failover(masterPort),
    manualFailover: (replicaPort) => current().manualFailover(replicaPort),
    moveSlot: (slot, toPort, opts) => current().moveSlot(slot, toPort, opts),
    stop: () => current().stop(),
  };
  const env: ClusterEnv = {
    cluster,
    client(opts = {}) {
      const c = current();
      const base = typeof defaults === 'function' ? defaults(c) : defaults;
      const redis = env.track(new Redis({ nodes: [...c.urls], ...base, ...opts }));
      redis.on('error', () => {});
      redis.on('commandError', () => {});
      return redis;
    },
    track(redis) {
      clients.push(redis);
      return redis;
    },
  };
  return env;
}

/** One key of the form `<prefix>:<n>` on each master of `cluster`, with that master's port. */
export async function keysOnEachMaster(cluster: RedisCluster, prefix: string): Promise<{ key: string; port: number }[]> {
  const masters = cluster.masters().length;
  const found = new Map<number, string>();
  for (let i = 0; found.size < masters && i < 1000; i++) {
    const key = `${prefix}:${i}`;
    const port = await cluster.ownerOf(keySlot(key));
    if (!found.has(port)) found.set(port, key);
  }
  if (found.size < masters) throw new Error(`no key under ${prefix}: on ${masters - found.size} of the masters`);
  return [...found].map(([port, key]) => ({ key, port }));
}

/** A key of the form `<prefix>:<n>` whose slot the master on `port` serves. */
export async function keyOn(cluster: RedisCluster, port: number, prefix: string): Promise<string> {
  for (let i = 0; i < 2000; i++) {
    const key = `${prefix}:${i}`;
    if ((await cluster.ownerOf(keySlot(key))) === port) return key;
  }
  throw new Error(`no key of ${prefix} on ${port}`);
}

/** A hash tag (`prefix` and a number) whose slot the master on `port` owns: keys `{tag}...` all live there. */
export async function tagOn(cluster: RedisCluster, port: number, prefix: string): Promise<string> {
  for (let i = 0; i < 2000; i++) {
    const tag = `${prefix}${i}`;
    if ((await cluster.ownerOf(keySlot(`{${tag}}`))) === port) return tag;
  }
  throw new Error(`no hash tag of ${prefix} on ${port}`);
}

/**
 * How many TRYAGAIN replies the masters gave so far (INFO errorstats): a spec
 * that needs a command to have met a half-migrated slot waits for this to go
 * up, instead of a pause that assumes it did.
 */
export async function tryAgainsAnswered(cluster: RedisCluster): Promise<number> {
  let n = 0;
  for (const m of cluster.masters()) n += Number(/^errorstat_TRYAGAIN:count=(\d+)/m.exec(String(await cluster.call(m.port, 'INFO', 'errorstats')))?.[1] ?? 0);
  return n;
}
