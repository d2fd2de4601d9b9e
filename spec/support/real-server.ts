/**
 * One private redis-server for a spec file, and clients that are closed after
 * each test: `const env = useRealServer(); ... env.client(opts)`.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Redis, type RedisOptions } from '../../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './redis-server.js';

export interface RealServer {
  /** The server (available once the file's beforeAll ran). */
  readonly server: RedisServer;
  /** A client on the server, closed gracefully after the current test. */
  client(opts?: RedisOptions): Redis;
  /** Close this client after the current test too. */
  track(redis: Redis): Redis;
}

export function useRealServer(): RealServer {
  let server: RedisServer | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await destroyRedis(server);
  });
  const env: RealServer = {
    get server() {
      if (!server) throw new Error('the server starts in beforeAll');
      return server;
    },
    client(opts = {}) {
      return env.track(new Redis(env.server.url, opts));
    },
    track(redis) {
      clients.push(redis);
      return redis;
    },
  };
  return env;
}
