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
});
