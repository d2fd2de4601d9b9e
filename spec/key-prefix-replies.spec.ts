/**
 * `db.with({ prefix })` takes the prefix off the key names a reply holds, so
 * a caller gets back the names it passed: XREAD / XREADGROUP's stream names
 * (RESP3 map as an object or a Map, RESP2 pairs, RESP2 in RESP3 shapes) and
 * the key of BLPOP, BRPOP, BZPOPMIN, BZPOPMAX, LMPOP, BLMPOP, ZMPOP, BZMPOP.
 * Exactly once and only where the name starts with the prefix (a key that
 * itself begins with the prefix keeps it), through `reply`, `command`,
 * `multi` (its result and its handles) and `watch`. Against a real server.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../lib/index.js';
import { blockedIn } from './support/blocked-clients.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

/** A [key, items] reply (ZMPOP, BZMPOP), for reading its parts. */
const popped2 = (reply: unknown) => reply as [unknown, unknown[][]];

/** Two streams with one entry each, written through `db` (so under its prefix). */
async function twoStreams(db: Database): Promise<void> {
  await db.reply('DEL', 's1', 's2');
  await db.reply('XADD', 's1', '1-1', 'f', 'v');
  await db.reply('XADD', 's2', '1-1', 'f', 'w');
}

describe('key names in replies lose the view\'s prefix', () => {
  it('XREAD: stream names as passed, in an object map, a Map, with Buffers, on RESP2 and RESP2 in RESP3 shapes', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'xr:' });
    await twoStreams(app);
    const asObject = (await app.reply('XREAD', 'STREAMS', 's1', 's2', '0', '0')) as Record<string, unknown>;
    expect(Object.keys(asObject).sort()).toEqual(['s1', 's2']);
    expect(Object.getPrototypeOf(asObject)).toBeNull();
    expect(asObject.s1).toEqual([['1-1', ['f', 'v']]]);
    const asMap = (await app.with({ map: 'map' }).reply('XREAD', 'STREAMS', 's1', '0')) as Map<string, unknown>;
    expect([...asMap.keys()]).toEqual(['s1']);
    const binary = (await app.with({ decode: 'buffer', map: 'map' }).reply('XREAD', 'STREAMS', 's2', '0')) as Map<Buffer, unknown>;
    expect([...binary.keys()]).toEqual([Buffer.from('s2')]);
    expect(await app.reply('XREAD', 'STREAMS', 's1', '$')).toBeNull();

    const resp2 = env.client({ protocol: 2 });
    const pairs = await resp2.db.with({ prefix: 'xr:' }).reply('XREAD', 'STREAMS', 's1', 's2', '0', '0');
    expect(pairs).toEqual([['s1', [['1-1', ['f', 'v']]]], ['s2', [['1-1', ['f', 'w']]]]]);
    const shaped = env.client({ protocol: 2, resp2: 'resp3' });
    const shapedReply = (await shaped.db.with({ prefix: 'xr:' }).reply('XREAD', 'STREAMS', 's1', '0')) as Record<string, unknown>;
    expect(Object.keys(shapedReply)).toEqual(['s1']);
  });

  it('XREADGROUP, and an XREAD BLOCK answered while blocked', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'xg:' });
    await twoStreams(app);
    await app.reply('XGROUP', 'CREATE', 's1', 'g', '0');
    const group = (await app.reply('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's1', '>')) as Record<string, unknown>;
    expect(Object.keys(group)).toEqual(['s1']);
    const blocked = app.reply('XREAD', 'BLOCK', 0, 'STREAMS', 's2', '$');
    await until('the XREAD blocked on the server', async () => (await blockedIn(redis.db, 'xread')) === 1);
    await redis.db.reply('XADD', 'xg:s2', '2-1', 'f', 'x');
    expect(Object.keys((await blocked) as Record<string, unknown>)).toEqual(['s2']);
  });

  it('the key of BLPOP, BRPOP, BZPOPMIN, BZPOPMAX (ready and blocked), LMPOP, BLMPOP, ZMPOP, BZMPOP', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'pop:' });
    await app.reply('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e');
    await app.reply('ZADD', 'z', 1, 'm1', 2, 'm2', 3, 'm3', 4, 'm4', 5, 'm5');
    expect(await app.reply('BLPOP', 'nothing', 'l', 1)).toEqual(['l', 'a']);
    expect(await app.reply('BRPOP', 'l', 1)).toEqual(['l', 'e']);
    expect(await app.reply('LMPOP', 1, 'l', 'LEFT')).toEqual(['l', ['b']]);
    expect(await app.reply('BLMPOP', 1, 1, 'l', 'RIGHT', 'COUNT', 2)).toEqual(['l', ['d', 'c']]);
    const min = (await app.reply('BZPOPMIN', 'z', 1)) as unknown[];
    expect(min.slice(0, 2)).toEqual(['z', 'm1']);
    const max = (await app.reply('BZPOPMAX', 'z', 1)) as unknown[];
    expect(max.slice(0, 2)).toEqual(['z', 'm5']);
    const zm = popped2(await app.reply('ZMPOP', 1, 'z', 'MIN'));
    expect(zm[0]).toBe('z');
    expect(zm[1][0]![0]).toBe('m2');
    const bzm = popped2(await app.reply('BZMPOP', 1, 1, 'z', 'MAX'));
    expect(bzm[0]).toBe('z');
    expect(bzm[1][0]![0]).toBe('m4');
    expect(await app.reply('LMPOP', 1, 'l', 'LEFT')).toBeNull();
    expect(await app.reply('BLPOP', 'l', 0.01)).toBeNull();

    const popped = app.reply('BLPOP', 'jobs', 0);
    await until('the BLPOP blocked on the server', async () => (await blockedIn(redis.db, 'blpop')) === 1);
    await redis.db.reply('RPUSH', 'pop:jobs', 'job1');
    expect(await popped).toEqual(['jobs', 'job1']);
    const binary = app.with({ decode: 'buffer' });
    expect(await binary.reply('LMPOP', 2, 'none', 'l2', 'LEFT')).toBeNull();
    await app.reply('RPUSH', 'l2', 'x', 'y');
    expect(await binary.reply('BLPOP', 'l2', 1)).toEqual([Buffer.from('l2'), Buffer.from('x')]);
    expect(await binary.reply('LMPOP', 2, 'none', 'l2', 'LEFT')).toEqual([Buffer.from('l2'), [Buffer.from('y')]]);
  });

  it('exactly once: a key that itself begins with the prefix keeps it', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'a:' });
    await app.reply('RPUSH', 'a:list', 'v');
    expect(await redis.db.reply('EXISTS', 'a:a:list')).toBe(1);
    expect(await app.reply('LMPOP', 1, 'a:list', 'LEFT')).toEqual(['a:list', ['v']]);
    await app.reply('XADD', 'a:s', '1-1', 'f', 'v');
    expect(Object.keys((await app.reply('XREAD', 'STREAMS', 'a:s', '0')) as object)).toEqual(['a:s']);
  });

  it('a binary prefix: Buffer replies lose its bytes, string replies its UTF-8 reading (as db.scan(): prefix-binary-agree)', async () => {
    const redis = env.client();
    const prefix = Buffer.from([0xc3, 0x28, 0x3a]); // not valid UTF-8
    const bin = redis.db.with({ prefix });
    await bin.reply('RPUSH', 'l', 'v1', 'v2');
    expect(await bin.with({ decode: 'buffer' }).reply('LMPOP', 1, 'l', 'LEFT')).toEqual([Buffer.from('l'), [Buffer.from('v1')]]);
    const asText: unknown[] = (await bin.reply('LMPOP', 1, 'l', 'LEFT'))!;
    expect(asText[0]).toBe('l');
    const textual = redis.db.with({ prefix: Buffer.from('bp:') }); // a Buffer prefix that is text
    await textual.reply('RPUSH', 'l', 'w');
    expect(await textual.reply('LMPOP', 1, 'l', 'LEFT')).toEqual(['l', ['w']]);
  });

  it('command(), multi (its result and each handle) and watch', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'tx:' });
    await app.reply('RPUSH', 'l', 'a', 'b', 'c');
    expect(await app.command('LMPOP', 1, 'l', 'LEFT')).toEqual(['l', ['a']]);
    let handle: PromiseLike<unknown> | undefined;
    const result = await app.multi((tx) => {
      handle = tx.command('LMPOP', 1, 'l', 'LEFT');
      tx.command('RPUSH', 'l', 'd');
    });
    expect(result).toEqual([['l', ['b']], 2]);
    expect(await handle).toEqual(['l', ['b']]);
    const watched = await app.watch(['w'], async (conn) => {
      expect(await conn.reply('LMPOP', 1, 'l', 'LEFT')).toEqual(['l', ['c']]);
      expect(await conn.command('LMPOP', 1, 'l', 'LEFT')).toEqual(['l', ['d']]);
      return conn.multi((tx) => tx.command('RPUSH', 'l', 'e'));
    });
    expect(watched).toEqual([1]);
    expect(await app.reply('BLPOP', 'l', 1)).toEqual(['l', 'e']);
  });

  it('without a prefix nothing changes', async () => {
    const redis = env.client();
    await redis.db.reply('RPUSH', 'np:l', 'v');
    expect(await redis.db.reply('LMPOP', 1, 'np:l', 'LEFT')).toEqual(['np:l', ['v']]);
  });
});
