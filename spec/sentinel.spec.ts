/**
 * Sentinel routing (issue 12): `new Redis({ sentinel, role })` against a real
 * deployment (a master, two replicas, three sentinels; the sentinels behind
 * their own ACL user, the data nodes behind their own password): the master
 * or a replica is found, its role confirmed, dead sentinels skipped, all
 * sentinels down is a ConnectError in bounded time, and the standalone API
 * (databases, multi, watch, blocking pool, subscribers) works on top. The
 * failovers are in sentinel-failover.spec.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, InvalidArgumentError, ReadOnlyError, Redis, type RedisOptions } from '../lib/index.js';
import { blockedIn } from './support/blocked-clients.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { freePort } from './support/redis-server.js';
import { until, within } from './support/until.js';

const SENTINEL_USER = { username: 'watcher', password: 'sentinel-secret-7Qx' };
const DATA_AUTH = { password: 'data-secret-9Zk' };

let sentinels: RedisSentinels;
const clients: Redis[] = [];

beforeAll(async () => {
  sentinels = await startSentinels({ replicas: 2, auth: { sentinel: SENTINEL_USER, data: DATA_AUTH } });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await sentinels?.stop();
});

function client(o: RedisOptions = {}, nodes: (string | { host: string; port: number })[] = sentinels.sentinelUrls.slice()): Redis {
  const redis = new Redis({
    sentinel: { name: 'mymaster', nodes, ...SENTINEL_USER },
    password: DATA_AUTH.password,
    connectTimeout: 2000,
    commandTimeout: 3000,
    ...o,
  });
  clients.push(redis);
  return redis;
}

const masterPort = () => sentinels.nodes.find((n) => n.role === 'master')!.port;
/** The port the server running `db`'s commands listens on. */
const portOf = async (redis: Redis) => Number(/^tcp_port:(\d+)/m.exec(await redis.db.reply('INFO', 'server'))![1]);

describe('Sentinel routing', () => {
  it("finds the master through the sentinels; mode is 'sentinel'", async () => {
    const redis = client();
    expect(redis.mode).toBe('sentinel');
    await redis.db.reply('SET', 'sentinel:k', 'v');
    expect(await redis.db.reply('GET', 'sentinel:k')).toBe('v');
    expect(await portOf(redis)).toBe(masterPort());
    expect(redis.nodes()).toEqual([{ address: `127.0.0.1:${masterPort()}`, role: 'master', db: redis.db }]);
  });

  it("role 'replica' reads from a replica, never the master", async () => {
    const replicaPorts = sentinels.replicas().map((n) => n.port);
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const redis = client({ role: 'replica' });
      const port = await portOf(redis);
      expect(replicaPorts).toContain(port);
      seen.add(port);
      expect(await redis.db.reply('ROLE').then((r) => r[0])).toBe('slave');
    }
    // Spread across clients: twelve clients over two equally fresh replicas all picking the same one has odds 1/2048.
    expect(seen.size).toBe(2);
  });

  it("role 'replica': a write fails with ReadOnlyError at once, without reconnecting or retrying (READONLY is expected there)", async () => {
    const redis = client({ role: 'replica' });
    await redis.db.reply('PING');
    const err = await redis.db.reply('SET', 'sentinel:ro', '1').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ReadOnlyError);
    expect(redis.stats()).toMatchObject({ connectionLost: 0, reconnects: 0, commands: 2 });
    expect(await redis.db.reply('ROLE').then((r) => r[0])).toBe('slave');
  });

  it('databases, multi, watch, the blocking pool and subscribers work on the master', async () => {
    const redis = client();
    const db2 = redis.database(2);
    await db2.reply('SET', 'sentinel:db2', 'two');
    expect(await redis.db.reply('EXISTS', 'sentinel:db2')).toBe(0);
    expect(await db2.reply('GET', 'sentinel:db2')).toBe('two');
    expect(await redis.db.multi((tx) => {
      tx.command('SET', 'sentinel:m', '1');
      tx.command('INCR', 'sentinel:m');
    })).toEqual(['OK', 2]);
    const watched = await redis.db.watch(['sentinel:w'], async (conn) => {
      const cur = Number((await conn.reply('GET', 'sentinel:w')) ?? 0);
      return conn.multi((tx) => tx.command('SET', 'sentinel:w', cur + 1));
    });
    expect(watched).toEqual(['OK']);
    const popped = redis.db.reply('BLPOP', 'sentinel:q', 0);
    await until('the BLPOP blocked on the master', async () => (await blockedIn(redis.db, 'blpop')) === 1);
    await redis.db.reply('RPUSH', 'sentinel:q', 'job');
    expect(await popped).toEqual(['sentinel:q', 'job']);
    const sub = redis.subscriber();
    const got = new Promise((resolve) => sub.on('message', resolve));
    await sub.subscribe('sentinel:news');
    await redis.db.reply('PUBLISH', 'sentinel:news', 'hello');
    expect(await got).toMatchObject({ channel: 'sentinel:news', message: 'hello' });
    await sub.close();
  });

  it('skips a sentinel that is down (nothing listens on the first one given)', async () => {
    const dead = await freePort();
    const redis = client({}, [`redis://127.0.0.1:${dead}`, ...sentinels.sentinelUrls]);
    expect(await redis.db.reply('PING')).toBe('PONG');
    expect(await portOf(redis)).toBe(masterPort());
  });

  it('all sentinels down: commands fail with a ConnectError naming each sentinel, in bounded time, without a password', async () => {
    const dead = [await freePort(), await freePort()];
    // Deadlines of a minute: a GET that waited for one instead of failing once every sentinel refused would hang
    // (within()) and end as a ReplyTimeoutError, not a ConnectError naming each sentinel.
    const redis = client({ connectTimeout: 60_000, commandTimeout: 60_000 }, dead.map((p) => ({ host: '127.0.0.1', port: p })));
    const err = await within('the GET fails: no sentinel answers', redis.db.reply('GET', 'k').catch((e: Error) => e));
    expect(err).toBeInstanceOf(ConnectError);
    const message = (err as Error).message;
    for (const p of dead) expect(message).toContain(`127.0.0.1:${p}`);
    expect(message).toContain('mymaster');
    expect(message).not.toContain(SENTINEL_USER.password);
    expect(message).not.toContain(DATA_AUTH.password);
  });

  it('the sentinels’ credentials are their own: the data password does not open a sentinel', async () => {
    const redis = new Redis({
      sentinel: { name: 'mymaster', nodes: sentinels.sentinelUrls.slice(), password: DATA_AUTH.password },
      password: DATA_AUTH.password,
      connectTimeout: 2000,
      commandTimeout: 3000,
    });
    clients.push(redis);
    const err = await redis.db.reply('PING').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).not.toContain(DATA_AUTH.password);
  });

  it('credentials providers for the sentinels and for the data nodes, each asked for its own connections', async () => {
    let sentinelCalls = 0;
    let dataCalls = 0;
    const redis = new Redis({
      sentinel: {
        name: 'mymaster',
        nodes: sentinels.sentinelUrls.slice(),
        credentials: async () => (sentinelCalls++, { ...SENTINEL_USER }),
      },
      credentials: async () => (dataCalls++, { password: DATA_AUTH.password }),
      connectTimeout: 2000,
    });
    clients.push(redis);
    expect(await redis.db.reply('SET', 'sentinel:cred', 'v')).toBe('OK');
    expect(await portOf(redis)).toBe(masterPort());
    expect(sentinelCalls).toBeGreaterThanOrEqual(1);
    expect(dataCalls).toBe(1);
  });

  it('a name no sentinel monitors is a ConnectError that says to check the name', async () => {
    const redis = new Redis({ sentinel: { name: 'nosuch', nodes: sentinels.sentinelUrls.slice(), ...SENTINEL_USER }, connectTimeout: 2000 });
    clients.push(redis);
    const err = await redis.db.reply('PING').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/check the name/);
  });
});

