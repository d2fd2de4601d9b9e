/**
 * The credentials provider (issue 12, DESIGN "Credentials and the
 * handshake"), against a real server with an ACL user whose password the
 * tests rotate: called for every new connection (shared, leases,
 * subscribers); called again after CLIENT KILL with a rotated password, and
 * the connection comes back; a failing provider is a ConnectError with its
 * cause; an `expiresAt` re-authenticates the live connection (AUTH) before
 * the token expires; no credential in any error or in stats.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, InvalidArgumentError, Redis, type Credentials, type RedisOptions } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until, within } from './support/until.js';

let server: RedisServer;
let admin: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { mode: 'standalone' });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await admin?.close();
  await destroyRedis(server);
});

/** An ACL user `app` with exactly this password (any other dropped), every right. */
async function setPassword(password: string): Promise<void> {
  await admin.db.reply('ACL', 'SETUSER', 'app', 'on', 'resetpass', `>${password}`, '~*', '&*', '+@all');
}

/** A provider handing out `current.password` for user app, counting its calls. */
function provider(current: { password: string; ttl?: number }): { calls: number; fn: () => Promise<Credentials> } {
  const p = {
    calls: 0,
    fn: async (): Promise<Credentials> => {
      p.calls++;
      return { username: 'app', password: current.password, ...(current.ttl !== undefined && { expiresAt: Date.now() + current.ttl }) };
    },
  };
  return p;
}

function client(o: RedisOptions): Redis {
  const redis = new Redis({ port: server.port, mode: 'standalone', connectTimeout: 2000, commandTimeout: 3000, ...o });
  clients.push(redis);
  return redis;
}

/** Every message and cause in an error chain, with inspect's view of it. */
function everything(err: unknown): string {
  const out: string[] = [];
  for (let e: unknown = err; e instanceof Error && out.length < 10; e = e.cause) out.push(e.message, inspect(e));
  return out.join('\n');
}

