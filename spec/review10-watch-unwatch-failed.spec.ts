/**
 * README (Optimistic transactions): db.watch "resolves with what fn returns";
 * afterwards it sends UNWATCH and returns the lease. When that UNWATCH failed
 * (the lease's connection lost after EXEC answered, or an ACL without
 * `unwatch`), db.watch rejected with the UNWATCH's error although fn's block
 * had run: after a loss a ConnectionLostError { maybeExecuted: false } saying
 * "it was not sent", an invitation to run the transaction a second time.
 * A WATCH lives and dies with its connection: the lease is destroyed instead,
 * and fn's outcome stands.
 */
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.watch whose closing UNWATCH fails', () => {
  it('connection lost after EXEC committed: resolves with what fn returned, the block ran once', async () => {
    const redis = env.client();
    const db = redis.db;
    await db.reply('DEL', 'r10wu:w', 'r10wu:n');
    const result = await db.watch(['r10wu:w'], async (conn) => {
      const id = await conn.reply('CLIENT', 'ID');
      const block = await conn.multi((tx) => void tx.command('INCR', 'r10wu:n'));
      await db.reply('CLIENT', 'KILL', 'ID', id as number);
      await conn.reply('PING').catch(() => {}); // the lease has seen its connection go: UNWATCH cannot be written
      return block;
    });
    expect(result).toEqual([1]);
    expect(await db.reply('GET', 'r10wu:n')).toBe('1');
    // The pool lost that lease and serves the next watch on a new one.
    expect(await db.watch(['r10wu:w'], (conn) => conn.multi((tx) => void tx.command('INCR', 'r10wu:n')))).toEqual([2]);
  });

  it('an ACL user without unwatch: resolves with what fn returned; the next watch is not guarded by the old keys', async () => {
    const admin = env.client();
    await admin.db.reply('ACL', 'SETUSER', 'r10wu', 'on', '>pw', '~*', '&*', '+@all', '-unwatch');
    const redis = env.client({ username: 'r10wu', password: 'pw', blockingPool: { size: 1 } });
    const db = redis.db;
    await db.reply('DEL', 'r10wu:a', 'r10wu:b');
    const first = await db.watch(['r10wu:a'], (conn) => conn.multi((tx) => void tx.command('SET', 'r10wu:b', '1')));
    expect(first).toEqual(['OK']);
    // A watch whose fn sends no EXEC leaves its WATCH on the connection when UNWATCH is refused.
    expect(await db.watch(['r10wu:a'], async (conn) => conn.reply('GET', 'r10wu:b'))).toBe('1');
    // Had that lease gone back to the pool still watching r10wu:a, this change would abort the next block.
    await admin.db.reply('SET', 'r10wu:a', 'changed');
    const second = await db.watch(['r10wu:b'], (conn) => conn.multi((tx) => void tx.command('SET', 'r10wu:b', '2')));
    expect(second).toEqual(['OK']);
    expect(await db.reply('GET', 'r10wu:b')).toBe('2');
  });
});
