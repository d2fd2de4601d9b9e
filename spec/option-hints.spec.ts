/**
 * Unknown options say what to do (DESIGN.md, "Options objects are checked"):
 * options of other clients that users carry over (ioredis' keyPrefix, pool
 * names) get a pointer to redmux's way, and db.watch's options are checked like
 * every other options object, before anything is leased or sent.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis, type RedisOptions } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

function construct(opts: unknown): Error {
  try {
    new Redis(opts as RedisOptions).disconnect();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('foreign options point at the redmux way', () => {
  it('keyPrefix, pool, showFriendlyErrorStack, scaleReads, enableAutoPipelining', () => {
    const cases: [unknown, RegExp][] = [
      [{ keyPrefix: 'app:' }, /unknown option keyPrefix; keys are prefixed per view: redis\.db\.with\(\{ prefix: 'app:' \}\)/],
      [{ pool: { size: 2 } }, /unknown option pool; did you mean blockingPool\?/],
      [{ showFriendlyErrorStack: true }, /did you mean callSiteStacks\?/],
      [{ scaleReads: 'slave' }, /cluster: \{ readFrom: 'replica' \}/],
      [{ enableAutoPipelining: true }, /auto-pipelined already/],
    ];
    for (const [opts, message] of cases) {
      const err = construct(opts);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });
});

describe('db.watch checks its options', () => {
  it('a misspelt or wrong option rejects with InvalidArgumentError and the function never runs', async () => {
    const redis = env.client();
    let ran = 0;
    const fn = async () => ++ran;
    const misspelt = await redis.db.watch(['w:k'], fn, { retry: 3 } as never).catch((e: Error) => e);
    expect(misspelt).toBeInstanceOf(InvalidArgumentError);
    expect((misspelt as Error).message).toMatch(/db\.watch\(\): unknown option retry; did you mean retries\?/);
    const wrong = await redis.db.watch(['w:k'], fn, { retries: -1 }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(InvalidArgumentError);
    expect((wrong as Error).message).toMatch(/option retries must be a non-negative integer/);
    const notObject = await redis.db.watch(['w:k'], fn, null as never).catch((e: Error) => e);
    expect(notObject).toBeInstanceOf(InvalidArgumentError);
    expect(ran).toBe(0);
    expect(redis.stats().leased).toBe(0);
    expect(await redis.db.watch(['w:k'], fn, { retries: 2 })).toBe(1);
  });
});
