/**
 * One private redis-server for a spec file, reached through fault proxies of
 * our own (cut, stall, refuse...): `const env = useProxiedServer(defaults)`,
 * then `await env.through(opts)` in a test. Proxies and clients are closed
 * after each test, the server after the file.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Redis, type RedisOptions } from '../../lib/index.js';
import { FaultProxy } from './fault-proxy.js';
import { destroyRedis, startRedis, type RedisServer } from './redis-server.js';

export interface ProxiedServer {
  /** The server (available once the file's beforeAll ran). */
  readonly server: RedisServer;
  /** A new proxy in front of the server, closed after the current test. */
  proxy(): Promise<FaultProxy>;
  /** Disconnect this client after the current test. */
  track(redis: Redis): Redis;
  /** A client through a new proxy (`defaults`, then `opts`), errors listened to, after its first PING. */
  through(opts?: RedisOptions): Promise<{ redis: Redis; proxy: FaultProxy }>;
}

export function useProxiedServer(defaults: RedisOptions = {}, serverArgs: string[] = []): ProxiedServer {
  let server: RedisServer | undefined;
  const proxies: FaultProxy[] = [];
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis(serverArgs);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    for (const p of proxies.splice(0)) await p.close();
  });
  afterAll(async () => {
    await destroyRedis(server);
  });
  const env: ProxiedServer = {
    get server() {
      if (!server) throw new Error('the server starts in beforeAll');
      return server;
    },
    async proxy() {
      const proxy = await FaultProxy.start(env.server.port);
      proxies.push(proxy);
      return proxy;
    },
    track(redis) {
      clients.push(redis);
      return redis;
    },
    async through(opts = {}) {
      const proxy = await env.proxy();
      const redis = env.track(new Redis(proxy.url, { ...defaults, ...opts }));
      redis.on('error', () => {});
      redis.on('commandError', () => {});
      await redis.db.reply('PING');
      return { redis, proxy };
    },
  };
  return env;
}
