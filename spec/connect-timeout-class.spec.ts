/**
 * "Timeouts are distinguishable by class: waiting to connect, waiting for a
 * pooled connection, waiting for a reply" (DESIGN.md, Errors). When the
 * connection cannot be opened in time and reconnecting is over (`reconnect:
 * false`, or its attempts spent), the commands that waited for it, and every
 * command after, fail with a ConnectTimeoutError (a ConnectError and a
 * TimeoutError), not a plain ConnectError whose cause says so, nor a
 * ConnectionLostError for a connection that never opened.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, ConnectTimeoutError, ConnectionLostError, Redis, TimeoutError } from '../lib/index.js';
import { freePort } from './support/redis-server.js';

let silent: net.Server;
let silentPort: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  // Accepts TCP and never answers: the handshake waits out connectTimeout.
  silent = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

function expectConnectTimeout(err: unknown, command: string): void {
  expect(err).toBeInstanceOf(ConnectTimeoutError);
  expect(err).toBeInstanceOf(ConnectError);
  expect(err).toBeInstanceOf(TimeoutError);
  expect((err as ConnectTimeoutError).code).toBe('ERR_CONNECT_TIMEOUT');
  expect((err as ConnectTimeoutError).command).toBe(command);
  expect((err as ConnectTimeoutError).node).toBe(`127.0.0.1:${silentPort}`);
}

describe('a connection that could not open in time, for good', () => {
  it('fails the waiting commands, and later ones, with ConnectTimeoutError', async () => {
    const redis = new Redis({ port: silentPort, connectTimeout: 150, reconnect: false });
    try {
      expectConnectTimeout(await redis.db.reply('GET', 'k').catch((e: Error) => e), 'GET');
      expectConnectTimeout(await redis.db.reply('SET', 'k', 'v').catch((e: Error) => e), 'SET');
    } finally {
      redis.disconnect();
    }
  });

  it('after the reconnect attempts are spent too', async () => {
    const redis = new Redis({ port: silentPort, connectTimeout: 100, reconnect: { baseDelay: 1, maxDelay: 1, maxAttempts: 1 }, commandTimeout: 0 });
    try {
      expectConnectTimeout(await redis.db.reply('GET', 'k').catch((e: Error) => e), 'GET');
    } finally {
      redis.disconnect();
    }
  });

  it('the pub/sub connection says the same', async () => {
    const redis = new Redis({ port: silentPort, connectTimeout: 150, reconnect: false });
    try {
      const sub = redis.subscriber({ timeout: 0 });
      expectConnectTimeout(await sub.subscribe('c').catch((e: Error) => e), 'SUBSCRIBE');
    } finally {
      redis.disconnect();
    }
  });

  it('a refused connection stays a ConnectError, not a timeout, for later commands too', async () => {
    const port = await freePort();
    const redis = new Redis({ port, reconnect: false });
    try {
      for (const name of ['GET', 'SET']) {
        const err = await redis.db.reply(name, 'k', ...(name === 'SET' ? ['v'] : [])).catch((e: Error) => e);
        expect(err, name).toBeInstanceOf(ConnectError);
        expect(err, name).not.toBeInstanceOf(TimeoutError);
        expect(err, name).not.toBeInstanceOf(ConnectionLostError);
      }
    } finally {
      redis.disconnect();
    }
  });
});
