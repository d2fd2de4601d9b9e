/**
 * Fault injection against a real redis-server, through a TCP proxy of our own
 * and by killing and restarting the server. In every scenario:
 *  - every promise settles, within a bound;
 *  - no caller ever receives another caller's reply;
 *  - for a counter, successes <= server value <= successes + maybeExecuted
 *    (nothing ran twice behind our back, nothing that succeeded was lost);
 *  - the client recovers afterwards.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, ConnectError, ConnectionLostError, OfflineQueueFullError, ProtocolError, Redis, ReplyTimeoutError, type RedisOptions } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { destroyRedis, freePort, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

let server: RedisServer;
let proxy: FaultProxy;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
});
/** Stops the loads still running: a test that failed before stopping its load leaves no loop spinning. */
const loads: (() => void)[] = [];
afterEach(async () => {
  for (const stop of loads.splice(0)) stop();
  for (const c of clients.splice(0)) c.disconnect();
  await proxy?.close();
});
afterAll(async () => {
  await destroyRedis(server);
});

const FAST: RedisOptions = {
  commandTimeout: 400,
  staleReplyGrace: 300,
  connectTimeout: 500,
  reconnect: { baseDelay: 5, maxDelay: 50 },
};

async function through(opts: RedisOptions = {}): Promise<Redis> {
  proxy = await FaultProxy.start(server.port);
  const redis = new Redis(proxy.url, { ...FAST, ...opts });
  redis.on('error', () => {});
  redis.on('commandError', () => {});
  clients.push(redis);
  // With the offline queue off, a command issued before 'ready' fails at once.
  await new Promise((resolve) => redis.once('ready', resolve));
  await redis.db.reply('PING');
  return redis;
}

interface Tally {
  ok: number;
  maybe: number;
  notRun: number;
  wrongReply: number;
  errors: Map<string, number>;
}

/**
 * `callers` loops, each alternating INCR on `key` and an ECHO of a token only
 * it knows, until `stop()`; then every promise must have settled.
 */
function load(redis: Redis, key: string, callers = 20) {
  const tally: Tally = { ok: 0, maybe: 0, notRun: 0, wrongReply: 0, errors: new Map() };
  let running = true;
  loads.push(() => (running = false));
  const note = (err: unknown) => {
    const name = (err as Error).constructor.name;
    tally.errors.set(name, (tally.errors.get(name) ?? 0) + 1);
    return err;
  };
  const loops = Array.from({ length: callers }, async (_, c) => {
    for (let i = 0; running; i++) {
      try {
        await redis.db.reply('INCR', key);
        tally.ok++;
      } catch (err) {
        note(err);
        const maybe =
          (err instanceof ConnectionLostError && err.maybeExecuted) ||
          (err instanceof ReplyTimeoutError && err.sent) ||
          err instanceof ProtocolError;
        if (maybe) tally.maybe++;
        else tally.notRun++;
      }
      const token = `caller${c}:${i}`;
      try {
        const echo = await redis.db.reply('ECHO', token);
        if (echo !== token) tally.wrongReply++;
      } catch (err) {
        note(err);
      }
    }
  });
  return {
    tally,
    /** Stop the callers; resolves when every in-flight command has settled, or rejects after `boundMs`. */
    async stop(boundMs = 8000) {
      running = false;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`commands still pending after ${boundMs} ms`)), boundMs);
      });
      await Promise.race([Promise.all(loops), bound]);
      clearTimeout(timer);
      return tally;
    },
  };
}

async function checkCounter(redis: Redis, key: string, t: Tally): Promise<void> {
  const value = Number(await redis.db.reply('GET', key));
  expect(t.wrongReply).toBe(0);
  expect(value).toBeGreaterThanOrEqual(t.ok);
  expect(value).toBeLessThanOrEqual(t.ok + t.maybe);
}

/**
 * Wait until the load has succeeded again since now: the client is through
 * the fault (or, before it, the load is under way) whatever the machine's speed.
 */
