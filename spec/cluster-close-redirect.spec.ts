/**
 * A graceful close() of a cluster client while its commands are redirected,
 * against a real 3-master cluster: a command in flight when close() starts
 * settles exactly once, where it was sent, and close() never cuts a node that
 * is closing gracefully.
 *
 * - MOVED / ASK arriving during close: the command fails with ClosedError
 *   saying it did not run (before, the raw MovedError / AskError reached the
 *   caller), and nothing else in flight is touched;
 * - a TRYAGAIN resend, or a command held behind a slot's fence (commands for a
 *   slot that just moved keep their order), that goes out after close()
 *   started: it fails with ClosedError (never sent), and the node it was for
 *   finishes its in-flight commands (before, that node's connection was cut:
 *   its in-flight write failed "may have run", and a fenced command never settled).
 *
 * Writes are held in flight on a node by CLIENT PAUSE WRITE (from a separate
 * connection, which then unpauses): no sleeps, nothing timed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ClosedError, type Database, type Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { follow } from './support/outcome.js';

// Clients seeded with the first node only, disconnected after each test (after this file's own afterEach).
const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 10_000, connectTimeout: 2000 }), {
  end: 'disconnect',
  start: { masters: 3, replicasPerMaster: 0 },
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const m of cluster.masters()) await cluster.call(m.port, 'CLIENT', 'UNPAUSE');
});

const turn = () => new Promise((r) => setImmediate(r));
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 5));
}

/** A hash tag (used once per test) whose slot is owned by the master on `port`, or by any master but `port`. */
const used = new Set<string>();
async function tagOn(port: number, other = false): Promise<string> {
  for (let i = 0; ; i++) {
    const tag = `cr${i}`;
    if (used.has(tag)) continue;
    const owner = await cluster.ownerOf(keySlot(`{${tag}}`));
    if ((owner === port) !== other) {
      used.add(tag);
      return tag;
    }
  }
}

/** The per-node handle of the master on `port`. */
function nodeDb(redis: Redis, port: number): Database {
  return redis.nodes('master').find((n) => n.address.endsWith(`:${port}`))!.db;
}

/** Warm the client: its slot map in, and a connection open to every master. */
async function warm(redis: Redis): Promise<void> {
  await redis.db.reply('PING');
  for (const m of cluster.masters()) await nodeDb(redis, m.port).reply('PING');
}

describe('a redirection that arrives during a graceful close', () => {
  it('MOVED: ClosedError saying it did not run, once; a write in flight on another node is not touched', async () => {
    const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
    const redis = client();
    await warm(redis);
    const tag = await tagOn(x);
    const yTag = await tagOn(y);
    await cluster.call(x, 'SET', `{${tag}}k`, 'v');
    await cluster.moveSlot(keySlot(`{${tag}}`), y); // the client's map still says x
    await cluster.call(y, 'CLIENT', 'PAUSE', 60_000, 'WRITE');
    const onY = follow(redis.db.reply('SET', `{${yTag}}w`, 'kept')); // held in flight on y
    const get = follow(redis.db.reply('GET', `{${tag}}k`)); // written to x, which answers MOVED during the close
    const closed = follow(redis.close());
    await until(() => get.settled > 0);
    expect(get.error).toBeInstanceOf(ClosedError);
    expect(get.error).toMatchObject({ command: 'GET', message: expect.stringMatching(/redirect.*it did not run/) });
    await cluster.call(y, 'CLIENT', 'UNPAUSE');
    await until(() => closed.settled > 0);
    expect(onY).toMatchObject({ settled: 1, value: 'OK' });
    expect(get.settled).toBe(1);
    expect(await cluster.call(y, 'GET', `{${yTag}}w`)).toBe('kept');
  });

  it('ASK (its slot migrating, the key not at the source): ClosedError saying it did not run', async () => {
    const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
    const redis = client();
    await warm(redis);
    const tag = await tagOn(x);
    const move = await cluster.moveSlot(keySlot(`{${tag}}`), y, { stopAt: 'migrating' });
    try {
      const get = follow(redis.db.reply('GET', `{${tag}}absent`)); // x answers ASK during the close
      const closed = follow(redis.close());
      await until(() => get.settled > 0 && closed.settled > 0);
      expect(get.error).toBeInstanceOf(ClosedError);
      expect(get.error).toMatchObject({ command: 'GET', message: expect.stringMatching(/redirect.*it did not run/) });
    } finally {
      await move.finish();
    }
  });
});

