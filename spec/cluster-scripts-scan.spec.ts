/**
 * Scripts, functions and SCAN iterators over a real Redis Cluster (3 masters,
 * 3 replicas, started for this file): a script runs on the node of its keys
 * and is loaded there (after SCRIPT FLUSH, a slot migration, a failover),
 * EVALSHA_RO / FCALL_RO go to replicas with readFrom, db.scan() walks every
 * master.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { CrossSlotError, InvalidArgumentError, Script, type Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 });

const ready = (redis: Redis) => new Promise((resolve) => redis.once('ready', resolve));

/** `cmdstat_<name>` calls on one node. */
async function calls(port: number, name: string): Promise<number> {
  const info = String(await cluster.call(port, 'INFO', 'commandstats'));
  const m = new RegExp(`^cmdstat_${name.replace('|', '\\|')}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

async function onEveryNode(...args: string[]): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => cluster.call(n.port, ...args).catch(() => undefined)));
}

const incrBy = new Script('return redis.call("INCRBY", KEYS[1], ARGV[1])');

describe('scripts in a cluster', () => {
  it('after SCRIPT FLUSH everywhere, each call runs once on its key node, which loads the script once', async () => {
    const redis = client();
    await ready(redis);
    await onEveryNode('SCRIPT', 'FLUSH');
    await onEveryNode('CONFIG', 'RESETSTAT');
    const keys = Array.from({ length: 60 }, (_, i) => `sc:${i}`);
    for (const k of keys) await redis.db.reply('DEL', k);
    for (const k of keys) expect(await redis.db.run(incrBy, [k], [3])).toBe(3);
    const owners = new Set(await Promise.all(keys.map((k) => cluster.ownerOf(keySlot(k)))));
    expect(owners.size).toBe(3); // the keys span every master
    for (const port of owners) {
      expect(await calls(port, 'script|load')).toBe(1);
      expect(await calls(port, 'eval')).toBe(0);
      expect(await cluster.call(port, 'SCRIPT', 'EXISTS', incrBy.sha1)).toEqual([1]);
    }
    for (const k of keys) expect(await cluster.call(await cluster.ownerOf(keySlot(k)), 'GET', k)).toBe('3');
  });

  it('keys in two slots are a CrossSlotError with nothing sent; a keyless script runs on some master', async () => {
    const redis = client();
    await ready(redis);
    await onEveryNode('CONFIG', 'RESETSTAT');
    const err = await redis.db.run(incrBy, ['a', 'b'], [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrossSlotError);
    for (const m of cluster.masters()) expect(await calls(m.port, 'evalsha')).toBe(0);
    const answer = new Script('return 41 + 1');
    for (let i = 0; i < 6; i++) expect(await redis.db.run(answer)).toBe(42);
  });

  it('tx.run inside MULTI (one slot) after SCRIPT FLUSH: no abort, the body runs once per call', async () => {
    const redis = client();
    await ready(redis);
    await onEveryNode('SCRIPT', 'FLUSH');
    await redis.db.reply('DEL', '{tx}:a');
    const replies = await redis.db.multi((tx) => {
      tx.run(incrBy, ['{tx}:a'], [1]);
      tx.run(incrBy, ['{tx}:a'], [1]);
    });
    expect(replies).toEqual([1, 2]);
  });

  it('a read-only script with readFrom: replica runs as EVALSHA_RO on a replica, loaded there', async () => {
    const redis = client({ cluster: { readFrom: 'replica' } });
    await ready(redis);
    await onEveryNode('SCRIPT', 'FLUSH');
    await onEveryNode('CONFIG', 'RESETSTAT');
    await redis.db.reply('SET', 'ro:key', 'value');
    const owner = await cluster.ownerOf(keySlot('ro:key'));
    const replicas = cluster.replicas(owner).map((r) => r.port);
    // Let the write reach the replica before reading there.
    await cluster.call(owner, 'WAIT', 1, 2000);
    const read = new Script('return redis.call("GET", KEYS[1])', { readOnly: true });
    expect(await redis.db.run(read, ['ro:key'])).toBe('value');
    expect(await redis.db.run(read, ['ro:key'])).toBe('value');
    const onReplicas = (await Promise.all(replicas.map((p) => calls(p, 'evalsha_ro')))).reduce((a, b) => a + b, 0);
    expect(onReplicas).toBe(3); // NOSCRIPT, the call again, the second call
    expect(await calls(owner, 'evalsha_ro')).toBe(0);
  });

  it('FUNCTION LOAD reaches every master; FCALL routes by key, FCALL_RO to a replica with readFrom', async () => {
    const redis = client({ cluster: { readFrom: 'replica' } });
    await ready(redis);
    await redis.db.reply(
      'FUNCTION', 'LOAD', 'REPLACE',
      "#!lua name=cslib\nredis.register_function{function_name='cget', callback=function(k) return redis.call('GET', k[1]) end, flags={'no-writes'}}\nredis.register_function('cset', function(k, a) return redis.call('SET', k[1], a[1]) end)",
    );
    await onEveryNode('CONFIG', 'RESETSTAT');
    const keys = Array.from({ length: 30 }, (_, i) => `fn:${i}`);
    for (const k of keys) expect(await redis.db.reply('FCALL', 'cset', 1, k, `v${k}`)).toBe('OK');
    for (const m of cluster.masters()) await cluster.call(m.port, 'WAIT', 1, 2000);
    for (const k of keys) expect(await redis.db.reply('FCALL_RO', 'cget', 1, k)).toBe(`v${k}`);
    for (const m of cluster.masters()) {
      expect(await calls(m.port, 'fcall')).toBeGreaterThan(0); // every master got its keys' calls
      expect(await calls(m.port, 'fcall_ro')).toBe(0);
    }
  });

  it('after a slot migrates to a master that never saw the script, calls stay transparent', async () => {
    const redis = client();
    await ready(redis);
    const key = 'mig:{script}';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, '10');
    expect(await redis.db.run(incrBy, [key], [1])).toBe(11);
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    await cluster.call(to, 'SCRIPT', 'FLUSH');
    await cluster.moveSlot(slot, to);
    expect(await redis.db.run(incrBy, [key], [1])).toBe(12); // MOVED, then NOSCRIPT on the new owner, loaded there
    expect(await cluster.call(to, 'SCRIPT', 'EXISTS', incrBy.sha1)).toEqual([1]);
    expect(await cluster.call(to, 'GET', key)).toBe('12');
  });
});

describe('SCAN iterators in a cluster', () => {
  it('db.scan() walks every master: 3,000 keys, each once', async () => {
    const redis = client();
    await ready(redis);
    await onEveryNode('FLUSHALL');
    await onEveryNode('CONFIG', 'RESETSTAT');
    const keys = Array.from({ length: 3000 }, (_, i) => `scan:${i}`);
    await Promise.all(keys.map((k) => redis.db.reply('SET', k, '1')));
    const seen: string[] = [];
    for await (const k of redis.db.scan({ count: 200 })) seen.push(k);
    expect(seen.sort()).toEqual([...keys].sort());
    for (const m of cluster.masters()) expect(await calls(m.port, 'scan')).toBeGreaterThan(0);
  });

  it('type and match filters, pages(), and an early break stops issuing SCAN', async () => {
    const redis = client();
    await ready(redis);
    await onEveryNode('FLUSHALL');
    await Promise.all(Array.from({ length: 500 }, (_, i) => redis.db.reply('SET', `s:${i}`, '1')));
    await Promise.all(Array.from({ length: 20 }, (_, i) => redis.db.reply('HSET', `h:${i}`, 'f', 'v')));
    const hashes: string[] = [];
    for await (const k of redis.db.scan({ type: 'hash' })) hashes.push(k);
    expect(hashes).toHaveLength(20);
    let paged = 0;
    for await (const page of redis.db.scan({ match: 's:*', count: 100 }).pages()) paged += page.length;
    expect(paged).toBe(500);
    await onEveryNode('CONFIG', 'RESETSTAT');
    let n = 0;
    for await (const _ of redis.db.scan({ count: 10 })) if (++n === 3) break;
    await new Promise((r) => setTimeout(r, 50));
    const total = (await Promise.all(cluster.masters().map((m) => calls(m.port, 'scan')))).reduce((a, b) => a + b, 0);
    expect(total).toBe(1);
  });

  it('raw SCAN stays refused, pointing at db.scan(); a node handle scans its node only', async () => {
    const redis = client();
    await ready(redis);
    await onEveryNode('FLUSHALL');
    await Promise.all(Array.from({ length: 300 }, (_, i) => redis.db.reply('SET', `n:${i}`, '1')));
    const err = await redis.db.reply('SCAN', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/db\.scan\(\)/);
    const node = redis.nodes('master')[0]!;
    const port = Number(node.address.split(':').pop());
    const own: string[] = [];
    for await (const k of node.db.scan()) own.push(k);
    expect(own.length).toBe(Number(await cluster.call(port, 'DBSIZE')));
    expect(own.length).toBeLessThan(300);
  });

  it('hscan / zscan go to the key node; Buffers with decode: buffer', async () => {
    const redis = client();
    await ready(redis);
    for (let i = 0; i < 5; i++) {
      await redis.db.reply('HSET', `hk:${i}`, 'f1', 'a', 'f2', 'b');
      await redis.db.reply('ZADD', `zk:${i}`, 1, 'm1', 2, 'm2');
    }
    for (let i = 0; i < 5; i++) {
      const pairs: [string, string][] = [];
      for await (const p of redis.db.hscan(`hk:${i}`)) pairs.push(p);
      expect(pairs.sort()).toEqual([['f1', 'a'], ['f2', 'b']]);
      const scored: [Buffer, number][] = [];
      for await (const p of redis.db.with({ decode: 'buffer' }).zscan(`zk:${i}`)) scored.push(p);
      expect(scored.map(([m, s]) => [m.toString(), s]).sort()).toEqual([['m1', 1], ['m2', 2]]);
    }
    const raw: Buffer[] = [];
    for await (const k of redis.db.with({ decode: 'buffer' }).scan({ match: 'hk:*' })) raw.push(k);
    expect(raw.every((k) => Buffer.isBuffer(k))).toBe(true);
    expect(raw).toHaveLength(5);
  });
});

describe('after a failover', () => {
  it('a master killed mid-scan: its shard is walked again on the promoted replica, every key yielded once', async () => {
    const redis = client({ commandTimeout: 2000 });
    await ready(redis);
    await onEveryNode('FLUSHALL');
    const keys = Array.from({ length: 600 }, (_, i) => `mid:${i}`);
    await Promise.all(keys.map((k) => redis.db.reply('SET', k, '1')));
    for (const m of cluster.masters()) await cluster.call(m.port, 'WAIT', 1, 2000);
    const first = redis.nodes('master')[0]!; // db.scan() walks the masters in this order
    const pages = redis.db.scan({ count: 20 }).pages()[Symbol.asyncIterator]();
    const seen: string[] = [];
    const head = await pages.next(); // a page of the first master: its cursor is now mid-walk
    seen.push(...(head.value as string[]));
    await cluster.failover(Number(first.address.split(':').pop()));
    for (let r = await pages.next(); !r.done; r = await pages.next()) seen.push(...(r.value as string[]));
    expect(seen.length).toBe(new Set(seen).size);
    expect(seen.sort()).toEqual([...keys].sort());
  }, 60_000);

  it('the promoted replica lacks nothing the caller can see: scripts run, SCAN walks the new master', async () => {
    const redis = client();
    await ready(redis);
    const key = 'fo:{k}';
    await redis.db.reply('SET', key, '1');
    expect(await redis.db.run(incrBy, [key], [1])).toBe(2);
    const owner = await cluster.ownerOf(keySlot(key));
    await cluster.call(owner, 'WAIT', 1, 2000);
    const promoted = await cluster.failover(owner);
    await cluster.call(promoted, 'SCRIPT', 'FLUSH'); // whatever it had, it has nothing now
    const deadline = Date.now() + 20_000;
    let value: number | undefined;
    while (value === undefined && Date.now() < deadline) {
      value = await redis.db.run<number>(incrBy, [key], [1]).catch(() => undefined);
      if (value === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBe(3);
    const seen = new Set<string>();
    for await (const k of redis.db.scan()) seen.add(k);
    expect(seen.has(key)).toBe(true);
  }, 60_000);
});
