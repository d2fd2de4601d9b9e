/**
 * Fault injection against a real Redis Cluster (3 masters, 3 replicas, started
 * once for this file): slots resharded and masters killed under load, a master
 * restarted with no failover, split commands while a slot moves, TRYAGAIN and
 * CLUSTERDOWN inside the deadline, and hostile input (empty hash tags, binary
 * keys, very long key lists, dead seeds, `maxRedirects: 0`, replica reads
 * during a failover). The invariants are those of spec/resilience.spec.ts:
 *  - every promise settles, within a bound;
 *  - no caller ever receives another caller's reply (ECHO tokens; the values
 *    INCR hands out for one key are all different);
 *  - for a counter, successes <= server value <= successes + maybeExecuted
 *    (nothing ran twice behind our back, nothing that succeeded was lost);
 *  - the client recovers with no call from the user.
 * Tests run in order and change the topology (slots move, masters fail over):
 * each asks the cluster where things are now rather than assuming.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import {
  ClusterDownError,
  ClusterRedirectError,
  ConnectionLostError,
  CrossSlotError,
  ProtocolError,
  Redis,
  RedisError,
  ReplyTimeoutError,
  TryAgainError,
} from '../lib/index.js';
import { freePort } from './support/redis-server.js';
import { tryAgainsAnswered, useCluster } from './support/real-cluster.js';
import { until, UNTIL_BOUND_MS, within } from './support/until.js';

// Clients seeded with the first node only; disconnected after each test (what waits on a dead node fails at once).
const { cluster, client } = useCluster(
  (c) => ({ nodes: [c.seedUrl], commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 } }),
  { end: 'disconnect' },
);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ready = (redis: Redis) => new Promise((resolve) => redis.once('ready', resolve));

/**
 * Resolves once `redis` has seen its connection to the node on `port` close
 * (its 'reconnecting'): from then on nothing is written to that node until it
 * is back. Call before the node dies.
 */
function lossSeen(redis: Redis, port: number): Promise<void> {
  return new Promise((resolve) => {
    const onReconnecting = ({ cause }: { cause: Error }) => {
      if (!(cause as RedisError).node?.endsWith(`:${port}`)) return;
      redis.off('reconnecting', onReconnecting);
      resolve();
    };
    redis.on('reconnecting', onReconnecting);
  });
}

/** Owner port of every slot, from an alive master's CLUSTER SLOTS (the harness's view, not the client's). */
async function slotOwners(): Promise<Int32Array> {
  const owners = new Int32Array(16384).fill(-1);
  const reply = (await cluster.call(cluster.masters()[0]!.port, 'CLUSTER', 'SLOTS')) as unknown as [number, number, [string, number]][];
  for (const [from, to, [, port]] of reply) owners.fill(port, from, to + 1);
  return owners;
}

/** `count` hash tags (`{prefix<i>}`), each in its own slot, whose owner passes `where`. */
function tags(owners: Int32Array, prefix: string, count: number, where: (port: number) => boolean): string[] {
  const out: string[] = [];
  const used = new Set<number>();
  for (let i = 0; out.length < count; i++) {
    if (i > 100_000) throw new Error(`no ${count} slots of the kind asked for`);
    const tag = `{${prefix}${i}}`;
    const slot = keySlot(tag);
    if (!used.has(slot) && where(owners[slot]!)) {
      used.add(slot);
      out.push(tag);
    }
  }
  return out;
}

/** Populate a slot so that moving it takes several MIGRATE batches. */
async function fill(redis: Redis, tag: string, n: number): Promise<void> {
  const args = Array.from({ length: n }, (_, i) => [`${tag}:fill${i}`, `fill${i}`]).flat();
  expect(await redis.db.reply('MSET', ...args)).toBe('OK');
}

/** The error may have run on the server (rule 2). */
function maybeRan(err: unknown): boolean {
  return (err instanceof ConnectionLostError && err.maybeExecuted) || (err instanceof ReplyTimeoutError && err.sent) || err instanceof ProtocolError;
}

interface Counter {
  ok: number;
  maybe: number;
  /** What each successful INCR answered. */
  values: number[];
}

interface Failure {
  key: string;
  command: string;
  err: Error;
}

const describeFailure = (f: Failure) =>
  `${f.command} ${f.key}: ${f.err.constructor.name}${f.err instanceof ConnectionLostError ? `{maybeExecuted:${f.err.maybeExecuted}}` : ''} ${f.err.message}`;

/**
 * `callers` loops, each alternating INCR on a counter (walking through `keys`)
 * and an ECHO of a token only it knows, until `stop()`.
 */
