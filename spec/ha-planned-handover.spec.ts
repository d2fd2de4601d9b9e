/**
 * A planned, server-driven move of a connection (a MOVING maintenance
 * notification; a RESP2 subscriber reconnected for its token refresh) is not
 * a lost connection:
 *  - stats count it as `handovers`, never as `connectionLost` (nor as a
 *    `reconnects` attempt after a failure);
 *  - with `reconnect: false` (no reconnect after a failure) it still happens:
 *    the client goes on on the new connection instead of ending for good;
 *  - a leased connection (WATCH, blocking) still ends at a MOVING: a WATCH
 *    cannot move to another connection, so its EXEC is never sent unguarded.
 * Scripted servers for MOVING (a real redis 7 never sends it), a real one for
 * the RESP2 token refresh.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLostError, Redis, type Credentials, type RedisOptions } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { encodeReply, scriptedServer, type Responder, type ScriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => within('close()', c.close())));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A RESP3 push frame. */
function frame(...items: (string | number | null)[]): string {
  return `>${items.length}\r\n${items.map((i) => (i === null ? '_\r\n' : typeof i === 'number' ? `:${i}\r\n` : encodeReply(i))).join('')}`;
}

/**
 * A server that accepts maintenance notifications, answers `GET where` with its name, and `GET push:MOVING` by pushing
 * a MOVING (to `moveTo()`, null: the same endpoint; grace `grace` s) just before its answer: once that GET is
 * answered, the client has handled the notification.
 */
