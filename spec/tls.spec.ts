/**
 * TLS against a real redis-server with a throwaway self-signed certificate:
 * verified by default (an unknown CA is refused), works with the right CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, ConnectionLostError, Redis } from '../lib/index.js';
import { destroyRedis, freePort, startRedis, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
let tlsPort: number;
let dir: string;
let ca: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  tlsPort = await freePort();
  server = await startRedis(['--tls-port', String(tlsPort), '--tls-cert-file', cert, '--tls-key-file', key,
    '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no']);
});
afterAll(async () => {
  await destroyRedis(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('rediss:// with the right CA works', async () => {
    const redis = new Redis(`rediss://127.0.0.1:${tlsPort}`, { tls: { ca } });
    try {
      expect(await redis.db.reply('PING')).toBe('PONG');
      await redis.db.reply('SET', 'over-tls', 'yes');
      expect(await redis.db.reply('GET', 'over-tls')).toBe('yes');
    } finally {
      await redis.close();
    }
  });

  it('verifies by default: an unknown CA is refused with ConnectError', async () => {
    const redis = new Redis(`rediss://127.0.0.1:${tlsPort}`, { reconnect: false });
    const err = await redis.db.reply('PING').catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    redis.disconnect();
  });

  it('the wrong host name is refused too', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: tlsPort, tls: { ca, servername: 'not-this-host.example' }, reconnect: false });
    const err = await redis.db.reply('PING').catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    redis.disconnect();
  });
});

// A new user's redis:// to a server's TLS-only port: the server resets the connection during the
// handshake. It never opened, so with reconnect: false the command fails with a ConnectError (README
// Failure semantics; errors.ts: "could not be opened (refused, DNS, TLS, handshake failure)"), not a
// ConnectionLostError "reconnecting gave up", which a catch for ConnectError misses.
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
