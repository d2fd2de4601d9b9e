/**
 * Resolving the high-availability options (Sentinel, endpoint failover,
 * maintenance notifications) into what their routings take, with the
 * checks that involve several options at once (lib/options.ts checks each
 * option alone and calls these).
 */
import type * as tls from 'node:tls';
import { endpointType } from '../connection/maintenance.js';
import type { MultiplexerOptions } from '../connection/multiplexer.js';
import { InvalidArgumentError } from '../errors.js';
import type { RedisOptions, SentinelSettings } from '../options.js';
import { parseUrl } from '../url.js';
import type { FailoverSettings } from './failover/endpoints.js';

/** The `endpoints` and `failover` options, checked against the others. */
export function failoverOptions(o: RedisOptions, tlsOpts: tls.ConnectionOptions | undefined): FailoverSettings | undefined {
  if (o.endpoints === undefined) {
    if (o.failover !== undefined) throw new InvalidArgumentError('option failover needs the endpoints option (the servers to fail over between)');
    return undefined;
  }
  if (o.sentinel !== undefined || o.nodes !== undefined || (o.mode !== undefined && o.mode !== 'standalone') || o.path !== undefined) {
    throw new InvalidArgumentError('endpoints excludes sentinel, nodes, path and a cluster mode: each endpoint is one standalone server');
  }
  const n = o.endpoints.length;
  const endpoints = o.endpoints.map((e, i) => {
    const weight = typeof e !== 'string' && e.weight !== undefined ? e.weight : n - i;
    if (typeof e !== 'string') return { host: e.host, port: e.port, tls: tlsOpts, weight };
    const u = parseUrl(e);
    if (u.tls && !tlsOpts) throw new InvalidArgumentError('a rediss:// endpoint needs TLS for every endpoint: set the tls option (never a silent downgrade to plaintext)');
    return { host: u.host ?? '127.0.0.1', port: u.port ?? 6379, tls: tlsOpts, weight };
  });
  const f = o.failover ?? {};
  const s = {
    endpoints,
    failureThreshold: f.failureThreshold ?? 3,
    failureWindow: f.failureWindow ?? 10_000,
    gracePeriod: f.gracePeriod ?? 5_000,
    healthCheckInterval: f.healthCheckInterval ?? 1_000,
    healthCheckTimeout: f.healthCheckTimeout ?? 1_000,
  };
  // Checks are healthCheckInterval apart and a failure counts while younger than failureWindow: too short a window
  // never holds failureThreshold of them, and an endpoint down for good would never be failed over from.
  const span = (s.failureThreshold - 1) * s.healthCheckInterval;
  if (span >= s.failureWindow) {
    throw new InvalidArgumentError(
      `option failover.failureWindow (${s.failureWindow} ms) must be longer than (failureThreshold - 1) x healthCheckInterval (${span} ms): ${s.failureThreshold} failed checks never fit in it, so no breaker could open`,
    );
  }
  return s;
}

/** Maintenance notifications: asked for on RESP3 connections unless turned off. */
export function maintenanceOptions(o: RedisOptions, tlsOpts: tls.ConnectionOptions | undefined): Pick<MultiplexerOptions, 'maintenance' | 'relaxedTimeout'> {
  const m = o.maintenance ?? {};
  if (m.notifications === 'off' || o.protocol === 2) return {};
  return { maintenance: m.endpointType ?? endpointType(configuredHost(o), tlsOpts !== undefined), relaxedTimeout: m.relaxedTimeout ?? 10_000 };
}

/** The host the client was pointed at: the host option, else the first cluster seed or failover endpoint. */
function configuredHost(o: RedisOptions): string {
  const first = o.host === undefined ? (o.nodes ?? o.endpoints)?.[0] : undefined;
  const host = first === undefined ? o.host : typeof first === 'string' ? parseUrl(first).host : first.host;
  return host ?? '127.0.0.1';
}

/** The `sentinel` and `role` options, checked against the others. */
export function sentinelOptions(o: RedisOptions): SentinelSettings | undefined {
  const s = o.sentinel;
  if (s === undefined) {
    if (o.role !== undefined) throw new InvalidArgumentError("option role needs the sentinel option (a cluster's replicas are read with cluster.readFrom)");
    return undefined;
  }
  if (s.name === undefined || s.nodes === undefined) throw new InvalidArgumentError('option sentinel needs name (the monitored master) and nodes (the sentinels)');
  if (o.nodes !== undefined || o.mode === 'cluster') throw new InvalidArgumentError('sentinel and cluster exclude each other: the sentinels name one master (drop nodes / mode)');
  if (o.mode === 'standalone') throw new InvalidArgumentError("sentinel and mode 'standalone' exclude each other: drop mode");
  if (o.path !== undefined) throw new InvalidArgumentError('sentinel discovery finds TCP addresses: drop the path option');
  const sentinelTls = s.tls === true ? {} : s.tls === false ? undefined : s.tls;
  const nodes = s.nodes.map((n) => {
    if (typeof n !== 'string') return { host: n.host, port: n.port };
    const u = parseUrl(n);
    if (u.tls && !sentinelTls) throw new InvalidArgumentError('a rediss:// sentinel needs TLS to every sentinel: set sentinel.tls (never a silent downgrade to plaintext)');
    return { host: u.host ?? '127.0.0.1', port: u.port ?? 26379 };
  });
  if (s.credentials !== undefined && (s.username !== undefined || s.password !== undefined)) {
    throw new InvalidArgumentError('sentinel.credentials replaces sentinel.username/password: give one or the other');
  }
  return { name: s.name, nodes, username: s.username, password: s.password, credentials: s.credentials, tls: sentinelTls, role: o.role ?? 'master', addressMap: s.addressMap };
}
