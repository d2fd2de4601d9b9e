// A TypeScript consumer of the packed types, checked by spec/typed-consumer.spec.ts
// with `tsc --strict`: every line must compile, every `@ts-expect-error` must stay an error.
import { Redis, ServerError, type CacheOptions, type CacheStats, type Database, type Message, type ReadyInfo } from 'redmux';

/** True when X and Y are the same type (`any` is equal to nothing else). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function same<X, Y>(check: Equal<X, Y>): void {
  void check;
}

export async function commands(redis: Redis): Promise<void> {
  const db = redis.db;
  const v = await db.reply('GET', 'k');
  same<typeof v, string | null>(true);
  const lower = await db.reply('get', 'k');
  same<typeof lower, string | null>(true);
  const n = await db.reply('INCR', 'n');
  same<typeof n, number | bigint>(true);
  const len = await db.command('LLEN', 'l');
  same<typeof len, number>(true);
  const h = await db.reply('HGETALL', 'h');
  same<typeof h, Record<string, string>>(true);
  const zs = await db.reply('ZRANGE', 'z', 0, -1, 'WITHSCORES');
  same<typeof zs, [string, number][]>(true);
  const zsLower = await db.reply('zrange', 'z', 0, -1, 'withscores');
  same<typeof zsLower, [string, number][]>(true);
  const members = await db.reply('ZRANGE', 'z', 0, -1);
  same<typeof members, string[]>(true);
  const score = await db.reply('ZSCORE', 'z', 'm');
  same<typeof score, number | null>(true);
  const set = await db.reply('SET', 'k', 'v');
  same<typeof set, 'OK' | null>(true);
  const old = await db.reply('SET', 'k', 'v', 'GET');
  same<typeof old, string | null>(true);
  const cfg = await db.reply('CONFIG', 'GET', 'maxmemory');
  same<typeof cfg, Record<string, string>>(true);
  const pop = await db.reply('LPOP', 'l');
  same<typeof pop, string | null>(true);
  const pops = await db.reply('LPOP', 'l', 2);
  same<typeof pops, string[] | null>(true);
  const keys = ['a', 'b'];
  const deleted = await db.reply('DEL', ...keys);
  same<typeof deleted, number>(true);
  const pushed = await db.reply('RPUSH', 'l', ...keys);
  same<typeof pushed, number>(true);
  const unknownName = await db.reply('MODULE.CMD', 'x');
  same<typeof unknownName, unknown>(true);
  const named = await db.reply<{ ok: boolean }>('MODULE.CMD', 'x', 1);
  same<typeof named, { ok: boolean }>(true);
  const dynamic: string = 'GET';
  const fromVariable = await db.reply(dynamic, 'k');
  same<typeof fromVariable, unknown>(true);

  // @ts-expect-error GET takes one key
  await db.reply('GET');
  // @ts-expect-error GET takes one key
  await db.reply('GET', 'a', 'b');
  // @ts-expect-error an argument cannot be undefined (nothing would be sent: InvalidArgumentError)
  await db.reply('GET', undefined);
  // @ts-expect-error nor an object
  await db.reply('SET', 'k', { a: 1 });
  // @ts-expect-error EXPIRE's condition is NX, XX, GT or LT
  await db.reply('EXPIRE', 'k', 10, 'SOMETIMES');
  // @ts-expect-error a misspelt keyword
  await db.reply('ZRANGE', 'z', 0, -1, 'WITHSCORE');
  // @ts-expect-error an unknown CONFIG subcommand
  await db.reply('CONFIG', 'GETT', 'x');
  // @ts-expect-error a reply is not what it is not
  const wrong: number = await db.reply('GET', 'k');
  void wrong;
}

export async function views(redis: Redis): Promise<void> {
  const raw = redis.db.with({ decode: 'buffer', timeout: 200 });
  const b = await raw.reply('GET', 'k');
  same<typeof b, Buffer | null>(true);
  const hb = await raw.reply('HGETALL', 'h');
  same<typeof hb, Record<string, Buffer> | Map<Buffer, Buffer>>(true); // a Map when a field name is not UTF-8
  const maps = redis.db.with({ map: 'map', set: 'set' });
  const hm = await maps.reply('HGETALL', 'h');
  same<typeof hm, Map<string, string>>(true);
  const sm = await maps.reply('SMEMBERS', 's');
  same<typeof sm, Set<string>>(true);
  const again = raw.with({ timeout: 5 });
  const still = await again.reply('GET', 'k');
  same<typeof still, Buffer | null>(true);
  const back: Database = redis.db.with({ decode: 'utf8' });
  void back;
  const attributed = await redis.db.with({ attributes: true }).reply('GET', 'k');
  same<typeof attributed, import('redmux').Reply>(true); // a value may come wrapped in Attributed
  const keys: string[] = [];
  for await (const key of redis.db.scan({ match: 'user:*' })) keys.push(key);
  for await (const [field, value] of raw.hscan('h')) same<typeof field | typeof value, Buffer>(true);
  // @ts-expect-error a buffer view's SCAN gives Buffers
  for await (const key of raw.scan()) keys.push(key);
}

export async function transactions(redis: Redis): Promise<void> {
  const db = redis.db;
  const all = await db.multi((tx) => {
    tx.command('SET', 'a', '1');
    tx.command('INCR', 'a');
  });
  same<typeof all, import('redmux').Reply[]>(true); // never null: nothing WATCHes on the shared connection
  const typed = await db.multi((tx) => [tx.command('GET', 'a'), tx.command('INCR', 'n')]);
  same<typeof typed, [string | null | ServerError, number | bigint | ServerError]>(true);
  const [ok, count] = await db.multi((tx) => {
    tx.command('SET', 'a', '1');
    tx.command('INCR', 'a');
  });
  void [ok, count];
  const watched = await db.watch(['counter'], async (conn) => {
    const cur = await conn.reply('GET', 'counter');
    same<typeof cur, string | null>(true);
    return conn.multi((tx) => tx.command('SET', 'counter', Number(cur) + 1));
  });
  same<typeof watched, import('redmux').Reply[] | null>(true); // null when the watched key changed
}

export function events(redis: Redis): void {
  redis.on('ready', (info) => void info.protocol);
  redis.on('ready', (info) => same<typeof info, ReadyInfo>(true)); // the payload has a name a handler can be typed with
  const onReady = (info: ReadyInfo): void => void [info.protocol, info.server?.version];
  redis.on('ready', onReady);
  redis.on('error', (err) => same<typeof err, Error>(true));
  redis.on('commandError', (err, { command }) => void [err.message, command.length]);
  redis.once('close', () => {});
  void new Promise((resolve) => redis.once('close', resolve));
  // @ts-expect-error no such event
  redis.on('redy', () => {});
  // @ts-expect-error 'error' listeners get an Error
  redis.on('error', (err: number) => void err);
  const sub = redis.subscriber();
  sub.on('message', (m) => same<typeof m, Message<string>>(true));
  const bin = redis.subscriber({ decode: 'buffer' });
  bin.on('message', ({ message }) => same<typeof message, Buffer>(true));
  // @ts-expect-error no such event
  sub.on('mesage', () => {});
  void sub.keyspace('user:*').then((ks) => {
    ks.on('event', ({ key, event }) => void [key.length, event.length]);
    // @ts-expect-error a Keyspace emits 'event', not 'message'
    ks.on('message', () => {});
  });
}

export function stats(): void {
  // A client made with a cache has its counters for sure; others may have none.
  const cached = new Redis('redis://127.0.0.1:6379', { cache: { maxEntries: 10 } });
  const counters = cached.stats().cache;
  same<typeof counters, CacheStats>(true);
  const plain = new Redis('redis://127.0.0.1:6379');
  // @ts-expect-error without a cache, stats().cache may be undefined
  void plain.stats().cache.hits;
  const maybe = plain.stats().cache;
  same<typeof maybe, CacheStats | undefined>(true);
  const any: Redis = cached; // a client with a cache is a Redis
  const explicit: Redis<CacheOptions> = cached;
  void [any, explicit];
  // @ts-expect-error a misspelt option is still refused with a cache
  void new Redis({ cache: {}, comandTimeout: 5 });
  // @ts-expect-error and without one
  void new Redis('redis://127.0.0.1:6379', { comandTimeout: 5 });
}
