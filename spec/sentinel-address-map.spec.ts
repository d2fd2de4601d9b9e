/**
 * `sentinel.addressMap`: a Sentinel deployment whose data nodes (and
 * sentinels) announce addresses the client cannot reach, as behind Docker,
 * Kubernetes or NAT. Real processes (support/redis-sentinel.ts, `hostnames`):
 * every process announces a name under `.invalid` that only the sentinels
 * resolve (their own hosts file), so GET-MASTER-ADDR-BY-NAME, REPLICAS,
 * SENTINELS and `+switch-master` all name `node-<port>.redmux.invalid`
 * (`sentinel-<port>...`), which never resolves for the client; the map sends
 * each to the loopback port it stands for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, InvalidArgumentError, Redis, type Message, type NodeAddress, type RedisOptions } from '../lib/index.js';
import { SentinelDiscovery } from '../lib/topology/sentinel/discovery.js';
import { announcedNode, announcedSentinel, startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { until } from './support/until.js';

let deployment: RedisSentinels;
const clients: Redis[] = [];
const discoveries: SentinelDiscovery[] = [];

beforeAll(async () => {
  deployment = await startSentinels({ hostnames: true, replicas: 2, sentinels: 3 });
}, 60_000);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(discoveries.splice(0).map((d) => d.close()));
});
afterAll(async () => {
  await deployment?.stop();
});

/** Every announced name -> the loopback port it stands for, data nodes and sentinels, as a user would write the table. */
const table = (): Record<string, NodeAddress> =>
  Object.fromEntries([
    ...deployment.nodes.map((n) => [`${announcedNode(n.port)}:${n.port}`, { host: '127.0.0.1', port: n.port }]),
    ...deployment.sentinelPorts.map((p) => [`${announcedSentinel(p)}:${p}`, { host: '127.0.0.1', port: p }]),
  ]);

const toLoopback = ({ host, port }: NodeAddress): NodeAddress | undefined => (host.endsWith('.redmux.invalid') ? { host: '127.0.0.1', port } : undefined);

function client(sentinel: Partial<NonNullable<RedisOptions['sentinel']>>, o: RedisOptions = {}): Redis {
  const redis = new Redis({
    sentinel: { name: deployment.name, nodes: deployment.sentinelUrls.slice(), ...sentinel },
    connectTimeout: 1000,
    commandTimeout: 5000,
    ...o,
  });
  clients.push(redis);
  return redis;
}

/** The port of the data node the client's shared connection is on. */
const portOf = async (redis: Redis) => Number(/^tcp_port:(\d+)/m.exec((await redis.db.reply('INFO', 'server')) as string)![1]);

async function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}

