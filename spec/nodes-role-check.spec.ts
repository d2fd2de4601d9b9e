/**
 * Bad input is an InvalidArgumentError (DESIGN.md, Errors): redis.nodes(role)
 * with a role other than 'master' or 'replica' ('masters', ioredis' 'slave')
 * answered as if no role had been given on a single server (its master), so a
 * typo went unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('redis.nodes(role)', () => {
  it('refuses a role it does not know, naming the valid ones', async () => {
    const redis = env.client();
    await redis.db.reply('PING');
    for (const role of ['masters', 'slave', 'all', '']) {
      let err: unknown;
      try {
        redis.nodes(role as never);
      } catch (e) {
        err = e;
      }
      expect(err, role).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/'master' or 'replica'/);
    }
    expect(redis.nodes('master').map((n) => n.role)).toEqual(['master']);
    expect(redis.nodes('replica')).toEqual([]);
    expect(redis.nodes()).toHaveLength(1);
  });
});
