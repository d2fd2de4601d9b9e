/**
 * `cluster.addressMap` and `sentinel.addressMap`: where to connect for a node
 * announced by an address the client cannot reach. Behind Docker, Kubernetes
 * or NAT the slot map and every MOVED / ASK (or the sentinels' answers and
 * `+switch-master`) name in-network addresses (`172.18.0.3:6379`,
 * `redis-2.redis:6379`); the map turns each into one the client can reach.
 *
 * - A table `{ 'announced-host:port': { host, port } }` (IPv6 hosts in
 *   brackets, as the client writes addresses), or a function of the announced
 *   `{ host, port }` answering `{ host, port }`, or undefined to connect to the
 *   announced address as it is.
 * - Asked before every connection to that node (its shared connection, its
 *   leases, its pub/sub), so a function may change its answer over time.
 * - The node keeps its announced address everywhere else: `redis.nodes()`,
 *   `stats().nodes`, the slot map. Errors name the address connected to.
 * - A function that throws or answers something that is not `{ host, port }`
 *   fails that node's waiting commands with a `ConnectError` whose cause says
 *   so: never sent, and the other nodes are not affected.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Endpoint } from '../connection/socket.js';
import { ConnectError, InvalidArgumentError } from '../errors.js';

export interface NodeAddress {
  host: string;
  port: number;
}

export type AddressMap = Readonly<Record<string, NodeAddress>> | ((announced: NodeAddress) => NodeAddress | undefined);

const PORT_MAX = 65535;

function isPort(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) > 0 && (v as number) <= PORT_MAX;
}

/** Whether `v` is an object with a usable `host` (non-empty) and `port` (1-65535), whatever else it holds. */
export function hasHostAndPort(v: unknown): v is NodeAddress {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.host === 'string' && o.host !== '' && isPort(o.port);
}

/** Whether `v` is exactly `{ host, port }` with a usable host and port (nothing else: TLS and the rest are set once for every node). */
function isAddress(v: unknown): v is NodeAddress {
  return hasHostAndPort(v) && Object.keys(v).every((k) => k === 'host' || k === 'port');
}

/** `host:port` as the client writes addresses: IPv6 hosts in brackets. */
export function addressKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The option's check, for the options schema: throws InvalidArgumentError naming `name` and what to write instead. */
export function checkAddressMap(v: unknown, name: string): void {
  if (typeof v === 'function') return;
  const shape = `a function ({ host, port }) => ({ host, port }) | undefined, or an object { 'announced-host:port': { host, port } }`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`option ${name} must be ${shape}`);
  for (const [key, to] of Object.entries(v)) {
    const colon = key.lastIndexOf(':');
    const host = key.slice(0, Math.max(0, colon));
    // An IPv6 host without brackets ('::1:7000') could never match: nodes are looked up as '[::1]:7000'.
    const unbracketed = host.includes(':') && !(host.startsWith('[') && host.endsWith(']'));
    if (colon <= 0 || unbracketed || !isPort(Number(key.slice(colon + 1))) || !/^\d+$/.test(key.slice(colon + 1))) {
      throw new InvalidArgumentError(`option ${name} has the key '${key}', which is not host:port (write IPv6 hosts in brackets: '[::1]:7000')`);
    }
    if (!isAddress(to)) throw new InvalidArgumentError(`option ${name}['${key}'] must be { host, port } (a non-empty host, a port 1-${PORT_MAX}, nothing else)`);
  }
}

/**
 * Where to connect for the node announced as `host:port`: the map's answer,
 * or the announced address when it has none. Throws ConnectError (with the
 * function's error or the bad answer as cause) when a function fails or a
 * table entry is not an address (a table the caller changed after the option
 * check); `option` is the option's name, for those messages.
 */
export function mapAddress(map: AddressMap, host: string, port: number, option = 'cluster.addressMap'): NodeAddress {
  const node = addressKey(host, port);
  const source = typeof map === 'function' ? `the ${option} function` : `the ${option} entry`;
  let to: NodeAddress | undefined;
  try {
    const answer: unknown = typeof map === 'function' ? map({ host, port }) : Object.hasOwn(map, node) ? map[node] : undefined;
    if (answer === undefined) return { host, port };
    to = plainAddress(answer);
  } catch (err) {
    throw new ConnectError(`${source} failed for ${node}; see the cause`, { node, cause: err });
  }
  if (to === undefined) {
    const cause = new InvalidArgumentError(`${option} must answer { host, port } (a non-empty host, a port 1-65535) or undefined`);
    throw new ConnectError(`${source} gave something that is not an address for ${node}`, { node, cause });
  }
  return to;
}

/**
 * `v` as a fresh `{ host, port }` if it is exactly an address, else
 * undefined. Each property is read once: a getter or a Proxy cannot answer
 * one thing to the check and another to the socket (its throws reach the caller).
 */
function plainAddress(v: unknown): NodeAddress | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  const o = v as Record<string, unknown>;
  const to = { host: o.host, port: o.port };
  return isAddress(to) && keys.every((k) => k === 'host' || k === 'port') ? to : undefined;
}

/**
 * Where to dial for an endpoint a MOVING maintenance push announced (a node
 * moving its connections names an in-network address too): mapped like a
 * node's announced address, its certificate checked against the announced one.
 */
export function movedLocator(map: AddressMap, option = 'cluster.addressMap'): (announced: Endpoint) => Endpoint {
  return (announced) => mappedEndpoint(announced, announced, mapAddress(map, announced.host, announced.port, option));
}

/**
 * What to dial for a node announced as `announced` that the map sends to
 * `to`. With TLS the certificate is checked against the announced address,
 * the node's identity (what its certificate names), not the address the map
 * points at (a NAT address, a port forward), which would fail every
 * properly issued certificate and push users to turn checking off. Your own
 * `tls.servername` or `checkServerIdentity` wins.
 */
export function mappedEndpoint(base: Endpoint, announced: NodeAddress, to: NodeAddress): Endpoint {
  const endpoint: Endpoint = { ...base, host: to.host, port: to.port, path: undefined };
  const t = base.tls;
  if (t === undefined || to.host === announced.host || t.servername !== undefined || t.checkServerIdentity !== undefined) return endpoint;
  const name = announced.host;
  // SNI carries host names only; an announced IP is checked against the certificate's IP addresses.
  const sni = net.isIP(name) === 0 ? { servername: name } : {};
  return { ...endpoint, tls: { ...t, ...sni, checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert) } };
}
