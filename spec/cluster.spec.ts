/**
 * The same API over a real Redis Cluster (3 masters, 3 replicas, started for
 * this file): routing by slot, splitting and fan-out, redirects (MOVED after a
 * real slot migration, ASK during one), transactions and WATCH in one slot,
 * CrossSlotError, per-node handles, replica reads and a failover.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ConnectError, ConnectionLostError, CrossSlotError, InvalidArgumentError, Redis } from '../lib/index.js';
import { tryAgainsAnswered, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

// Clients seeded with every node: any reachable one is enough (a failover test may have killed the first).
const { cluster, client, track } = useCluster({ commandTimeout: 5000 });

const ready = (redis: Redis) => new Promise((resolve) => redis.once('ready', resolve));

describe('routing by slot', () => {
  it('writes land on the owner of each key slot, and read back', async () => {
    const redis = client();
    const keys = Array.from({ length: 200 }, (_, i) => `route:${i}`);
    await Promise.all(keys.map((k) => redis.db.reply('SET', k, `v-${k}`)));
    expect(await Promise.all(keys.map((k) => redis.db.reply('GET', k)))).toEqual(keys.map((k) => `v-${k}`));
    expect(redis.mode).toBe('cluster');
    // Each key is where the cluster says it is: its owner serves it directly.
    for (const k of keys.slice(0, 20)) {
      const owner = await cluster.ownerOf(keySlot(k));
      expect(await cluster.call(owner, 'GET', k)).toBe(`v-${k}`);
    }
  });

  it('20k concurrent SET/GET of random keys, all correct, over one shared connection per master', async () => {
    const redis = client({ clientName: 'shared-per-master' });
    await ready(redis);
    const keys = Array.from({ length: 10_000 }, () => `rand:${Math.random().toString(36).slice(2)}`);
    expect(new Set(await Promise.all(keys.map((k) => redis.db.reply('SET', k, k))))).toEqual(new Set(['OK']));
    const values = await Promise.all(keys.map((k) => redis.db.reply('GET', k)));
    expect(values).toEqual(keys);
    for (const m of cluster.masters()) {
      const list = String(await cluster.call(m.port, 'CLIENT', 'LIST'));
      expect(list.split('\n').filter((l) => l.includes('name=shared-per-master'))).toHaveLength(1);
    }
  });

  it('mode auto: one seed URL, HELLO says cluster, and the queued commands are routed', async () => {
    const redis = new Redis(cluster.seedUrl, { commandTimeout: 5000 });
    redis.on('error', () => {});
    track(redis);
    const writes = Array.from({ length: 50 }, (_, i) => redis.db.reply('SET', `auto:${i}`, String(i))); // before the handshake
    expect(await Promise.all(writes)).toEqual(Array(50).fill('OK'));
    expect(redis.mode).toBe('cluster');
    expect(await redis.db.reply('GET', 'auto:49')).toBe('49');
  });

  it('a multi-host URL seeds a cluster; any reachable host is enough', async () => {
    const [a, b] = cluster.masters();
    const redis = new Redis(`redis://127.0.0.1:1,127.0.0.1:${a!.port},127.0.0.1:${b!.port}`, { commandTimeout: 5000, connectTimeout: 500 });
    redis.on('error', () => {});
    track(redis);
    await redis.db.reply('SET', 'multihost', 'yes');
    expect(await redis.db.reply('GET', 'multihost')).toBe('yes');
  });
});

describe('multi-key commands', () => {
  it('MGET / MSET / DEL / EXISTS split by slot and merge in the caller order', async () => {
    const redis = client();
    const keys = Array.from({ length: 30 }, (_, i) => `split:${i}`);
    expect(await redis.db.reply('MSET', ...keys.flatMap((k) => [k, `x${k}`]))).toBe('OK');
    expect(await redis.db.reply('MGET', ...keys, 'split:missing')).toEqual([...keys.map((k) => `x${k}`), null]);
    expect(await redis.db.reply('EXISTS', ...keys, 'split:missing')).toBe(30);
    expect(await redis.db.reply('DEL', ...keys.slice(0, 10))).toBe(10);
    expect(await redis.db.reply('EXISTS', ...keys)).toBe(20);
  });

  it('keys in different slots that cannot be split: CrossSlotError, nothing sent', async () => {
    const redis = client();
    await redis.db.reply('SET', 'cross:a', '1');
    const err = await redis.db.reply('RENAME', 'cross:a', 'cross:b').catch((e: Error) => e);
    expect(err).toBeInstanceOf(CrossSlotError);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(await redis.db.reply('GET', 'cross:a')).toBe('1');
    expect(await redis.db.reply('RENAME', '{cross}:a', '{cross}:b').catch((e: Error) => e.name)).toBe('ServerError'); // same slot: sent (no such key)
  });

  it('keyless commands follow their tips: DBSIZE sums every master, KEYS concatenates, PING all succeed', async () => {
    const redis = client();
    await redis.db.reply('FLUSHALL');
    await Promise.all(Array.from({ length: 40 }, (_, i) => redis.db.reply('SET', `fan:${i}`, 'v')));
    expect(await redis.db.reply('DBSIZE')).toBe(40);
    expect(((await redis.db.reply('KEYS', 'fan:*')) as string[]).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `fan:${i}`).sort());
    expect(await redis.db.reply('PING')).toBe('PONG');
  });

  it('SCRIPT LOAD / EXISTS / FLUSH fan out: every node has the script, then none has it', async () => {
    const redis = client();
    await ready(redis);
    const sha = (await redis.db.reply('SCRIPT', 'LOAD', 'return 1')) as string;
    const everyNode = () => Promise.all(cluster.nodes.map((n) => cluster.call(n.port, 'SCRIPT', 'EXISTS', sha)));
    expect(await everyNode()).toEqual(cluster.nodes.map(() => [1]));
    expect(await redis.db.reply('SCRIPT', 'EXISTS', sha)).toEqual([1]); // agg_logical_and over every node
    expect(await redis.db.reply('SCRIPT', 'FLUSH')).toBe('OK');
    expect(await everyNode()).toEqual(cluster.nodes.map(() => [0]));
    expect(await redis.db.reply('SCRIPT', 'EXISTS', sha)).toEqual([0]);
  });

  it('KEYS asks every master: keys of every slot, each once', async () => {
    const redis = client();
    await redis.db.reply('FLUSHALL');
    const keys = Array.from({ length: 300 }, (_, i) => `keysfan:${i}`);
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, '1']));
    const owners = new Set(await Promise.all(keys.map((k) => cluster.ownerOf(keySlot(k)))));
    expect(owners.size).toBe(3); // the keys really are spread over the masters
    const found = (await redis.db.reply('KEYS', 'keysfan:*')) as string[];
    expect(found.length).toBe(300);
    expect(new Set(found)).toEqual(new Set(keys));
  });
});

describe('redirects', () => {
  it('MOVED after a real slot migration: the command is sent to the new owner, the map follows', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const key = 'moved:{m1}';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, 'before');
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    await cluster.moveSlot(slot, to);
    expect(await redis.db.reply('GET', key)).toBe('before'); // MOVED, then the new owner
    expect(await redis.db.reply('SET', key, 'after')).toBe('OK');
    expect(await cluster.call(to, 'GET', key)).toBe('after');
  });

  it('a blocking command that meets MOVED follows it (on a lease of the new owner)', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    await ready(redis);
    const key = 'moved:{bl1}';
    const slot = keySlot(key);
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    await cluster.moveSlot(slot, to);
    await cluster.call(to, 'RPUSH', key, 'job');
    expect(await redis.db.reply('BLPOP', key, 1)).toEqual([key, 'job']);
  });

  it('ASK during a migration: ASKING + the command on the importing node', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const tag = '{a2}';
    const slot = keySlot(tag);
    const keys = Array.from({ length: 20 }, (_, i) => `${tag}:${i}`);
    await Promise.all(keys.map((k) => redis.db.reply('SET', k, k)));
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    const move = await cluster.moveSlot(slot, to, { stopAt: 10 }); // half the keys moved
    expect(move.done).toBe(false);
    expect(await Promise.all(keys.map((k) => redis.db.reply('GET', k)))).toEqual(keys);
    await move.finish();
    expect(await Promise.all(keys.map((k) => redis.db.reply('GET', k)))).toEqual(keys);
  });
});

describe('transactions during a migration', () => {
  it('a block whose keys were already migrated (ASK at queue time) runs once on the importing node', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const tag = '{txask}';
    const slot = keySlot(tag);
    await redis.db.reply('SET', `${tag}:old`, 'x'); // the slot is not empty: the move stays half done
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    const move = await cluster.moveSlot(slot, to, { stopAt: 'migrating' });
    try {
      // New keys: the source answers ASK for each queued command, EXEC is refused; nothing ran.
      const result = await redis.db.multi((tx) => {
        tx.command('SET', `${tag}:new`, '1');
        tx.command('INCR', `${tag}:new`);
      });
      expect(result).toEqual(['OK', 2]);
      expect(await cluster.call(to, 'ASKING').then(() => cluster.call(to, 'GET', `${tag}:new`))).toBe('2'); // ran once, on the target
    } finally {
      await move.finish();
    }
    expect(await redis.db.reply('GET', `${tag}:new`)).toBe('2');
  });

  it('a block over keys split by the migration (TRYAGAIN) waits it out and runs once', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const tag = '{txtry}';
    const slot = keySlot(tag);
    const keys = Array.from({ length: 10 }, (_, i) => `${tag}:${i}`);
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, '0']));
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    const move = await cluster.moveSlot(slot, to, { stopAt: 5, batch: 5 }); // half the keys on each side
    const refused = await tryAgainsAnswered(cluster);
    const done = redis.db
      .multi((tx) => {
        tx.command('MGET', ...keys); // some keys here, some there: TRYAGAIN until the move ends
        tx.command('INCR', keys[0]!);
      })
      .catch((e: Error) => e); // observed at once: a failure while the move runs must not go unhandled
    await until('the block met TRYAGAIN while the keys are split', async () => (await tryAgainsAnswered(cluster)) > refused);
    await move.finish();
    const result = await done;
    expect(result).toEqual([keys.map(() => '0'), 1]);
    expect(await redis.db.reply('GET', keys[0]!)).toBe('1');
  });
});

describe('transactions, WATCH and databases', () => {
  it('multi and watch run on the master of their one slot; across slots is a CrossSlotError', async () => {
    const redis = client();
    expect(await redis.db.multi((tx) => {
      tx.command('SET', '{tx}:a', '1');
      tx.command('INCR', '{tx}:a');
    })).toEqual(['OK', 2]);
    await expect(redis.db.multi((tx) => {
      tx.command('SET', 'txa', '1');
      tx.command('SET', 'txb', '1');
    })).rejects.toBeInstanceOf(CrossSlotError);
    const result = await redis.db.watch(['{w}:counter'], async (conn) => {
      const cur = Number(await conn.reply('GET', '{w}:counter'));
      return conn.multi((tx) => tx.command('SET', '{w}:counter', cur + 1));
    });
    expect(result).toEqual(['OK']);
    await expect(redis.db.watch(['wa', 'wb'], () => 1)).rejects.toBeInstanceOf(CrossSlotError);
  });

  it('a block refused with MOVED at queue time (its slot moved) ran nothing and is sent again whole to the new owner', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const tag = '{txmove}';
    await ready(redis);
    await redis.db.reply('SET', `${tag}:n`, '10');
    const slot = keySlot(tag);
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    await cluster.moveSlot(slot, to); // the client's map still says `from`
    const handles: PromiseLike<unknown>[] = [];
    const result = await redis.db.multi((tx) => {
      handles.push(tx.command('INCR', `${tag}:n`));
      handles.push(tx.command('GET', `${tag}:n`));
    });
    expect(result).toEqual([11, '11']);
    expect(await Promise.all(handles)).toEqual([11, '11']);
    expect(await cluster.call(to, 'GET', `${tag}:n`)).toBe('11'); // ran once, on the new owner
  });

  it('only database 0', async () => {
    const redis = client();
    expect(() => redis.database(1)).toThrow(InvalidArgumentError);
    expect(() => new Redis({ nodes: [cluster.seedUrl], db: 2 })).toThrow(InvalidArgumentError);
  });
});

describe('nodes and replicas', () => {
  it("stats() adds up every node and lists each; 'topology' tells when the slot map changes", async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    await ready(redis);
    await Promise.all(Array.from({ length: 30 }, (_, i) => redis.db.reply('SET', `stats:${i}`, 'v')));
    const stats = redis.stats();
    const nodes = Object.values(stats.nodes ?? {});
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    expect(nodes.reduce((n, s) => n + s.commands, 0)).toBe(stats.commands);
    const change = new Promise<{ masters: string[] }>((resolve) => redis.once('topology', resolve));
    const slot = keySlot('stats:0');
    const from = await cluster.ownerOf(slot);
    await cluster.moveSlot(slot, cluster.masters().find((m) => m.port !== from)!.port);
    await redis.db.reply('GET', 'stats:0'); // MOVED: the map is refreshed
    expect((await change).masters.length).toBe(cluster.masters().length);
  });

  it('redis.nodes() gives per-node handles (once ready: the slot map lists them)', async () => {
    const redis = client();
    await ready(redis);
    await redis.db.reply('SET', 'nodes:x', '1');
    const masters = redis.nodes('master');
    expect(masters).toHaveLength(3);
    const sizes = await Promise.all(masters.map((m) => m.db.reply('DBSIZE')));
    expect(sizes.reduce((a: number, b) => a + (b as number), 0)).toBe(await redis.db.reply('DBSIZE'));
    expect(redis.nodes('replica')).toHaveLength(3);
  });

  it("readFrom 'replica' serves reads from the slot's replicas", async () => {
    const redis = client({ cluster: { readFrom: 'replica' } });
    await redis.db.reply('SET', 'replica:k', 'v');
    await redis.db.reply('WAIT', 1, 1000).catch(() => 0); // let the replica catch up (not routed: keyless)
    let value: unknown = null;
    for (let i = 0; i < 50 && value !== 'v'; i++) value = await redis.db.reply('GET', 'replica:k');
    expect(value).toBe('v');
    const slot = keySlot('replica:k');
    const owner = await cluster.ownerOf(slot);
    const replica = cluster.replicas(owner)[0]!;
    const stats = String(await cluster.call(replica.port, 'INFO', 'commandstats'));
    expect(stats).toMatch(/cmdstat_get:calls=[1-9]/);
  });
});

describe('what an adversarial review found', () => {
  it('MSET across slots with a missing value: InvalidArgumentError, nothing written, the connection intact', async () => {
    const redis = client();
    await ready(redis);
    const err = await redis.db.reply('MSET', 'odd:a', 'written?', 'odd:b').catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(await redis.db.reply('EXISTS', 'odd:a', 'odd:b')).toBe(0);
    expect(await redis.db.reply('SET', 'odd:after', '1')).toBe('OK');
    expect(redis.stats().connectionLost).toBe(0);
  });

  it('SCAN is refused (a cursor belongs to one node); RANDOMKEY answers one key', async () => {
    const redis = client();
    await ready(redis);
    await redis.db.reply('SET', 'rk:1', 'v');
    await expect(redis.db.reply('SCAN', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(typeof (await redis.db.reply('RANDOMKEY'))).toBe('string');
    const scanned = await redis.nodes('master')[0]!.db.reply('SCAN', 0); // per node it works
    expect(Array.isArray(scanned)).toBe(true);
  });

  it('a multi with keys across slots before the first slot map: CrossSlotError, settled, nothing unhandled', async () => {
    const redis = client();
    const block = redis.db.multi((tx) => {
      tx.command('SET', 'early:a', '1');
      tx.command('SET', 'early:b', '1');
    });
    await expect(block).rejects.toBeInstanceOf(CrossSlotError);
  });

  it('close() in auto mode before the first handshake leaves no connection behind', async () => {
    const redis = new Redis(cluster.seedUrl, { clientName: 'closed-early' });
    const pending = redis.db.reply('GET', 'x').catch((e: Error) => e);
    await redis.close();
    await pending;
    await new Promise((r) => setTimeout(r, 500));
    for (const m of cluster.masters()) expect(String(await cluster.call(m.port, 'CLIENT', 'LIST'))).not.toContain('name=closed-early');
  });

  it('an unreachable seed: a fan-out with a deadline settles by it; close() settles what waits for the first map', async () => {
    // A default deadline of a minute: only the call's own 300 ms can end the fan-out; one that waited past it
    // (for the first map, by the default) would hang, and within() says so.
    const redis = new Redis({ nodes: ['redis://127.0.0.1:1'], connectTimeout: 200, commandTimeout: 60_000 });
    redis.on('error', () => {});
    const err = await within('the fan-out settles by its 300 ms deadline', redis.db.with({ timeout: 300 }).reply('DBSIZE').catch((e: Error) => e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toContain('within 300 ms'); // ended by its own deadline, not the default one
    const waiting = redis.db.reply('DBSIZE').then(() => 'resolved', (e: Error) => e.name);
    await redis.close();
    expect(await waiting).toBe('ClosedError');
  });

  it('seeds carry only host and port; a rediss seed without tls is refused (never a silent downgrade)', () => {
    expect(() => new Redis({ nodes: ['redis://user:secret@127.0.0.1:7000'] })).toThrow(InvalidArgumentError);
    expect(() => new Redis({ nodes: ['redis://user:secret@127.0.0.1:7000'] })).not.toThrow(/secret/);
    expect(() => new Redis({ nodes: ['rediss://127.0.0.1:7000'] })).toThrow(/tls/);
  });
});

describe('failover', () => {
  it('kill -9 a master: after the promotion, commands to its slots succeed again with no call from the user', async () => {
    const redis = client({ commandTimeout: 8000, cluster: { refreshInterval: 0 } });
    const key = 'failover:{f1}';
    await redis.db.reply('SET', key, 'kept');
    await cluster.call(await cluster.ownerOf(keySlot(key)), 'WAIT', 1, 2000);
    const master = await cluster.ownerOf(keySlot(key));
    const failover = cluster.failover(master);
    // Reads during the failover: read-only, so sent again on loss; they settle, and end up answered.
    const during = redis.db.reply('GET', key).catch((e: Error) => e);
    await failover;
    const r = await during;
    if (r instanceof Error) expect(r).toBeInstanceOf(ConnectionLostError);
    await until('a GET answered by the promoted replica', async () => (await redis.db.reply('GET', key).catch((e: Error) => e)) === 'kept');
    expect(await redis.db.reply('SET', key, 'new master')).toBe('OK');
  }, 40_000);

  it('a transaction that timed out queued on a dead master never leaves a connection in MULTI; node-handle commands stay on their node', async () => {
    const redis = client({ commandTimeout: 8000, cluster: { refreshInterval: 0 } });
    await ready(redis);
    // A key whose master still has a replica to promote (the test above used one up).
    let key = '';
    let master = 0;
    for (let i = 0; master === 0; i++) {
      const owner = await cluster.ownerOf(keySlot(`stuck:{s${i}}`));
      if (cluster.replicas(owner).some((r) => r.alive)) [key, master] = [`stuck:{s${i}}`, owner];
    }
    await redis.db.reply('SET', key, 'v');
    await cluster.call(master, 'WAIT', 1, 2000);
    const handle = redis.nodes('master').find((n) => n.address.endsWith(`:${master}`))!;
    const promoted = cluster.failover(master);
    promoted.catch(() => {}); // awaited below; a failure meanwhile must not go unhandled
    await until('the master killed', () => !cluster.node(master).alive);
    const block = redis.db.with({ timeout: 300 }).multi((tx) => tx.command('SET', key, 'in-block'));
    const pinned = handle.db.with({ timeout: 6000 }).reply('CONFIG', 'SET', 'maxmemory-samples', '7').catch((e: Error) => e);
    await expect(block).rejects.toBeInstanceOf(Error);
    await promoted;
    let got: unknown;
    await until("a GET answered 'v' after the promotion", async () => (got = await redis.db.reply('GET', key).catch((e: Error) => e)) === 'v');
    expect(got).toBe('v'); // not 'QUEUED'
    expect(await pinned).toBeInstanceOf(Error); // its node is gone: not run elsewhere
    for (const m of cluster.masters()) expect(await cluster.call(m.port, 'CONFIG', 'GET', 'maxmemory-samples')).toEqual(['maxmemory-samples', '5']);
  }, 40_000);
});
