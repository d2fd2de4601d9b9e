/**
 * A Buffer key prefix whose bytes are not UTF-8, on a view that decodes to
 * text: db.scan() and the replies that name keys (BLPOP, LMPOP, XREAD, ...)
 * give back the same names, the keys as passed. A name's bytes are the
 * prefix's, then the key's; read as UTF-8 they are the prefix's reading (U+FFFD
 * for its bytes that are not UTF-8) followed by the key's, for any key that is
 * UTF-8 itself (every string key), whatever the prefix ends with. So the
 * prefix's reading comes off a string name, its bytes off a Buffer name.
 * Replies used to keep such a prefix on string names while db.scan() took it
 * off. Against a real server.
 */
import { describe, expect, it } from 'vitest';
import type { Database, Decoding } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

async function scanned<D extends Decoding>(db: Database<D>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const k of db.scan()) out.push(k);
  return out;
}

const PREFIXES: [string, Buffer][] = [
  ['invalid bytes', Buffer.from([0xff, 0x3a])],
  ['a lone continuation byte', Buffer.from([0x70, 0x80])],
  ['ending inside a sequence', Buffer.from([0x70, 0xe2, 0x82])],
  ['valid UTF-8 (for comparison)', Buffer.from('ü:')],
];

describe('a binary prefix that is not UTF-8: db.scan() and replies agree', () => {
  for (const [what, prefix] of PREFIXES) {
    it(`${what}: scan, LMPOP, BLPOP, XREAD (RESP3 and RESP2) all name the keys as passed`, async () => {
      const redis = env.client();
      await redis.db.reply('FLUSHDB');
      const view = redis.db.with({ prefix });
      await view.reply('RPUSH', 'list', 'a', 'b', 'c');
      await view.reply('XADD', 'stream', '1-1', 'f', 'v');
      expect((await scanned(view)).sort()).toEqual(['list', 'stream']);
      expect(await view.reply('LMPOP', 1, 'list', 'LEFT')).toEqual(['list', ['a']]);
      expect(await view.reply('BLPOP', 'list', 1)).toEqual(['list', 'b']);
      expect(Object.keys((await view.reply('XREAD', 'STREAMS', 'stream', '0')) as object)).toEqual(['stream']);
      const resp2 = env.client({ protocol: 2 }).db.with({ prefix });
      expect(((await resp2.reply('XREAD', 'STREAMS', 'stream', '0')) as unknown as unknown[][]).map((pair) => pair[0])).toEqual(['stream']);
      // Buffers: the prefix's bytes, exactly.
      const raw = view.with({ decode: 'buffer' });
      expect(((await scanned(raw)) as Buffer[]).map(String).sort()).toEqual(['list', 'stream']);
      expect(await raw.reply('LMPOP', 1, 'list', 'LEFT')).toEqual([Buffer.from('list'), [Buffer.from('c')]]);
    });
  }

  it('exactly once: a key that begins with the prefix keeps it, in both', async () => {
    const redis = env.client();
    await redis.db.reply('FLUSHDB');
    const prefix = Buffer.from([0xff, 0x3a]);
    const view = redis.db.with({ prefix });
    const twice = prefix.toString('utf8') + 'list';
    await view.reply('RPUSH', Buffer.concat([prefix, Buffer.from('list')]), 'a');
    expect(await scanned(view)).toEqual([twice]);
    expect(await view.reply('LMPOP', 1, Buffer.concat([prefix, Buffer.from('list')]), 'LEFT')).toEqual([twice, ['a']]);
  });
});
