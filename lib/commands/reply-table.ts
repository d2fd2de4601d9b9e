/**
 * What each command replies, in one table written once by hand: the typed API
 * reads its types from it (lib/commands/typed.ts), the RESP2 normaliser its
 * shapes (lib/commands/resp3-shapes.ts), and spec/typed-replies.spec.ts calls
 * every command against a real server and checks each reply against its entry,
 * so the table cannot drift from what the server really sends.
 *
 * Entries describe the RESP3 reply as the decoder hands it over (DESIGN.md,
 * "Replies in JavaScript"): a map is an object (or a `Map`), a set an array
 * (or a `Set`), a double a number. Keys are upper case, a subcommand after its
 * container (`CONFIG GET`). A command without an entry replies `unknown`.
 *
 * The little language (a `Shape`):
 *   'bulk'    a bulk or verbatim string: `string`, `Buffer` with decode: 'buffer'
 *   'simple'  a simple (status) string: always a `string`
 *   'OK'      the status 'OK'
 *   'int'     an integer that fits a number (counts, lengths, flags)
 *   'big'     an integer the caller controls (INCR): `number`, `bigint` past 2^53
 *   'double'  a double: `number`
 *   'bit'     an integer 0 or 1
 *   'unknown' anything (scripts, module-like admin replies)
 *   'never'   refused on the shared connection: the promise always rejects
 *   ['?', S]              S or null
 *   ['arr', S]            an array of S
 *   ['set', S]            a RESP3 set of S: an array, a `Set` with set: 'set'
 *   ['map', S]            a RESP3 map, bulk keys to S: an object, a `Map` with map: 'map'
 *   ['tup', S1, S2, ...]  a fixed-length array
 *   ['or', S1, S2]        either
 *   ['kw', WORD, from, S1, S2]  S1 when an argument at index >= from is WORD
 *                               (any case), else S2 (WITHSCORES, COUNT, ...)
 *   ['argc', n, S1, S2]   S1 when the call has more than n arguments, else S2
 */
export type Shape =
  | 'bulk'
  | 'simple'
  | 'OK'
  | 'int'
  | 'big'
  | 'double'
  | 'bit'
  | 'unknown'
  | 'never'
  | readonly ['?' | 'arr' | 'set' | 'map', Shape]
  | readonly ['tup', ...Shape[]]
  | readonly ['or', Shape, Shape]
  | readonly ['kw', string, number, Shape, Shape]
  | readonly ['argc', number, Shape, Shape];

const str = ['?', 'bulk'] as const;
const strs = ['arr', 'bulk'] as const;
const nstrs = ['arr', ['?', 'bulk']] as const;
const ints = ['arr', 'int'] as const;
const bits = ['arr', 'bit'] as const;
const scored = ['arr', ['tup', 'bulk', 'double']] as const;
const entry = ['tup', 'bulk', ['arr', 'bulk']] as const;
const entries = ['arr', entry] as const;
const scan = ['tup', 'bulk', strs] as const;
const help = ['arr', 'simple'] as const;
const anyMap = ['map', 'unknown'] as const;
const maps = ['arr', anyMap] as const;
/** GEORADIUS / GEOSEARCH: members, or with WITHDIST / WITHHASH / WITHCOORD [member, dist?, hash?, [lon, lat]?]. */
const geoItems = ['or', strs, ['arr', ['arr', ['or', 'bulk', ['or', 'int', ['tup', 'double', 'double']]]]]] as const;
const geoSearch = ['kw', 'WITHCOORD', 1, geoItems, ['kw', 'WITHDIST', 1, geoItems, ['kw', 'WITHHASH', 1, geoItems, strs]]] as const;
/** ZRANGE and kin: members, or [member, score] pairs WITHSCORES. */
const range = (from: number) => ['kw', 'WITHSCORES', from, scored, strs] as const;
const popScored = ['argc', 1, scored, ['or', ['tup'], ['tup', 'bulk', 'double']]] as const;
const mpop = (of: Shape) => ['?', ['tup', 'bulk', ['arr', of]]] as const;
const streams = ['?', ['map', ['arr', ['tup', 'bulk', ['?', strs]]]]] as const;

