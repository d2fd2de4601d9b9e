/**
 * The reply table (lib/commands/reply-table.ts) against a real server: every
 * command it types is called, and each reply is checked against its entry with
 * the same reading the types use (spec/support/reply-check.ts), in the default
 * decoding, with decode: 'buffer', and with map: 'map' + set: 'set'. Every
 * entry must have a sample call here (or a reason it cannot be called), and
 * every argument-dependent branch (WITHSCORES, COUNT, ...) must be taken, so
 * the table cannot drift from what the server sends. The same calls then run
 * on a RESP2 connection with `resp2: 'resp3'` and must give the same shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis, ServerError, type Arg, type Database } from '../lib/index.js';
import { REPLY_TABLE, type Shape } from '../lib/commands/reply-table.js';
import { replyShape } from '../lib/commands/resp3-shapes.js';
import type { Decoding as Views } from '../lib/commands/typed.js';
import { misfit, type Decoding } from './support/reply-check.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const LIB = "#!lua name=typedlib\nredis.register_function('typedfn', function(keys, args) return 1 end)";

/** What every sample starts from. */
const SEED: Arg[][] = [
  ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
  ['SET', 'k', 'v'], ['SET', 'n', '10'], ['SETBIT', 'bm', 7, 1],
  ['HSET', 'h', 'f', 'v', 'g', 'w'],
  ['RPUSH', 'l', 'a', 'b', 'c', 'a'],
  ['SADD', 's', 'x', 'y', 'z'], ['SADD', 's2', 'y'],
  ['ZADD', 'z', 1, 'a', 2.5, 'b', 3, 'c'], ['ZADD', 'z2', 1, 'a'],
  ['XADD', 'st', '1-1', 'f', 'v'], ['XADD', 'st', '2-1', 'g', 'w'], ['XGROUP', 'CREATE', 'st', 'g', '0'],
  ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', 'st', '>'],
  ['GEOADD', 'geo', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'],
  ['PFADD', 'hll', 'a', 'b'],
  ['FUNCTION', 'LOAD', 'REPLACE', LIB],
];

const w = (line: string): Arg[] => line.split(' ');
const GEO = 'geo 15 37 200 km';

/** Sample calls per table entry: words split on spaces, or an argument list, or a function making the call. */
type Sample = string | Arg[] | ((db: Database<Views>) => Promise<Arg[]>);
const SAMPLES: Record<string, Sample[]> = {
  APPEND: ['APPEND k x'], DECR: ['DECR n'], DECRBY: ['DECRBY n 2'], GET: ['GET k', 'GET nope'], GETDEL: ['GETDEL k'],
  GETEX: ['GETEX k'], GETRANGE: ['GETRANGE k 0 -1'], GETSET: ['GETSET k w'], INCR: ['INCR n'], INCRBY: ['INCRBY n 5'],
  INCRBYFLOAT: ['INCRBYFLOAT n 1.5'], LCS: ['LCS k k', 'LCS k k LEN', 'LCS k k IDX'], MGET: ['MGET k nope'],
  MSET: ['MSET a 1 b 2'], MSETNX: ['MSETNX k 1'], PSETEX: ['PSETEX t 1000 v'],
  SET: ['SET k v', 'SET k v NX', 'SET k w GET', 'SET new w GET'], SETEX: ['SETEX t 10 v'], SETNX: ['SETNX k v'],
  SETRANGE: ['SETRANGE k 0 x'], STRLEN: ['STRLEN k'], SUBSTR: ['SUBSTR k 0 0'],
  BITCOUNT: ['BITCOUNT bm'], BITFIELD: ['BITFIELD bf INCRBY u8 0 1', 'BITFIELD bf INCRBY u2 0 9 OVERFLOW FAIL INCRBY u2 0 9'],
  BITFIELD_RO: ['BITFIELD_RO bm GET u8 0'], BITOP: ['BITOP AND dest bm bm'], BITPOS: ['BITPOS bm 1'],
  GETBIT: ['GETBIT bm 7'], SETBIT: ['SETBIT bm 1 1'], PFADD: ['PFADD hll c'], PFCOUNT: ['PFCOUNT hll'], PFMERGE: ['PFMERGE hll2 hll'],
  COPY: ['COPY k k2'], DEL: ['DEL k nope'], DUMP: ['DUMP k', 'DUMP nope'], EXISTS: ['EXISTS k'], EXPIRE: ['EXPIRE k 100'],
  EXPIREAT: ['EXPIREAT k 99999999999'], EXPIRETIME: ['EXPIRETIME k'], KEYS: ['KEYS *'], MOVE: ['MOVE k 1'], PERSIST: ['PERSIST k'],
  PEXPIRE: ['PEXPIRE k 100000'], PEXPIREAT: ['PEXPIREAT k 99999999999999'], PEXPIRETIME: ['PEXPIRETIME k'], PTTL: ['PTTL k'],
  RANDOMKEY: ['RANDOMKEY'], RENAME: ['RENAME k k3'], RENAMENX: ['RENAMENX k n'],
  RESTORE: [async (db) => ['RESTORE', 'k', 0, (await db.with({ decode: 'buffer' }).reply('DUMP', 'k')) as Buffer, 'REPLACE']],
  SCAN: ['SCAN 0'], SORT: ['SORT l ALPHA', 'SORT l ALPHA GET nope:*', 'SORT l ALPHA STORE dst'], SORT_RO: ['SORT_RO l ALPHA'],
  TOUCH: ['TOUCH k'], TTL: ['TTL k'], TYPE: ['TYPE k'], UNLINK: ['UNLINK k'], 'OBJECT ENCODING': ['OBJECT ENCODING k', 'OBJECT ENCODING nope'],
  'OBJECT FREQ': [async (db) => (await db.reply('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'), ['OBJECT', 'FREQ', 'k'])],
  'OBJECT IDLETIME': ['OBJECT IDLETIME k'], 'OBJECT REFCOUNT': ['OBJECT REFCOUNT k'], 'OBJECT HELP': ['OBJECT HELP'],
  HDEL: ['HDEL h f'], HEXISTS: ['HEXISTS h f'], HGET: ['HGET h f', 'HGET h nope'], HGETALL: ['HGETALL h', 'HGETALL nope'],
  HINCRBY: ['HINCRBY h n 1'], HINCRBYFLOAT: ['HINCRBYFLOAT h n 1.5'], HKEYS: ['HKEYS h'], HLEN: ['HLEN h'], HMGET: ['HMGET h f nope'],
  HMSET: ['HMSET h a 1'], HRANDFIELD: ['HRANDFIELD h', 'HRANDFIELD nope', 'HRANDFIELD h 2', 'HRANDFIELD h 2 WITHVALUES'],
  HSCAN: ['HSCAN h 0'], HSET: ['HSET h a 1'], HSETNX: ['HSETNX h f 1'], HSTRLEN: ['HSTRLEN h f'], HVALS: ['HVALS h'],
  BLMOVE: ['BLMOVE l l2 LEFT RIGHT 0.01', 'BLMOVE nope l2 LEFT RIGHT 0.01'], BLMPOP: ['BLMPOP 0.01 1 l LEFT', 'BLMPOP 0.01 1 nope LEFT'],
  BLPOP: ['BLPOP l 0.01', 'BLPOP nope 0.01'], BRPOP: ['BRPOP l 0.01'], BRPOPLPUSH: ['BRPOPLPUSH l l2 0.01'],
  LINDEX: ['LINDEX l 0'], LINSERT: ['LINSERT l BEFORE a z'], LLEN: ['LLEN l'], LMOVE: ['LMOVE l l2 LEFT RIGHT'],
  LMPOP: ['LMPOP 1 l LEFT COUNT 2', 'LMPOP 1 nope LEFT'], LPOP: ['LPOP l', 'LPOP l 2', 'LPOP nope 2'],
  LPOS: ['LPOS l a', 'LPOS l nope', 'LPOS l a COUNT 0'], LPUSH: ['LPUSH l x'], LPUSHX: ['LPUSHX l x'], LRANGE: ['LRANGE l 0 -1'],
  LREM: ['LREM l 0 a'], LSET: ['LSET l 0 x'], LTRIM: ['LTRIM l 0 1'], RPOP: ['RPOP l', 'RPOP l 2'], RPOPLPUSH: ['RPOPLPUSH l l2'],
  RPUSH: ['RPUSH l x'], RPUSHX: ['RPUSHX l x'],
  SADD: ['SADD s w'], SCARD: ['SCARD s'], SDIFF: ['SDIFF s s2'], SDIFFSTORE: ['SDIFFSTORE d s s2'], SINTER: ['SINTER s s2'],
  SINTERCARD: ['SINTERCARD 2 s s2'], SINTERSTORE: ['SINTERSTORE d s s2'], SISMEMBER: ['SISMEMBER s x'], SMEMBERS: ['SMEMBERS s'],
  SMISMEMBER: ['SMISMEMBER s x nope'], SMOVE: ['SMOVE s s2 x'], SPOP: ['SPOP s', 'SPOP s 2'], SRANDMEMBER: ['SRANDMEMBER s', 'SRANDMEMBER s 2'],
  SREM: ['SREM s x'], SSCAN: ['SSCAN s 0'], SUNION: ['SUNION s s2'], SUNIONSTORE: ['SUNIONSTORE d s s2'],
  BZMPOP: ['BZMPOP 0.01 1 z MIN COUNT 2', 'BZMPOP 0.01 1 nope MIN'], BZPOPMAX: ['BZPOPMAX z 0.01'], BZPOPMIN: ['BZPOPMIN z 0.01', 'BZPOPMIN nope 0.01'],
  ZADD: ['ZADD z 4 d', 'ZADD z INCR 1 a', 'ZADD z NX INCR 1 a'], ZCARD: ['ZCARD z'], ZCOUNT: ['ZCOUNT z -inf +inf'],
  ZDIFF: ['ZDIFF 2 z z2', 'ZDIFF 2 z z2 WITHSCORES'], ZDIFFSTORE: ['ZDIFFSTORE d 2 z z2'], ZINCRBY: ['ZINCRBY z 1 a'],
  ZINTER: ['ZINTER 2 z z2', 'ZINTER 2 z z2 WITHSCORES'], ZINTERCARD: ['ZINTERCARD 2 z z2'], ZINTERSTORE: ['ZINTERSTORE d 2 z z2'],
  ZLEXCOUNT: ['ZLEXCOUNT z - +'], ZMPOP: ['ZMPOP 1 z MIN COUNT 2', 'ZMPOP 1 nope MIN'], ZMSCORE: ['ZMSCORE z a nope'],
  ZPOPMAX: ['ZPOPMAX z', 'ZPOPMAX z 2'], ZPOPMIN: ['ZPOPMIN z', 'ZPOPMIN nope', 'ZPOPMIN z 2'],
  ZRANDMEMBER: ['ZRANDMEMBER z', 'ZRANDMEMBER z 2', 'ZRANDMEMBER z 2 WITHSCORES'], ZRANGE: ['ZRANGE z 0 -1', 'ZRANGE z 0 -1 WITHSCORES', 'ZRANGE z (1 +inf BYSCORE LIMIT 0 1 WITHSCORES'],
  ZRANGEBYLEX: ['ZRANGEBYLEX z - +'], ZRANGEBYSCORE: ['ZRANGEBYSCORE z -inf +inf', 'ZRANGEBYSCORE z -inf +inf WITHSCORES'],
  ZRANGESTORE: ['ZRANGESTORE d z 0 -1'], ZRANK: ['ZRANK z a', 'ZRANK z nope'], ZREM: ['ZREM z a'], ZREMRANGEBYLEX: ['ZREMRANGEBYLEX z - +'],
  ZREMRANGEBYRANK: ['ZREMRANGEBYRANK z 0 0'], ZREMRANGEBYSCORE: ['ZREMRANGEBYSCORE z 0 1'], ZREVRANGE: ['ZREVRANGE z 0 -1', 'ZREVRANGE z 0 -1 WITHSCORES'],
  ZREVRANGEBYLEX: ['ZREVRANGEBYLEX z + -'], ZREVRANGEBYSCORE: ['ZREVRANGEBYSCORE z +inf -inf', 'ZREVRANGEBYSCORE z +inf -inf WITHSCORES'],
  ZREVRANK: ['ZREVRANK z a'], ZSCAN: ['ZSCAN z 0'], ZSCORE: ['ZSCORE z b', 'ZSCORE z nope'], ZUNION: ['ZUNION 2 z z2', 'ZUNION 2 z z2 WITHSCORES'],
  ZUNIONSTORE: ['ZUNIONSTORE d 2 z z2'],
  GEOADD: ['GEOADD geo 2 41 Barcelona'], GEODIST: ['GEODIST geo Palermo Catania', 'GEODIST geo Palermo nope'], GEOHASH: ['GEOHASH geo Palermo nope'],
  GEOPOS: ['GEOPOS geo Palermo nope'],
  GEORADIUS: [`GEORADIUS ${GEO}`, `GEORADIUS ${GEO} WITHDIST`, `GEORADIUS ${GEO} WITHHASH`, `GEORADIUS ${GEO} WITHCOORD WITHDIST WITHHASH`, `GEORADIUS ${GEO} STORE d`, `GEORADIUS ${GEO} STOREDIST d`],
  GEORADIUS_RO: [`GEORADIUS_RO ${GEO}`, `GEORADIUS_RO ${GEO} WITHCOORD`],
  GEORADIUSBYMEMBER: ['GEORADIUSBYMEMBER geo Palermo 200 km', 'GEORADIUSBYMEMBER geo Palermo 200 km WITHDIST', 'GEORADIUSBYMEMBER geo Palermo 200 km STORE d', 'GEORADIUSBYMEMBER geo Palermo 200 km STOREDIST d'],
  GEORADIUSBYMEMBER_RO: ['GEORADIUSBYMEMBER_RO geo Palermo 200 km', 'GEORADIUSBYMEMBER_RO geo Palermo 200 km WITHHASH'],
  GEOSEARCH: ['GEOSEARCH geo FROMLONLAT 15 37 BYRADIUS 200 km', 'GEOSEARCH geo FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD WITHDIST WITHHASH'],
  GEOSEARCHSTORE: ['GEOSEARCHSTORE d geo FROMLONLAT 15 37 BYRADIUS 200 km'],
  XACK: ['XACK st g 1-1'], XADD: ['XADD st * f v', 'XADD nope NOMKSTREAM * f v'],
  XAUTOCLAIM: ['XAUTOCLAIM st g c2 0 0', 'XAUTOCLAIM st g c2 0 0 JUSTID'], XCLAIM: ['XCLAIM st g c2 0 1-1', 'XCLAIM st g c2 0 1-1 JUSTID'],
  XDEL: ['XDEL st 2-1'], XLEN: ['XLEN st'], XPENDING: ['XPENDING st g', 'XPENDING st g - + 10'], XRANGE: ['XRANGE st - +'],
  XREAD: ['XREAD STREAMS st 0', 'XREAD COUNT 1 STREAMS st st 0 0', 'XREAD STREAMS st $'], XREADGROUP: ['XREADGROUP GROUP g c STREAMS st 0'],
  XREVRANGE: ['XREVRANGE st + -'], XSETID: ['XSETID st 5-0'], XTRIM: ['XTRIM st MAXLEN 1'],
  'XGROUP CREATE': ['XGROUP CREATE st g2 0'], 'XGROUP CREATECONSUMER': ['XGROUP CREATECONSUMER st g c3'], 'XGROUP DELCONSUMER': ['XGROUP DELCONSUMER st g c'],
  'XGROUP DESTROY': ['XGROUP DESTROY st g'], 'XGROUP SETID': ['XGROUP SETID st g 0'], 'XGROUP HELP': ['XGROUP HELP'],
  'XINFO CONSUMERS': ['XINFO CONSUMERS st g'], 'XINFO GROUPS': ['XINFO GROUPS st'], 'XINFO STREAM': ['XINFO STREAM st', 'XINFO STREAM st FULL'], 'XINFO HELP': ['XINFO HELP'],
  'SCRIPT EXISTS': ['SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db'], 'SCRIPT FLUSH': ['SCRIPT FLUSH'], 'SCRIPT LOAD': [['SCRIPT', 'LOAD', 'return 1']],
  'SCRIPT HELP': ['SCRIPT HELP'], 'FUNCTION DELETE': ['FUNCTION DELETE typedlib'],
  'FUNCTION DUMP': ['FUNCTION DUMP'], 'FUNCTION FLUSH': ['FUNCTION FLUSH'], 'FUNCTION LIST': ['FUNCTION LIST'], 'FUNCTION LOAD': [['FUNCTION', 'LOAD', 'REPLACE', LIB]],
  'FUNCTION RESTORE': [async (db) => ['FUNCTION', 'RESTORE', (await db.with({ decode: 'buffer' }).reply('FUNCTION', 'DUMP')) as Buffer, 'REPLACE']],
  'FUNCTION STATS': ['FUNCTION STATS'], 'FUNCTION HELP': ['FUNCTION HELP'],
  PUBLISH: ['PUBLISH ch m'], SPUBLISH: ['SPUBLISH ch m'], 'PUBSUB CHANNELS': ['PUBSUB CHANNELS'], 'PUBSUB NUMPAT': ['PUBSUB NUMPAT'],
  'PUBSUB NUMSUB': ['PUBSUB NUMSUB ch'], 'PUBSUB SHARDCHANNELS': ['PUBSUB SHARDCHANNELS'], 'PUBSUB SHARDNUMSUB': ['PUBSUB SHARDNUMSUB ch'], 'PUBSUB HELP': ['PUBSUB HELP'],
  ECHO: ['ECHO hi'], PING: ['PING', 'PING hi'], DBSIZE: ['DBSIZE'], FLUSHALL: ['FLUSHALL'], FLUSHDB: ['FLUSHDB'], INFO: ['INFO', 'INFO server'],
  LASTSAVE: ['LASTSAVE'], LOLWUT: ['LOLWUT'], ROLE: ['ROLE'], TIME: ['TIME'], SWAPDB: ['SWAPDB 0 1'], WAIT: ['WAIT 0 0'],
  SAVE: ['SAVE'],
  'CLIENT GETNAME': ['CLIENT GETNAME'], 'CLIENT GETREDIR': ['CLIENT GETREDIR'], 'CLIENT ID': ['CLIENT ID'], 'CLIENT INFO': ['CLIENT INFO'],
  'CLIENT LIST': ['CLIENT LIST'], 'CLIENT KILL': ['CLIENT KILL ID 999999'], 'CLIENT NO-EVICT': ['CLIENT NO-EVICT OFF'], 'CLIENT PAUSE': ['CLIENT PAUSE 1'],
  'CLIENT UNPAUSE': ['CLIENT UNPAUSE'], 'CLIENT SETNAME': ['CLIENT SETNAME typed'], 'CLIENT TRACKINGINFO': ['CLIENT TRACKINGINFO'],
  'CLIENT UNBLOCK': ['CLIENT UNBLOCK 999999'], 'CLIENT HELP': ['CLIENT HELP'],
  'COMMAND COUNT': ['COMMAND COUNT'], 'COMMAND DOCS': ['COMMAND DOCS get'], 'COMMAND GETKEYS': ['COMMAND GETKEYS MSET a 1 b 2'],
  'COMMAND GETKEYSANDFLAGS': ['COMMAND GETKEYSANDFLAGS LMOVE a b LEFT RIGHT'], 'COMMAND INFO': ['COMMAND INFO get nope'], 'COMMAND LIST': ['COMMAND LIST'],
  'COMMAND HELP': ['COMMAND HELP'], 'CONFIG GET': ['CONFIG GET maxmemory*'], 'CONFIG SET': ['CONFIG SET maxmemory-policy noeviction'],
  'CONFIG RESETSTAT': ['CONFIG RESETSTAT'], 'CONFIG HELP': ['CONFIG HELP'],
  'MEMORY USAGE': ['MEMORY USAGE k', 'MEMORY USAGE nope'], 'MEMORY STATS': ['MEMORY STATS'], 'MEMORY DOCTOR': ['MEMORY DOCTOR'],
  'MEMORY MALLOC-STATS': ['MEMORY MALLOC-STATS'], 'MEMORY PURGE': ['MEMORY PURGE'], 'MEMORY HELP': ['MEMORY HELP'],
  'SLOWLOG GET': ['SLOWLOG GET'], 'SLOWLOG LEN': ['SLOWLOG LEN'], 'SLOWLOG RESET': ['SLOWLOG RESET'], 'SLOWLOG HELP': ['SLOWLOG HELP'],
  'LATENCY LATEST': ['LATENCY LATEST'], 'LATENCY HISTORY': ['LATENCY HISTORY command'], 'LATENCY RESET': ['LATENCY RESET'],
  'LATENCY DOCTOR': ['LATENCY DOCTOR'], 'LATENCY HISTOGRAM': ['LATENCY HISTOGRAM get'], 'LATENCY HELP': ['LATENCY HELP'],
  'ACL CAT': ['ACL CAT', 'ACL CAT string'], 'ACL DELUSER': ['ACL DELUSER nope'], 'ACL DRYRUN': ['ACL DRYRUN default GET k'], 'ACL GENPASS': ['ACL GENPASS'],
  'ACL GETUSER': ['ACL GETUSER default', 'ACL GETUSER nope'], 'ACL LIST': ['ACL LIST'], 'ACL LOG': ['ACL LOG', 'ACL LOG RESET'], 'ACL SETUSER': ['ACL SETUSER typed'],
  'ACL USERS': ['ACL USERS'], 'ACL WHOAMI': ['ACL WHOAMI'], 'ACL HELP': ['ACL HELP'],
  'MODULE LIST': ['MODULE LIST'], 'MODULE HELP': ['MODULE HELP'],
};

/** Entries no sample calls, and why. */
const NOT_CALLED: Record<string, string> = {
  'SCRIPT KILL': 'needs a script running in another connection (NOTBUSY otherwise)',
  'FUNCTION KILL': 'needs a function running in another connection (NOTBUSY otherwise)',
  BGSAVE: 'a background save makes the SAVE sample (and a second BGSAVE) fail while it runs',
  BGREWRITEAOF: 'a second rewrite while one runs is an error, and the samples run in several decodings',
};

const entries = Object.entries(REPLY_TABLE as Record<string, Shape>);
let server: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await destroyRedis(server);
});

