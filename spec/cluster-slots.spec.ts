/**
 * Hash slots (lib/commands/slot.ts) and the slot map (lib/topology/cluster/):
 * the slot we compute is the server's, for every kind of key we can send; the
 * map read from a real cluster routes every key to the master that serves it,
 * whatever the command (SHARDS or SLOTS), protocol and decoding; edge cases of
 * the replies that a small local cluster never shows are checked by hand.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ProtocolError, ServerError } from '../lib/errors.js';
import { crc16, keySlot, SLOT_COUNT } from '../lib/commands/slot.js';
import { Attributed, DECODE_BUFFERS, DECODE_MAPS, type Reply } from '../lib/resp/types.js';
import type { Arg } from '../lib/resp/encoder.js';
import { NO_SHARD, SlotMap, type ShardInput } from '../lib/topology/cluster/slot-map.js';
import { slotMapFromShards, slotMapFromSlots } from '../lib/topology/cluster/topology-reply.js';
import { useCluster } from './support/real-cluster.js';
import { NodeClient } from './support/redis-cluster.js';

const { cluster } = useCluster();
const clients: NodeClient[] = [];

afterAll(() => {
  for (const c of clients) c.close();
});

async function connect(port: number, protocol: 2 | 3): Promise<NodeClient> {
  const c = await NodeClient.connect(port, { protocol });
  clients.push(c);
  return c;
}

/** A small deterministic PRNG (mulberry32): the same keys on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomKeys(count: number): Arg[] {
  const r = rng(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const ascii = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('');
  const unicode = (n: number) =>
    Array.from({ length: n }, () =>
      pick([
        () => String.fromCharCode(0x80 + Math.floor(r() * 0x780)), // 2 bytes
        () => String.fromCharCode(0x800 + Math.floor(r() * 0xd000)), // 3 bytes (may be a lone surrogate)
        () => String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff)), // a surrogate pair, 4 bytes
        () => pick(['{', '}', 'a', 'é', '😀', '\ud800', '\udfff']),
      ])(),
    ).join('');
  const keys: Arg[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(r() * 12);
    switch (i % 8) {
      case 0:
        keys.push(ascii(n));
        break;
      case 1: // tags, empty tags, nested and unbalanced braces
        keys.push(pick(['', 'a', '{', '}', '{}', '{{', '}}']) + ascii(n % 4) + pick(['{', '}', '{}', '{{', '}}', '{x}']) + ascii(n % 5) + pick(['', '}', '{', '{y}']));
        break;
      case 2:
        keys.push(unicode(n));
        break;
      case 3:
        keys.push(ascii(n % 3) + '{' + unicode(n % 4) + '}' + unicode(n % 3));
        break;
      case 4: // binary, braces and invalid UTF-8 included
        keys.push(Buffer.from(Array.from({ length: n }, () => pick([0x7b, 0x7d, 0x00, 0xff, 0xc3, Math.floor(r() * 256)]))));
        break;
      case 5:
        keys.push(new Uint8Array(Array.from({ length: n }, () => pick([0x7b, 0x7d, Math.floor(r() * 256)]))));
        break;
      case 6:
        keys.push(pick([Math.floor(r() * 1e9), -Math.floor(r() * 1e6), r() * 1000 - 500, Infinity, -Infinity, -0, 1e21, 2 ** 53 + 2, 5e-324]));
        break;
      default:
        keys.push(pick([BigInt(Math.floor(r() * 1e9)) ** 3n, -(2n ** 70n), 0n]));
    }
  }
  return keys;
}

describe('keySlot', () => {
  it('is CRC16-XMODEM modulo 16384, as the cluster specification defines it', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('123456789')).toBe(0x31c3 % SLOT_COUNT);
    expect(crc16(Buffer.alloc(0))).toBe(0);
    expect(keySlot('')).toBe(0);
    // Slots the server gives for these keys (CLUSTER KEYSLOT).
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
  });

  it('applies the hash tag rule: first {, first } after it, non-empty content', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('{user1000}.followers')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot(Buffer.from('foo{}{bar}'))); // empty first tag: the whole key
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar')); // the tag is "{bar"
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar')); // only the first tag counts
    expect(keySlot('no{close')).toBe(crc16(Buffer.from('no{close')) % SLOT_COUNT);
    expect(keySlot('}{x}')).toBe(keySlot('x'));
  });

  it('hashes a key as the bytes it is sent as: strings as UTF-8, numbers as the encoder writes them', () => {
    for (const s of ['héllo', '{é}x', '😀', 'a\ud800b', '\udfff{\ud83d}', 'x{😀}y']) {
      expect(keySlot(s), JSON.stringify(s)).toBe(keySlot(Buffer.from(s, 'utf8')));
    }
    const bytes = Uint8Array.from([0x7b, 0xff, 0x7d, 0x00]);
    expect(keySlot(bytes)).toBe(keySlot(Buffer.from(bytes)));
    expect(keySlot(42)).toBe(keySlot('42'));
    expect(keySlot(-7)).toBe(keySlot('-7'));
    expect(keySlot(1.5)).toBe(keySlot('1.5'));
    expect(keySlot(-0)).toBe(keySlot('0'));
    expect(keySlot(Infinity)).toBe(keySlot('inf'));
    expect(keySlot(-Infinity)).toBe(keySlot('-inf'));
    expect(keySlot(2n ** 70n)).toBe(keySlot((2n ** 70n).toString()));
    expect(() => keySlot(NaN)).toThrow(InvalidArgumentError);
  });

  it("agrees with the server's CLUSTER KEYSLOT for hundreds of keys of every kind", async () => {
    const keys = randomKeys(600);
    const c = await connect(cluster.nodes[0]!.port, 2);
    const server = (await Promise.all(keys.map((k) => c.call('CLUSTER', 'KEYSLOT', k)))) as number[];
    const mismatches = keys.map((k, i) => [k, keySlot(k), server[i]] as const).filter(([, ours, theirs]) => ours !== theirs);
    expect(mismatches).toEqual([]);
  });
});

// ------------------------------------------------------------------ slot map from the real cluster

const FROM = { from: '127.0.0.1' };

/** Every decoding of a topology command's reply on one node: RESP2 and RESP3, strings or Buffers, maps as objects or Maps. */
async function replies(port: number, sub: 'SHARDS' | 'SLOTS'): Promise<Reply[]> {
  const out: Reply[] = [];
  for (const protocol of [2, 3] as const) {
    const c = await connect(port, protocol);
    for (const flags of [0, DECODE_BUFFERS, DECODE_MAPS, DECODE_BUFFERS | DECODE_MAPS]) out.push(await c.callWith(flags, 'CLUSTER', sub));
  }
  return out;
}