async function server(name: string, moveTo?: () => string | null, grace = 15, extra?: Responder): Promise<ScriptedServer> {
  const s = await scriptedServer(async (args, socket, srv) => {
    const answer = extra ? await extra(args, socket, srv) : undefined;
    if (answer !== undefined) return answer;
    if (args[0] === 'CLIENT' && args[1] === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
    if (args[0] === 'GET' && args[1] === 'where') return encodeReply(name);
    if (args[0] === 'GET' && args[1] === 'push:MOVING') return frame('MOVING', 2, grace, moveTo!()) + encodeReply('pushed');
    return undefined;
  });
  servers.push(s);
  return s;
}

function client(s: ScriptedServer, o: RedisOptions = {}): Redis {
  const redis = new Redis(s.url, { mode: 'standalone', connectTimeout: 2000, commandTimeout: 5000, ...o });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

const commandsOf = (s: ScriptedServer) => s.received.map((c) => c.join(' '));

describe('a planned handover (MOVING) is not a lost connection', () => {
  it('stats: a MOVING handover counts as handovers, not connectionLost nor reconnects', async () => {
    const b = await server('b');
    const a = await server('a', () => `127.0.0.1:${b.port}`);
    const redis = client(a);
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    expect(await redis.db.reply('GET', 'push:MOVING')).toBe('pushed');
    expect(await redis.db.reply('GET', 'where')).toBe('b');
    expect(redis.stats()).toMatchObject({ handovers: 1, connectionLost: 0, reconnects: 0, connectFailures: 0 });
    // A real loss afterwards is still one.
    for (const socket of b.sockets) socket.destroy();
    await until('the loss counted', () => redis.stats().connectionLost === 1);
    expect(await redis.db.reply('GET', 'where')).toBe('b'); // within the grace period, still the MOVING's endpoint
    expect(redis.stats()).toMatchObject({ handovers: 1, connectionLost: 1 });
  });

  it.each([
    ['to another endpoint', true],
    ['to the same endpoint (no address)', false],
  ])('reconnect: false: a MOVING %s still hands the connection over; the client goes on there', async (_, withAddress) => {
    const b = await server('b');
    // Grace 1 s without an address: the handover comes after 500 ms.
    const a = await server('a', () => (withAddress ? `127.0.0.1:${b.port}` : null), withAddress ? 15 : 1);
    const redis = client(a, { reconnect: false });
    const closes: number[] = [];
    redis.on('close', () => closes.push(1));
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    const hellos = (s: ScriptedServer) => commandsOf(s).filter((c) => c.startsWith('HELLO')).length;
    expect(await redis.db.reply('GET', 'push:MOVING')).toBe('pushed');
    const target = withAddress ? b : a;
    await until('the handover connection opened', () => hellos(target) === (withAddress ? 1 : 2));
    expect(await redis.db.reply('GET', 'where')).toBe(withAddress ? 'b' : 'a');
    expect(await redis.db.reply('SET', 'k', 'v')).toBe('OK');
    expect(closes).toEqual([]);
    expect(redis.stats()).toMatchObject({ handovers: 1, connectionLost: 0 });
    // A failure is still final with reconnect: false.
    for (const socket of target.sockets) socket.destroy();
    await until('the client gave up', () => closes.length === 1);
  });

  it('a WATCH lease ends at a MOVING (its WATCH cannot move): the transaction fails, EXEC is never sent', async () => {
    const b = await server('b');
    const tx: Responder = (args) => {
      if (args[0] === 'WATCH' || args[0] === 'MULTI') return '+OK\r\n';
      if (args[0] === 'EXEC') return '*1\r\n+OK\r\n';
      if (args[0] === 'SET') return '+QUEUED\r\n';
      return undefined;
    };
    const a = await server('a', () => `127.0.0.1:${b.port}`, 15, tx);
    const redis = client(a, { reconnect: false });
    const outcome = await redis.db
      .watch(['wk'], async (conn) => {
        expect(await conn.reply('GET', 'push:MOVING')).toBe('pushed'); // on the lease: its connection is to move
        await new Promise((r) => setTimeout(r, 50));
        return conn.multi((m) => m.command('SET', 'wk', 'v'));
      })
      .then((v) => v, (e: Error) => e);
    expect(outcome).toBeInstanceOf(ConnectionLostError);
    expect((outcome as ConnectionLostError).maybeExecuted).toBe(false);
    expect([...commandsOf(a), ...commandsOf(b)].filter((c) => c === 'EXEC' || c.startsWith('SET'))).toEqual([]);
    // The shared connection was not told to move: it serves on A.
    expect(await redis.db.reply('GET', 'where')).toBe('a');
  });
});

describe('a RESP2 subscriber reconnected for its token refresh', () => {
  let real: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    real = await startRedis();
    admin = new Redis(real.url, { mode: 'standalone' });
  });
  afterAll(async () => {
    await admin?.close();
    await destroyRedis(real);
  });

  it('reconnect: false: the subscriber keeps receiving after the refresh; not counted as a loss', async () => {
    const current = { password: 'sub-Token-a' };
    const setPassword = () => admin.db.reply('ACL', 'SETUSER', 'app', 'on', 'resetpass', `>${current.password}`, '~*', '&*', '+@all');
    await setPassword();
    const redis = new Redis({
      port: real.port,
      mode: 'standalone',
      protocol: 2,
      reconnect: false,
      connectTimeout: 2000,
      commandTimeout: 5000,
      credentials: async (): Promise<Credentials> => ({ username: 'app', password: current.password, expiresAt: Date.now() + 1200 }),
    });
    redis.on('error', () => {});
    clients.push(redis);
    const sub = redis.subscriber();
    const errors: Error[] = [];
    sub.on('error', (e) => errors.push(e));
    const got: string[] = [];
    sub.on('message', (m: { message: unknown }) => got.push(String(m.message)));
    await sub.subscribe('hp:news');
    const pubsubIds = async () => [...String(await admin.db.reply('CLIENT', 'LIST', 'TYPE', 'pubsub')).matchAll(/\bid=(\d+)/g)].map((m) => m[1]);
    const [before] = await pubsubIds();
    expect(before).toBeDefined();
    current.password = 'sub-Token-b';
    await setPassword();
    // Its refresh (at 3/4 of 1.2 s) reconnects it with the new token: another pub/sub connection, subscribed again.
    await until('the subscriber on a new connection', async () => {
      const ids = await pubsubIds();
      return ids.length === 1 && ids[0] !== before;
    });
    await until('a message delivered after the refresh', async () => {
      await admin.db.reply('PUBLISH', 'hp:news', 'hello');
      return got.length > 0;
    });
    expect(redis.stats().pubsub.connectionLost).toBe(0);
    await sub.close();
  });
});