describe('a sentinel process that dies', () => {
  it('is skipped: a new client asks the next one; the first comes back', async () => {
    const first = sentinels.sentinelPorts[0]!;
    await sentinels.killSentinel(first);
    try {
      // Deadlines of a minute: a client that waited out one on the dead sentinel before asking the next would hang (within()).
      const redis = client({ connectTimeout: 60_000, commandTimeout: 60_000 });
      expect(await within('PING through the next sentinel', redis.db.reply('PING'))).toBe('PONG');
      expect(await portOf(redis)).toBe(masterPort());
    } finally {
      await sentinels.restartSentinel(first);
    }
  });
});

describe('Sentinel options', () => {
  const nodes = ['redis://127.0.0.1:26999'];
  it.each([
    [{ sentinel: { name: 'm', nodes, sentinels: [] } }, /unknown option sentinel.sentinels; did you mean sentinel.nodes/],
    [{ sentinel: { nodes } }, /needs name/],
    [{ sentinel: { name: 'm', nodes: [] } }, /sentinel.nodes must be a non-empty array/],
    [{ sentinel: { name: 'm', nodes: ['redis://:pw@127.0.0.1:26379'] } }, /username\/password/],
    [{ sentinel: { name: 'm', nodes: ['rediss://127.0.0.1:26379'] } }, /sentinel.tls/],
    [{ sentinel: { name: 'm', nodes }, nodes: ['redis://127.0.0.1:7000'] }, /exclude each other/],
    [{ sentinel: { name: 'm', nodes }, mode: 'standalone' }, /exclude each other/],
    [{ role: 'replica' }, /needs the sentinel option/],
    [{ sentinel: { name: 'm', nodes }, role: 'slave' }, /option role must be 'master' or 'replica'/],
    [{ sentinels: [] }, /unknown option sentinels/],
  ])('refuses %j', (opts, message) => {
    expect(() => new Redis(opts as RedisOptions)).toThrow(InvalidArgumentError);
    expect(() => new Redis(opts as RedisOptions)).toThrow(message);
  });
});
