/**
 * Cluster promises an adversarial audit of DESIGN.md's "Redis Cluster (the
 * contract)" found broken, on a real cluster (3 masters, no replicas):
 *
 * - `redis.database(n)` with n ≠ 0 is an InvalidArgumentError in cluster
 *   mode. A handle made before auto mode knew it was a cluster (the
 *   database() call cannot throw then) sent SELECT to the nodes and got
 *   their "ERR SELECT is not allowed in cluster mode" back: its commands and
 *   blocks are now refused by the routing, nothing sent.
 * - Every error names the command: a command waiting for a slot map that
 *   never comes (a user the ACL refuses CLUSTER SHARDS / SLOTS) failed with
 *   a ConnectError naming neither the command nor why ("no seed answered");
 *   it now names both, the refusal as its cause.
 * - A per-node handle (`redis.nodes()`) cannot split a command: one whose
 *   keys span slots (MGET, DEL, a MULTI block) was sent and came back as the
 *   server's CROSSSLOT ServerError; it is a CrossSlotError, nothing sent.
 * - A split or fanned-out call with one master down settles by its deadline
 *   and says which node failed (`err.node`), not only in its cause.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ConnectError, CrossSlotError, InvalidArgumentError, Redis, ReplyTimeoutError } from '../lib/index.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';

const { cluster, client, track } = useCluster({ commandTimeout: 2000 }, { start: { replicasPerMaster: 0 }, end: 'disconnect' });

async function selectsSeen(): Promise<number> {
  let n = 0;
  for (const m of cluster.masters()) {
    const stats = String(await cluster.call(m.port, 'INFO', 'commandstats'));
    const line = /cmdstat_select:calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)/.exec(stats);
    if (line) n += Number(line[1]) + Number(line[2]) + Number(line[3]);
  }
  return n;
}

describe('database(n) in auto mode, before the handshake said cluster', () => {
  it('the handle cannot throw then; its commands and blocks are InvalidArgumentErrors once it is a cluster, and no node sees SELECT', async () => {
    for (const m of cluster.masters()) await cluster.call(m.port, 'CONFIG', 'RESETSTAT');
    const redis = track(new Redis(cluster.seedUrl, { commandTimeout: 2000 }));
    redis.on('error', () => {});
    const db3 = redis.database(3); // mode not known yet
    const early = db3.reply('GET', 'audit:db'); // queued before the handshake, handed to the cluster routing
    expect(await early.catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
    expect(redis.mode).toBe('cluster');
    expect(await db3.reply('SET', 'audit:db', 'v').catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
    expect(() => db3.command('SET', 'audit:db', 'v')).toThrow(InvalidArgumentError);
    expect(await db3.reply('MGET', 'audit:a', 'audit:b').catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
    expect(await db3.reply('DBSIZE').catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
    expect(await db3.multi((tx) => tx.command('SET', 'audit:db', 'v')).catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
    expect(() => redis.database(3)).toThrow(InvalidArgumentError); // known now: refused at once, as documented
    expect(await redis.db.reply('GET', 'audit:db')).toBeNull(); // nothing was written, in any database
    expect(await selectsSeen()).toBe(0);
  });
});

describe('a user the ACL refuses CLUSTER SHARDS and SLOTS', () => {
  it('a command waiting for the first slot map fails by its deadline naming the command, the refusal as its cause', async () => {
    for (const m of cluster.masters()) await cluster.call(m.port, 'ACL', 'SETUSER', 'audit-nocluster', 'on', '>pw', '~*', '&*', '+@all', '-cluster');
    const redis = client({ username: 'audit-nocluster', password: 'pw', commandTimeout: 1500 });
    const err = (await redis.db.reply('GET', 'audit:acl').catch((e: unknown) => e)) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.command).toBe('GET');
    expect(err.message).toMatch(/NOPERM/);
    expect(String((err.cause as Error | undefined)?.message)).toMatch(/NOPERM/);
  });
});

describe('a per-node handle given keys in several slots', () => {
  it('MGET / DEL / a MULTI block across slots: CrossSlotError, nothing sent; one slot, SCAN and keyless commands still go', async () => {
    const redis = client();
    await redis.db.reply('SET', '{a}x', '1');
    const port = await cluster.ownerOf(keySlot('{a}x'));
    const owner = redis.nodes('master').find((n) => n.address === `127.0.0.1:${port}`)!;
    await cluster.call(port, 'CONFIG', 'RESETSTAT');
    expect(await owner.db.reply('MGET', '{a}x', '{b}y').catch((e: unknown) => e)).toBeInstanceOf(CrossSlotError);
    expect(() => owner.db.command('DEL', '{a}x', '{b}y')).toThrow(CrossSlotError);
    expect(await owner.db.multi((tx) => { tx.command('SET', '{a}x', '2'); tx.command('SET', '{b}y', '2'); }).catch((e: unknown) => e)).toBeInstanceOf(CrossSlotError);
    expect(String(await cluster.call(port, 'INFO', 'commandstats'))).not.toMatch(/cmdstat_(mget|del|multi|exec|set):/);
    expect(await owner.db.reply('MGET', '{a}x', '{a}z')).toEqual(['1', null]);
    expect(((await owner.db.reply('SCAN', 0)) as [string, string[]])[0]).toBe('0');
    expect(await owner.db.multi((tx) => { tx.command('INCR', '{a}n'); tx.command('DBSIZE'); })).toEqual([1, 2]);
  });
});

describe('one master down, no replica to promote', () => {
  it('MGET over every master and DBSIZE settle by their deadline; the error names the dead node', async () => {
    const redis = client({ connectTimeout: 500 });
    const keys = await keysOnEachMaster(cluster, 'audit:down');
    expect(await redis.db.reply('MSET', ...keys.flatMap((k) => [k.key, 'v']))).toBe('OK');
    const dead = keys[1]!;
    await cluster.kill(dead.port);
    const mget = (await redis.db.reply('MGET', ...keys.map((k) => k.key)).catch((e: unknown) => e)) as ReplyTimeoutError & { partial?: unknown };
    expect(mget).toBeInstanceOf(ReplyTimeoutError);
    expect(mget.node).toBe(`127.0.0.1:${dead.port}`);
    expect(mget.message).toContain(`127.0.0.1:${dead.port}`);
    expect(mget.partial).toEqual({ keysDone: 2, keys: 3 });
    const dbsize = (await redis.db.reply('DBSIZE').catch((e: unknown) => e)) as ReplyTimeoutError;
    expect(dbsize).toBeInstanceOf(ReplyTimeoutError);
    expect(dbsize.node).toBe(`127.0.0.1:${dead.port}`);
  });
});
