/**
 * Sentinel discovery (lib/topology/sentinel/): asking sentinels for the
 * master or a healthy replica, against a real deployment (a master, two
 * replicas, three sentinels; the sentinels behind their own ACL user, the
 * data nodes behind their own password), plus the reply parsing and replica
 * choice on hand-made replies.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../lib/connection/socket.js';
import { ClosedError, ConnectError, InvalidArgumentError, ProtocolError } from '../lib/errors.js';
import { SentinelDiscovery, type SentinelDiscoveryOptions } from '../lib/topology/sentinel/discovery.js';
import { healthyReplicas, parseInstances, parseMasterAddress, pickReplica, type Instance } from '../lib/topology/sentinel/replies.js';
import { FaultProxy } from './support/fault-proxy.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { freePort } from './support/redis-server.js';
import { within } from './support/until.js';

const SENTINEL_USER = { username: 'watcher', password: 'sentinel-secret-7Qx' };
const DATA_AUTH = { password: 'data-secret-9Zk' };

let sentinels: RedisSentinels;
const open: SentinelDiscovery[] = [];

beforeAll(async () => {
  sentinels = await startSentinels({ replicas: 2, auth: { sentinel: SENTINEL_USER, data: DATA_AUTH } });
});
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
  await sentinels?.stop();
});

const endpoints = (ports: readonly number[] = sentinels.sentinelPorts): Endpoint[] => ports.map((port) => ({ host: '127.0.0.1', port }));

function discovery(o: Partial<SentinelDiscoveryOptions> = {}): SentinelDiscovery {
  const d = new SentinelDiscovery({
    name: 'mymaster',
    nodes: endpoints(),
    ...SENTINEL_USER,
    connectTimeout: 2000,
    commandTimeout: 2000,
    ...o,
  });
  open.push(d);
  return d;
}

const masterNode = () => sentinels.nodes.find((n) => n.role === 'master')!.port;
const ports = (list: Endpoint[]) => list.map((e) => e.port);

/** Everything an error would show anyone: message, stack, causes, aggregated errors. */
const everything = (err: unknown) => inspect(err, { depth: 20 }) + String((err as Error)?.stack);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Wait until every sentinel describes the replica on `port` so that `ok` holds. */
async function untilSentinelsSee(port: number, ok: (r: Record<string, string>) => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const views = await Promise.all(
      sentinels.sentinelPorts.map(async (s) => parseInstances(await sentinels.sentinelCall(s, 'SENTINEL', 'REPLICAS', 'mymaster')).find((r) => Number(r.port) === port)),
    );
    if (views.every((v) => v !== undefined && ok(v))) return;
    if (Date.now() > deadline) throw new Error(`sentinels did not come to see ${port} as expected: ${JSON.stringify(views)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Break (or mend) a replica's link to its master while the replica itself stays up. */
async function breakLink(port: number): Promise<void> {
  await sentinels.call(port, 'CONFIG', 'SET', 'masterauth', 'not-the-password');
  await sentinels.call(port, 'CLIENT', 'KILL', 'TYPE', 'master');
}
async function mendLink(port: number): Promise<void> {
  await sentinels.call(port, 'CONFIG', 'SET', 'masterauth', DATA_AUTH.password);
}

// ---------------------------------------------------------------- replies, without a server

const replica = (port: number, fields: Instance = {}): Instance => ({
  ip: '10.0.0.1',
  port: String(port),
  flags: 'slave',
  'role-reported': 'slave',
  'master-link-down-time': '0',
  'master-link-status': 'ok',
  'master-host': '10.0.0.9',
  'master-port': '6379',
  'slave-repl-offset': '1000',
  ...fields,
});

describe('sentinel replies', () => {
  it('reads the master address, null for an unknown name, and refuses anything else', () => {
    expect(parseMasterAddress(['127.0.0.1', '6380'])).toEqual({ host: '127.0.0.1', port: 6380 });
    expect(parseMasterAddress(null)).toBeNull();
    for (const bad of [[], ['h'], ['h', 'x'], ['h', '0'], ['h', '70000'], ['', '1'], 'OK', 5]) {
      expect(() => parseMasterAddress(bad as never)).toThrow(ProtocolError);
    }
  });

  it('reads instances from RESP3 maps (objects or Maps) and RESP2 flat arrays alike', () => {
    const flat = ['ip', '10.0.0.1', 'port', '6380', 'flags', 'slave'];
    const obj = Object.assign(Object.create(null), { ip: '10.0.0.1', port: '6380', flags: 'slave' });
    const map = new Map([['ip', '10.0.0.1'], ['port', '6380'], ['flags', 'slave']]);
    const want = { ip: '10.0.0.1', port: '6380', flags: 'slave' };
    expect(parseInstances([flat, obj, map as never]).map((r) => ({ ...r }))).toEqual([want, want, want]);
    expect(() => parseInstances('x')).toThrow(ProtocolError);
    expect(() => parseInstances([5])).toThrow(ProtocolError);
  });

  it('a healthy replica is up, a replica, linked to the current master', () => {
    const master = { host: '10.0.0.9', port: 6379 };
    const entries = [
      replica(1),
      replica(2, { flags: 's_down,slave' }),
      replica(3, { flags: 'slave,o_down' }),
      replica(4, { flags: 'slave,disconnected' }),
      replica(5, { 'master-link-status': 'err' }),
      replica(6, { 'master-link-down-time': '3000' }),
      replica(7, { 'role-reported': 'master' }),
      replica(8, { 'master-port': '6390' }), // still replicating a demoted master
      replica(9, { 'master-host': '10.0.0.8' }),
      replica(10, { port: 'nope' }),
      replica(11, { flags: 'slave,promoted' }),
    ];
    expect(healthyReplicas(entries, master).map((r) => r.port)).toEqual([1, 11]);
    // Without a known master, the master fields are not checked.
    expect(healthyReplicas(entries).map((r) => r.port)).toEqual([1, 8, 9, 11]);
  });

  it('a master named by hostname (announce-hostnames) is matched by port: replicas report the IP they were sent', () => {
    const master = { host: 'redis-0.redis.svc', port: 6379 };
    const entries = [
      replica(1, { 'master-host': '10.0.0.9' }), // the resolved IP: cannot be told apart from the name, the port matches
      replica(2, { 'master-host': '10.0.0.9', 'master-port': '6390' }),
      replica(3, { 'master-host': 'redis-0.redis.svc' }),
      replica(4, { 'master-host': 'redis-1.redis.svc' }), // another name: another master
    ];
    expect(healthyReplicas(entries, master).map((r) => r.port)).toEqual([1, 3]);
  });

  it('picks at random among the replicas in the best lag bucket', () => {
    const c = [
      { host: 'a', port: 1, offset: 10_000_000 },
      { host: 'b', port: 2, offset: 9_500_000 },
      { host: 'c', port: 3, offset: 2_000_000 }, // far behind
    ];
    const picks = new Set([0, 0.49, 0.5, 0.99].map((x) => pickReplica(c, 1024 * 1024, () => x)!.port));
    expect(picks).toEqual(new Set([1, 2]));
    expect(pickReplica(c, 100, () => 0.99)!.port).toBe(1);
    expect(pickReplica([], 100)).toBeUndefined();
  });
});

describe('SentinelDiscovery options', () => {
  it('refuses a missing name, no sentinels and unbounded timeouts', () => {
    const base = { name: 'm', nodes: [{ host: 'h', port: 1 }], connectTimeout: 1, commandTimeout: 1 };
    expect(() => new SentinelDiscovery({ ...base, name: '' })).toThrow(InvalidArgumentError);
    expect(() => new SentinelDiscovery({ ...base, nodes: [] })).toThrow(InvalidArgumentError);
    expect(() => new SentinelDiscovery({ ...base, nodes: [{ host: 'h', port: 0 }] })).toThrow(/host, port/);
    expect(() => new SentinelDiscovery({ ...base, replicaLagBucket: -1 })).toThrow(/replicaLagBucket/);
    expect(() => new SentinelDiscovery({ ...base, commandTimeout: 0 })).toThrow(/commandTimeout/);
    expect(() => new SentinelDiscovery({ ...base, connectTimeout: Infinity })).toThrow(/connectTimeout/);
  });
});

// ---------------------------------------------------------------- against sentinels

describe('master()', () => {
  it("returns the master's address; the first sentinel answered, so the order stays", async () => {
    const d = discovery();
    expect(await d.master()).toEqual({ host: '127.0.0.1', port: masterNode() });
    expect(ports(d.sentinels())).toEqual(sentinels.sentinelPorts);
    const found = await d.discover('master');
    expect(found).toMatchObject({ role: 'master', sentinel: { port: sentinels.sentinelPorts[0] } });
  });

  it('learns the other sentinels from the one that answered (unless told not to)', async () => {
    const [first] = sentinels.sentinelPorts;
    const d = discovery({ nodes: endpoints([first!]) });
    await d.master();
    expect(ports(d.sentinels()).sort()).toEqual([...sentinels.sentinelPorts].sort());
    expect(d.sentinels()[0]!.port).toBe(first);
    const fixed = discovery({ nodes: endpoints([first!]), learnSentinels: false });
    await fixed.master();
    expect(ports(fixed.sentinels())).toEqual([first]);
  });

  it('skips a dead first sentinel; the one that answered moves to the front', async () => {
    const [s0, s1, s2] = sentinels.sentinelPorts;
    const d = discovery();
    await d.master(); // a cached connection to s0, which is about to die
    await sentinels.killSentinel(s0!);
    try {
      expect(await d.master()).toEqual({ host: '127.0.0.1', port: masterNode() });
      expect(ports(d.sentinels())).toEqual([s1, s0, s2]);
      // A fresh discovery, never connected to s0, too.
      const fresh = discovery();
      expect(await fresh.master()).toEqual({ host: '127.0.0.1', port: masterNode() });
      expect(ports(fresh.sentinels())).toEqual([s1, s0, s2]);
    } finally {
      await sentinels.restartSentinel(s0!);
    }
  });

  it('a kept connection found dead gets one fresh try before the sentinel counts as failed', async () => {
    const proxy = await FaultProxy.start(sentinels.sentinelPorts[1]!);
    try {
      const d = discovery({ nodes: endpoints([proxy.port]), learnSentinels: false });
      await d.master();
      // Cut in the same tick as the next question: it is written on a connection that is already gone.
      proxy.cutAll();
      expect(await d.master()).toEqual({ host: '127.0.0.1', port: masterNode() });
      expect(proxy.accepted).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('every sentinel failing is a ConnectError saying how each failed, in bounded time', async () => {
    const refused = await freePort();
    // Accepts connections and never answers: only the timeout ends it.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const d = discovery({ nodes: endpoints([refused, silentPort]), connectTimeout: 300, commandTimeout: 300 });
      // Bounded: the silent one by its 300 ms deadlines; a question that outlived them would hang (within()).
      const err = await within('every sentinel failing', failure(d.master()));
      expect(err).toBeInstanceOf(ConnectError);
      expect(err.message).toContain(`127.0.0.1:${refused}: could not connect (ECONNREFUSED)`);
      expect(err.message).toContain(`127.0.0.1:${silentPort}: no connection in time (connect or handshake)`);
      expect((err.cause as AggregateError).errors).toHaveLength(2);
    } finally {
      silent.close();
    }
  });

  it('a wrong sentinel password is a ConnectError that names the refusal, never the password', async () => {
    const wrong = 'not-the-sentinel-password-4Tw';
    const d = discovery({ password: wrong });
    const err = await failure(d.master());
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.message).toMatch(/WRONGPASS/);
    for (const p of sentinels.sentinelPorts) expect(err.message).toContain(`127.0.0.1:${p}`);
    const shown = everything(err);
    for (const secret of [wrong, SENTINEL_USER.password, DATA_AUTH.password]) expect(shown).not.toContain(secret);
    // The data nodes' password is not the sentinels': with it, the sentinels refuse too.
    const swapped = await failure(discovery({ username: undefined, password: DATA_AUTH.password }).master());
    expect(swapped).toBeInstanceOf(ConnectError);
    expect(everything(swapped)).not.toContain(DATA_AUTH.password);
  });

  it('an unknown master name is a clear ConnectError', async () => {
    const d = discovery({ name: 'no-such-master' });
    const err = await failure(d.master());
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.message).toMatch(/^no sentinel knows a master named 'no-such-master' .*check the name/);
    const viaReplica = await failure(d.replica());
    expect(viaReplica.message).toMatch(/^no sentinel knows a master named 'no-such-master'/);
  });

  it('concurrent calls share one round of questions', async () => {
    const d = discovery();
    const [a, b] = [d.discover('master'), d.discover('master')];
    expect(a).toBe(b);
    expect((await a).endpoint.port).toBe(masterNode());
  });

  it('after close(), discovery rejects with ClosedError', async () => {
    const d = discovery();
    await d.master();
    await d.close();
    await expect(d.master()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('replica()', () => {
  it('returns a healthy replica, spread across both', async () => {
    const d = discovery();
    const replicaPorts = sentinels.replicas().map((n) => n.port);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const found = await d.discover('replica');
      expect(found.role).toBe('replica');
      expect(replicaPorts).toContain(found.endpoint.port);
      seen.add(found.endpoint.port);
    }
    expect(seen).toEqual(new Set(replicaPorts)); // both chosen: 2 * 2^-40 odds of a false failure
  });

  it('never returns a replica whose link to the master is down', async () => {
    const [broken, good] = sentinels.replicas().map((n) => n.port);
    await breakLink(broken!);
    try {
      await untilSentinelsSee(broken!, (r) => r['master-link-status'] === 'err' && r.flags === 'slave');
      const d = discovery();
      for (let i = 0; i < 20; i++) expect(await d.replica()).toEqual({ host: '127.0.0.1', port: good });
    } finally {
      await mendLink(broken!);
      await untilSentinelsSee(broken!, (r) => r['master-link-status'] === 'ok');
    }
  });

  it('falls back to the master when no replica is healthy', async () => {
    const replicaPorts = sentinels.replicas().map((n) => n.port);
    for (const p of replicaPorts) await breakLink(p);
    try {
      for (const p of replicaPorts) await untilSentinelsSee(p, (r) => r['master-link-status'] === 'err');
      const found = await discovery().discover('replica');
      expect(found).toMatchObject({ role: 'master', endpoint: { host: '127.0.0.1', port: masterNode() } });
    } finally {
      for (const p of replicaPorts) await mendLink(p);
      for (const p of replicaPorts) await untilSentinelsSee(p, (r) => r['master-link-status'] === 'ok');
    }
  });

  it('never returns a replica the sentinels see down', async () => {
    const [dead, alive] = sentinels.replicas().map((n) => n.port);
    await sentinels.killNode(dead!);
    try {
      await untilSentinelsSee(dead!, (r) => /s_down|disconnected/.test(r.flags!));
      const d = discovery();
      // The live replica, or the master when the sentinels see that one unhealthy for a moment too (a loaded machine:
      // CI once got the master here): never the dead one.
      const master = (await d.master()).port;
      for (let i = 0; i < 20; i++) expect([alive, master]).toContain((await d.replica()).port);
    } finally {
      await sentinels.restartNode(dead!);
    }
  });
});

describe('after a failover', () => {
  it('master() returns the new master, replica() a replica of it (the old master included)', async () => {
    const d = discovery();
    const before = await d.master();
    const s = await sentinels.failover();
    expect(before.port).toBe(s.from);
    expect(await d.master()).toEqual({ host: '127.0.0.1', port: s.to });
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) seen.add((await d.replica()).port);
    expect(seen).toEqual(new Set(sentinels.nodes.filter((n) => n.port !== s.to).map((n) => n.port)));
    expect(seen.has(s.from)).toBe(true);
  });
});
