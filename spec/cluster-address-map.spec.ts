/**
 * A cluster whose nodes announce addresses the client cannot reach (Docker,
 * Kubernetes, NAT: the slot map and MOVED name in-cluster names), reached
 * through `cluster.addressMap` (a real 3+3 cluster, started once for this
 * file). The nodes here announce hostnames under `.invalid`, which never
 * resolve (RFC 2606), exactly as a container network's names do not resolve
 * on the host; the map sends each one to the loopback port it stands for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ConnectError, InvalidArgumentError, Redis, type Message } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client, track } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 3000, connectTimeout: 1000 }));

const announced = (port: number) => `node-${port}.redmux.invalid`;
/** Every node's announced name -> its real address, as a user would write it. */
const table = () => Object.fromEntries(cluster.nodes.map((n) => [`${announced(n.port)}:${n.port}`, { host: '127.0.0.1', port: n.port }]));

/** The endpoints CLUSTER SHARDS names on `port`. */
async function endpoints(port: number): Promise<string[]> {
  const shards = (await cluster.call(port, 'CLUSTER', 'SHARDS')) as unknown[];
  const out: string[] = [];
  for (const shard of shards) {
    const fields = shard as unknown[];
    const nodes = fields[fields.indexOf('nodes') + 1] as unknown[][];
    for (const node of nodes) out.push(String(node[node.indexOf('endpoint') + 1]));
  }
  return out;
}

beforeAll(async () => {
  for (const n of cluster.nodes) {
    await cluster.call(n.port, 'CONFIG', 'SET', 'cluster-announce-hostname', announced(n.port));
    await cluster.call(n.port, 'CONFIG', 'SET', 'cluster-preferred-endpoint-type', 'hostname');
  }
  // Hostnames travel by gossip: wait until every node names every other one by its hostname.
  await until('every node announces its hostname to every other', async () => {
    for (const n of cluster.nodes) if (!(await endpoints(n.port)).every((e) => e.endsWith('.redmux.invalid'))) return false;
    return true;
  }, 20_000);
}, 30_000);

/** One key per master, found from the slot map (the first node's view). */
async function keyPerMaster(): Promise<string[]> {
  const keys: string[] = [];
  const owners = new Set<number>();
  for (let i = 0; owners.size < 3 && i < 10_000; i++) {
    const key = `am:${i}`;
    const owner = await cluster.ownerOf(keySlot(key));
    if (!owners.has(owner)) {
      owners.add(owner);
      keys.push(key);
    }
  }
  return keys;
}

describe('cluster.addressMap', () => {
  it('without it, a node announced by an unreachable name cannot be reached: the command fails, saying where it tried', async () => {
    const redis = client({ commandTimeout: 1500, reconnect: { maxAttempts: 1 } });
    const keys = await keyPerMaster();
    const results = await Promise.allSettled(keys.map((k) => redis.db.reply('SET', k, 'v')));
    // The seed's own slots may work (its connection exists); another master's cannot.
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    expect(failed.length).toBeGreaterThan(0);
    for (const why of failed) expect(why).toMatch(/node-\d+\.redmux\.invalid:\d+/);
  });

  it('a table of announced address -> reachable address: every shard, split commands, blocking commands, replicas', async () => {
    const redis = client({ cluster: { addressMap: table(), readFrom: 'replica' } });
    const keys = await keyPerMaster();
    for (const k of keys) expect(await redis.db.reply('SET', k, `v-${k}`)).toBe('OK');
    expect(await redis.db.with({}).reply('MGET', ...keys)).toEqual(keys.map((k) => `v-${k}`));
    // Blocking commands lease their own connections: through the map too.
    await redis.db.reply('RPUSH', `${keys[1]}:list`, 'job');
    expect(await redis.db.reply('BLPOP', `${keys[1]}:list`, 1)).toEqual([`${keys[1]}:list`, 'job']);
    // The client names nodes as the cluster announces them.
    const addresses = redis.nodes().map((n) => n.address);
    expect(addresses.length).toBe(6);
    for (const a of addresses) expect(a).toMatch(/^node-\d+\.redmux\.invalid:\d+$/);
    // Per-node handles reach their node through the map.
    for (const node of redis.nodes('master')) expect(await node.db.reply('PING')).toBe('PONG');
  });

  it('a function, asked for each connection: MOVED after a migration names the new owner by its announced name, and is followed', async () => {
    const asked: string[] = [];
    const redis = client({
      cluster: {
        refreshInterval: 0,
        addressMap: ({ host, port }) => {
          asked.push(`${host}:${port}`);
          return host.endsWith('.redmux.invalid') ? { host: '127.0.0.1', port } : undefined;
        },
      },
    });
    const key = 'am-moved';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, 'before');
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    await cluster.moveSlot(slot, to);
    expect(await redis.db.reply('GET', key)).toBe('before');
    expect(asked).toContain(`${announced(to)}:${to}`);
  });

  it('a function that throws: that node\'s commands fail with a ConnectError whose cause is the error, nothing is sent, other nodes work', async () => {
    const keys = await keyPerMaster();
    const broken = await cluster.ownerOf(keySlot(keys[2]!));
    const redis = client({
      cluster: {
        addressMap: ({ port }) => {
          if (port === broken) throw new Error('no route for this node');
          return { host: '127.0.0.1', port };
        },
      },
    });
    const working = keys[0]!; // another master than the broken one (one key per master)
    expect(await redis.db.reply('SET', working, 'y')).toBe('OK'); // through the seed, which is not mapped
    await until('the slot map is in', async () => redis.nodes().length === 6, 10_000);
    const fails = await redis.db.reply('SET', keys[2]!, 'x').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(fails).toBeInstanceOf(ConnectError);
    expect((fails as ConnectError).message).toContain('cluster.addressMap');
    expect(((fails as ConnectError).cause as Error).message).toBe('no route for this node');
    expect(await cluster.call(broken, 'GET', keys[2]!)).not.toBe('x'); // never sent
    for (const k of keys.filter((_, i) => i !== 2)) expect(await redis.db.reply('SET', k, 'z')).toBe('OK');
  });

  it('a shard channel subscription goes through the map', async () => {
    const redis = client({ cluster: { addressMap: table() } });
    const channel = 'am{chan}';
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', (m: Message<string>) => got.push(m.message));
    await sub.ssubscribe(channel);
    await until('the message arrives', async () => {
      await redis.db.reply('SPUBLISH', channel, 'hello');
      return got.includes('hello');
    }, 10_000);
    await sub.close();
  });

  it('bad maps are refused when the client is made, naming the option', () => {
    const bad: unknown[] = [
      5,
      'node:1',
      { 'no-port': { host: '127.0.0.1', port: 7000 } },
      { 'h:7000': { host: '', port: 7000 } },
      { 'h:7000': { host: '127.0.0.1', port: 70000 } },
      { 'h:7000': { host: '127.0.0.1', port: 7000, tls: true } },
      { 'h:7000': '127.0.0.1:7000' },
    ];
    for (const addressMap of bad) {
      expect(() => track(new Redis({ nodes: [cluster.seedUrl], cluster: { addressMap } as never })), JSON.stringify(addressMap)).toThrow(InvalidArgumentError);
      expect(() => track(new Redis({ nodes: [cluster.seedUrl], cluster: { addressMap } as never }))).toThrow(/cluster\.addressMap/);
    }
  });
});
