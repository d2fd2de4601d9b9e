/**
 * Bad input is an InvalidArgumentError and nothing is sent (DESIGN.md, Errors):
 * db.multi() given something other than a builder function rejected with a
 * TypeError ("build is not a function") from inside the transaction code.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.multi(build) checks build', () => {
  it('anything but a function rejects with InvalidArgumentError, and nothing is sent', async () => {
    const redis = env.client();
    await redis.db.reply('PING');
    const before = redis.stats().commands;
    for (const build of [null, undefined, 'SET k v', [['SET', 'k', 'v']], {}]) {
      const err = await redis.db.multi(build as never).catch((e: Error) => e);
      expect(err, String(build)).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/db\.multi needs a builder function/);
    }
    expect(redis.stats().commands).toBe(before);
    expect(await redis.db.multi((tx) => [tx.command('PING')])).toEqual(['PONG']);
  });
});