function load(redis: Redis, keys: string[], callers = 24) {
  const counters = new Map(keys.map((k) => [k, { ok: 0, maybe: 0, values: [] } as Counter]));
  const failures: Failure[] = [];
  const stats = { wrongReply: 0, calls: 0 };
  let running = true;
  const counted = async <T>(p: PromiseLike<T>): Promise<T> => {
    try {
      return await p;
    } finally {
      stats.calls++;
    }
  };
  const loops = Array.from({ length: callers }, async (_, c) => {
    for (let i = 0; running; i++) {
      const key = keys[(c * 7 + i) % keys.length]!;
      const counter = counters.get(key)!;
      try {
        counter.values.push((await counted(redis.db.reply('INCR', key))) as number);
        counter.ok++;
      } catch (err) {
        failures.push({ key, command: 'INCR', err: err as Error });
        if (maybeRan(err)) counter.maybe++;
      }
      const token = `caller${c}:${i}`;
      try {
        if ((await counted(redis.db.reply('ECHO', token))) !== token) stats.wrongReply++;
      } catch (err) {
        failures.push({ key: token, command: 'ECHO', err: err as Error });
      }
    }
  });
  return {
    counters,
    failures,
    stats,
    /** Stop the callers; resolves when every in-flight command has settled, or rejects after `boundMs`. */
    async stop(boundMs: number): Promise<void> {
      running = false;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`commands still pending ${boundMs} ms after the load stopped`)), boundMs);
      });
      await Promise.race([Promise.all(loops), bound]);
      clearTimeout(timer);
    },
  };
}

/**
 * Every counter, read from the node that owns it (not through the client):
 * successes <= value <= successes + maybe-executed failures, and no INCR reply
 * was handed out twice or is above the final value (a misdelivered reply would be).
 */
async function checkCounters(counters: Map<string, Counter>): Promise<void> {
  const owners = await slotOwners();
  for (const [key, t] of counters) {
    const value = Number(await cluster.call(owners[keySlot(key)]!, 'GET', key));
    expect(value, `${key}: ${t.ok} successes`).toBeGreaterThanOrEqual(t.ok);
    expect(value, `${key}: ${t.ok} successes + ${t.maybe} maybe executed`).toBeLessThanOrEqual(t.ok + t.maybe);
    expect(new Set(t.values).size, `${key}: an INCR reply handed out twice`).toBe(t.values.length);
    expect(Math.max(0, ...t.values), key).toBeLessThanOrEqual(value);
  }
}

/**
 * What an APPEND log `0,1,2,...` says about the order the commands ran in:
 * '' when every piece ran once, in order; else the first piece out of place.
 */
function orderProblem(log: string, n: number): string {
  const pieces = log.split(',').slice(0, -1).map(Number);
  if (pieces.length !== n) return `${pieces.length} pieces ran for ${n} commands`;
  const at = pieces.findIndex((p, i) => p !== i);
  if (at < 0) return '';
  const late = pieces.filter((p, i) => i > 0 && p < pieces[i - 1]!).length;
  return `piece ${pieces[at]} ran at position ${at} (${late} pieces ran after a later one): ${pieces.slice(Math.max(0, at - 3), at + 6).join(',')}...`;
}

/**
 * `cluster.restart(port)`, made quick. A master that comes back empty (no
 * persistence) starts its replication offset again at 0, and does not move
 * it before a replica is attached; Redis 7.0 calls a replica at offset 0
 * `loading` until the next write (or the master's ping every 10 s). So write
 * to the master of the restarted node's slots until the cluster is whole.
 */
async function restartNudged(port: number): Promise<void> {
  const node = cluster.node(port);
  const master = node.role === 'replica' ? cluster.nodes.find((n) => n.id === node.masterId)?.port : port;
  const owners = await slotOwners();
  const key = master !== undefined && owners.includes(master) ? `${tags(owners, 'nudge', 1, (p) => p === master)[0]}:nudge` : undefined;
  let done = false;
  const nudging = (async () => {
    while (!done && key !== undefined) {
      await cluster.call(master!, 'SET', key, '1').catch(() => {});
      await sleep(100);
    }
  })();
  try {
    await cluster.restart(port);
  } finally {
    done = true;
    await nudging;
  }
}

/** Another master than `port`. */
const otherMaster = (port: number) => cluster.masters().find((m) => m.port !== port)!.port;

// ---------------------------------------------------------------------------