describe('credentials provider', () => {
  it('is called for every new connection: the shared one, a blocking lease, the pub/sub connection', async () => {
    await setPassword('first-Secret-1');
    const p = provider({ password: 'first-Secret-1' });
    const redis = client({ credentials: p.fn });
    expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('app');
    expect(p.calls).toBe(1);
    expect(await redis.db.reply('BLPOP', 'cred:none', 0.01)).toBeNull();
    expect(p.calls).toBe(2);
    const sub = redis.subscriber();
    await sub.subscribe('cred:news');
    expect(p.calls).toBe(3);
    await sub.close();
    expect(JSON.stringify(redis.stats())).not.toContain('first-Secret-1');
  });

  it('after CLIENT KILL with a rotated ACL password it is called again, and the connection comes back', async () => {
    const current = { password: 'before-Rotation-2' };
    await setPassword(current.password);
    const p = provider(current);
    const redis = client({ credentials: p.fn });
    expect(await redis.db.reply('INCR', 'cred:n')).toBe(1);
    expect(p.calls).toBe(1);
    // Rotate: the old password stops working for new connections; then kill the live one.
    current.password = 'after-Rotation-3';
    await setPassword(current.password);
    await admin.db.reply('CLIENT', 'KILL', 'USER', 'app');
    await until('the killed connection seen lost', () => redis.stats().connectionLost > 0);
    expect(await redis.db.reply('INCR', 'cred:n')).toBe(2); // written after the loss was seen: on the new connection
    expect(p.calls).toBe(2);
    expect(redis.stats().connectionLost).toBe(1);
    expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('app');
  });

  it('a refused token is no configuration error: the next attempt asks the provider again', async () => {
    const current = { password: 'stale-Token-4' };
    await setPassword('fresh-Token-5');
    const p = provider(current);
    const redis = client({ credentials: p.fn, reconnect: { baseDelay: 20, maxDelay: 50 } });
    const reply = redis.db.reply('PING');
    await until('the provider asked three times (refused with WRONGPASS, asked again, and again)', () => p.calls >= 3);
    current.password = 'fresh-Token-5';
    expect(await reply).toBe('PONG');
  });

  it('a provider that fails: waiting commands fail at once with a ConnectError carrying its error as the cause', async () => {
    const boom = new Error('token service unavailable');
    const redis = client({
      credentials: () => {
        throw boom;
      },
      // Waiting for a deadline would take a minute (and end in a ReplyTimeoutError): only failing at once passes.
      connectTimeout: 60_000,
      commandTimeout: 60_000,
    });
    const err = await within('the GET fails with the provider error', redis.db.reply('GET', 'k').catch((e: Error) => e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).cause).toBe(boom);
  });

  it('a provider that never answers: a ConnectError within connectTimeout; one that answers garbage: a ConnectError saying so', async () => {
    const hung = client({ credentials: () => new Promise<Credentials>(() => {}), connectTimeout: 300 });
    const err = await hung.db.reply('GET', 'k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(everything(err)).toMatch(/did not answer within 300 ms/);
    const garbage = client({ credentials: (() => Promise.resolve({ user: 'app', pass: 'x' })) as unknown as () => Promise<Credentials> });
    const err2 = await garbage.db.reply('GET', 'k').catch((e: Error) => e);
    expect(err2).toBeInstanceOf(ConnectError);
    expect(everything(err2)).toMatch(/must resolve \{ username\?: string, password: string/);
  });

  it('no credential in errors: a refused password appears nowhere in the error chain', async () => {
    await setPassword('the-Real-One-6');
    const redis = client({ credentials: async () => ({ username: 'app', password: 'wrong-Secret-7' }), commandTimeout: 500 });
    const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(everything(err)).not.toContain('wrong-Secret-7');
    expect(everything(err)).not.toContain('the-Real-One-6');
  });

  it('expiresAt: the live connection re-authenticates (AUTH) before expiry, without reconnecting', async () => {
    const current = { password: 'short-Lived-8', ttl: 1200 };
    await setPassword(current.password);
    const p = provider(current);
    const redis = client({ credentials: p.fn });
    const id = await redis.db.reply('CLIENT', 'ID');
    const authCalls = async () => Number(/^cmdstat_auth:calls=(\d+)/m.exec(await admin.db.reply('INFO', 'commandstats'))?.[1] ?? 0);
    const before = await authCalls();
    // The token rotates; the connection must present the new one before 3/4 of 1.2 s.
    current.password = 'short-Lived-9';
    await setPassword(current.password);
    // The 3 s bound is part of the check (as before): a refresh due at 900 ms, not one long after expiry.
    await until('the provider asked again before expiry', () => p.calls >= 2, 3000);
    // The provider answered; its AUTH follows on the live connection (a fixed pause could look too early).
    await until('an AUTH on the server', async () => (await authCalls()) > before);
    expect(await redis.db.reply('CLIENT', 'ID')).toBe(id); // the same connection
    expect(redis.stats().connectionLost).toBe(0);
    // And it keeps refreshing (each answer carries a new expiresAt: the next refresh is 900 ms after the last).
    await until('the provider asked a third time', () => p.calls >= 3, 3000);
    expect(redis.stats().connectionLost).toBe(0);
  });

  it('a refresh the server refuses is reported as an error event without the password; the connection stays', async () => {
    const current = { password: 'good-One-10', ttl: 1000 };
    await setPassword(current.password);
    const p = provider(current);
    const redis = client({ credentials: p.fn });
    const errors: Error[] = [];
    redis.on('error', (e) => errors.push(e));
    await redis.db.reply('PING');
    current.password = 'not-Set-11'; // the provider now hands out a password the server does not know
    await until('the refused refresh reported as an error event', () => errors.length > 0);
    expect(everything(errors[0])).not.toContain('not-Set-11');
    expect(await redis.db.reply('PING')).toBe('PONG'); // still authenticated as before
  });
});

describe('credentials options', () => {
  it.each([
    [{ credentials: 'secret' }, /option credentials must be a function/],
    [{ credentials: async () => ({ password: 'x' }), password: 'y' }, /credentials replaces username\/password/],
    [{ sentinel: { name: 'm', nodes: ['redis://127.0.0.1:26379'], credentials: async () => ({ password: 'x' }), password: 'y' } }, /sentinel.credentials replaces/],
  ])('refuses %s', (opts, message) => {
    expect(() => new Redis(opts as RedisOptions)).toThrow(InvalidArgumentError);
    expect(() => new Redis(opts as RedisOptions)).toThrow(message);
  });

  it('a URL password and a provider together are refused', () => {
    expect(() => new Redis('redis://:pw@127.0.0.1:6390', { credentials: async () => ({ password: 'x' }) })).toThrow(/credentials replaces/);
  });
});
