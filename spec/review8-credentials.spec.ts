/**
 * Review 8 of rotating credentials (lib/connection/reauth.ts, dial.ts), against
 * a real server with an ACL user `app` whose password the tests rotate.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, Redis, type Credentials, type RedisOptions } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

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

async function setPassword(password: string): Promise<void> {
  await admin.db.reply('ACL', 'SETUSER', 'app', 'on', 'resetpass', `>${password}`, '~*', '&*', '+@all');
}

function client(o: RedisOptions): Redis {
  const redis = new Redis({ port: server.port, mode: 'standalone', connectTimeout: 2000, commandTimeout: 3000, ...o });
  clients.push(redis);
  return redis;
}

function everything(err: unknown): string {
  const out: string[] = [];
  for (let e: unknown = err; e instanceof Error && out.length < 10; e = e.cause) out.push(e.message, inspect(e));
  return out.join('\n');
}

/** AUTH as the server counts it: answered, and refused before running. */
async function authStats(): Promise<{ calls: number; rejected: number }> {
  const line = /^cmdstat_auth:(.*)$/m.exec(await admin.db.reply('INFO', 'commandstats'))?.[1] ?? '';
  return { calls: Number(/calls=(\d+)/.exec(line)?.[1] ?? 0), rejected: Number(/rejected_calls=(\d+)/.exec(line)?.[1] ?? 0) };
}

describe('rotating credentials (review 8)', () => {
  it.each([2, 3] as const)('RESP%s: a subscriber connection gets fresh credentials before expiry (never a refused AUTH) and keeps receiving', async (protocol) => {
    const current = { password: `sub-Token-${protocol}a` };
    await setPassword(current.password);
    const redis = client({ protocol, credentials: async (): Promise<Credentials> => ({ username: 'app', password: current.password, expiresAt: Date.now() + 1200 }) });
    const errors: Error[] = [];
    redis.on('error', (e) => errors.push(e));
    const sub = redis.subscriber();
    sub.on('error', (e) => errors.push(e));
    const got: string[] = [];
    sub.on('message', (m: { message: unknown }) => got.push(String(m.message)));
    await sub.subscribe('r8:news');
    const before = await authStats();
    current.password = `sub-Token-${protocol}b`;
    await setPassword(current.password);
    // Both connections (shared, pub/sub) present the new token, by AUTH or by reconnecting (RESP2's handshake is AUTH).
    await until('both connections refreshed', async () => {
      const now = await authStats();
      return now.calls + now.rejected - before.calls - before.rejected >= 2;
    });
    const after = await authStats();
    // RESP2 refuses AUTH in a subscribed connection: "only (P|S)SUBSCRIBE / ... are allowed in this context".
    expect(after.rejected - before.rejected).toBe(0);
    expect(errors.map((e) => e.message).filter((m) => /AUTH|auth/.test(m) && !/reconnecting/.test(m))).toEqual([]);
    await until('a message delivered after the refresh', async () => {
      await admin.db.reply('PUBLISH', 'r8:news', 'hello');
      return got.length > 0;
    });
    await sub.close();
  });

  it('an expiresAt in seconds (a JWT exp) is refused with a ConnectError saying so, never refreshed every second', async () => {
    await setPassword('jwt-Like-1');
    let calls = 0;
    const seconds = async (): Promise<Credentials> => (calls++, { username: 'app', password: 'jwt-Like-1', expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    const redis = client({ credentials: seconds, reconnect: false });
    const err = await redis.db.reply('PING').catch((e: Error) => e);
    // Taken as epoch ms it is January 1970: long expired, so every live connection asked again and sent AUTH each second.
    expect(err).toBeInstanceOf(ConnectError);
    expect(everything(err)).toMatch(/expiresAt .*milliseconds/);
    expect(everything(err)).not.toContain('jwt-Like-1');
    expect(calls).toBe(1);
  });

  // An empty username is no user (the URL parser and RESP2's AUTH already treat it so): `process.env.REDIS_USER ?? ''`
  // or a provider with username '' must authenticate the default user, not ask for a user named ''.
  it.each([
    ['options', { username: '', password: 'empty-User-Pw' }],
    ['options, RESP2', { username: '', password: 'empty-User-Pw', protocol: 2 }],
    ['a provider', { credentials: async () => ({ username: '', password: 'empty-User-Pw' }) }],
  ] as [string, RedisOptions][])('an empty username from %s authenticates the default user', async (_, o) => {
    const secured = await startRedis(['--requirepass', 'empty-User-Pw']);
    const redis = new Redis({ port: secured.port, mode: 'standalone', connectTimeout: 2000, commandTimeout: 3000, reconnect: false, ...o });
    redis.on('error', () => {});
    try {
      expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('default');
    } finally {
      await redis.close();
      await destroyRedis(secured);
    }
  });

  it('an empty username from a provider: its refresh (AUTH) authenticates the default user too', async () => {
    const secured = await startRedis(['--requirepass', 'empty-User-Pw']);
    const redis = new Redis({ port: secured.port, mode: 'standalone', connectTimeout: 2000, credentials: async () => ({ username: '', password: 'empty-User-Pw', expiresAt: Date.now() + 1200 }) });
    const errors: Error[] = [];
    redis.on('error', (e) => errors.push(e));
    const probe = new Redis({ port: secured.port, mode: 'standalone', password: 'empty-User-Pw' });
    try {
      expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('default');
      const auth = async () => /^cmdstat_auth:(.*)$/m.exec(await probe.db.reply('INFO', 'commandstats'))?.[1] ?? '';
      await until('the refresh AUTH answered', async () => /(^|,)calls=[1-9]/.test(await auth()) || errors.length > 0);
      expect(errors.map((e) => e.message)).toEqual([]);
      expect(await auth()).toMatch(/failed_calls=0/);
    } finally {
      await Promise.all([redis.close(), probe.close()]);
      await destroyRedis(secured);
    }
  });
});