async function progress(t: Tally, what: string): Promise<void> {
  const ok = t.ok;
  await until(`an INCR of the load succeeding ${what}`, () => t.ok > ok);
}

/**
 * Refuse new connections and cut the live one; resolves once the client has
 * seen the loss, so that what it is asked next waits offline instead of being
 * written to the dead socket (a fixed pause may end before the close is read).
 */
async function offline(redis: Redis): Promise<void> {
  const lost = new Promise((r) => redis.once('reconnecting', r));
  proxy.refuse(true);
  proxy.cutAll();
  await lost;
}

describe('fault injection through a proxy', () => {
  it('cut every link, repeatedly, under load', async () => {
    const redis = await through();
    const run = load(redis, 'fi:cut');
    for (let i = 0; i < 5; i++) {
      await progress(run.tally, i === 0 ? 'before the first cut' : `after cut ${i}`); // cut under load, on a live link
      proxy.cutAll();
    }
    await progress(run.tally, 'after the last cut');
    const t = await run.stop();
    await checkCounter(redis, 'fi:cut', t);
    expect(t.ok).toBeGreaterThan(0);
    expect(redis.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(await redis.db.reply('ECHO', 'recovered')).toBe('recovered');
  });

  it('a stall longer than the deadline: timeouts, recycle, recovery', async () => {
    const redis = await through();
    const run = load(redis, 'fi:stall');
    await progress(run.tally, 'before the stall');
    const lost = redis.stats().connectionLost;
    proxy.stall();
    // Past commandTimeout + staleReplyGrace, the client gives up on the link.
    await until('the client recycling the stalled link', () => redis.stats().connectionLost > lost);
    proxy.resume();
    await progress(run.tally, 'after the resume');
    const t = await run.stop();
    await checkCounter(redis, 'fi:stall', t);
    expect(t.errors.get('ReplyTimeoutError') ?? 0).toBeGreaterThan(0);
    expect(await redis.db.reply('ECHO', 'recovered')).toBe('recovered');
  });

  it('an idle half-open link is found by the health PING', async () => {
    const redis = await through({ pingInterval: 100 });
    const reconnecting = new Promise((r) => redis.once('reconnecting', r));
    proxy.stall(); // the peer goes silent without closing anything
    await reconnecting; // found within about two intervals, no command needed
    proxy.resume();
    expect(await redis.db.reply('ECHO', 'recovered')).toBe('recovered');
  });

  it('a slow link: everything still correct', async () => {
    const redis = await through();
    proxy.slow(15);
    const run = load(redis, 'fi:slow', 10);
    await until('50 INCRs of the load through the slow link', () => run.tally.ok >= 50);
    const t = await run.stop();
    await checkCounter(redis, 'fi:slow', t);
    expect(t.ok).toBeGreaterThan(0);
  });

  it('half-close from the server side: the client reconnects', async () => {
    const redis = await through();
    const run = load(redis, 'fi:half');
    await progress(run.tally, 'before the half-close');
    const lost = redis.stats().connectionLost;
    proxy.halfCloseClients();
    await until('the client dropping the half-closed link', () => redis.stats().connectionLost > lost);
    await progress(run.tally, 'after the half-close');
    const t = await run.stop();
    await checkCounter(redis, 'fi:half', t);
    expect(await redis.db.reply('ECHO', 'recovered')).toBe('recovered');
  });

  it('dropped bytes corrupt the stream: the connection is dropped, never resynced by guessing', async () => {
    const redis = await through();
    const run = load(redis, 'fi:drop');
    await progress(run.tally, 'before the bytes are dropped');
    const lost = redis.stats().connectionLost;
    proxy.dropBytes(3);
    await until('the client dropping the corrupt link', () => redis.stats().connectionLost > lost);
    await progress(run.tally, 'after the corrupt link');
    const t = await run.stop();
    await checkCounter(redis, 'fi:drop', t);
    expect(await redis.db.reply('ECHO', 'recovered')).toBe('recovered');
  });

  it('while the server refuses connections, queued commands wait and run after it is back', async () => {
    const redis = await through({ commandTimeout: 3000 });
    await offline(redis);
    const queued = [redis.db.reply('SET', 'fi:offline', 'v'), redis.db.reply('GET', 'fi:offline')];
    const tried = redis.stats().reconnects;
    await until('three more reconnect attempts refused', () => redis.stats().reconnects >= tried + 3);
    expect(redis.stats().queued).toBe(2); // still waiting, neither failed nor sent
    proxy.refuse(false);
    expect(await Promise.all(queued)).toEqual(['OK', 'v']);
  });

  it('the offline queue is bounded in count and bytes, with a clear error, and nothing is lost', async () => {
    const redis = await through({ maxQueued: 5, maxQueuedBytes: 2000, commandTimeout: 3000 });
    await offline(redis);
    const queued = Array.from({ length: 5 }, (_, i) => redis.db.reply('SET', `fi:q${i}`, 'v'));
    const overCount = await redis.db.reply('SET', 'fi:q-over', 'v').catch((e) => e);
    expect(overCount).toBeInstanceOf(OfflineQueueFullError);
    proxy.refuse(false);
    expect(await Promise.all(queued)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
    await offline(redis);
    const overBytes = await redis.db.reply('SET', 'fi:big', 'x'.repeat(5000)).catch((e) => e);
    expect(overBytes).toBeInstanceOf(OfflineQueueFullError);
    expect(overBytes.message).not.toContain('xxxx');
    proxy.refuse(false);
    expect(await redis.db.reply('EXISTS', 'fi:q-over', 'fi:big')).toBe(0);
  });

  it('the byte bound counts only what waits: a queue filled and drained again and again keeps taking commands', async () => {
    const redis = await through({ maxQueuedBytes: 2000, commandTimeout: 3000 });
    for (let round = 0; round < 8; round++) {
      await offline(redis);
      // About 1,400 bytes: under the bound only if the previous rounds' bytes were given back.
      const queued = Array.from({ length: 3 }, (_, i) => redis.db.reply('SET', `fi:round${i}`, 'v'.repeat(400)));
      expect(redis.stats().queued).toBe(3);
      proxy.refuse(false);
      expect(await Promise.all(queued)).toEqual(['OK', 'OK', 'OK']);
      expect(redis.stats().queuedBytes).toBe(0);
    }
  });

  it('a read written, lost and then abandoned (reconnecting gives up) says it may have run', async () => {
    const redis = await through({ reconnect: { baseDelay: 5, maxDelay: 5, maxAttempts: 2 }, commandTimeout: 5000 });
    proxy.stall(); // the GET is written; its bytes go no further
    const read = redis.db.reply('GET', 'fi:abandoned').catch((e) => e);
    await until('the GET is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.refuse(true);
    proxy.cutAll(); // lost: a read is kept to be resent, then reconnecting gives up
    const err = await read;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(err.maybeExecuted).toBe(true);
    expect(err.message).not.toMatch(/not sent|never sent/);
  });

  it('a read written, lost and waiting to be resent when the client is disconnected is not said to be unsent', async () => {
    const redis = await through({ commandTimeout: 5000 });
    proxy.stall();
    const read = redis.db.reply('GET', 'fi:abandoned').catch((e) => e);
    await until('the GET is written: its bytes are held by the proxy', () => proxy.held > 0);
    const lost = redis.stats().connectionLost;
    proxy.refuse(true);
    proxy.cutAll();
    // The loss is handled in one go: once counted, the read is queued to be resent, waiting to reconnect.
    await until('the client handling the loss', () => redis.stats().connectionLost > lost);
    redis.disconnect();
    const err = await read;
    expect(err).toBeInstanceOf(ClosedError);
    expect(err.message).not.toMatch(/not sent|never sent|before the command was sent/);
  });

  it('offlineQueue: false fails fast while disconnected, with nothing sent', async () => {
    const redis = await through({ offlineQueue: false });
    await offline(redis);
    const err = await redis.db.reply('SET', 'fi:never', '1').catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(err.maybeExecuted).toBe(false);
    proxy.refuse(false);
    await until('the client connected again', async () => (await redis.db.reply('PING').catch(() => null)) === 'PONG');
    expect(await redis.db.reply('EXISTS', 'fi:never')).toBe(0);
  });
});

describe('a server that cannot be reached', () => {
  it('reconnect: false fails queued commands with ConnectError', async () => {
    const port = await freePort();
    const redis = new Redis({ port, reconnect: false });
    clients.push(redis);
    const err = await redis.db.reply('PING').catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.cause).toBeInstanceOf(ConnectError);
  });

  it('while reconnecting, a queued command times out as never sent, with the reason as cause', async () => {
    const port = await freePort();
    const redis = new Redis({ port, commandTimeout: 200, reconnect: { baseDelay: 20, maxDelay: 50 } });
    clients.push(redis);
    const err = await redis.db.reply('PING').catch((e) => e);
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(err.sent).toBe(false);
    expect(err.cause).toBeInstanceOf(ConnectError);
    expect(err.message).toContain('not connected');
  });
});

describe('the server dies', () => {
  it('kill -9 and restart: in-flight commands settle honestly, the client recovers', async () => {
    const own = await startRedis();
    try {
      const redis = new Redis(own.url, FAST);
      redis.on('error', () => {});
      redis.on('commandError', () => {});
      clients.push(redis);
      await redis.db.reply('PING');
      expect(await redis.db.reply('BLPOP', 'fi:none', 0.01)).toBeNull(); // the pool has a lease now
      const sub = redis.subscriber();
      await sub.subscribe('fi:news');
      const run = load(redis, 'fi:kill');
      await progress(run.tally, 'before the kill');
      const lost = redis.stats().connectionLost;
      await own.kill();
      await until('the client seeing the server gone', () => redis.stats().connectionLost > lost);
      await own.restart();
      await progress(run.tally, 'after the restart');
      const t = await run.stop();
      // The restarted server has no data (no persistence): only check settlement and recovery.
      expect(t.wrongReply).toBe(0);
      expect(t.ok).toBeGreaterThan(0);
      expect(await redis.db.reply('ECHO', 'recovered')).toBe('recovered');
      // The pool replaced its dead lease; the subscriber subscribed again.
      expect(await redis.db.reply('BLPOP', 'fi:none', 0.01)).toBeNull();
      await until('the subscriber subscribed again', async () => (await redis.db.reply('PUBSUB', 'NUMSUB', 'fi:news'))[1] === 1);
      const got = new Promise((r) => sub.once('message', r));
      await redis.db.reply('PUBLISH', 'fi:news', 'after restart');
      expect(await got).toEqual({ channel: 'fi:news', message: 'after restart' });
    } finally {
      await destroyRedis(own);
    }
  });
});

describe('nothing keeps the process alive', () => {
  it('a script that uses the client and closes it ends by itself', async () => {
    const script = `
      import { Redis } from ${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'))};
      const redis = new Redis(${JSON.stringify(server.url)}, { pingInterval: 1000 });
      await redis.db.reply('SET', 'alive', '1');
      redis.db.command('GET', 'alive');
      await redis.db.reply('BLPOP', 'nothing-here', 0.01);
      const sub = redis.subscriber();
      await sub.subscribe('x');
      await redis.db.watch(['alive'], (c) => c.multi((tx) => tx.command('INCR', 'alive')));
      await redis.close();
    `;
    const exit = await new Promise<number | null>((resolve) => {
      const child = execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err) =>
        resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
      );
      void child;
    });
    expect(exit).toBe(0);
  });
});
