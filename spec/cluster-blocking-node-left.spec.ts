/**
 * Blocking commands whose node leaves the client's slot map (a real 3+3
 * cluster, started once for this file; tests change the topology and run in
 * order). Nothing is wrong with the commands themselves, so none may fail
 * because its unit left:
 *  - a seed named otherwise than the cluster announces it (`localhost`):
 *    what auto mode sent before the first slot map is on the seed's unit,
 *    which leaves once the map names the node 127.0.0.1. A BLPOP blocked
 *    there completes there (the node is alive under another name); one
 *    waiting for a side connection is routed again and blocks where the map
 *    says;
 *  - a master dies and a replica takes over: a read-only XREAD BLOCK waiting
 *    out its retry backoff is routed to the new master; a BLPOP blocked on the
 *    dead master fails as a lost connection does (it may have run: rule 2),
 *    never with "the client is closed".
 */
import { describe, expect, it } from 'vitest';
import { ClosedError, ConnectionLostError, Redis, RetryPolicy } from '../lib/index.js';
import { useCluster, keyOn } from './support/real-cluster.js';
import { until, within } from './support/until.js';
import { outcome } from './support/outcome.js';
import { blockedInList } from './support/blocked-clients.js';

const { cluster, client, track } = useCluster(
  () => ({ commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 } }),
  { end: 'disconnect' },
);


/** How many clients of the node on `port` are blocked in `command` (CLIENT LIST). */
const blockedCount = async (port: number, command: string) => blockedInList(String(await cluster.call(port, 'CLIENT', 'LIST')), command);


describe('a seed the cluster names otherwise (localhost), auto mode', () => {
  it('a BLPOP blocked on the seed before the first slot map completes there once its unit left; one waiting for a side connection blocks where the map says', async () => {
    const seed = cluster.masters()[0]!.port;
    const pusher = client({ nodes: cluster.urls.slice() });
    const first = await keyOn(cluster, seed, 'nl-seed-a');
    const second = await keyOn(cluster, seed, 'nl-seed-b');
    // One side connection: the second BLPOP waits for it, on the seed's unit.
    const redis = track(new Redis(`redis://localhost:${seed}`, { commandTimeout: 8000, blockingPool: { size: 1 } }));
    redis.on('error', () => {});
    const a = outcome(redis.db.reply('BLPOP', first, 8));
    const b = outcome(redis.db.reply('BLPOP', second, 8));
    // The map is in (the seed's unit left: the client names no localhost node) and both are blocked.
    const nodes = () => redis.stats().nodes;
    await until('the slot map is in (the seed\'s unit left)', () => redis.mode === 'cluster' && nodes() !== undefined && Object.keys(nodes()!).every((n) => !n.startsWith('localhost')));
    await until('both BLPOPs blocked on the seed', async () => (await blockedCount(seed, 'blpop')) === 2);
    expect(await pusher.db.reply('RPUSH', first, 'one')).toBe(1);
    expect(await pusher.db.reply('RPUSH', second, 'two')).toBe(1);
    expect(await a).toEqual([first, 'one']);
    expect(await b).toEqual([second, 'two']);
    // The client still serves blocking calls.
    await pusher.db.reply('RPUSH', first, 'three');
    expect(await redis.db.reply('BLPOP', first, 2)).toEqual([first, 'three']);
  });
});

describe('a unit that left, its BLPOP still blocked there', () => {
  it("is ended by the client's close(): the BLPOP gets ClosedError, the server lets go of it", async () => {
    const seed = cluster.masters()[0]!.port;
    const key = await keyOn(cluster, seed, 'nl-close');
    const redis = track(new Redis(`redis://localhost:${seed}`, { commandTimeout: 8000 }));
    redis.on('error', () => {});
    const before = await blockedCount(seed, 'blpop');
    const popped = outcome(redis.db.reply('BLPOP', key, 0));
    const nodes = () => redis.stats().nodes;
    await until('the slot map is in (the seed\'s unit left)', () => redis.mode === 'cluster' && nodes() !== undefined && Object.keys(nodes()!).every((n) => !n.startsWith('localhost')));
    await until('the BLPOP blocked on the seed', async () => (await blockedCount(seed, 'blpop')) === before + 1);
    await within('close() resolves', redis.close());
    const err = await within('the BLPOP settles', popped);
    expect(err).toBeInstanceOf(ClosedError);
    await until('the server let go of the BLPOP', async () => (await blockedCount(seed, 'blpop')) === before);
  });
});

describe('the master a blocking command is on dies', () => {
  it('an XREAD BLOCK waiting out its retry backoff is routed to the new master; a blocked BLPOP fails as a lost connection does', async () => {
    const master = cluster.masters().find((m) => cluster.replicas(m.port).length > 0)!.port;
    const stream = await keyOn(cluster, master, 'nl-fail-s');
    const list = await keyOn(cluster, master, 'nl-fail-l');
    const pusher = client();
    // A retry policy that outlasts the failover: the XREAD keeps trying the dead node until the map drops it.
    const redis = client({ retry: RetryPolicy.exponential({ attempts: 1000, baseDelay: 100, maxDelay: 300 }) });
    await redis.db.reply('PING');
    const read = outcome(redis.db.reply('XREAD', 'BLOCK', 0, 'STREAMS', stream, '$'));
    const popped = outcome(redis.db.reply('BLPOP', list, 0));
    await until('XREAD and BLPOP blocked', async () => (await blockedCount(master, 'xread')) === 1 && (await blockedCount(master, 'blpop')) === 1);
    const promoted = await cluster.failover(master);
    // The XREAD is tried again on the new master (where `$` is read afresh): add once it blocks there.
    await until('the XREAD blocked on the new master (or given up)', async () => (await blockedCount(promoted, 'xread')) === 1 || (await Promise.race([read, null])) !== null, 20_000);
    await pusher.db.reply('XADD', stream, '*', 'f', 'v');
    const got = await read;
    expect(got).not.toBeInstanceOf(Error);
    expect(JSON.stringify(got)).toContain('"f","v"');
    const lost = await popped;
    expect(lost).toBeInstanceOf(ConnectionLostError);
    expect((lost as ConnectionLostError).maybeExecuted).toBe(true);
  }, 60_000);
});