describe('hostile keys and arguments', () => {
  it('empty and nested hash tags, binary and non-BMP keys: routed to the slot the server computes, with no redirect', async () => {
    const redis = client({ cluster: { maxRedirects: 0, refreshInterval: 0 } }); // a wrong slot would be a ClusterRedirectError
    await ready(redis);
    const keys: (string | Buffer | number)[] = [
      '{}', '{}a', 'a{}', '{}{b}', '{{b}}', '{b}}', '}{b}', '{', '}', 'x{}{}y', 'a{b}c{d}', '{ {x} }',
      'ü{ä}ö', '{😀}:1', '😀{}', '\u{10ffff}', 'caf\u00e9{\u00e9}', 12345, -0.5,
      Buffer.from([0xff, 0x00, 0x7b, 0x7d, 0xfe]), Buffer.from([0x7b, 0xff, 0x7d, 0x01]), Buffer.from([0x7b, 0x00, 0x7d, 0x7b, 0x01, 0x7d]),
      Buffer.from([0xc3, 0x28, 0x7b, 0xa0, 0xa1, 0x7d]), Buffer.alloc(300, 0x7b),
    ];
    const owners = await slotOwners();
    // Numbers are keys too at run time (sent as their text); the types want text or bytes, so these calls name their reply type.
    for (const [i, key] of keys.entries()) {
      const serverSlot = Number(await cluster.call(cluster.masters()[0]!.port, 'CLUSTER', 'KEYSLOT', key));
      expect(keySlot(key), `key #${i}`).toBe(serverSlot);
      expect(await redis.db.reply<'OK'>('SET', key, `v${i}`), `key #${i}`).toBe('OK');
      expect(await cluster.call(owners[serverSlot]!, 'GET', key), `key #${i} on its owner`).toBe(`v${i}`);
    }
    // Split and merged in order, with the keys repeated out of order.
    const asked = [...keys, ...keys.slice().reverse()];
    expect(await redis.db.reply<unknown>('MGET', ...asked)).toEqual(asked.map((k) => `v${keys.indexOf(k)}`));
    expect(await redis.db.reply<number>('EXISTS', ...asked)).toBe(asked.length);
    expect(await redis.db.reply<number>('DEL', ...keys)).toBe(keys.length);
    expect(await redis.db.reply<number>('EXISTS', ...keys)).toBe(0);
    // An empty tag does not make keys share a slot: refused before anything is sent.
    expect(keySlot('{}a')).not.toBe(keySlot('{}b'));
    await expect(redis.db.reply('RENAME', '{}a', '{}b')).rejects.toBeInstanceOf(CrossSlotError);
  });

  it('very long key lists: 20k keys over every slot, split, merged in order, counted once', async () => {
    const redis = client();
    const n = 20_000;
    const keys = Array.from({ length: n }, (_, i) => `long:${i}`);
    expect(await redis.db.reply('MSET', ...keys.flatMap((k, i) => [k, String(i)]))).toBe('OK');
    const asked = [...keys, 'long:missing', keys[0]!, keys[n - 1]!];
    const got = (await redis.db.reply('MGET', ...asked)) as (string | null)[];
    expect(got).toHaveLength(asked.length);
    expect(got.slice(0, n).every((v, i) => v === String(i))).toBe(true);
    expect(got.slice(n)).toEqual([null, '0', String(n - 1)]);
    expect(await redis.db.reply('EXISTS', ...asked)).toBe(n + 2); // EXISTS counts a repeated key each time
    expect(await redis.db.reply('DEL', ...keys, ...keys.slice(0, 100))).toBe(n); // a repeated key is in its original's part: deleted once
    expect(await redis.db.reply('EXISTS', ...keys)).toBe(0);
  });

  it('a seed list whose first hosts are dead: a reachable seed is enough, without waiting for timeouts', async () => {
    const dead = await Promise.all([freePort(), freePort(), freePort()]);
    const redis = client({ nodes: [...dead.map((p) => `redis://127.0.0.1:${p}`), cluster.seedUrl], connectTimeout: 500, commandTimeout: 60_000 });
    const first = redis.db.reply('SET', 'seeds:first', 'ok').catch((e: Error) => `${e.constructor.name}: ${e.message}`); // before the slot map
    await within('the slot map, from the reachable seed', ready(redis));
    expect(await first).toBe('OK');
  });

  it('dead seeds are asked at once, not one after another (they cost one question timeout, not one each)', async () => {
    // Hosts that accept and never answer: each question to one ends only by a deadline. Asked together, all
    // three are dialed before the first is given up (its connectTimeout closes the socket); asked one after
    // another, the second is dialed only after the first was given up. An order of events, not a duration.
    const events: string[] = [];
    const silent = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const server = net.createServer((socket) => {
          events.push(`dialed ${i}`);
          socket.on('close', () => events.push(`given up ${i}`));
          socket.on('error', () => {});
          socket.resume(); // read (and drop) what comes: the client's close is seen
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        return server;
      }),
    );
    try {
      const ports = silent.map((srv) => (srv.address() as net.AddressInfo).port);
      const redis = client({ nodes: [...ports.map((p) => `redis://127.0.0.1:${p}`), cluster.seedUrl], connectTimeout: 500, commandTimeout: 60_000 });
      const first = redis.db.reply('SET', 'seeds:silent', 'ok').catch((e: Error) => `${e.constructor.name}: ${e.message}`);
      await within('the slot map, from the reachable seed', ready(redis));
      expect(await first).toBe('OK');
      const firstGivenUp = events.findIndex((e) => e.startsWith('given up'));
      expect(firstGivenUp, events.join(', ')).toBeGreaterThan(0); // the silent ones were given up before the map came
      for (const i of [0, 1, 2]) expect(events.slice(0, firstGivenUp), events.join(', ')).toContain(`dialed ${i}`);
    } finally {
      for (const srv of silent) {
        srv.close();
        srv.unref();
      }
    }
  });
});

