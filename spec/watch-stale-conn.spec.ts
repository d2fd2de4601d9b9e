/**
 * The connection db.watch hands its function is only good while the function
 * runs. Afterwards its lease is back in the pool and may serve another
 * caller: a `conn` kept and used later would send on that caller's
 * connection (a stale `conn.multi` could even run EXEC under the other
 * caller's WATCH, committing without its protection, or queue behind its
 * BLPOP). So once the watch is over, every method of `conn` refuses with
 * ClosedError and sends nothing.
 */
import { expect, it } from 'vitest';
import { ClosedError, Script, type WatchConnection } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

it('every method of a conn kept after its watch settled refuses with ClosedError; nothing is sent', async () => {
  const redis = env.client({ blockingPool: { size: 1 } });
  const errors: Error[] = [];
  redis.on('commandError', (err: Error) => errors.push(err));
  await redis.db.reply('DEL', 'stale:k', 'stale:other');
  let kept: WatchConnection | undefined;
  expect(await redis.db.watch(['stale:k'], (conn) => ((kept = conn), 'done'))).toBe('done');
  const conn = kept!;
  // Another caller's watch now holds the only side connection.
  let release!: () => void;
  const holding = new Promise<void>((r) => (release = r));
  const other = redis.db.watch(['stale:other'], async (c) => {
    await c.reply('GET', 'stale:other');
    await holding;
    return c.multi((tx) => tx.command('SET', 'stale:other', 'theirs'));
  });
  await expect(conn.reply('SET', 'stale:k', 'late')).rejects.toBeInstanceOf(ClosedError);
  await expect(conn.multi((tx) => tx.command('SET', 'stale:other', 'stale'))).rejects.toBeInstanceOf(ClosedError);
  await expect(conn.run(new Script('return 1'))).rejects.toBeInstanceOf(ClosedError);
  conn.command('SET', 'stale:k', 'fire-and-forget'); // not awaited: reported as a commandError
  release();
  expect(await other).toEqual(['OK']);
  expect(await redis.db.reply('GET', 'stale:k')).toBeNull();
  expect(await redis.db.reply('GET', 'stale:other')).toBe('theirs');
  expect(errors.map((e) => e.constructor.name)).toEqual(['ClosedError']);
});
