/**
 * A caller that waited `maxWait` for a side connection (the blocking pool at
 * its size) gets a PoolTimeoutError naming its command and the node, as the
 * pool's other errors do: a blocking command (BLPOP) and a `db.watch` (WATCH).
 * Against a real redis-server; maxWait is short only so that the wait ends.
 */
import { describe, expect, it } from 'vitest';
import { PoolTimeoutError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('PoolTimeoutError', () => {
  it('names the command that waited (BLPOP, or WATCH for db.watch) and the node', async () => {
    const redis = env.client({ blockingPool: { size: 1, maxWait: 50 } });
    await redis.db.reply('DEL', 'pool-timeout:held');
    const held = redis.db.reply('BLPOP', 'pool-timeout:held', 0).catch((e: unknown) => e); // the only side connection; ended by close()
    const node = `127.0.0.1:${env.server.port}`;
    const pop = await redis.db.reply('BLPOP', 'pool-timeout:other', 0).catch((e: unknown) => e);
    expect(pop).toBeInstanceOf(PoolTimeoutError);
    expect(pop).toMatchObject({ command: 'BLPOP', node });
    let ran = false;
    const watch = await redis.db.watch(['pool-timeout:w'], () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(watch).toBeInstanceOf(PoolTimeoutError);
    expect(watch).toMatchObject({ command: 'WATCH', node });
    expect(ran).toBe(false);
    await redis.close();
    await held;
  });
});
