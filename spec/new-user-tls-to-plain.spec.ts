/**
 * A new user's `rediss://` to a server that does not speak TLS: the TCP
 * connection opens, the server reads the TLS hello as an incomplete command
 * and waits, and the client saw "no connection within 500 ms", which reads
 * like a firewall or a wrong host. The client knows better: the socket
 * connected and the TLS handshake is what never finished. The
 * ConnectTimeoutError is right; its message should say the TLS handshake did
 * not complete (is the server speaking TLS on that port?).
 * (lib/connection/socket.ts: the connect timer.)
 */
import { describe, expect, it } from 'vitest';
import { ConnectTimeoutError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('rediss:// to a plain server', () => {
  it('times out with a ConnectTimeoutError that names the TLS handshake', async () => {
    const redis = new Redis(`rediss://127.0.0.1:${env.server.port}`, { reconnect: false, connectTimeout: 500 });
    try {
      const err = (await redis.db.reply('PING').catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(ConnectTimeoutError);
      expect(`${err.message} ${(err.cause as Error | undefined)?.message ?? ''}`).toMatch(/TLS/);
    } finally {
      redis.disconnect();
    }
  });
});
