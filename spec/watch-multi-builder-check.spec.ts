/**
 * Inside db.watch, `conn.multi(build)` checks `build` as db.multi does: a
 * non-function is an InvalidArgumentError naming conn.multi, nothing of the
 * block is sent (before: a TypeError, "build is not a function", from inside
 * the transaction code), and the watch goes on.
 */
import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

it('conn.multi(anything but a function) rejects with InvalidArgumentError; the watch then commits', async () => {
  const redis = env.client();
  await redis.db.reply('SET', 'wmb:k', '1');
  const result = await redis.db.watch(['wmb:k'], async (conn) => {
    for (const build of [null, undefined, 'SET k v', [['SET', 'k', 'v']], {}]) {
      const err = await conn.multi(build as never).catch((e: Error) => e);
      expect(err, String(build)).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/conn\.multi needs a builder function/);
    }
    return conn.multi((tx) => tx.command('INCR', 'wmb:k'));
  });
  expect(result).toEqual([2]);
});