export const REPLY_TABLE = {
  // strings
  APPEND: 'int', DECR: 'big', DECRBY: 'big', GET: str, GETDEL: str, GETEX: str, GETRANGE: 'bulk', GETSET: str,
  INCR: 'big', INCRBY: 'big', INCRBYFLOAT: 'bulk', LCS: ['kw', 'IDX', 2, anyMap, ['kw', 'LEN', 2, 'int', 'bulk']],
  MGET: nstrs, MSET: 'OK', MSETNX: 'bit', PSETEX: 'OK', SET: ['kw', 'GET', 2, str, ['?', 'OK']], SETEX: 'OK', SETNX: 'bit',
  SETRANGE: 'int', STRLEN: 'int', SUBSTR: 'bulk',
  // bitmaps, hyperloglog
  BITCOUNT: 'int', BITFIELD: ['arr', ['?', 'big']], BITFIELD_RO: ['arr', 'big'], BITOP: 'int', BITPOS: 'int',
  GETBIT: 'bit', SETBIT: 'bit', PFADD: 'bit', PFCOUNT: 'int', PFMERGE: 'OK',
  // keys
  COPY: 'bit', DEL: 'int', DUMP: str, EXISTS: 'int', EXPIRE: 'bit', EXPIREAT: 'bit', EXPIRETIME: 'int', KEYS: strs,
  MOVE: 'bit', PERSIST: 'bit', PEXPIRE: 'bit', PEXPIREAT: 'bit', PEXPIRETIME: 'int', PTTL: 'int', RANDOMKEY: str,
  RENAME: 'OK', RENAMENX: 'bit', RESTORE: 'OK', SCAN: scan, SORT: ['kw', 'STORE', 1, 'int', nstrs], SORT_RO: nstrs,
  TOUCH: 'int', TTL: 'int', TYPE: 'simple', UNLINK: 'int', 'OBJECT ENCODING': str, 'OBJECT FREQ': 'int',
  'OBJECT IDLETIME': 'int', 'OBJECT REFCOUNT': 'int', 'OBJECT HELP': help,
  // hashes
  HDEL: 'int', HEXISTS: 'bit', HGET: str, HGETALL: ['map', 'bulk'], HINCRBY: 'big', HINCRBYFLOAT: 'bulk', HKEYS: strs,
  HLEN: 'int', HMGET: nstrs, HMSET: 'OK', HRANDFIELD: ['argc', 1, ['kw', 'WITHVALUES', 2, ['arr', ['tup', 'bulk', 'bulk']], strs], str],
  HSCAN: scan, HSET: 'int', HSETNX: 'bit', HSTRLEN: 'int', HVALS: strs,
  // lists
  BLMOVE: str, BLMPOP: mpop('bulk'), BLPOP: ['?', ['tup', 'bulk', 'bulk']], BRPOP: ['?', ['tup', 'bulk', 'bulk']], BRPOPLPUSH: str,
  LINDEX: str, LINSERT: 'int', LLEN: 'int', LMOVE: str, LMPOP: mpop('bulk'), LPOP: ['argc', 1, ['?', strs], str],
  LPOS: ['kw', 'COUNT', 2, ints, ['?', 'int']], LPUSH: 'int', LPUSHX: 'int', LRANGE: strs, LREM: 'int', LSET: 'OK',
  LTRIM: 'OK', RPOP: ['argc', 1, ['?', strs], str], RPOPLPUSH: str, RPUSH: 'int', RPUSHX: 'int',
  // sets
  SADD: 'int', SCARD: 'int', SDIFF: ['set', 'bulk'], SDIFFSTORE: 'int', SINTER: ['set', 'bulk'], SINTERCARD: 'int',
  SINTERSTORE: 'int', SISMEMBER: 'bit', SMEMBERS: ['set', 'bulk'], SMISMEMBER: bits, SMOVE: 'bit',
  SPOP: ['argc', 1, ['set', 'bulk'], str], SRANDMEMBER: ['argc', 1, strs, str], SREM: 'int', SSCAN: scan,
  SUNION: ['set', 'bulk'], SUNIONSTORE: 'int',
  // sorted sets
  BZMPOP: mpop(['tup', 'bulk', 'double']), BZPOPMAX: ['?', ['tup', 'bulk', 'bulk', 'double']], BZPOPMIN: ['?', ['tup', 'bulk', 'bulk', 'double']],
  ZADD: ['kw', 'INCR', 1, ['?', 'double'], 'int'], ZCARD: 'int', ZCOUNT: 'int', ZDIFF: range(1), ZDIFFSTORE: 'int',
  ZINCRBY: 'double', ZINTER: range(1), ZINTERCARD: 'int', ZINTERSTORE: 'int', ZLEXCOUNT: 'int',
  ZMPOP: mpop(['tup', 'bulk', 'double']), ZMSCORE: ['arr', ['?', 'double']], ZPOPMAX: popScored, ZPOPMIN: popScored,
  ZRANDMEMBER: ['argc', 1, ['kw', 'WITHSCORES', 2, scored, strs], str], ZRANGE: range(3), ZRANGEBYLEX: strs,
  ZRANGEBYSCORE: range(3), ZRANGESTORE: 'int', ZRANK: ['?', 'int'], ZREM: 'int', ZREMRANGEBYLEX: 'int',
  ZREMRANGEBYRANK: 'int', ZREMRANGEBYSCORE: 'int', ZREVRANGE: range(3), ZREVRANGEBYLEX: strs, ZREVRANGEBYSCORE: range(3),
  ZREVRANK: ['?', 'int'], ZSCAN: scan, ZSCORE: ['?', 'double'], ZUNION: range(1), ZUNIONSTORE: 'int',
  // geo
  GEOADD: 'int', GEODIST: str, GEOHASH: nstrs, GEOPOS: ['arr', ['?', ['tup', 'double', 'double']]],
  GEORADIUS: ['kw', 'STORE', 5, 'int', ['kw', 'STOREDIST', 5, 'int', geoSearch]], GEORADIUS_RO: geoSearch,
  GEORADIUSBYMEMBER: ['kw', 'STORE', 4, 'int', ['kw', 'STOREDIST', 4, 'int', geoSearch]], GEORADIUSBYMEMBER_RO: geoSearch,
  GEOSEARCH: geoSearch, GEOSEARCHSTORE: 'int',
  // streams
  XACK: 'int', XADD: str, XAUTOCLAIM: ['kw', 'JUSTID', 5, ['tup', 'bulk', strs, strs], ['tup', 'bulk', ['arr', ['?', entry]], strs]],
  XCLAIM: ['kw', 'JUSTID', 5, strs, ['arr', ['?', entry]]], XDEL: 'int', XLEN: 'int',
  XPENDING: ['argc', 2, ['arr', ['tup', 'bulk', 'bulk', 'int', 'int']], ['tup', 'int', str, str, ['?', ['arr', ['tup', 'bulk', 'bulk']]]]],
  XRANGE: entries, XREAD: streams, XREADGROUP: streams, XREVRANGE: entries, XSETID: 'OK', XTRIM: 'int',
  'XGROUP CREATE': 'OK', 'XGROUP CREATECONSUMER': 'bit', 'XGROUP DELCONSUMER': 'int', 'XGROUP DESTROY': 'bit',
  'XGROUP SETID': 'OK', 'XGROUP HELP': help, 'XINFO CONSUMERS': maps, 'XINFO GROUPS': maps, 'XINFO STREAM': anyMap,
  'XINFO HELP': help,
  // scripting and functions: what a script returns is the script's business
  EVAL: 'unknown', EVAL_RO: 'unknown', EVALSHA: 'unknown', EVALSHA_RO: 'unknown', FCALL: 'unknown', FCALL_RO: 'unknown',
  'SCRIPT EXISTS': bits, 'SCRIPT FLUSH': 'OK', 'SCRIPT LOAD': 'bulk', 'SCRIPT KILL': 'OK', 'SCRIPT HELP': help,
  'FUNCTION DELETE': 'OK', 'FUNCTION DUMP': 'bulk', 'FUNCTION FLUSH': 'OK', 'FUNCTION KILL': 'OK', 'FUNCTION LIST': maps,
  'FUNCTION LOAD': 'bulk', 'FUNCTION RESTORE': 'OK', 'FUNCTION STATS': anyMap, 'FUNCTION HELP': help,
  // pub/sub (subscribing is the subscriber's: refused here)
  PUBLISH: 'int', SPUBLISH: 'int', 'PUBSUB CHANNELS': strs, 'PUBSUB NUMPAT': 'int', 'PUBSUB NUMSUB': ['arr', ['or', 'bulk', 'int']],
  'PUBSUB SHARDCHANNELS': strs, 'PUBSUB SHARDNUMSUB': ['arr', ['or', 'bulk', 'int']], 'PUBSUB HELP': help,
  SUBSCRIBE: 'never', PSUBSCRIBE: 'never', SSUBSCRIBE: 'never', UNSUBSCRIBE: 'never', PUNSUBSCRIBE: 'never', SUNSUBSCRIBE: 'never',
  // connection and server
  ECHO: 'bulk', PING: ['argc', 0, 'bulk', 'simple'], DBSIZE: 'int', FLUSHALL: 'OK', FLUSHDB: 'OK', INFO: 'bulk',
  LASTSAVE: 'int', LOLWUT: 'bulk', ROLE: ['arr', 'unknown'], TIME: ['tup', 'bulk', 'bulk'], SWAPDB: 'OK', WAIT: 'int',
  BGSAVE: 'simple', BGREWRITEAOF: 'simple', SAVE: 'OK',
  'CLIENT GETNAME': str, 'CLIENT GETREDIR': 'int', 'CLIENT ID': 'int', 'CLIENT INFO': 'bulk', 'CLIENT LIST': 'bulk',
  'CLIENT KILL': ['or', 'OK', 'int'], 'CLIENT NO-EVICT': 'OK', 'CLIENT PAUSE': 'OK', 'CLIENT UNPAUSE': 'OK',
  'CLIENT SETNAME': 'OK', 'CLIENT TRACKINGINFO': anyMap, 'CLIENT UNBLOCK': 'bit', 'CLIENT HELP': help,
  'COMMAND COUNT': 'int', 'COMMAND DOCS': anyMap, 'COMMAND GETKEYS': strs, 'COMMAND GETKEYSANDFLAGS': ['arr', ['tup', 'bulk', ['set', 'simple']]],
  'COMMAND INFO': ['arr', ['?', ['arr', 'unknown']]], 'COMMAND LIST': strs, 'COMMAND HELP': help,
  'CONFIG GET': ['map', 'bulk'], 'CONFIG SET': 'OK', 'CONFIG RESETSTAT': 'OK', 'CONFIG HELP': help,
  'MEMORY USAGE': ['?', 'int'], 'MEMORY STATS': anyMap, 'MEMORY DOCTOR': 'bulk', 'MEMORY MALLOC-STATS': 'bulk',
  'MEMORY PURGE': 'OK', 'MEMORY HELP': help,
  'SLOWLOG GET': ['arr', ['arr', 'unknown']], 'SLOWLOG LEN': 'int', 'SLOWLOG RESET': 'OK', 'SLOWLOG HELP': help,
  'LATENCY LATEST': ['arr', ['arr', 'unknown']], 'LATENCY HISTORY': ['arr', ['tup', 'int', 'int']], 'LATENCY RESET': 'int',
  'LATENCY DOCTOR': 'bulk', 'LATENCY HISTOGRAM': anyMap, 'LATENCY HELP': help,
  'ACL CAT': strs, 'ACL DELUSER': 'int', 'ACL DRYRUN': 'simple', 'ACL GENPASS': 'bulk', 'ACL GETUSER': ['?', anyMap],
  'ACL LIST': strs, 'ACL LOG': ['argc', 1, 'OK', maps], 'ACL SETUSER': 'OK', 'ACL USERS': strs, 'ACL WHOAMI': 'bulk', 'ACL HELP': help,
  'MODULE LIST': maps, 'MODULE HELP': help,
  // state the multiplexer owns for every caller: refused (use the API named in the error)
  SELECT: 'never', MULTI: 'never', EXEC: 'never', DISCARD: 'never', WATCH: 'never', UNWATCH: 'never', AUTH: 'never',
  HELLO: 'never', QUIT: 'never', RESET: 'never', MONITOR: 'never', SYNC: 'never', PSYNC: 'never', REPLCONF: 'never',
  ASKING: 'never', READONLY: 'never', READWRITE: 'never', 'CLIENT REPLY': 'never', 'CLIENT TRACKING': 'never',
  'CLIENT CACHING': 'never',
} as const satisfies Record<string, Shape>;

export type ReplyTable = typeof REPLY_TABLE;