describe('slot map from the real cluster', () => {
  it('SHARDS and SLOTS, in every protocol and decoding, give the same map, and it is the cluster the harness built', async () => {
    const port = cluster.nodes[0]!.port;
    const maps = [
      ...(await replies(port, 'SHARDS')).map((r) => slotMapFromShards(r, FROM)),
      ...(await replies(port, 'SLOTS')).map((r) => slotMapFromSlots(r, FROM)),
    ];
    for (const m of maps) expect(m.fingerprint).toBe(maps[0]!.fingerprint);
    const map = maps[0]!;
    expect(map.coveredSlots).toBe(SLOT_COUNT);
    expect(map.shards).toHaveLength(3);
    const masters = cluster.masters();
    expect(map.nodes('master').map((n) => n.port).sort()).toEqual(masters.map((n) => n.port).sort());
    for (const shard of map.shards) {
      const master = cluster.node(shard.master.port);
      expect(shard.master).toMatchObject({ id: master.id, host: '127.0.0.1', role: 'master', address: `127.0.0.1:${master.port}` });
      expect(shard.replicas.map((r) => r.port)).toEqual(cluster.replicas(master.port).map((r) => r.port));
      expect(shard.replicas.every((r) => r.role === 'replica' && r.id !== '')).toBe(true);
    }
    // SHARDS says how the nodes are; SLOTS does not.
    expect(maps[0]!.nodes().every((n) => n.health === 'online')).toBe(true);
    expect(maps.at(-1)!.nodes().every((n) => n.health === undefined)).toBe(true);
  });

  it('routes every key to the master that serves it: no MOVED there, MOVED elsewhere', async () => {
    const map = slotMapFromShards(await cluster.call(cluster.nodes[0]!.port, 'CLUSTER', 'SHARDS'), FROM);
    const keys = randomKeys(200);
    const failures: string[] = [];
    await Promise.all(
      keys.map(async (key, i) => {
        const slot = keySlot(key);
        const owner = map.masterFor(slot)!;
        expect(map.replicasFor(slot)).toHaveLength(1);
        const other = map.nodes('master').find((n) => n !== owner)!;
        try {
          await cluster.call(owner.port, 'GET', key);
        } catch (err) {
          failures.push(`key #${i} at its owner: ${(err as Error).message}`);
        }
        const moved = await cluster.call(other.port, 'GET', key).catch((err: ServerError) => err.message);
        if (moved !== `MOVED ${slot} ${owner.address}`) failures.push(`key #${i} elsewhere: ${String(moved)}`);
      }),
    );
    expect(failures).toEqual([]);
  });

  it('a MOVED applied with withMoved gives the map a refresh reads after a real slot migration', async () => {
    const before = slotMapFromShards(await cluster.call(cluster.nodes[0]!.port, 'CLUSTER', 'SHARDS'), FROM);
    const slot = keySlot('{moving}');
    const from = before.masterFor(slot)!;
    const to = before.nodes('master').find((n) => n !== from)!;
    await cluster.moveSlot(slot, to.port);
    const after = slotMapFromShards(await cluster.call(cluster.nodes[0]!.port, 'CLUSTER', 'SHARDS'), FROM);
    expect(after.masterFor(slot)).toEqual(to);
    expect(after.equals(before)).toBe(false);
    const patched = before.withMoved(slot, to.host, to.port);
    expect(patched.equals(after)).toBe(true);
    expect(patched.shards).toHaveLength(before.shards.length);
    expect(before.masterFor(slot)).toBe(from); // immutable
    expect(patched.withMoved(slot, to.host, to.port)).toBe(patched);
    expect(after.ranges().length).toBe(before.ranges().length + 2); // one range split around the slot
  });

  it('after a failover both parsers agree: the promoted replica serves the slots, the dead master is gone', async () => {
    const before = slotMapFromSlots(await cluster.call(cluster.nodes[0]!.port, 'CLUSTER', 'SLOTS'), FROM);
    const victim = before.shards[0]!;
    const promotedPort = await cluster.failover(victim.master.port);
    const alive = cluster.nodes.find((n) => n.alive)!.port;
    const shards = slotMapFromShards(await cluster.call(alive, 'CLUSTER', 'SHARDS'), FROM);
    const slots = slotMapFromSlots(await cluster.call(alive, 'CLUSTER', 'SLOTS'), FROM);
    expect(shards.fingerprint).toBe(slots.fingerprint);
    expect(shards.masterFor(0)!.port).toBe(promotedPort);
    expect(shards.replicasFor(0)).toEqual([]);
    expect(shards.nodeAt('127.0.0.1', victim.master.port)).toBeUndefined();
    expect(shards.shards).toHaveLength(3);
    // The raw SHARDS reply still lists the dead master, as a slotless shard that is not online.
    const raw = (await cluster.call(alive, 'CLUSTER', 'SHARDS')) as Reply[][];
    const dead = raw.find((s) => (s[3] as Reply[][]).some((n) => n[1] === victim.master.id))!;
    expect(dead[1]).toEqual([]);
    expect((dead[3] as Reply[][])[0]).toContain('fail');
  });
});

