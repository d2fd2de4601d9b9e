/**
 * A write this client sends drops its keys' cached entries before it is
 * written, because the server's invalidation for its own write comes only
 * after the write's reply (README "Client-side caching"). That holds while
 * the write runs before any read sent after it. A write the server refused
 * before running it (BUSY: a slow script of another client; LOADING) is sent
 * again after its retry policy's backoff (connection/retry-later.ts), put at
 * the front of the queue, and a cached read refused alongside it with a
 * shorter backoff (the view's own policy) is sent again first: it reads the
 * value from before the write, is kept, and is served after `await` of the
 * write, until the invalidation arrives. So a read answered while a write
 * of this client's to one of its keys is unanswered is not kept. A proxy
 * holds the invalidation back (support/push-holding-proxy.ts), as a TCP
 * segment boundary can. Reads after an answered write are kept as before.
 */
import { describe, expect, it } from 'vitest';
import { whileBusy } from './support/busy-write.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('a cached read and a write both refused with BUSY', () => {
  it('the read resent first is not kept: once the write is acknowledged, the next cached read sees it', async () => {
    await whileBusy(env, 'crw:k', 600, async ({ cached, patient, slow }) => {
      const write = patient.reply('SET', 'crw:k', 'new'); // BUSY: sent again in 1.5 s
      const read = cached.reply('GET', 'crw:k'); // BUSY: sent again every 5 ms, so before the write
      expect(await slow).toBe(1);
      expect(await read).toBe('old'); // ran before the write: its answer is right for its time
      expect(await write).toBe('OK');
      expect(await cached.reply('GET', 'crw:k')).toBe('new'); // the write is acknowledged: never the old value
    });
  });

  it("a read after this client's answered write is kept as before (plain, pipelined, MULTI)", async () => {
    const redis = env.client({ cache: {} });
    const cached = redis.db.with({ cache: true });
    const hits = () => redis.stats().cache!.hits;
    await redis.db.reply('SET', 'crw:a', '1');
    expect(await cached.reply('GET', 'crw:a')).toBe('1');
    expect(await cached.reply('GET', 'crw:a')).toBe('1');
    expect(hits()).toBe(1);
    redis.db.command('SET', 'crw:b', '2'); // pipelined: answered before the read behind it
    expect(await cached.reply('GET', 'crw:b')).toBe('2');
    expect(await cached.reply('GET', 'crw:b')).toBe('2');
    expect(hits()).toBe(2);
    await redis.db.multi((tx) => tx.command('SET', 'crw:c', '3'));
    expect(await cached.reply('GET', 'crw:c')).toBe('3');
    expect(await cached.reply('GET', 'crw:c')).toBe('3');
    expect(hits()).toBe(3);
    await redis.db.reply('FLUSHDB');
    expect(await cached.reply('GET', 'crw:c')).toBe(null);
    expect(await cached.reply('GET', 'crw:c')).toBe(null);
    expect(hits()).toBe(4);
  });
});
