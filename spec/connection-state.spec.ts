/**
 * Safety rule 3: nothing is written before its connection's handshake, nor into
 * the wrong database. The connection's state (which socket, which database is
 * selected on it, whether its handshake is done) belongs to one socket, and a
 * command's database is settled when it is written, on the socket it goes to.
 *
 * The server here requires a password, so a command written before the
 * handshake's AUTH would fail with NOAUTH, and the client is configured for a
 * database other than 0, so one written before the handshake's SELECT would
 * land in database 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, Redis } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { freePort } from './support/redis-server.js';
import { until, within } from './support/until.js';

const PASSWORD = 'state-spec-secret';
const env = useProxiedServer(
  { password: PASSWORD, connectTimeout: 1000, commandTimeout: 2000, reconnect: { baseDelay: 5, maxDelay: 20 } },
  ['--requirepass', PASSWORD],
);
const through = env.through;
let admin: Redis;

beforeAll(() => {
  admin = new Redis(env.server.url, { password: PASSWORD });
});
afterAll(async () => {
  await admin.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where `key` lives: the databases (0..7) holding it. */
async function whereIs(key: string): Promise<number[]> {
  const found: number[] = [];
  for (let db = 0; db < 8; db++) if ((await admin.database(db).reply('EXISTS', key)) === 1) found.push(db);
  return found;
}

const settle = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: true as const, v }),
    (e: Error) => ({ ok: false as const, e }),
  );

