/**
 * A credentials provider is asked only by a connection attempt that reached
 * the server (its TCP connect, and TLS, succeeded): an endpoint that is down
 * (connection refused) is retried by its health checker about once a second
 * for as long as it is down, and each of those attempts used to call the
 * provider, hammering the token service for nothing. Real servers: one live
 * endpoint, one port nobody listens on.
 */
import dc from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, Redis, type Credentials, type DiagnosticsEvents } from '../lib/index.js';
import { destroyRedis, freePort, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

let live: RedisServer;
let admin: Redis;

beforeAll(async () => {
  live = await startRedis();
  admin = new Redis(live.url, { mode: 'standalone' });
  await admin.db.reply('ACL', 'SETUSER', 'app', 'on', '>app-Token-1', '~*', '&*', '+@all');
});
afterAll(async () => {
  await admin?.close();
  await destroyRedis(live);
});

/** Counts 'redmux:connect' (attempts) and 'redmux:ready' events by node while `body` runs. */
async function watching<T>(body: (attempts: Map<string, number>, ready: Map<string, number>) => Promise<T>): Promise<T> {
  const attempts = new Map<string, number>();
  const ready = new Map<string, number>();
  const onConnect = (m: unknown) => {
    const { node } = m as DiagnosticsEvents['redmux:connect'];
    attempts.set(node, (attempts.get(node) ?? 0) + 1);
  };
  const onReady = (m: unknown) => {
    const { node } = m as DiagnosticsEvents['redmux:ready'];
    ready.set(node, (ready.get(node) ?? 0) + 1);
  };
  dc.subscribe('redmux:connect', onConnect);
  dc.subscribe('redmux:ready', onReady);
  try {
    return await body(attempts, ready);
  } finally {
    dc.unsubscribe('redmux:connect', onConnect);
    dc.unsubscribe('redmux:ready', onReady);
  }
}

describe('credentials provider and endpoints that are down', () => {
  it('endpoint failover: the health checks of a down endpoint never call the provider; each connection that reached a server called it once', async () => {
    const downPort = await freePort(); // nothing listens there: every attempt is refused at TCP connect
    const down = `127.0.0.1:${downPort}`;
    let calls = 0;
    const credentials = async (): Promise<Credentials> => {
      calls++;
      return { username: 'app', password: 'app-Token-1' };
    };
    await watching(async (attempts, ready) => {
      const redis = new Redis({
        endpoints: [live.url, `redis://${down}`],
        failover: { failureThreshold: 2, failureWindow: 5000, gracePeriod: 500, healthCheckInterval: 50, healthCheckTimeout: 500 },
        credentials,
        connectTimeout: 1000,
        commandTimeout: 5000,
      });
      redis.on('error', () => {});
      try {
        expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('app');
        // The down endpoint's checker keeps trying (its backoff caps at 1 s): six refused attempts.
        await until('six attempts at the down endpoint', () => (attempts.get(down) ?? 0) >= 6);
        expect(ready.get(down) ?? 0).toBe(0);
        const readyTotal = [...ready.values()].reduce((a, b) => a + b, 0);
        expect(readyTotal).toBeGreaterThanOrEqual(2); // the shared connection and the live endpoint's checker
        expect(calls).toBe(readyTotal);
      } finally {
        await redis.close();
      }
    });
  });

  it('a single server that is down: reconnect attempts refused at TCP connect never call the provider; commands fail with the connect error', async () => {
    const port = await freePort();
    let calls = 0;
    await watching(async (attempts) => {
      const redis = new Redis({
        port,
        mode: 'standalone',
        credentials: async () => {
          calls++;
          return { password: 'never-Used-1' };
        },
        connectTimeout: 1000,
        commandTimeout: 5000,
        reconnect: { baseDelay: 10, maxDelay: 20 },
        offlineQueue: false,
      });
      redis.on('error', () => {});
      try {
        await until('five refused attempts', () => (attempts.get(`127.0.0.1:${port}`) ?? 0) >= 5);
        const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect(calls).toBe(0);
      } finally {
        await redis.close();
      }
    });
  });

  it('a connection the server ends while the provider is asked: that attempt fails with a ConnectError, the next one asks again and serves', async () => {
    let calls = 0;
    const redis = new Redis({
      port: live.port,
      mode: 'standalone',
      credentials: async (): Promise<Credentials> => {
        // The first time, the socket is open and waits for us: the server drops it (every client but the admin's).
        if (++calls === 1) await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        return { username: 'app', password: 'app-Token-1' };
      },
      connectTimeout: 2000,
      commandTimeout: 5000,
      reconnect: { baseDelay: 10, maxDelay: 20 },
    });
    const errors: Error[] = [];
    redis.on('error', (e) => errors.push(e));
    try {
      expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('app');
      expect(calls).toBe(2);
      // Seen while the provider ran, or when the handshake is written (the FIN may land after the provider answered).
      expect(errors.some((e) => e instanceof ConnectError && /ended while the credentials provider was asked|before its handshake finished/.test(e.message))).toBe(true);
      expect(errors.map((e) => e.message).join('\n')).not.toContain('app-Token-1');
    } finally {
      await redis.close();
    }
  });
});
