/**
 * TLS through an address map (cluster.addressMap, sentinel.addressMap): a
 * node's certificate names the node as the cluster announces it, not the
 * NAT address or port forward the map points at. The endpoint the routing
 * dials for a mapped node (mappedEndpoint) must check the certificate against
 * the announced name, still verify it, and leave the user's own servername /
 * checkServerIdentity alone. Real TLS redis-servers with throwaway
 * certificates that name only the announced host.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, type Endpoint } from '../lib/connection/socket.js';
import { mappedEndpoint } from '../lib/topology/address-map.js';
import { destroyRedis, freePort, startRedis, type RedisServer } from './support/redis-server.js';

const NAME = 'node-1.redmux.invalid';
const IP = '192.0.2.10'; // TEST-NET-1: announced, never reachable
const socketOptions = { connectTimeout: 5000, keepAlive: 0, noDelay: true };

let dir: string;
const servers: RedisServer[] = [];

/** A TLS redis-server whose certificate names only `san`; its port and CA. */
async function tlsServer(san: string): Promise<{ port: number; ca: Buffer }> {
  const key = path.join(dir, `${servers.length}-key.pem`);
  const cert = path.join(dir, `${servers.length}-cert.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=redmux-test', '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  const port = await freePort();
  servers.push(await startRedis(['--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no']));
  return { port, ca: readFileSync(cert) };
}

async function handshake(endpoint: Endpoint): Promise<string> {
  try {
    const socket = await openSocket(endpoint, socketOptions);
    socket.destroy();
    return 'ok';
  } catch (err) {
    return String((err as Error & { cause?: { code?: string } }).cause?.code ?? err);
  }
}

let byName: { port: number; ca: Buffer };
let byIp: { port: number; ca: Buffer };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-map-tls-'));
  byName = await tlsServer(`DNS:${NAME}`);
  byIp = await tlsServer(`IP:${IP}`);
});
afterAll(async () => {
  for (const s of servers) await destroyRedis(s);
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS to a mapped node', () => {
  it('is checked against the announced host name (sent as SNI), not the address connected to', async () => {
    const base: Endpoint = { host: NAME, port: byName.port, tls: { ca: byName.ca } };
    const to = { host: '127.0.0.1', port: byName.port };
    // What dialling the mapped address as it is gives: the certificate does not name 127.0.0.1.
    expect(await handshake({ ...base, ...to })).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const endpoint = mappedEndpoint(base, { host: NAME, port: byName.port }, to);
    expect(endpoint.host).toBe('127.0.0.1');
    expect(endpoint.tls?.servername).toBe(NAME);
    expect(await handshake(endpoint)).toBe('ok');
  });

  it('is checked against an announced IP address, without SNI', async () => {
    const base: Endpoint = { host: IP, port: byIp.port, tls: { ca: byIp.ca } };
    const to = { host: '127.0.0.1', port: byIp.port };
    expect(await handshake({ ...base, ...to })).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const endpoint = mappedEndpoint(base, { host: IP, port: byIp.port }, to);
    expect(endpoint.tls?.servername).toBeUndefined();
    expect(await handshake(endpoint)).toBe('ok');
  });

  it('is still verified: a certificate that names neither is refused, and so is an unknown CA', async () => {
    const to = { host: '127.0.0.1', port: byName.port };
    const other = mappedEndpoint({ host: 'other.redmux.invalid', port: byName.port, tls: { ca: byName.ca } }, { host: 'other.redmux.invalid', port: byName.port }, to);
    expect(await handshake(other)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const unknownCa = mappedEndpoint({ host: NAME, port: byName.port, tls: {} }, { host: NAME, port: byName.port }, to);
    expect(await handshake(unknownCa)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it("the user's own servername or checkServerIdentity wins", async () => {
    const to = { host: '127.0.0.1', port: byName.port };
    const wrong = mappedEndpoint({ host: NAME, port: byName.port, tls: { ca: byName.ca, servername: 'wrong.redmux.invalid' } }, { host: NAME, port: byName.port }, to);
    expect(wrong.tls?.servername).toBe('wrong.redmux.invalid');
    expect(await handshake(wrong)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    let asked = '';
    const own = mappedEndpoint(
      { host: NAME, port: byName.port, tls: { ca: byName.ca, checkServerIdentity: (host) => void (asked = host) } },
      { host: NAME, port: byName.port },
      to,
    );
    expect(await handshake(own)).toBe('ok');
    expect(asked).toBe('127.0.0.1');
  });

  it('without TLS, or mapped to the same host, only the address changes', () => {
    expect(mappedEndpoint({ host: NAME, port: 7000 }, { host: NAME, port: 7000 }, { host: '127.0.0.1', port: 7001 })).toEqual({ host: '127.0.0.1', port: 7001, path: undefined });
    const same = mappedEndpoint({ host: NAME, port: 7000, tls: { ca: byName.ca } }, { host: NAME, port: 7000 }, { host: NAME, port: 7001 });
    expect(same.tls).toEqual({ ca: byName.ca });
  });
});