// ------------------------------------------------------------------ hand-written replies

type Fields = Record<string, Reply>;
const node = (id: string, port: number, role: string, extra: Fields = {}): Fields => ({
  id,
  port,
  ip: '10.0.0.1',
  endpoint: '10.0.0.1',
  role,
  'replication-offset': 100,
  health: 'online',
  ...extra,
});
/** A RESP2 rendering of a RESP3 map: a flat key/value array. */
const flat = (f: Fields): Reply[] => Object.entries(f).flatMap(([k, v]) => [k, v]);
const shard = (slots: number[], nodes: Fields[]): Fields => ({ slots, nodes });

describe('slot map from hand-written CLUSTER SHARDS replies', () => {
  const threeShards = (): Fields[] => [
    shard([0, 5460], [node('a', 7000, 'master'), node('a1', 7003, 'replica')]),
    shard([5461, 10922], [node('b', 7001, 'master'), node('b1', 7004, 'replica')]),
    shard([10923, 16383], [node('c', 7002, 'master'), node('c1', 7005, 'replica')]),
  ];

  it('reads RESP3 maps and RESP2 flat arrays alike', () => {
    const resp3 = slotMapFromShards(threeShards(), FROM);
    const resp2 = slotMapFromShards(
      threeShards().map((s) => flat({ slots: s.slots!, nodes: (s.nodes as Fields[]).map(flat) })),
      FROM,
    );
    expect(resp2.fingerprint).toBe(resp3.fingerprint);
    expect(resp3.masterFor(5461)).toMatchObject({ id: 'b', host: '10.0.0.1', port: 7001, role: 'master', health: 'online' });
    expect(resp3.replicasFor(16383).map((n) => n.id)).toEqual(['c1']);
    expect(resp3.shardIndex(10923)).toBe(2);
  });

  it('leaves unassigned slots without an owner', () => {
    const map = slotMapFromShards([shard([0, 99, 200, 299], [node('a', 7000, 'master')])], FROM);
    expect(map.coveredSlots).toBe(200);
    expect(map.masterFor(150)).toBeUndefined();
    expect(map.shardIndex(150)).toBe(NO_SHARD);
    expect(map.replicasFor(150)).toEqual([]);
    expect(map.masterFor(299)!.id).toBe('a');
    expect(map.ranges()).toEqual([
      { start: 0, end: 99, shard: 0 },
      { start: 200, end: 299, shard: 0 },
    ]);
    expect(SlotMap.EMPTY.coveredSlots).toBe(0);
    expect(SlotMap.EMPTY.masterFor(0)).toBeUndefined();
  });

  it('leaves out replicas that are not online, and dead slotless masters, but keeps a failing master that owns slots', () => {
    const map = slotMapFromShards(
      [
        shard([0, 8191], [node('a', 7000, 'master', { health: 'fail' }), node('a1', 7003, 'replica', { health: 'loading' })]),
        shard([8192, 16383], [node('b', 7001, 'master'), node('b1', 7004, 'replica', { health: 'failed' }), node('b2', 7005, 'replica')]),
        shard([], [node('old', 7006, 'master', { health: 'fail' })]),
        shard([], [node('new', 7007, 'master'), node('new1', 7008, 'replica')]),
      ],
      FROM,
    );
    expect(map.masterFor(0)!.id).toBe('a');
    expect(map.replicasFor(0)).toEqual([]);
    expect(map.replicasFor(8192).map((n) => n.id)).toEqual(['b2']);
    expect(map.nodes().map((n) => n.id)).toEqual(['a', 'b', 'new', 'b2', 'new1']);
    expect(map.nodes('master').map((n) => n.id)).toEqual(['a', 'b', 'new']);
  });

  it('chooses the host: the endpoint; the responding host for an empty one; nothing for "?"', () => {
    const map = slotMapFromShards(
      [
        shard([0, 99], [node('a', 7000, 'master', { endpoint: 'redis-a.example', hostname: 'redis-a.example' })]),
        shard([100, 199], [node('b', 7001, 'master', { endpoint: '', ip: '' }), node('b1', 7004, 'replica', { endpoint: '' })]),
        shard([200, 299], [node('c', 7002, 'master', { endpoint: '?' })]),
        shard([300, 399], [node('d', 7003, 'master'), node('d1', 7005, 'replica', { endpoint: '?' })]),
      ],
      { from: 'lb.example' },
    );
    expect(map.masterFor(0)!.host).toBe('redis-a.example');
    expect(map.masterFor(100)!.address).toBe('lb.example:7001');
    expect(map.replicasFor(100).map((n) => n.address)).toEqual(['lb.example:7004']);
    expect(map.masterFor(200)).toBeUndefined(); // its only master is an unknown node
    expect(map.replicasFor(300)).toEqual([]);
    // No endpoint field at all (not Redis 7's shape): ip, then hostname.
    const bare = (extra: Fields) => {
      const n = node('x', 7000, 'master', extra);
      delete n.endpoint;
      return slotMapFromShards([shard([0, 0], [n])], FROM).masterFor(0)?.host;
    };
    expect(bare({})).toBe('10.0.0.1');
    expect(bare({ ip: '?', hostname: 'h.example' })).toBe('h.example');
  });

  it('uses the TLS port for a TLS client, and skips nodes without a port for the transport', () => {
    const reply = [
      shard([0, 99], [node('a', 7000, 'master', { 'tls-port': 8000 })]),
      shard([100, 199], [{ ...node('b', 0, 'master', { 'tls-port': 8001 }), port: null }]),
    ];
    const tls = slotMapFromShards(reply, { from: 'x', tls: true });
    expect(tls.masterFor(0)).toMatchObject({ port: 8000, tlsPort: 8000 });
    expect(tls.masterFor(100)!.port).toBe(8001);
    const plain = slotMapFromShards(reply, FROM);
    expect(plain.masterFor(0)).toMatchObject({ port: 7000, tlsPort: 8000 });
    expect(plain.masterFor(100)).toBeUndefined();
  });

  it('accepts slots as decimal strings, Buffers everywhere and attribute-wrapped values', () => {
    const map = slotMapFromShards(
      [
        new Map<Reply, Reply>([
          [Buffer.from('slots'), ['0', Buffer.from('16383')]],
          [Buffer.from('nodes'), [new Attributed(flat(node('a', 7000, 'master')).map((v) => (typeof v === 'string' ? Buffer.from(v) : v)), {})]],
        ]),
      ],
      FROM,
    );
    expect(map.coveredSlots).toBe(SLOT_COUNT);
    expect(map.masterFor(42)).toMatchObject({ id: 'a', host: '10.0.0.1', port: 7000 });
  });

  it('refuses a reply that is not the documented shape with a ProtocolError naming the command and node', () => {
    const bad: Reply[] = [
      'OK',
      [42],
      [shard([0, 16384], [node('a', 7000, 'master')])],
      [shard([5], [node('a', 7000, 'master')])],
      [{ slots: [0, 1], nodes: ['not a node'] }],
      [{ slots: [0, 1] }],
    ];
    for (const reply of bad) {
      let err: unknown;
      try {
        slotMapFromShards(reply, FROM);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(reply)).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).command).toBe('CLUSTER SHARDS');
      expect((err as ProtocolError).node).toBe('127.0.0.1');
    }
  });
});