async function seed(db: Database<Views>): Promise<void> {
  await db.reply('FLUSHALL');
  for (const cmd of SEED) db.command<unknown>(...(cmd as [string, ...Arg[]]));
  await db.reply('PING');
}

async function callOf(sample: Sample, db: Database<Views>): Promise<Arg[]> {
  return typeof sample === 'function' ? sample(db) : typeof sample === 'string' ? w(sample) : sample;
}

/** Run every sample on `db` decoding as `d`; returns the misfits and the branches taken. */
async function runAll(db: Database<Views>, d: Decoding, taken: Set<string>): Promise<string[]> {
  const misfits: string[] = [];
  for (const [key, shape] of entries) {
    for (const sample of SAMPLES[key] ?? []) {
      await seed(db);
      const [name, ...args] = await callOf(sample, db);
      const value = await db.reply<unknown>(name as string, ...args).catch((e: Error) => e);
      const label = `${[name, ...args].map((a) => (Buffer.isBuffer(a) ? '<bytes>' : String(a))).join(' ').slice(0, 80)}`;
      if (value instanceof Error) {
        misfits.push(`${label}: failed: ${value.message}`);
        continue;
      }
      expect(replyShape(name as string, args), label).toBe(shape);
      const branches = new Set<string>();
      const bad = misfit(shape, value, args, d, '', branches);
      if (bad !== undefined) misfits.push(`${label} -> ${bad}`);
      for (const b of branches) taken.add(`${key}|${b}`);
    }
  }
  return misfits;
}