describe('sentinel.addressMap', () => {
  it('the deployment names every node by an address the client cannot reach (the setting of this file)', async () => {
    const master = await deployment.masterPort();
    const sentinel = deployment.sentinelPorts[0]!;
    expect(await deployment.sentinelCall(sentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', deployment.name)).toEqual([announcedNode(master), String(master)]);
    const replicas = (await deployment.sentinelCall(sentinel, 'SENTINEL', 'REPLICAS', deployment.name)) as string[][];
    expect(replicas.map((r) => r[r.indexOf('ip') + 1]).sort()).toEqual(deployment.replicas().map((n) => announcedNode(n.port)).sort());
    const peers = (await deployment.sentinelCall(sentinel, 'SENTINEL', 'SENTINELS', deployment.name)) as string[][];
    expect(peers.map((r) => r[r.indexOf('ip') + 1]).sort()).toEqual(deployment.sentinelPorts.slice(1).map(announcedSentinel).sort());
  });

  it('without it, the master cannot be reached: commands fail in bounded time, naming the announced address', async () => {
    const master = await deployment.masterPort();
    const redis = client({}, { commandTimeout: 3000, reconnect: { maxAttempts: 1 } });
    const r = await settled(redis.db.reply('PING'));
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.message).toContain(`${announcedNode(master)}:${master}`);
  });

  it('a table: commands, a blocking command (its own connection) and pub/sub reach the master through it; errors name the address connected to', async () => {
    const master = await deployment.masterPort();
    const redis = client({ addressMap: table() });
    expect(await redis.db.reply('SET', 'am:k', 'v')).toBe('OK');
    expect(await portOf(redis)).toBe(master);
    await redis.db.reply('RPUSH', 'am:list', 'job');
    expect(await redis.db.reply('BLPOP', 'am:list', 1)).toEqual(['am:list', 'job']);
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', (m: Message<string>) => got.push(m.message));
    await sub.subscribe('am:news');
    await until('the message arrives', async () => {
      await redis.db.reply('PUBLISH', 'am:news', 'hello');
      return got.includes('hello');
    });
    await sub.close();
    // A server error names where the client is connected, not the announced name.
    const err = await settled(redis.db.reply('INCR', 'am:k'));
    expect(err.ok).toBe(false);
    expect((err as { error: Error }).error.message).toContain(`127.0.0.1:${master}`);
  });

  it("role: 'replica' reads from a replica named by its announced address", async () => {
    const redis = client({ addressMap: toLoopback }, { role: 'replica' });
    const replicas = deployment.replicas().map((n) => n.port);
    expect(replicas).toContain(await portOf(redis));
    expect(((await redis.db.reply('ROLE')) as unknown[])[0]).toBe('slave');
  });

  it('sentinels learned from the configured one are learned at the address the map gives (the configured ones are never mapped)', async () => {
    const [first, ...others] = deployment.sentinelPorts;
    const options = { name: deployment.name, nodes: [{ host: '127.0.0.1', port: first! }], connectTimeout: 1000, commandTimeout: 2000 };
    const mapped = new SentinelDiscovery({ ...options, addressMap: table() });
    const plain = new SentinelDiscovery(options);
    discoveries.push(mapped, plain);
    await Promise.all([mapped.master(), plain.master()]);
    const list = (d: SentinelDiscovery) => d.sentinels().map((e) => `${e.host}:${e.port}`).sort();
    expect(list(mapped)).toEqual(deployment.sentinelPorts.map((p) => `127.0.0.1:${p}`).sort());
    expect(list(plain)).toEqual([`127.0.0.1:${first}`, ...others.map((p) => `${announcedSentinel(p)}:${p}`)].sort());
  });

  it('a function, asked for every connection, follows a failover to the replica the sentinels promote, named by its announced address', async () => {
    const asked: string[] = [];
    const redis = client({
      addressMap: (a) => {
        asked.push(`${a.host}:${a.port}`);
        return toLoopback(a);
      },
    });
    const before = await deployment.masterPort();
    expect(await redis.db.reply('SET', 'am:failover', 'before')).toBe('OK');
    expect(asked).toContain(`${announcedNode(before)}:${before}`);
    const sw = await deployment.failover();
    await until('the client writes to the promoted replica', async () => {
      const now = await settled(portOf(redis));
      return now.ok && now.value === sw.to;
    }, 20_000);
    expect(await redis.db.reply('SET', 'am:failover', 'after')).toBe('OK');
    expect(await deployment.call(sw.to, 'GET', 'am:failover')).toBe('after');
    expect(asked).toContain(`${announcedNode(sw.to)}:${sw.to}`);
  }, 60_000);

  it("a replica the sentinels see down (announced by name) is left at once by role: 'replica' connections", async () => {
    const redis = client({ addressMap: toLoopback }, { role: 'replica', commandTimeout: 20_000 });
    const frozen = await portOf(redis);
    const pid = deployment.node(frozen).pid!;
    process.kill(pid, 'SIGSTOP'); // up for TCP, silent for the sentinels (and for us): +sdown after down-after-milliseconds
    try {
      // The +sdown names the replica as announced; the client is connected to it at 127.0.0.1: it must still recognise it.
      await until('reads are served by another node while the replica is frozen', async () => (await portOf(redis)) !== frozen, 15_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await deployment.waitSettled();
  }, 60_000);

  it('a function that throws or answers something else fails the waiting commands with a ConnectError saying why (nothing sent)', async () => {
    const master = await deployment.masterPort();
    const throwing = client({ addressMap: () => { throw new Error('no route to the data network'); } });
    const a = await settled(throwing.db.reply('SET', 'am:never', '1'));
    expect(a.ok).toBe(false);
    const e = (a as { error: Error }).error;
    expect(e).toBeInstanceOf(ConnectError);
    expect(e.message).toContain('sentinel.addressMap');
    expect(e.message).toContain(`${announcedNode(master)}:${master}`);
    expect((e.cause as Error).message).toBe('no route to the data network');

    const garbage = client({ addressMap: (() => '127.0.0.1') as never });
    const b = await settled(garbage.db.reply('SET', 'am:never', '2'));
    expect(b.ok).toBe(false);
    expect((b as { error: Error }).error).toBeInstanceOf(ConnectError);
    expect((b as { error: Error }).error.cause).toBeInstanceOf(InvalidArgumentError);
    expect(await deployment.call(master, 'GET', 'am:never')).toBeNull();
  });

  it('bad maps are refused when the client is made, naming sentinel.addressMap', () => {
    const bad: unknown[] = [5, 'node:1', { 'no-port': { host: '127.0.0.1', port: 7000 } }, { 'h:7000': { host: '', port: 7000 } }, { 'h:7000': '127.0.0.1:7000' }];
    for (const addressMap of bad) {
      const make = () => client({ addressMap: addressMap as never });
      expect(make, JSON.stringify(addressMap)).toThrow(InvalidArgumentError);
      expect(make).toThrow(/sentinel\.addressMap/);
    }
    // ioredis's name for it says where it is here.
    expect(() => client({ natMap: {} } as never)).toThrow(/sentinel\.addressMap/);
  });
});