describe('a command sent again after a graceful close started', () => {
  it('a TRYAGAIN resend: ClosedError, never sent; the node it was for finishes its in-flight write', async () => {
    const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
    const redis = client();
    await warm(redis);
    const tag = await tagOn(x);
    const xTag = await tagOn(x);
    await cluster.call(x, 'SET', `{${tag}}here`, 'v');
    const move = await cluster.moveSlot(keySlot(`{${tag}}`), y, { stopAt: 'migrating' });
    // The cluster's TRYAGAIN backoff timer is held here and fired by the spec once close() started.
    let resend: (() => void) | undefined;
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      if (resend === undefined && new Error().stack?.includes('#later')) {
        resend = () => fn();
        return realSetTimeout(() => {}, 2 ** 31 - 1);
      }
      return realSetTimeout(fn, ms, ...args);
    }) as typeof setTimeout);
    try {
      const mget = follow(redis.db.reply('MGET', `{${tag}}here`, `{${tag}}absent`)); // TRYAGAIN: one key moved or missing
      await until(() => resend !== undefined);
      await cluster.call(x, 'CLIENT', 'PAUSE', 60_000, 'WRITE');
      const onX = follow(nodeDb(redis, x).reply('SET', `{${xTag}}w`, 'kept')); // held in flight on x
      const closed = follow(redis.close());
      await turn(); // x's connection is closing now, waiting for that write
      resend!();
      await turn();
      expect(mget.settled).toBe(1);
      expect(mget.error).toBeInstanceOf(ClosedError);
      expect(onX.settled).toBe(0); // still in flight: not cut
      await cluster.call(x, 'CLIENT', 'UNPAUSE');
      await until(() => closed.settled > 0);
      expect(onX).toMatchObject({ settled: 1, value: 'OK' });
      expect(await cluster.call(x, 'GET', `{${xTag}}w`)).toBe('kept');
    } finally {
      await cluster.call(x, 'CLIENT', 'UNPAUSE');
      await move.finish();
    }
  });

  it('a command held behind a moved slot\'s fence: ClosedError once the fence lifts, never sent; the new owner finishes its in-flight write', async () => {
    const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
    const redis = client();
    await warm(redis);
    const tag = await tagOn(x);
    const xTag = await tagOn(x);
    const yTag = await tagOn(y);
    await cluster.moveSlot(keySlot(`{${tag}}`), y); // the client's map still says x
    await cluster.call(x, 'CLIENT', 'PAUSE', 60_000, 'WRITE');
    await cluster.call(y, 'CLIENT', 'PAUSE', 60_000, 'WRITE');
    const first = follow(redis.db.reply('GET', `{${tag}}k`)); // x answers MOVED: the slot's fence waits for a PING on x
    const onX = follow(nodeDb(redis, x).reply('SET', `{${xTag}}w`, 'x')); // ...which queues behind this held write
    await until(() => first.settled > 0); // followed to y (a read: not held there)
    expect(first).toMatchObject({ settled: 1, value: null });
    const fenced = follow(redis.db.reply('SET', `{${tag}}k`, 'never')); // held behind the fence
    const onY = follow(nodeDb(redis, y).reply('SET', `{${yTag}}w`, 'y')); // held in flight on y
    const closed = follow(redis.close());
    await turn();
    await cluster.call(x, 'CLIENT', 'UNPAUSE'); // x answers: the fence lifts, the held SET goes to y, which is closing
    await until(() => onX.settled > 0 && fenced.settled > 0);
    expect(onX).toMatchObject({ settled: 1, value: 'OK' });
    expect(fenced.error).toBeInstanceOf(ClosedError);
    expect(onY.settled).toBe(0); // still in flight: not cut
    await cluster.call(y, 'CLIENT', 'UNPAUSE');
    await until(() => closed.settled > 0);
    expect(onY).toMatchObject({ settled: 1, value: 'OK' });
    expect(fenced.settled).toBe(1);
    expect(await cluster.call(y, 'GET', `{${tag}}k`)).toBeNull(); // never sent
  });
});