function client(options: ConstructorParameters<typeof Redis>[1] = {}): Redis {
  const c = new Redis(server.url, { commandTimeout: 5000, ...options });
  clients.push(c);
  return c;
}

describe('reply types against a real server', () => {
  it('every typed entry has a sample call (or a stated reason), and nothing samples an entry the table lacks', () => {
    const missing = entries.filter(([k, s]) => s !== 'unknown' && s !== 'never' && !SAMPLES[k] && !NOT_CALLED[k]).map(([k]) => k);
    expect(missing).toEqual([]);
    expect(Object.keys(SAMPLES).filter((k) => !Object.hasOwn(REPLY_TABLE, k))).toEqual([]);
  });

  it('every reply has the declared shape, in each decoding, and every argument-dependent branch is taken', async () => {
    const redis = client();
    const taken = new Set<string>();
    const misfits = [
      ...(await runAll(redis.db, { buffer: false, map: false, set: false }, taken)),
      ...(await runAll(redis.db.with({ decode: 'buffer' }), { buffer: true, map: false, set: false }, taken)),
      ...(await runAll(redis.db.with({ map: 'map', set: 'set' }), { buffer: false, map: true, set: true }, taken)),
    ];
    expect(misfits).toEqual([]);
    // Each kw / argc entry, both ways.
    const untaken: string[] = [];
    for (const [key, shape] of entries) {
      const walk = (s: Shape, at: string): void => {
        if (typeof s === 'string') return;
        if (s[0] === 'kw' || s[0] === 'argc') {
          const [a, b] = s[0] === 'kw' ? [s[3], s[4]] : [s[2], s[3]];
          for (const side of [a, b]) if (typeof side === 'string' || (side[0] !== 'kw' && side[0] !== 'argc')) if (!taken.has(`${key}|${at}:${JSON.stringify(side)}`)) untaken.push(`${key} ${JSON.stringify(side)}`);
          walk(a, at);
          walk(b, at);
        }
      };
      if (SAMPLES[key]) walk(shape, '');
    }
    expect(untaken).toEqual([]);
  }, 120_000);

  it("entries typed never are refused on the shared connection, nothing sent", async () => {
    const db = client().db;
    for (const [key, shape] of entries.filter(([, s]) => s === 'never')) {
      const [name, sub] = key.split(' ');
      await expect(db.reply<unknown>(name!, ...(sub ? [sub] : [])), key).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});

describe('RESP2 replies in RESP3 shapes (resp2: "resp3")', () => {
  it('every sample on a RESP2 connection has the RESP3 shape, in each decoding', async () => {
    const redis = client({ protocol: 2, resp2: 'resp3' });
    const taken = new Set<string>();
    const misfits = [
      ...(await runAll(redis.db, { buffer: false, map: false, set: false }, taken)),
      ...(await runAll(redis.db.with({ decode: 'buffer' }), { buffer: true, map: false, set: false }, taken)),
      ...(await runAll(redis.db.with({ map: 'map', set: 'set' }), { buffer: false, map: true, set: true }, taken)),
    ];
    expect(misfits).toEqual([]);
  }, 120_000);

  it('the values are the RESP3 values, not only their shapes', async () => {
    const three = client().db;
    const two = client({ protocol: 2, resp2: 'resp3' }).db;
    const calls = ['HGETALL h', 'ZRANGE z 0 -1 WITHSCORES', 'ZSCORE z b', 'ZPOPMIN z', 'ZRANDMEMBER z 3 WITHSCORES', 'GEOPOS geo Palermo nope',
      'XREAD STREAMS st 0', 'CONFIG GET maxmemory-policy', 'HRANDFIELD h 2 WITHVALUES', 'BZPOPMIN z 1', 'ZMPOP 1 z MIN COUNT 2', 'ZADD z INCR 1 a'];
    for (const call of calls) {
      await seed(three);
      const want = await three.reply<unknown>(...(w(call) as [string, ...Arg[]]));
      await seed(two);
      const got = await two.reply<unknown>(...(w(call) as [string, ...Arg[]]));
      // ZRANDMEMBER / HRANDFIELD pick in any order: compare as sets of pairs.
      if (/RAND/.test(call)) expect(new Set((got as unknown[]).map((x) => JSON.stringify(x)))).toEqual(new Set((want as unknown[]).map((x) => JSON.stringify(x))));
      else expect(got, call).toEqual(want);
    }
  });

  it('without the option, RESP2 replies stay as the server sent them', async () => {
    const db = client({ protocol: 2 }).db;
    await seed(db);
    expect(await db.reply<unknown>('HGETALL', 'h')).toEqual(['f', 'v', 'g', 'w']);
    expect(await db.reply<unknown>('ZSCORE', 'z', 'b')).toBe('2.5');
  });

  it('MULTI slots are shaped too, and a failed slot keeps its ServerError', async () => {
    const db = client({ protocol: 2, resp2: 'resp3' }).db;
    await seed(db);
    const [h, score, wrong] = (await db.multi((tx) => [tx.command('HGETALL', 'h'), tx.command('ZSCORE', 'z', 'b'), tx.command('HGETALL', 'k')]))!;
    expect(h).toEqual(Object.assign(Object.create(null), { f: 'v', g: 'w' }));
    expect(score).toBe(2.5);
    expect(wrong).toBeInstanceOf(ServerError);
  });
});

describe('multi with returned handles', () => {
  it('resolves with the returned handles\' replies, in their order', async () => {
    const db = client().db;
    await seed(db);
    const out = await db.multi((tx) => {
      const a = tx.command('SET', 'a', '1');
      const n = tx.command('INCR', 'a');
      tx.command('DEL', 'nope');
      return [n, a];
    });
    expect(out).toEqual([2, 'OK']);
  });

  it('an array holding anything but its own handles is refused, nothing sent', async () => {
    const db = client().db;
    await seed(db);
    const other = db.command('PING');
    await other;
    const before = await db.reply('DBSIZE');
    await expect(db.multi((tx) => [tx.command('SET', 'sent', '1'), other])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await db.reply('EXISTS', 'sent')).toBe(0);
    expect(await db.reply('DBSIZE')).toBe(before);
  });
});
