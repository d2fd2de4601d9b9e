/**
 * README (Cancelling): "watch(): nothing is leased when the signal has fired;
 * inside the function, commands sent after the abort are refused unsent".
 * conn.reply and conn.command kept that; conn.multi and conn.run did not: a
 * block or a script issued after the view's signal fired was written and ran.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.watch with a signal that fires inside fn', () => {
  it('conn.multi and conn.run after the abort are refused unsent (AbortError, sent false), like conn.reply', async () => {
    const redis = env.client();
    const db = redis.db;
    await db.reply('DEL', 'r10wa:w', 'r10wa:m', 'r10wa:s');
    const ac = new AbortController();
    const setScript = new Script('return redis.call("SET", KEYS[1], ARGV[1])');
    const outcomes = await db.with({ signal: ac.signal }).watch(['r10wa:w'], async (conn) => {
      await conn.reply('GET', 'r10wa:w');
      ac.abort();
      const settle = (p: PromiseLike<unknown>) => Promise.resolve(p).then(() => 'resolved', (e: unknown) => e);
      return {
        reply: await settle(conn.reply('SET', 'r10wa:w', 'x')),
        multi: await settle(conn.multi((tx) => void tx.command('SET', 'r10wa:m', 'ran'))),
        run: await settle(conn.run(setScript, ['r10wa:s'], ['ran'])),
      };
    });
    for (const err of [outcomes.reply, outcomes.multi, outcomes.run]) {
      expect(err).toBeInstanceOf(AbortError);
      expect((err as AbortError).sent).toBe(false);
    }
    expect(await db.reply('MGET', 'r10wa:w', 'r10wa:m', 'r10wa:s')).toEqual([null, null, null]);
  });

  it('a block written before the abort settles at once with AbortError, sent true, like a reply in flight', async () => {
    const redis = env.client();
    const db = redis.db;
    await db.reply('DEL', 'r10wa:slow');
    const ac = new AbortController();
    const err = await db.with({ signal: ac.signal }).watch(['r10wa:slow'], async (conn) => {
      const block = conn.multi((tx) => {
        tx.command('DEBUG', 'SLEEP', '0.5');
        tx.command('SET', 'r10wa:slow', 'ran');
      });
      setImmediate(() => ac.abort());
      return block.then(() => 'resolved', (e: unknown) => e);
    });
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).sent).toBe(true);
    expect(await db.reply('GET', 'r10wa:slow')).toBe('ran'); // it was written: it ran, as the error says it may have
  });
});
