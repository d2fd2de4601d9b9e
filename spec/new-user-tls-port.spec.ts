/**
 * A new user's `redis://` to a server's TLS-only port: the server resets the
 * connection during the handshake. The connection never opened, so with
 * `reconnect: false` the command is to fail with a `ConnectError` (README
 * Failure semantics: "server unreachable ... with reconnect: false ... fail at
 * once with ConnectError"; errors.ts: ConnectError is "could not be opened
 * (refused, DNS, TLS, handshake failure)"). It failed with a
 * `ConnectionLostError` "reconnecting gave up", which a `catch` for
 * ConnectError misses and which reads as a connection that had worked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, ConnectionLostError, Redis } from '../lib/index.js';
import { destroyRedis, freePort, startRedis, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
let tlsPort: number;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-tls-port-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  tlsPort = await freePort();
  server = await startRedis(['--tls-port', String(tlsPort), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-auth-clients', 'no']);
});
afterAll(async () => {
  await destroyRedis(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('redis:// to a TLS-only port', () => {
  it('with reconnect: false, the command fails with a ConnectError (the connection never opened), not a ConnectionLostError', async () => {
    const redis = new Redis(`redis://127.0.0.1:${tlsPort}`, { reconnect: false });
    try {
      const err = await redis.db.reply('PING').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect(err).not.toBeInstanceOf(ConnectionLostError);
    } finally {
      redis.disconnect();
    }
  });
});
