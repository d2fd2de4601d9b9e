/**
 * `db.scan()` on a view whose key prefix was given as a Buffer yields the keys
 * without the prefix, as the README promises for every view ("like every
 * other call of the view"), whatever the view decodes to. With the default
 * decoding it used to yield 'app:k1' for a Buffer prefix (only a string
 * prefix was taken off string keys).
 */
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

async function keysOf(iter: AsyncIterable<string | Buffer>): Promise<(string | Buffer)[]> {
  const out: (string | Buffer)[] = [];
  for await (const k of iter) out.push(k);
  return out;
}

describe('db.scan() on a view with a Buffer prefix', () => {
  it('an ASCII Buffer prefix is taken off string keys as it is off Buffer keys', async () => {
    const redis = env.client();
    await redis.db.reply('FLUSHDB');
    const view = redis.db.with({ prefix: Buffer.from('app:') });
    await view.reply('MSET', 'k1', 'v', 'k2', 'v');
    await redis.db.reply('SET', 'other:k3', 'v');
    expect((await keysOf(view.scan())).sort()).toEqual(['k1', 'k2']);
    const raw = (await keysOf(view.with({ decode: 'buffer' }).scan())) as Buffer[];
    expect(raw.map((b) => b.toString()).sort()).toEqual(['k1', 'k2']);
  });

  it('a UTF-8 Buffer prefix likewise; a prefix that is not UTF-8 is taken off too (the keys are text, as the view decodes them)', async () => {
    const redis = env.client();
    await redis.db.reply('FLUSHDB');
    for (const bytes of [Buffer.from('ü:'), Buffer.from([0xff, 0x3a])]) {
      const view = redis.db.with({ prefix: bytes });
      await view.reply('SET', 'k1', 'v');
      expect(await keysOf(view.scan())).toEqual(['k1']);
      const raw = (await keysOf(view.with({ decode: 'buffer' }).scan())) as Buffer[];
      expect(raw.map((b) => b.toString())).toEqual(['k1']);
      await redis.db.reply('FLUSHDB');
    }
  });
});
