/**
 * Switching databases in the stream (redis.database(n), with({ db })) when
 * the server refuses the SELECT: nothing meant for the new database may run
 * in the one the connection is still in. The SELECT used to be written
 * ahead of its commands without waiting for its answer once the connection
 * had selected that database before: a user whose ACL lost SELECT meanwhile
 * had a SET meant for database 1 written in database 0 (and was told
 * ProtocolError); during another client's runaway script the SELECT was
 * answered BUSY and the connection dropped. A first SELECT to a database
 * answered BUSY failed its commands at once, without their retry policy.
 */
import { describe, expect, it } from 'vitest';
import { NoPermError, ReplyTimeoutError, RetryPolicy, ServerError } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { duringRunaway, keysIn, rejected } from './support/runaway.js';
import { within } from './support/until.js';

const env = useRealServer();

describe('a database the connection selected before, its SELECT now refused by the ACL', () => {
  it('fails that database\'s commands with the refusal, runs none of them in another database, and goes on serving the others', async () => {
    const admin = env.client();
    await admin.db.reply('FLUSHALL');
    await admin.db.reply('ACL', 'SETUSER', 'switcher', 'on', '>pw', '~*', '&*', '+@all');
    try {
      const redis = env.client({ username: 'switcher', password: 'pw', retry: RetryPolicy.none() });
      const errors: Error[] = [];
      redis.on('error', (e) => errors.push(e));
      const db1 = redis.database(1);
      expect(await db1.reply('SET', 'before', '1')).toBe('OK'); // database 1 selected once on this connection
      expect(await redis.db.reply('PING')).toBe('PONG'); // back in database 0
      await admin.db.reply('ACL', 'SETUSER', 'switcher', '-select');
      const set = outcome(db1.reply('SET', 'meant-for-1', 'x'));
      const incr = outcome(db1.reply('INCR', 'counter-1'));
      const get = outcome(redis.db.reply('GET', 'before')); // database 0's, queued behind them
      const results = await within('the calls', Promise.all([set, incr, get]));
      expect(results[0]).toBeInstanceOf(NoPermError);
      expect(results[1]).toBeInstanceOf(NoPermError);
      expect((results[0] as Error).message).toMatch(/select/i);
      expect(results[2]).toBeNull(); // database 0 has no 'before': this GET ran where it belongs
      expect(await keysIn(admin, 0, 'meant-for-1', 'counter-1')).toEqual([null, null]); // nothing ran in database 0
      expect(await keysIn(admin, 1, 'meant-for-1', 'counter-1')).toEqual([null, null]);
      expect(await rejected(admin, 'set')).toBe(0);
      expect(errors.filter((e) => e.name === 'ProtocolError')).toEqual([]); // refused, not a stream out of step
      // Allowed again: the switch works again on the same connection.
      await admin.db.reply('ACL', 'SETUSER', 'switcher', '+select');
      expect(await db1.reply('GET', 'before')).toBe('1');
      expect(redis.stats().reconnects).toBe(0);
    } finally {
      await admin.db.reply('ACL', 'DELUSER', 'switcher');
    }
  });
});

describe('a database switch while another client\'s script runs away (SELECT answered BUSY)', () => {
  it('to a database selected before: its commands wait, none is written while busy, and they run there after SCRIPT KILL', async () => {
    const redis = env.client({ retry: RetryPolicy.none() });
    const db1 = redis.database(1);
    expect(await db1.reply('GET', 'k')).toBeNull(); // database 1 selected once on this connection
    expect(await redis.db.reply('GET', 'k')).toBeNull(); // back in database 0
    await duringRunaway(env, async (admin) => {
      const set = outcome(db1.reply('SET', 'k', 'v'));
      const incr = outcome(db1.reply('INCR', 'n'));
      const here = outcome(redis.db.with({ timeout: 30_000 }).reply('SET', 'k0', 'zero'));
      await new Promise((r) => setTimeout(r, 100)); // the SELECT is answered BUSY meanwhile, and asked again
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await within('the waiting commands', Promise.all([set, incr, here]))).toEqual(['OK', 1, 'OK']);
      expect(await keysIn(admin, 0, 'k', 'n', 'k0')).toEqual([null, null, 'zero']);
      expect(await keysIn(admin, 1, 'k', 'n', 'k0')).toEqual(['v', '1', null]);
      for (const c of ['set', 'incr']) expect([c, await rejected(admin, c)]).toEqual([c, 0]); // none written while busy
      expect(await rejected(admin, 'select')).toBeGreaterThanOrEqual(1);
      expect(redis.stats().reconnects).toBe(0);
    });
    expect(await db1.reply('GET', 'k')).toBe('v'); // the connection serves both databases on
    expect(await redis.db.reply('GET', 'k0')).toBe('zero');
  });

  it('to a database not selected before: the same (it waits, it is not failed BUSY without asking the retry policy)', async () => {
    const redis = env.client({ retry: RetryPolicy.none() });
    await duringRunaway(env, async (admin) => {
      const set = outcome(redis.database(2).reply('SET', 'k2', 'two'));
      await new Promise((r) => setTimeout(r, 100));
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await within('the SET', set)).toBe('OK');
      expect(await keysIn(admin, 2, 'k2')).toEqual(['two']);
      expect(await keysIn(admin, 0, 'k2')).toEqual([null]);
      expect(await rejected(admin, 'set')).toBe(0);
    });
  });

  it('a command whose deadline passes while its SELECT waits fails unsent, naming the BUSY, and never runs', async () => {
    const redis = env.client({ retry: RetryPolicy.none() });
    await duringRunaway(env, async (admin) => {
      const err = await redis.database(3).with({ timeout: 200 }).reply('SET', 'late', 'x').catch((e: Error) => e);
      expect(err).toBeInstanceOf(ReplyTimeoutError);
      expect(err).toMatchObject({ sent: false });
      expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(ServerError);
      expect(String((err as Error & { cause?: Error }).cause?.name)).toBe('BusyScriptError');
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await redis.database(3).reply('SET', 'after', 'y')).toBe('OK');
      expect(await keysIn(admin, 3, 'late', 'after')).toEqual([null, 'y']);
      expect(await keysIn(admin, 0, 'late', 'after')).toEqual([null, null]);
    });
  });
});
