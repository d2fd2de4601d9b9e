/**
 * In auto mode a db.watch waits for the first handshake to say whether the
 * server is a cluster node (its lease goes to the keys' node). That wait had
 * no end but the handshake: a watch issued before disconnect(), or against a
 * server that cannot be reached with reconnect: false, never settled (the
 * process could exit with the await pending). It is bounded now like
 * `masters()`'s (the connect timeout), and close() / disconnect() end it.
 */
import { describe, expect, it } from 'vitest';
import { ClosedError, ConnectionError, Redis } from '../lib/index.js';
import { freePort } from './support/redis-server.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.watch before the first handshake said what the server is (auto mode)', () => {
  it('disconnect() right after: ClosedError, fn never runs', async () => {
    const redis = new Redis(env.server.url);
    let ran = false;
    const watch = redis.db.watch(['r10mu:k'], async () => void (ran = true)).then(() => 'resolved', (e: unknown) => e);
    redis.disconnect();
    expect(await watch).toBeInstanceOf(ClosedError);
    expect(ran).toBe(false);
  });

  it('a server that cannot be reached, reconnect: false: rejects with a connection error, fn never runs', async () => {
    const redis = new Redis({ port: await freePort(), reconnect: false, connectTimeout: 500 });
    redis.on('error', () => {});
    let ran = false;
    try {
      const err = await redis.db.watch(['r10mu:k'], async () => void (ran = true)).then(() => 'resolved', (e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(ran).toBe(false);
    } finally {
      redis.disconnect();
    }
  }, 15_000);
});
