/**
 * A client of database 1 whose connection opens while another client's Lua
 * script runs away: the handshake's SELECT is answered BUSY, so the connection
 * opens with no database selected and asks again when the server is free
 * (select.ts selectWhenFree). Meanwhile only what runs in no database is
 * written (SCRIPT KILL, FUNCTION KILL): every other command waits, in order,
 * within its deadline, and runs in database 1 once SELECT ran. The clients
 * here retry nothing (RetryPolicy.none()): a command written before its
 * SELECT would be answered BUSY and fail, or run in database 0.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, RetryPolicy, type RedisOptions } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { duringRunaway, keysIn, rejected } from './support/runaway.js';
import { until, within } from './support/until.js';

const env = useRealServer();

/** A client of database 1 that retries nothing, and its first 'ready' (its connection opened, with no database: the server is busy). */
async function unselectedClient(opts: RedisOptions = {}, url?: string): Promise<Redis> {
  const redis = env.track(new Redis(url ?? env.server.url, { db: 1, retry: RetryPolicy.none(), ...opts }));
  redis.on('error', () => {});
  await within('the connection opens', once(redis, 'ready'));
  return redis;
}

describe('a client of database 1 whose connection opened during a runaway script', () => {
  it('writes SCRIPT KILL ahead of what waits for the database; the rest runs after, in order, in database 1', async () => {
    await duringRunaway(env, async (admin) => {
      const redis = await unselectedClient();
      const set = outcome(redis.db.reply('SET', 'k', 'a'));
      const append = outcome(redis.db.reply('APPEND', 'k', 'b'));
      const other = outcome(redis.database(2).reply('SET', 'k2', 'x')); // another database, pipelined in between
      const tx = outcome(redis.db.multi((t) => [t.command('INCR', 'n'), t.command('INCR', 'n')]));
      const get = outcome(redis.db.reply('GET', 'k'));
      expect(await within('SCRIPT KILL', redis.db.reply('SCRIPT', 'KILL'))).toBe('OK');
      expect(await within('the waiting commands', Promise.all([set, append, other, get]))).toEqual(['OK', 2, 'OK', 'ab']);
      expect(await within('the transaction', tx)).toEqual([1, 2]);
      expect(await keysIn(admin, 0, 'k', 'k2', 'n')).toEqual([null, null, null]); // nothing ran in database 0
      expect(await keysIn(admin, 1, 'k', 'k2', 'n')).toEqual(['ab', null, '2']);
      expect(await keysIn(admin, 2, 'k', 'k2', 'n')).toEqual([null, 'x', null]);
      expect(await rejected(admin, 'select')).toBeGreaterThanOrEqual(1); // the handshake's SELECT was answered BUSY
      for (const c of ['set', 'append', 'incr', 'get', 'multi', 'exec']) expect([c, await rejected(admin, c)]).toEqual([c, 0]); // none written while busy
    });
  });

  it('a command whose deadline passes while waiting fails unsent, saying why, and never runs', async () => {
    await duringRunaway(env, async (admin) => {
      const redis = await unselectedClient();
      const late = await outcome(redis.db.with({ timeout: 300 }).reply('SET', 'late', 'x'));
      expect(late).toBeInstanceOf(ReplyTimeoutError);
      expect((late as ReplyTimeoutError).sent).toBe(false);
      expect(String((late as Error).cause)).toMatch(/BUSY/);
      expect(await redis.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await within('a later command', redis.db.reply('SET', 'after', 'y'))).toBe('OK');
      expect(await keysIn(admin, 0, 'late', 'after')).toEqual([null, null]);
      expect(await keysIn(admin, 1, 'late', 'after')).toEqual([null, 'y']);
    });
  });

  it('close() waits for the queued commands, which run in database 1 once the script is killed', async () => {
    await duringRunaway(env, async (admin) => {
      const redis = await unselectedClient();
      const set = outcome(redis.db.reply('SET', 'c', '1'));
      const closed = redis.close();
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      await within('close()', closed);
      expect(await set).toBe('OK');
      expect(await keysIn(admin, 0, 'c')).toEqual([null]);
      expect(await keysIn(admin, 1, 'c')).toEqual(['1']);
    });
  });

  it('a connection lost while it waits keeps what was queued for the next one, which waits the same way', async () => {
    const proxy = await FaultProxy.start(env.server.port);
    try {
      await duringRunaway(env, async (admin) => {
        const redis = await unselectedClient({ reconnect: { baseDelay: 20, maxDelay: 40 } }, proxy.url);
        let readies = 0;
        redis.on('ready', () => readies++);
        const set = outcome(redis.db.reply('SET', 'p', '1'));
        const accepted = proxy.accepted;
        proxy.cutAll();
        await until('opened again (during the script: with no database)', () => proxy.accepted > accepted && readies > 0);
        expect(await redis.db.reply('SCRIPT', 'KILL')).toBe('OK');
        expect(await within('the queued SET', set)).toBe('OK');
        expect(await keysIn(admin, 0, 'p')).toEqual([null]);
        expect(await keysIn(admin, 1, 'p')).toEqual(['1']);
        expect(await rejected(admin, 'set')).toBe(0);
      });
    } finally {
      await proxy.close();
    }
  });

  it('the same with RESP2 (AUTH, SELECT)', async () => {
    await duringRunaway(env, async (admin) => {
      const redis = await unselectedClient({ protocol: 2 });
      const set = outcome(redis.db.reply('SET', 'r', '2'));
      expect(await within('SCRIPT KILL', redis.db.reply('SCRIPT', 'KILL'))).toBe('OK');
      expect(await within('the SET', set)).toBe('OK');
      expect(await keysIn(admin, 0, 'r')).toEqual([null]);
      expect(await keysIn(admin, 1, 'r')).toEqual(['2']);
    });
  });

  it('sends FUNCTION KILL during a runaway function', async () => {
    const lib = "#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}";
    await env.client().db.reply('FUNCTION', 'LOAD', 'REPLACE', lib);
    try {
      await duringRunaway(
        env,
        async () => {
          const redis = await unselectedClient();
          const get = outcome(redis.db.reply('GET', 'f'));
          expect(await within('FUNCTION KILL', redis.db.reply('FUNCTION', 'KILL'))).toBe('OK');
          expect(await within('the GET', get)).toBe(null);
        },
        () => env.client().db.reply('FCALL', 'spin', 0),
      );
    } finally {
      await env.client().db.reply('FUNCTION', 'DELETE', 'spin');
    }
  });
});