describe('redirects', () => {
  it('maxRedirects: 0: commands issued before the first slot map run (where the client guessed is not a redirect of the map)', async () => {
    const redis = client({ cluster: { maxRedirects: 0 } });
    const keys = Array.from({ length: 12 }, (_, i) => `early:${i}`); // over every master: most guesses are wrong
    const sets = keys.map((k) => redis.db.reply('SET', k, 'v').catch((e: Error) => `${e.constructor.name}: ${e.message}`));
    expect(await Promise.all(sets)).toEqual(keys.map(() => 'OK'));
  });

  it('maxRedirects: 0 with a stale map: ClusterRedirectError, nothing ran, and the MOVED fixed the map for the next call', async () => {
    const redis = client({ cluster: { maxRedirects: 0, refreshInterval: 0 } });
    await ready(redis); // before the first slot map, see the next test
    const key = 'stale:{r0}';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, 'before');
    const from = await cluster.ownerOf(slot);
    const to = otherMaster(from);
    await cluster.moveSlot(slot, to);
    const err = await redis.db.reply('SET', key, 'secret-value').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ClusterRedirectError);
    expect((err as Error).message).not.toContain('secret-value');
    expect(await cluster.call(to, 'GET', key)).toBe('before'); // refused with MOVED: it did not run
    expect(await redis.db.reply('GET', key)).toBe('before'); // the map learned the new owner from the MOVED
  });

  it('a split MSET whose part is refused says how many keys the other parts covered, and only those were written', async () => {
    const redis = client({ cluster: { maxRedirects: 0, refreshInterval: 0 } });
    await ready(redis);
    const owners = await slotOwners();
    const [moving, ...others] = tags(owners, 'part', 4, () => true);
    const keys = [moving!, ...others].flatMap((t) => [`${t}:a`, `${t}:b`]);
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, 'old']));
    const slot = keySlot(moving!);
    await cluster.moveSlot(slot, otherMaster(owners[slot]!));
    const err = (await redis.db.reply('MSET', ...keys.flatMap((k) => [k, 'new'])).catch((e: Error) => e)) as Error & { partial?: { keysDone: number; keys: number } };
    expect(err).toBeInstanceOf(ClusterRedirectError);
    expect(err.partial).toEqual({ keysDone: keys.length - 2, keys: keys.length });
    const fresh = client();
    expect(await fresh.db.reply('MGET', ...keys)).toEqual(['old', 'old', ...Array(keys.length - 2).fill('new')]);
  });

  it('a MULTI block sent on a stale map (MOVED at queue time) runs exactly once, on the new owner', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const key = 'tx:{t5}';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, '10');
    await cluster.moveSlot(slot, otherMaster(await cluster.ownerOf(slot)));
    expect(await redis.db.multi((tx) => {
      tx.command('INCR', key);
      tx.command('INCRBY', key, 5);
    })).toEqual([11, 16]);
    expect(await cluster.call(await cluster.ownerOf(slot), 'GET', key)).toBe('16'); // once, not twice
  });

  it('WATCH on a stale map follows the slot to its new owner (nothing ran: MOVED is not the caller\'s problem)', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const key = 'watch:{w7}';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, '1');
    const to = otherMaster(await cluster.ownerOf(slot));
    await cluster.moveSlot(slot, to);
    const result = await redis.db.watch([key], async (conn) => {
      const n = Number(await conn.reply('GET', key));
      return conn.multi((tx) => tx.command('SET', key, n + 1));
    });
    expect(result).toEqual(['OK']);
    expect(await cluster.call(to, 'GET', key)).toBe('2');
  });

  it('BLPOP on a stale map follows the slot to its new owner', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const key = 'blpop:{b8}';
    const slot = keySlot(key);
    await ready(redis);
    const to = otherMaster(await cluster.ownerOf(slot));
    await cluster.moveSlot(slot, to);
    await cluster.call(to, 'RPUSH', key, 'item');
    expect(await redis.db.reply('BLPOP', key, 2)).toEqual([key, 'item']);
  });

  it('commands for one key issued across ticks keep their order through MOVED', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const key = 'order:{o1}';
    const slot = keySlot(key);
    await redis.db.reply('SET', key, '');
    await cluster.moveSlot(slot, otherMaster(await cluster.ownerOf(slot))); // the client's map is now stale
    const appends: PromiseLike<unknown>[] = [];
    for (let i = 0; i < 3000; i++) {
      appends.push(redis.db.reply('APPEND', key, `${i},`));
      if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // let replies (MOVED) arrive between batches
    }
    await Promise.all(appends);
    expect(orderProblem((await redis.db.reply('GET', key)) as string, 3000)).toBe('');
  });

  it('commands for one key keep their order through ASK (half-migrated slot)', async () => {
    const redis = client({ cluster: { refreshInterval: 0 } });
    const tag = '{o2}';
    const slot = keySlot(tag);
    const from = await cluster.ownerOf(slot);
    await fill(redis, tag, 20);
    const move = await cluster.moveSlot(slot, otherMaster(from), { stopAt: 'migrating' });
    const key = `${tag}:new`; // absent at the source: every command is ASKed to the target
    const appends: PromiseLike<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      appends.push(redis.db.reply('APPEND', key, `${i},`));
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appends);
    await move.finish();
    expect(orderProblem((await redis.db.reply('GET', key)) as string, 1000)).toBe('');
  });
});