describe('slot map from hand-written CLUSTER SLOTS replies', () => {
  it('merges the ranges of one master into one shard, with or without node ids and metadata', () => {
    const resp2 = [
      [0, 99, ['10.0.0.1', 7000, 'a', []], ['10.0.0.2', 7003, 'a1', []]],
      [100, 199, ['10.0.0.1', 7001, 'b', []]],
      [200, 299, ['10.0.0.1', 7000, 'a', []], ['10.0.0.2', 7003, 'a1', []]],
    ];
    const map = slotMapFromSlots(resp2, FROM);
    expect(map.shards).toHaveLength(2);
    expect(map.ranges()).toEqual([
      { start: 0, end: 99, shard: 0 },
      { start: 100, end: 199, shard: 1 },
      { start: 200, end: 299, shard: 0 },
    ]);
    expect(map.replicasFor(250).map((n) => n.address)).toEqual(['10.0.0.2:7003']);
    // Redis 3 (no ids) and 4-6 (no metadata): the same routing.
    const old = slotMapFromSlots(
      [
        [0, 99, ['10.0.0.1', 7000], ['10.0.0.2', 7003]],
        [100, 199, ['10.0.0.1', 7001]],
        [200, 299, ['10.0.0.1', 7000], ['10.0.0.2', 7003]],
      ],
      FROM,
    );
    expect(old.ranges()).toEqual(map.ranges());
    expect(old.masterFor(0)!.id).toBe('');
    expect(old.equals(map)).toBe(false); // ids are part of identity
  });

  it('uses the responding host for a null or empty endpoint, and skips "?"', () => {
    const map = slotMapFromSlots(
      [
        [0, 99, [null, 7000, 'a', { ip: '10.0.0.1' }]],
        [100, 199, ['', 7001, 'b', new Map()]],
        [200, 299, ['?', 7002, 'c', flat({ ip: '10.0.0.3' })]],
        [300, 399, ['redis-d.example', 7003, 'd', { ip: '10.0.0.4', hostname: 'redis-d.example' }], ['?', 7004, 'd1', {}]],
      ],
      { from: 'lb.example' },
    );
    expect(map.masterFor(0)!.address).toBe('lb.example:7000');
    expect(map.masterFor(100)!.address).toBe('lb.example:7001');
    expect(map.masterFor(200)).toBeUndefined();
    expect(map.masterFor(300)!.address).toBe('redis-d.example:7003');
    expect(map.replicasFor(300)).toEqual([]);
  });

  it('refuses a reply that is not the documented shape', () => {
    for (const reply of ['OK', [[0, 99]], [[0, 99, 'x']], [[99, 0, ['h', 1]]], [[0, 1e6, ['h', 1]]]] as Reply[]) {
      expect(() => slotMapFromSlots(reply, FROM), JSON.stringify(reply)).toThrow(ProtocolError);
    }
  });
});

