/**
 * Observability: the `redmux:command` TracingChannel (contexts with names and
 * numbers, never values; events in TracingChannel order), the connection
 * lifecycle channels, NODE_DEBUG=redmux (no values, no secrets) and
 * call-site stacks.
 */
import { execFile } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { Redis, Script, ServerError } from '../lib/index.js';
import { traced, type TraceEvent } from './support/command-traces.js';
import { useCluster } from './support/real-cluster.js';
import { useRealServer } from './support/real-server.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const env = useRealServer();

type Event = TraceEvent;

describe('redmux:command', () => {
  it('traces each command: name, node, database, argument count; never a value', async () => {
    const redis = env.client();
    await redis.db.reply('PING');
    const node = `127.0.0.1:${env.server.port}`;
    const events = await traced(async () => {
      await redis.database(2).reply('SET', 'diag:key-secret', 'value-secret');
      await redis.database(2).reply('GET', 'diag:key-secret');
    });
    expect(events.map(([k]) => k)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end', 'asyncStart', 'asyncEnd']);
    expect(events[0]![1]).toEqual({ command: 'SET', database: 2, argumentCount: 2, node: undefined });
    expect(events[3]![1]).toEqual({ command: 'SET', database: 2, argumentCount: 2, node });
    expect(events[7]![1]).toMatchObject({ command: 'GET', argumentCount: 1, node });
    expect(JSON.stringify(events)).not.toMatch(/secret/);
  });

  it('a failed command publishes error before asyncStart/asyncEnd, with the error on the context', async () => {
    const redis = env.client();
    await redis.db.reply('SET', 'diag:str', 'x');
    const events = await traced(() => redis.db.reply('LPUSH', 'diag:str', 'y').catch(() => {}));
    expect(events.map(([k]) => k)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(events[2]![1].error).toBeInstanceOf(ServerError);
  });

  it('a command that settles while issued (aborted signal, closed client) still publishes in order', async () => {
    const redis = env.client();
    const events = await traced(async () => {
      await redis.db.with({ signal: AbortSignal.abort() }).reply('GET', 'k').catch(() => {});
    });
    expect(events.map(([k]) => k)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect((events[2]![1].error as Error).name).toBe('AbortError');
  });

  it('fire-and-forget commands are traced and still never an unhandled rejection', async () => {
    const redis = env.client();
    const reported: unknown[] = [];
    redis.on('commandError', (e) => reported.push(e));
    await redis.db.reply('SET', 'diag:ff', 'x');
    const events = await traced(async () => {
      redis.db.command('LPUSH', 'diag:ff', 'y');
      await redis.db.reply('PING');
    });
    expect(events.filter(([k]) => k === 'error')).toHaveLength(1);
    expect(reported).toHaveLength(1);
  });

  it('db.run traces its EVALSHA (the NOSCRIPT reload is part of it)', async () => {
    const redis = env.client();
    const script = new Script('return redis.call("SET", KEYS[1], ARGV[1])');
    const events = await traced(() => redis.db.run(script, ['diag:script-key'], ['diag:script-value']));
    expect(events.map(([k]) => k)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(events[3]![1]).toEqual({ command: 'EVALSHA', database: 0, argumentCount: 4, node: `127.0.0.1:${env.server.port}` });
  });

  it('a transaction is one MULTI operation whose argumentCount is its number of commands', async () => {
    const redis = env.client();
    const events = await traced(() =>
      redis.db.multi((tx) => {
        tx.command('SET', 'diag:m', '1');
        tx.command('INCR', 'diag:m');
        tx.command('GET', 'diag:m');
      }),
    );
    expect(events.map(([k]) => k)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(events[3]![1]).toEqual({ command: 'MULTI', database: 0, argumentCount: 3, node: `127.0.0.1:${env.server.port}` });
  });
});

describe('redmux:command in a cluster', () => {
  const { cluster, client } = useCluster();

  const parentOf = (ctx: Record<string, unknown>) => ctx.parent as Record<string, unknown> | undefined;

  it("a split command is one trace with no node; each part is a trace nested in it, with its node and its own argument count", async () => {
    const redis = client();
    const keys = Array.from({ length: 12 }, (_, i) => `diag:split:${i}`);
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, 'value-secret']));
    const events = await traced(() => redis.db.reply('MGET', ...keys));
    const caller = events.filter(([, ctx]) => parentOf(ctx) === undefined);
    expect(caller.map(([k]) => k)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(caller[3]![1]).toEqual({ command: 'MGET', database: 0, argumentCount: keys.length, node: undefined });
    const parts = events.filter(([k, ctx]) => k === 'asyncEnd' && parentOf(ctx) !== undefined).map(([, ctx]) => ctx);
    // One part per slot: the node each names is the owner of its slot.
    const slots = new Set(keys.map((k) => keySlot(k)));
    expect(parts).toHaveLength(slots.size);
    const owners = new Set(await Promise.all([...slots].map(async (slot) => `127.0.0.1:${await cluster.ownerOf(slot)}`)));
    expect(new Set(parts.map((p) => p.node))).toEqual(owners);
    expect(parts.reduce((n, p) => n + (p.argumentCount as number), 0)).toBe(keys.length);
    for (const p of parts) expect(p).toMatchObject({ command: 'MGET', database: 0, parent: { command: 'MGET', argumentCount: keys.length } });
    // Nested: every part starts while the caller's command is issued and settles before it does.
    const kinds = events.map(([k, ctx]) => `${parentOf(ctx) === undefined ? 'caller' : 'part'}:${k}`);
    expect(kinds[0]).toBe('caller:start');
    expect(kinds.indexOf('caller:end')).toBe(1 + 2 * slots.size);
    expect(kinds.slice(-2)).toEqual(['caller:asyncStart', 'caller:asyncEnd']);
    expect(JSON.stringify(events.map(([k, ctx]) => [k, { ...ctx, parent: undefined }]))).not.toMatch(/secret/);
  });

  it('a fanned-out command (DBSIZE) has a part per master, each naming its master', async () => {
    const redis = client();
    await redis.db.reply('PING');
    const events = await traced(() => redis.db.reply('DBSIZE'));
    const parts = events.filter(([k, ctx]) => k === 'asyncEnd' && parentOf(ctx) !== undefined).map(([, ctx]) => ctx.node);
    expect(new Set(parts)).toEqual(new Set(cluster.masters().map((m) => `127.0.0.1:${m.port}`)));
    expect(parts).toHaveLength(cluster.masters().length);
  });
});

describe('connection lifecycle channels', () => {
  it('connect, ready, connection-lost, reconnecting and close, per connection', async () => {
    const events: Event[] = [];
    const names = ['connect', 'ready', 'connection-lost', 'reconnecting', 'close'];
    const subs = names.map((n) => {
      const fn = (msg: unknown) => events.push([n, msg as Record<string, unknown>]);
      dc.subscribe(`redmux:${n}`, fn);
      return () => dc.unsubscribe(`redmux:${n}`, fn);
    });
    try {
      const redis = new Redis(env.server.url, { clientName: 'diag-life', reconnect: { baseDelay: 10, maxDelay: 20 } });
      redis.on('error', () => {});
      await redis.db.reply('PING');
      const admin = env.client();
      await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await new Promise((r) => redis.once('ready', r));
      await redis.close();
      const node = `127.0.0.1:${env.server.port}`;
      const mine = events.filter(([, m]) => m.node === node && m.connection === events[0]![1].connection);
      expect(mine.map(([n]) => n)).toEqual(['connect', 'ready', 'close', 'connection-lost', 'reconnecting', 'connect', 'ready', 'close']);
      expect(mine[1]![1]).toMatchObject({ protocol: 3, database: 0 });
      expect(mine[3]![1]).toMatchObject({ wasReady: true });
      expect(mine[3]![1].cause).toBeInstanceOf(Error);
      expect(mine[4]![1]).toMatchObject({ attempt: 1 });
      expect(typeof mine[4]![1].delay).toBe('number');
    } finally {
      for (const off of subs) off();
    }
  });
});

describe('NODE_DEBUG=redmux', () => {
  let secured: RedisServer;
  beforeAll(async () => {
    secured = await startRedis(['--requirepass', 'pass-word-4711']);
  });
  afterAll(async () => {
    await destroyRedis(secured);
  });

  it('logs the connection lifecycle to stderr, with no value and no secret', async () => {
    const dist = path.resolve(__dirname, '..', 'dist', 'index.js');
    const script = `
      const { Redis } = await import(${JSON.stringify(dist)});
      const url = 'redis://:pass-word-4711@127.0.0.1:${secured.port}';
      const redis = new Redis(url, { reconnect: { baseDelay: 10, maxDelay: 20 } });
      redis.on('error', () => {});
      await redis.db.reply('SET', 'key-value-secret', 'payload-value-secret');
      const admin = new Redis(url);
      await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await new Promise((r) => redis.once('ready', r));
      const wrong = new Redis('redis://:not-the-pass-0815@127.0.0.1:${secured.port}', { reconnect: false });
      wrong.on('error', () => {});
      await wrong.db.reply('GET', 'key-value-secret').catch(() => {});
      await Promise.all([redis.close(), admin.close(), wrong.close()]);
    `;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_DEBUG: 'redmux' }, timeout: 15_000 }, (err, _out, errOut) =>
        err ? reject(new Error(`child failed: ${err.message}\n${errOut}`)) : resolve(errOut),
      );
    });
    expect(stderr).toMatch(/REDMUX \d+: 127\.0\.0\.1:\d+ #\d+: connecting \(attempt 0\)/);
    expect(stderr).toMatch(/ready \(RESP3, database 0, server \d/);
    expect(stderr).toMatch(/connection lost: ConnectionLostError/);
    expect(stderr).toMatch(/reconnecting in \d+ ms \(attempt 1\)/);
    expect(stderr).toMatch(/could not connect: .*AuthError|could not connect: .*WRONGPASS/);
    expect(stderr).toMatch(/closed/);
    expect(stderr).not.toMatch(/pass-word-4711|not-the-pass-0815|value-secret/);
  }, 20_000);
});

describe('callSiteStacks', () => {
  async function failingCallFromHere(redis: Redis): Promise<Error> {
    await redis.db.reply('SET', 'diag:cs', 'x');
    return redis.db.reply('LPUSH', 'diag:cs', 'y').then(() => new Error('LPUSH on a string succeeded'), (e: Error) => e);
  }

  it('appends where the command was issued to its error when on; off by default', async () => {
    const on = await failingCallFromHere(env.client({ callSiteStacks: true }));
    expect(on.stack).toMatch(/--- issued at ---\n\s+at failingCallFromHere .*diagnostics\.spec\.ts/);
    const off = await failingCallFromHere(env.client());
    expect(off.stack).not.toMatch(/issued at/);
    const pending = env.client({ callSiteStacks: true }).db.command('LPUSH', 'diag:cs', 'y');
    const fromCommand = await Promise.resolve(pending).catch((e: Error) => e);
    expect((fromCommand as Error).stack).toMatch(/--- issued at ---\n\s+at .*diagnostics\.spec\.ts/);
  });
});