describe('resharding', () => {
  it('under load: slots migrated in batches while 24 callers INCR and ECHO; no error, every counter exact', async () => {
    const redis = client();
    const owners = await slotOwners();
    const masters = cluster.masters().map((m) => m.port);
    const moving = masters.flatMap((port) => tags(owners, `mv${port}-`, 2, (p) => p === port)); // two slots of every master
    const staying = tags(owners, 'stay', 3, () => true);
    const counters = [...moving, ...staying].flatMap((t) => [`${t}:c0`, `${t}:c1`, `${t}:c2`]);
    await Promise.all(moving.map((t) => fill(redis, t, 120)));
    const run = load(redis, counters, 24);
    try {
      await until('the load under way', () => run.stats.calls > 0);
      // Two slots at a time, each to the next master, spread over time by the batches.
      for (let i = 0; i < moving.length; i += 2) {
        await Promise.all(
          moving.slice(i, i + 2).map((t) => {
            const slot = keySlot(t);
            const to = masters[(masters.indexOf(owners[slot]!) + 1) % masters.length]!;
            return cluster.moveSlot(slot, to, { batch: 15, onBatch: () => sleep(10) });
          }),
        );
      }
      await until('more than 500 calls of the load', () => run.stats.calls > 500);
    } finally {
      await run.stop(10_000); // past the 8 s deadline: fails only if a call is still pending, never for a slow machine
    }
    expect(run.failures.map(describeFailure)).toEqual([]);
    expect(run.stats.wrongReply).toBe(0);
    expect(run.stats.calls).toBeGreaterThan(500);
    // Every call settled, and with no error: none ran into its deadline (a ReplyTimeoutError would be a failure
    // above), and stop() fails if one is still pending. No wall-clock bound on the slowest call.
    await checkCounters(run.counters);
    for (const [key, t] of run.counters) expect(t.maybe, key).toBe(0); // no error: every counter is exact
    // The moved data is intact and readable through the client.
    const fills = moving.flatMap((t) => Array.from({ length: 120 }, (_, i) => `${t}:fill${i}`));
    expect(await redis.db.reply('MGET', ...fills)).toEqual(fills.map((k) => k.slice(k.indexOf(':fill') + 1)));
  }, 30_000);

  it('MGET / MSET / DEL split across slots while a slot moves: order kept, each value its own key\'s, old or new', async () => {
    const redis = client();
    const owners = await slotOwners();
    const [moving] = tags(owners, 'split-mv', 1, () => true);
    const others = tags(owners, 'split-st', 8, () => true);
    const slot = keySlot(moving!);
    // Keys of the moving slot interleaved with keys of other slots.
    const keys = others.flatMap((t, i) => [`${t}:k`, `${moving}:k${i}`]);
    const dels = [...others.slice(0, 4).map((t) => `${t}:d`), `${moving}:d0`, `${moving}:d1`];
    await fill(redis, moving!, 150);
    let version = 0;
    const acked = new Map(keys.map((k) => [k, 0])); // the version of the last MSET that fully succeeded
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, `${k}|0`]));
    const errors: Error[] = [];
    const wrong: string[] = [];
    let running = true;
    let mgets = 0;
    let delRounds = 0;
    const writer = (async () => {
      while (running) {
        const v = ++version;
        try {
          await redis.db.reply('MSET', ...keys.flatMap((k) => [k, `${k}|${v}`]));
          for (const k of keys) acked.set(k, v);
        } catch (err) {
          errors.push(err as Error);
          const partial = (err as { partial?: { keysDone: number; keys: number } }).partial;
          if (!partial || partial.keys !== keys.length || partial.keysDone >= keys.length) wrong.push(`MSET error without a partial report: ${partial}`);
        }
      }
    })();
    const readers = Array.from({ length: 4 }, async () => {
      const seen = new Map<string, number>();
      while (running) {
        const floor = new Map(acked);
        const asked = [...keys, keys[1]!, 'split:none', keys[0]!];
        let got: (string | null)[];
        try {
          got = (await redis.db.reply('MGET', ...asked)) as (string | null)[];
        } catch (err) {
          errors.push(err as Error);
          continue;
        }
        mgets++;
        const ceiling = version;
        if (got.length !== asked.length) wrong.push(`MGET answered ${got.length} values for ${asked.length} keys`);
        asked.forEach((k, i) => {
          const value = got[i];
          if (k === 'split:none') {
            if (value !== null) wrong.push(`a missing key read ${value}`);
            return;
          }
          const m = /^(.*)\|(\d+)$/.exec(value ?? '');
          if (!m || m[1] !== k) return void wrong.push(`${k} read ${value}`);
          const v = Number(m[2]);
          if (v < floor.get(k)! || v > ceiling) wrong.push(`${k} read version ${v}, outside [${floor.get(k)}, ${ceiling}]`);
          if (v < (seen.get(k) ?? 0)) wrong.push(`${k} went back from version ${seen.get(k)} to ${v}`);
          seen.set(k, v);
        });
      }
    });
    const deleter = (async () => {
      while (running) {
        try {
          await redis.db.reply('MSET', ...dels.flatMap((k) => [k, 'x']));
          const n = await redis.db.reply('DEL', ...dels, dels[0]!);
          if (n !== dels.length) wrong.push(`DEL of ${dels.length} existing keys counted ${n}`);
          delRounds++;
        } catch (err) {
          errors.push(err as Error);
        }
      }
    })();
    try {
      await until('MGETs and DEL rounds under way', () => mgets > 0 && delRounds > 0);
      await cluster.moveSlot(slot, otherMaster(owners[slot]!), { batch: 10, onBatch: () => sleep(10) });
      await until('more than 20 MGETs and 5 DEL rounds', () => mgets > 20 && delRounds > 5);
    } finally {
      running = false; // a failed wait must not leave the loops running
    }
    await Promise.all([writer, deleter, ...readers]);
    expect(wrong).toEqual([]);
    expect(mgets).toBeGreaterThan(20);
    expect(delRounds).toBeGreaterThan(5);
    // While some keys of a slot are moved and others not, a multi-key part is refused with TRYAGAIN: nothing else.
    expect(errors.filter((e) => !(e instanceof TryAgainError)).map((e) => `${e.constructor.name}: ${e.message}`)).toEqual([]);
    // Afterwards everything reads the last write.
    expect(await redis.db.reply('MGET', ...keys)).toEqual(keys.map((k) => `${k}|${acked.get(k)}`));
  }, 30_000);

  it('TRYAGAIN (a multi-key command on a half-migrated slot) is retried with backoff within the deadline', async () => {
    const redis = client({ commandTimeout: 5000 });
    const tag = '{try1}';
    const slot = keySlot(tag);
    const keys = Array.from({ length: 10 }, (_, i) => `${tag}:${i}`);
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, k]));
    const move = await cluster.moveSlot(slot, otherMaster(await cluster.ownerOf(slot)), { batch: 5, stopAt: 5 }); // half the keys moved
    const refused = await tryAgainsAnswered(cluster);
    const mget = redis.db.reply('MGET', ...keys).catch((e: Error) => e);
    await until('the MGET met TRYAGAIN', async () => (await tryAgainsAnswered(cluster)) > refused);
    await move.finish();
    expect(await mget).toEqual(keys);
  });
});