describe('SlotMap', () => {
  const input = (): ShardInput[] => [
    { master: { id: 'b', host: 'h', port: 2 }, replicas: [{ id: 'b2', host: 'h', port: 22 }, { id: 'b1', host: 'h', port: 21 }], slots: [[8192, 16383]] },
    { master: { id: 'a', host: 'h', port: 1 }, replicas: [{ id: 'a1', host: 'h', port: 11 }], slots: [[0, 8191]] },
  ];

  it('is canonical: shards by lowest slot, replicas by address; the same cluster in any order is equal', () => {
    const map = SlotMap.build(input());
    expect(map.shards.map((s) => s.master.id)).toEqual(['a', 'b']);
    expect(map.replicasFor(9000).map((n) => n.id)).toEqual(['b1', 'b2']);
    expect(SlotMap.build(input().reverse()).equals(map)).toBe(true);
    const changed = input();
    changed[0]!.replicas = [{ id: 'b1', host: 'h', port: 21 }];
    expect(SlotMap.build(changed).equals(map)).toBe(false);
  });

  it('is immutable', () => {
    const map = SlotMap.build(input());
    expect(Object.isFrozen(map.shards)).toBe(true);
    expect(Object.isFrozen(map.shards[0])).toBe(true);
    expect(Object.isFrozen(map.shards[0]!.replicas)).toBe(true);
    expect(Object.isFrozen(map.masterFor(0))).toBe(true);
    expect(Object.isFrozen(map.nodes())).toBe(true);
  });

  it('withMoved points one slot at a known master, or at a new shard for an unknown address', () => {
    const map = SlotMap.build(input());
    const toKnown = map.withMoved(5, 'h', 2);
    expect(toKnown.masterFor(5)!.id).toBe('b');
    expect(toKnown.masterFor(4)!.id).toBe('a');
    expect(toKnown.shards).toEqual(map.shards);
    expect(toKnown.replicasFor(5).map((n) => n.id)).toEqual(['b1', 'b2']);
    // A replica just promoted: a new shard, with the id the map knew.
    const toReplica = map.withMoved(5, 'h', 11);
    expect(toReplica.shards).toHaveLength(3);
    expect(toReplica.masterFor(5)).toMatchObject({ id: 'a1', address: 'h:11', role: 'master' });
    expect(toReplica.replicasFor(5)).toEqual([]);
    expect(toReplica.shardIndex(6)).toBe(0);
    // Further MOVEDs to that address reuse its shard.
    expect(toReplica.withMoved(6, 'h', 11).shards).toHaveLength(3);
    const unknown = map.withMoved(16383, 'elsewhere', 6000);
    expect(unknown.masterFor(16383)).toMatchObject({ id: '', address: 'elsewhere:6000' });
    expect(() => map.withMoved(SLOT_COUNT, 'h', 1)).toThrow(InvalidArgumentError);
    expect(() => map.withMoved(0, '', 1)).toThrow(InvalidArgumentError);
  });

  it('merges shards of one master, dedupes replicas, and gives a slot claimed twice to the later claim', () => {
    const map = SlotMap.build([
      { master: { host: 'h', port: 1 }, replicas: [{ host: 'h', port: 11 }], slots: [[0, 10]] },
      { master: { host: 'h', port: 2 }, slots: [[5, 20]] },
      { master: { host: 'h', port: 1 }, replicas: [{ host: 'h', port: 11 }, { host: 'h', port: 1 }], slots: [[30, 40]] },
    ]);
    expect(map.shards).toHaveLength(2);
    expect(map.masterFor(4)!.port).toBe(1);
    expect(map.masterFor(5)!.port).toBe(2);
    expect(map.masterFor(35)!.port).toBe(1);
    expect(map.replicasFor(35).map((n) => n.port)).toEqual([11]);
    expect(map.nodes().map((n) => n.port)).toEqual([1, 2, 11]);
    expect(() => SlotMap.build([{ master: { host: 'h', port: 0 }, slots: [] }])).toThrow(InvalidArgumentError);
    expect(() => SlotMap.build([{ master: { host: 'h', port: 1 }, slots: [[3, 2]] }])).toThrow(InvalidArgumentError);
  });
});
