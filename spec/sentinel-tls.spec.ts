/**
 * Sentinel TLS is separate from the data nodes' (issue 12): a data node
 * reached over TLS (the top-level `tls`) through a sentinel reached in
 * plaintext, and `sentinel.tls` applied to the sentinels only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, Redis } from '../lib/index.js';
import { destroyRedis, freePort, startRedis, type RedisServer } from './support/redis-server.js';
import { scriptedSentinel, type ScriptedSentinel } from './support/scripted-sentinel.js';

let server: RedisServer;
let tlsPort: number;
let dir: string;
let ca: Buffer;
let fake: ScriptedSentinel;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-sentinel-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  tlsPort = await freePort();
  server = await startRedis(['--tls-port', String(tlsPort), '--tls-cert-file', cert, '--tls-key-file', key,
    '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no']);
  fake = await scriptedSentinel('mymaster', tlsPort);
});
afterAll(async () => {
  await fake?.close();
  await destroyRedis(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('Sentinel and TLS', () => {
  it('the data node over TLS (top-level tls), the sentinel in plaintext', async () => {
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.port }] }, tls: { ca }, connectTimeout: 2000 });
    try {
      expect(await redis.db.reply('PING')).toBe('PONG');
      expect(redis.nodes()[0]!.address).toBe(`127.0.0.1:${tlsPort}`);
    } finally {
      await redis.close();
    }
  });

  it('without the top-level tls the data node is not reached (the sentinel being plaintext changes nothing)', async () => {
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.port }] }, connectTimeout: 500, commandTimeout: 1500 });
    try {
      const err = await redis.db.reply('PING').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ConnectError); // discovery worked: the failure is the data connection's (timeout)
    } finally {
      redis.disconnect();
    }
  });

  it('sentinel.tls applies to the sentinels: a plaintext sentinel is then not reachable', async () => {
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.port }], tls: { ca } }, tls: { ca }, connectTimeout: 500, commandTimeout: 1500 });
    try {
      const err = await redis.db.reply('PING').catch((e: Error) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as Error).message).toMatch(/no sentinel answered for master 'mymaster'/);
    } finally {
      redis.disconnect();
    }
  });
});