describe('commands issued while a lost connection is being handled', () => {
  it('a command from a synchronous error listener waits for the next handshake (AUTH and SELECT)', async () => {
    const { redis, proxy } = await through({ db: 2 });
    const key = `listener:${Math.random()}`;
    let fromListener: Promise<unknown> | undefined;
    redis.on('error', () => {
      fromListener ??= redis.db.reply('SET', key, 'v');
    });
    const lost = new Promise((r) => redis.once('reconnecting', r)); // emitted after 'error', in the same loss
    proxy.cutAll();
    await lost;
    expect(fromListener).toBeDefined();
    expect(await fromListener).toBe('OK'); // not NOAUTH: it waited for AUTH
    expect(await whereIs(key)).toEqual([2]); // not database 0: it waited for SELECT
  });

  it('commands from reconnecting and commandError listeners too', async () => {
    const { redis, proxy } = await through({ db: 3 });
    const keys: string[] = [];
    const issued: Promise<unknown>[] = [];
    const issue = () => {
      if (issued.length >= 4) return;
      const key = `hook:${issued.length}:${Math.random()}`;
      keys.push(key);
      issued.push(redis.db.reply('SET', key, 'v'));
    };
    const heard = new Set<string>();
    for (const event of ['error', 'reconnecting', 'commandError'] as const) {
      redis.on(event, () => {
        heard.add(event);
        issue();
      });
    }
    proxy.stall();
    redis.db.command('INCR', 'hook:counter'); // unobserved: its loss is reported as commandError
    await until('the INCR is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    await until('error, reconnecting and commandError all heard (each listener issued its SET)', () => heard.size === 3);
    const results = await Promise.all(issued.map(settle));
    expect(results.every((r) => r.ok && r.v === 'OK')).toBe(true);
    for (const key of keys) expect(await whereIs(key)).toEqual([3]);
  });
});

describe('closing from a listener while a loss is handled', () => {
  it.each(['disconnect', 'close'] as const)('%s() from a commandError listener: every command settles', async (how) => {
    const { redis, proxy } = await through();
    let called = false;
    redis.on('commandError', () => {
      if (called) return;
      called = true;
      if (how === 'disconnect') redis.disconnect();
      else void redis.close();
    });
    proxy.stall();
    redis.db.command('INCR', 'closing:unobserved'); // its loss is reported first
    const others = [redis.db.reply('GET', 'closing:a'), redis.db.reply('INCR', 'closing:b'), redis.database(4).reply('GET', 'closing:c')].map(settle);
    await until('the commands are written: their bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    await within('every command settled', Promise.all(others));
    expect(called).toBe(true);
  });
});

describe('a cut while a SELECT is in flight', () => {
  // Every interleaving of: whether the SELECT in flight is the first of that
  // database on this socket or one selected before (either way the commands
  // behind it wait for its answer: select.ts), whether the db-5 command times
  // out while it waits, and whether a listener issues commands during the
  // loss (and to which database).
  const cases: { selectedBefore: boolean; expire: boolean; listenerDb: number | undefined }[] = [];
  for (const selectedBefore of [false, true])
    for (const expire of [true, false])
      for (const listenerDb of [undefined, 0, 5]) cases.push({ selectedBefore, expire, listenerDb });

  it.each(cases)('selectedBefore=$selectedBefore expire=$expire listenerDb=$listenerDb', async ({ selectedBefore, expire, listenerDb }) => {
    const { redis, proxy } = await through();
    const tag = Math.random().toString(36).slice(2);
    const k0 = `k0:${tag}`;
    const k5 = `k5:${tag}`;
    const kl = `kl:${tag}`;
    let listenerSet: Promise<unknown> | undefined;
    redis.on('error', () => {
      if (listenerDb !== undefined) listenerSet ??= redis.database(listenerDb).reply('SET', kl, 'v');
    });
    if (selectedBefore) {
      await redis.database(5).reply('PING'); // database 5 was selected on this socket before
      await redis.db.reply('PING'); // and the socket is back in database 0
    }
    const db5 = redis.database(5).with(expire ? { timeout: 150 } : {});
    proxy.stall();
    let set5Settled = false;
    const set5 = settle(db5.reply('SET', k5, 'v')).finally(() => (set5Settled = true)); // SELECT 5 is written; SET waits for its answer
    const set0 = settle(redis.db.reply('SET', k0, 'v'));
    // Everything the client will write before an answer is written (only the
    // SELECT: the rest waits for its answer), and with `expire` the db-5
    // command's deadline has passed (it settled).
    await until('the SELECT is written', () => proxy.held > 0);
    if (expire) await until("the db-5 SET's deadline passed: it settled", () => set5Settled);
    proxy.cutAll();
    proxy.resume();
    const [r5, r0] = await Promise.all([set5, set0]);
    const landed = (r: { ok: boolean; e?: Error }) => !r.ok && ((r.e as { maybeExecuted?: boolean }).maybeExecuted || (r.e as { sent?: boolean }).sent);
    // A SET either succeeded, or failed saying whether it may have run; wherever it ran, it is its own database.
    for (const [r, key, db] of [[r0, k0, 0], [r5, k5, 5]] as const) {
      const where = await whereIs(key);
      if (r.ok) expect(where).toEqual([db]);
      else if (landed(r)) expect(where.every((d) => d === db)).toBe(true);
      else expect(where).toEqual([]);
    }
    expect(r0.ok).toBe(true); // queued behind the SELECT, never written: sent again, in database 0
    expect(await whereIs(k0)).toEqual([0]);
    if (expire) {
      expect(r5.ok).toBe(false);
      expect(await whereIs(k5)).toEqual([]); // timed out unsent: never sent
    } else {
      expect(r5.ok).toBe(true);
      expect(await whereIs(k5)).toEqual([5]);
    }
    if (listenerDb !== undefined) {
      expect(listenerSet).toBeDefined();
      expect(await listenerSet).toBe('OK');
      expect(await whereIs(kl)).toEqual([listenerDb]);
    }
    // And afterwards every handle still talks to its own database.
    const after = `after:${tag}`;
    await redis.db.reply('SET', after, '0');
    await redis.database(5).reply('SET', after, '5');
    expect(await admin.database(0).reply('GET', after)).toBe('0');
    expect(await admin.database(5).reply('GET', after)).toBe('5');
  });
});

describe('a configuration the server refuses for good', () => {
  it('db out of range fails fast with a ConnectError naming the cause, and stops reconnecting', async () => {
    // Deadlines of a minute: a PING that waited for one (instead of failing on the refusal) would hang, and end
    // as a ReplyTimeoutError, not a ConnectError naming the cause.
    const slow = { connectTimeout: 60_000, commandTimeout: 60_000 };
    for (const redis of [new Redis(env.server.url, { password: PASSWORD, db: 99, ...slow }), new Redis(`redis://:${PASSWORD}@127.0.0.1:${env.server.port}/99`, slow)]) {
      env.track(redis);
      let reconnects = 0;
      redis.on('reconnecting', () => reconnects++);
      redis.on('error', () => {});
      const err = await within('the PING fails on the refusal', redis.db.reply('PING').catch((e: Error) => e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as Error).message).toMatch(/DB index is out of range/);
      expect((err as Error).message).not.toContain(PASSWORD);
      await sleep(200);
      expect(reconnects).toBe(0);
      // Later commands fail at once with the same cause.
      const later = await redis.db.reply('PING').catch((e: Error) => e);
      expect(later).toBeInstanceOf(ConnectError);
      expect((later as Error).message).toMatch(/out of range/);
    }
  });

  it('a wrong password fails fast too, without the password in any message', async () => {
    const redis = new Redis(env.server.url, { password: 'not-the-password', reconnect: { baseDelay: 5, maxDelay: 20 } });
    env.track(redis);
    const errors: Error[] = [];
    redis.on('error', (e: Error) => errors.push(e));
    const err = await redis.db.reply('PING').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectError);
    for (const e of [err as Error, ...errors]) expect(`${e.message} ${String((e as Error).cause)}`).not.toContain('not-the-password');
  });
});

describe('offlineQueue: false', () => {
  it('fails at once before the first connection, when the server is unreachable', async () => {
    const port = await freePort();
    // A deadline of a minute: a GET queued until it (instead of failing at once) would hang, then end as a ReplyTimeoutError.
    const redis = new Redis(`redis://127.0.0.1:${port}`, { offlineQueue: false, commandTimeout: 60_000, reconnect: { baseDelay: 50, maxDelay: 50 } });
    env.track(redis);
    redis.on('error', () => {});
    const err = await within('the GET fails at once', redis.db.reply('GET', 'k').catch((e: Error) => e));
    expect(err).toMatchObject({ name: 'ConnectionLostError', maybeExecuted: false });
  });

  it('a client with the offline queue off works once ready', async () => {
    const redis = new Redis(env.server.url, { password: PASSWORD, offlineQueue: false });
    env.track(redis);
    await new Promise((r) => redis.once('ready', r));
    expect(await redis.db.reply('PING')).toBe('PONG');
  });
});