describe('a node down', () => {
  // Whatever a test did or where it failed, the next one starts with every node up.
  afterEach(async () => {
    const down = cluster.nodes.filter((n) => !n.alive).sort((a, b) => (a.role === 'master' ? -1 : 1) - (b.role === 'master' ? -1 : 1));
    for (const n of down) await restartNudged(n.port);
  }, 60_000);

  it('failover under load: kill -9 the seed master while 24 callers INCR; counters hold, and its slots serve again with no call from the user', async () => {
    const victim = cluster.nodes[0]!.port; // the client's only seed, too
    expect(cluster.node(victim).role).toBe('master');
    const redis = client({ commandTimeout: 8000 });
    const owners = await slotOwners();
    const onVictim = tags(owners, 'fo', 6, (p) => p === victim).map((t) => `${t}:n`);
    const elsewhere = tags(owners, 'fe', 6, (p) => p !== victim).map((t) => `${t}:n`);
    const run = load(redis, [...onVictim, ...elsewhere], 24);
    await sleep(300);
    const promoted = await cluster.failover(victim);
    // Right after the promotion, commands for its slots succeed without any call from the user, each within its
    // deadline (8 s): one the client did not route to the promoted node fails (timeout, CLUSTERDOWN), and 'ok' is asserted.
    const again = await Promise.all(
      onVictim.map(async (k) => {
        const v = (await redis.db.reply('INCR', k).catch((e: Error) => e)) as number | Error;
        if (!(v instanceof Error)) {
          run.counters.get(k)!.ok++;
          run.counters.get(k)!.values.push(v);
        }
        return v instanceof Error ? describeFailure({ key: k, command: 'INCR', err: v }) : 'ok';
      }),
    );
    expect(again).toEqual(onVictim.map(() => 'ok'));
    await sleep(200);
    await run.stop(10_000); // fails if a call is still pending: every call settled
    expect(run.stats.wrongReply).toBe(0);
    // Every call settled with an allowed outcome (below): a success, or one of the failures listed there. A call that
    // ran into its deadline would be a ReplyTimeoutError, allowed nowhere. No wall-clock bound on the slowest call.
    // ECHO is safe to send twice: it never fails, even in flight on the dead master.
    expect(run.failures.filter((f) => f.command === 'ECHO').map(describeFailure)).toEqual([]);
    // Keys of the other masters: at most refused while the cluster was down (nothing in flight was lost).
    expect(run.failures.filter((f) => elsewhere.includes(f.key) && !(f.err instanceof ClusterDownError)).map(describeFailure)).toEqual([]);
    // Keys of the dead master: maybe-executed only for writes in flight at the kill (one per caller at most).
    const victims = run.failures.filter((f) => onVictim.includes(f.key));
    expect(victims.filter((f) => !(f.err instanceof ClusterDownError) && !(f.err instanceof ConnectionLostError && f.err.maybeExecuted)).map(describeFailure)).toEqual([]);
    expect(victims.filter((f) => f.err instanceof ConnectionLostError).length).toBeLessThanOrEqual(24);
    await checkCounters(run.counters);
    expect(await cluster.ownerOf(keySlot(onVictim[0]!))).toBe(promoted);
    await cluster.restart(victim); // back as a replica of the promoted one
  }, 30_000);

  it("readFrom 'replica' during a failover: every read gets its own key's value, and reads recover", async () => {
    const owners = await slotOwners();
    const victim = cluster.masters().find((m) => cluster.replicas(m.port).length > 0)!.port;
    const keys = tags(owners, 'rf', 8, (p) => p === victim).map((t) => `${t}:r`);
    const redis = client({ cluster: { readFrom: 'replica' } });
    await Promise.all(keys.map((k) => redis.db.reply('SET', k, `val:${k}`)));
    await cluster.call(victim, 'WAIT', 1, 2000);
    const wrong: string[] = [];
    const failures: Error[] = [];
    let reads = 0;
    let running = true;
    const readers = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; running; i++) {
        const k = keys[(c + i) % keys.length]!;
        try {
          const v = await redis.db.reply('GET', k);
          reads++;
          if (v !== `val:${k}`) wrong.push(`${k} read ${v}`);
        } catch (err) {
          failures.push(err as Error);
        }
      }
    });
    await sleep(200);
    await cluster.failover(victim);
    await sleep(300);
    const before = reads;
    await sleep(300);
    running = false;
    await Promise.all(readers);
    expect(wrong).toEqual([]);
    expect(reads - before).toBeGreaterThan(10); // reading again (from the promoted node)
    // Reads are safe to resend: at most refused while the cluster was down.
    expect(failures.filter((e) => !(e instanceof ClusterDownError)).map((e) => `${e.constructor.name}: ${e.message}`)).toEqual([]);
    await cluster.restart(victim);
  }, 30_000);

  it('a master restarted before the cluster notices (no failover): commands for its slots wait offline and succeed once it serves again', async () => {
    const victim = cluster.masters()[0]!.port;
    const owners = await slotOwners();
    const keys = tags(owners, 'qr', 6, (p) => p === victim).map((t) => `${t}:q`);
    const redis = client({ commandTimeout: 6000 });
    await Promise.all(keys.map((k) => redis.db.reply('SET', k, 'before')));
    const lost = lossSeen(redis, victim);
    await cluster.kill(victim);
    await lost; // the client has seen its connection close: what follows is never written to the dead node
    const sets = keys.map((k) => redis.db.reply('SET', k, 'queued').catch((e: Error) => `${e.constructor.name}: ${e.message}`));
    await sleep(200); // well under cluster-node-timeout: nobody marks it failed
    const restarted = restartNudged(victim); // empty (no persistence); CLUSTERDOWN for its first 2 s (CLUSTER_WRITABLE_DELAY)
    restarted.catch(() => {}); // awaited below; a failure meanwhile must not go unhandled
    try {
      // Refused before running (CLUSTERDOWN) is retried with backoff inside the deadline: every write lands.
      expect(await Promise.all(sets)).toEqual(keys.map(() => 'OK'));
    } finally {
      await restarted; // the cluster is whole again for the next test
    }
    expect(await redis.db.reply('MGET', ...keys)).toEqual(keys.map(() => 'queued'));
  }, 20_000);

  it('a master down with no replica to promote: its commands wait offline and run when it is back, or fail typed in bounded time', async () => {
    const victim = cluster.masters().find((m) => cluster.replicas(m.port).length > 0)!.port;
    const replica = cluster.replicas(victim)[0]!.port;
    const owners = await slotOwners();
    const onVictim = tags(owners, 'rs', 6, (p) => p === victim).map((t) => `${t}:w`);
    const elsewhere = tags(owners, 'rx', 4, (p) => p !== victim).map((t) => `${t}:w`);
    const redis = client({ commandTimeout: 7000 });
    await Promise.all([...onVictim, ...elsewhere].map((k) => redis.db.reply('SET', k, 'before')));
    await cluster.kill(replica); // nobody can take over
    const lost = lossSeen(redis, victim);
    await cluster.kill(victim);
    await lost; // the client has seen its connection close: what follows is never written to the dead node
    // Another client closes while its commands wait for the dead node: they settle at once, never sent. Its
    // deadline is a minute: commands that waited for it (or for the node) would hang, and within() says so.
    const closer = client({ commandTimeout: 60_000 });
    await ready(closer);
    const waiting = onVictim.map((k) => closer.db.reply('SET', k, 'closer').then((v) => `ran: ${v}`, (e: Error) => e.constructor.name));
    await sleep(50);
    await within('close() with commands waiting for a dead node', closer.close());
    expect(await within('the waiting commands settle on close()', Promise.all(waiting))).toEqual(onVictim.map(() => 'ClosedError'));
    const calls = [...onVictim, ...elsewhere].map((k) => {
      const issued = Date.now();
      return redis.db.reply('SET', k, 'during').then(
        (v) => ({ k, v, ms: Date.now() - issued }),
        (err: Error) => ({ k, err, ms: Date.now() - issued }),
      );
    });
    await sleep(1500); // past cluster-node-timeout: every node says CLUSTERDOWN
    const issue2 = Date.now();
    calls.push(
      ...elsewhere.map((k) =>
        redis.db.reply('SET', k, 'during').then(
          (v) => ({ k, v, ms: Date.now() - issue2 }),
          (err: Error) => ({ k, err, ms: Date.now() - issue2 }),
        ),
      ),
    );
    await restartNudged(victim); // empty (no persistence), same id and slots
    const results = await Promise.all(calls);
    for (const r of results) {
      // Bounded by the deadline (7 s). Only a generous bound (the hang bound past it): it catches a call held on far past
      // its deadline (until the node is back, say), not a late timer on a loaded machine; deadlines.spec.ts checks they fire on time.
      expect(r.ms, r.k).toBeLessThan(7000 + UNTIL_BOUND_MS);
      if ('err' in r) {
        expect(r.err, r.k).toBeInstanceOf(RedisError);
        expect(maybeRan(r.err), `${r.k}: ${r.err.constructor.name} ${r.err.message}`).toBe(false); // nothing was written to a dead node
      } else expect(r.v, r.k).toBe('OK');
    }
    // With the node back, its slots serve again with no call from the user.
    expect(await Promise.all(onVictim.map((k) => redis.db.reply('SET', k, 'after')))).toEqual(onVictim.map(() => 'OK'));
    expect(await redis.db.reply('MGET', ...onVictim)).toEqual(onVictim.map(() => 'after'));
    await restartNudged(replica);
  }, 30_000);
});
