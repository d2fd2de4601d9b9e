/**
 * "Every error names the command ... and the node" (DESIGN.md, Errors): a
 * subscriber call in progress when the client closes, disconnects, or its
 * pub/sub connection gives up, rejects with an error naming that call's own
 * command (SUBSCRIBE, PSUBSCRIBE, ...), not a bare "the client is closed", nor
 * SUBSCRIBE for every kind of call.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClosedError, ConnectTimeoutError, Redis, type RedisError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

function named(err: unknown, cls: Function, command: string, node: string): void {
  expect(err).toBeInstanceOf(cls);
  expect((err as RedisError).command).toBe(command);
  expect((err as RedisError).node).toBe(node);
  expect((err as Error).message).toContain(`command ${command}`);
}

describe('subscriber calls in progress when the connection ends', () => {
  for (const end of ['close', 'disconnect'] as const) {
    it(`redis.${end}() rejects each with ClosedError naming its command`, async () => {
      const redis = new Redis(env.server.url);
      const node = `127.0.0.1:${env.server.port}`;
      const sub = redis.subscriber();
      const calls = [sub.subscribe('n:c'), sub.psubscribe('n:p*')].map((p) => p.catch((e: Error) => e));
      if (end === 'close') await redis.close();
      else redis.disconnect();
      const [subscribe, psubscribe] = await Promise.all(calls);
      named(subscribe, ClosedError, 'SUBSCRIBE', node);
      named(psubscribe, ClosedError, 'PSUBSCRIBE', node);
    });
  }

  it('a pub/sub connection that gives up rejects each with its own command', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const redis = new Redis({ port, connectTimeout: 150, reconnect: false });
    redis.on('error', () => {});
    try {
      const sub = redis.subscriber({ timeout: 0 });
      const [subscribe, psubscribe] = await Promise.all([sub.subscribe('n:c'), sub.psubscribe('n:p*')].map((p) => p.catch((e: Error) => e)));
      named(subscribe, ConnectTimeoutError, 'SUBSCRIBE', `127.0.0.1:${port}`);
      named(psubscribe, ConnectTimeoutError, 'PSUBSCRIBE', `127.0.0.1:${port}`);
    } finally {
      redis.disconnect();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
