/**
 * README "Client-side caching": the list of reads the cache answers is the
 * code's (lib/cache/cacheable.ts), and against a real server each of them,
 * asked again through a caching view, is answered without the server, while
 * the reads the README names as never cached go to the server every time.
 * What the server ran is read from INFO commandstats after CONFIG RESETSTAT.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Arg } from '../lib/index.js';
import { CACHEABLE } from '../lib/cache/cacheable.js';
import { useRealServer } from './support/real-server.js';

const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Client-side caching'), readme.indexOf('### High availability'));
const env = useRealServer();

/** The README's list: "Only cacheable reads are answered from it: GET, MGET (whole), ... GEOHASH." */
const listed = /Only cacheable reads are\s+answered from it: ([\s\S]*?)\. Never/.exec(section)![1]!
  .replace(/\s+/g, ' ')
  .split(', ')
  .flatMap((item) => {
    const [name, aside] = /^([A-Z]+)(?: \(([A-Z]+)\))?/.exec(item)!.slice(1);
    return aside && /^[A-Z]+$/.test(aside) ? [name!, aside] : [name!];
  });
/** "Never what changes with time or by chance (TTL, PTTL, ..., SCAN...)". */
const never = /Never what changes\s+with time or by chance \(([^)]*)\)/.exec(section)![1]!.replace(/\.\.\./, '').replace(/\s+/g, ' ').split(', ');

/** One call of each cacheable read, on keys the test makes. */
const CALLS: Record<string, Arg[]> = {
  GET: ['rc:s'], MGET: ['rc:s', 'rc:s2'], STRLEN: ['rc:s'], GETRANGE: ['rc:s', 0, 1], SUBSTR: ['rc:s', 0, 1], GETBIT: ['rc:s', 1],
  BITCOUNT: ['rc:s'], BITPOS: ['rc:s', 1], EXISTS: ['rc:s'], TYPE: ['rc:s'],
  HGET: ['rc:h', 'f'], HMGET: ['rc:h', 'f', 'g'], HGETALL: ['rc:h'], HKEYS: ['rc:h'], HVALS: ['rc:h'], HLEN: ['rc:h'], HEXISTS: ['rc:h', 'f'], HSTRLEN: ['rc:h', 'f'],
  SMEMBERS: ['rc:set'], SISMEMBER: ['rc:set', 'a'], SMISMEMBER: ['rc:set', 'a', 'b'], SCARD: ['rc:set'],
  ZSCORE: ['rc:z', 'a'], ZMSCORE: ['rc:z', 'a', 'b'], ZCARD: ['rc:z'], ZCOUNT: ['rc:z', '-inf', '+inf'], ZLEXCOUNT: ['rc:z', '-', '+'],
  ZRANK: ['rc:z', 'a'], ZREVRANK: ['rc:z', 'a'], ZRANGE: ['rc:z', 0, -1], ZRANGEBYSCORE: ['rc:z', '-inf', '+inf'], ZRANGEBYLEX: ['rc:z', '-', '+'],
  ZREVRANGE: ['rc:z', 0, -1], ZREVRANGEBYSCORE: ['rc:z', '+inf', '-inf'], ZREVRANGEBYLEX: ['rc:z', '+', '-'],
  LRANGE: ['rc:l', 0, -1], LLEN: ['rc:l'], LINDEX: ['rc:l', 0], LPOS: ['rc:l', 'a'],
  XRANGE: ['rc:x', '-', '+'], XREVRANGE: ['rc:x', '+', '-'], XLEN: ['rc:x'],
  GEOPOS: ['rc:g', 'm'], GEODIST: ['rc:g', 'm', 'n'], GEOHASH: ['rc:g', 'm'],
};
/** The README's never-cached reads, each with a call and its COMMAND INFO name. */
const NEVER: Record<string, { args: Arg[]; stat: string }> = {
  TTL: { args: ['TTL', 'rc:s'], stat: 'ttl' },
  PTTL: { args: ['PTTL', 'rc:s'], stat: 'pttl' },
  'OBJECT IDLETIME': { args: ['OBJECT', 'IDLETIME', 'rc:s'], stat: 'object|idletime' },
  RANDOMKEY: { args: ['RANDOMKEY'], stat: 'randomkey' },
  SRANDMEMBER: { args: ['SRANDMEMBER', 'rc:set'], stat: 'srandmember' },
  HRANDFIELD: { args: ['HRANDFIELD', 'rc:h'], stat: 'hrandfield' },
  TIME: { args: ['TIME'], stat: 'time' },
  SCAN: { args: ['SCAN', 0], stat: 'scan' },
};

/** Calls per command the server ran since the last CONFIG RESETSTAT, by lower-case name. */
async function calls(admin: { reply(...a: [string, ...Arg[]]): Promise<unknown> }): Promise<Record<string, number>> {
  const text = String(await admin.reply('INFO', 'commandstats'));
  return Object.fromEntries([...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('README, client-side caching', () => {
  it("the README's list of cacheable reads is the cache's", () => {
    expect([...listed].sort()).toEqual([...CACHEABLE].sort());
    expect(Object.keys(CALLS).sort()).toEqual([...CACHEABLE].sort());
    expect(never.sort()).toEqual(Object.keys(NEVER).sort());
  });

  it('each cacheable read, asked again, is answered without the server; the never-cached ones reach it every time', async () => {
    const admin = env.client().db;
    await admin.reply('SET', 'rc:s', 'ab');
    await admin.reply('SET', 'rc:s2', 'cd', 'EX', 1000);
    await admin.reply('HSET', 'rc:h', 'f', '1', 'g', '2');
    await admin.reply('SADD', 'rc:set', 'a', 'b');
    await admin.reply('ZADD', 'rc:z', 1, 'a', 2, 'b');
    await admin.reply('RPUSH', 'rc:l', 'a', 'b');
    await admin.reply('XADD', 'rc:x', '1-1', 'f', 'v');
    await admin.reply('GEOADD', 'rc:g', 13.36, 38.11, 'm', 15.08, 37.5, 'n');
    const redis = env.client({ cache: {} });
    await redis.db.reply('PING'); // connected and tracking: reads issued from now on are kept
    const cached = redis.db.with({ cache: true });
    const first: unknown[] = [];
    for (const [name, args] of Object.entries(CALLS)) first.push(await cached.reply(name, ...args));
    await admin.reply('CONFIG', 'RESETSTAT');
    const again: unknown[] = [];
    for (const [name, args] of Object.entries(CALLS)) again.push(await cached.reply(name, ...args));
    for (const { args } of Object.values(NEVER)) for (let i = 0; i < 2; i++) await cached.reply(...(args as [string, ...Arg[]]));
    const ran = await calls(admin);
    expect(again).toEqual(first);
    // None of the cacheable reads reached the server the second time ...
    expect(Object.keys(CALLS).filter((name) => ran[name.toLowerCase()] !== undefined)).toEqual([]);
    // ... and each never-cached one reached it both times.
    expect(Object.fromEntries(Object.entries(NEVER).map(([name, { stat }]) => [name, ran[stat]]))).toEqual(
      Object.fromEntries(Object.keys(NEVER).map((name) => [name, 2])),
    );
  });
});
