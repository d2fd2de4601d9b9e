/**
 * An AbortError { sent: true } names the node the command may have run on
 * (`node`), so the caller knows where to look. A split command (MSET, DEL...
 * across slots) or a fanned-out one (DBSIZE) aborted after its parts were
 * written named none: `node` undefined, the message silent on where. Now
 * `nodes` lists the nodes its written parts went to, `node` is that node
 * when there is one, and the message says how many parts were written and
 * where; never a key or a value.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { AbortError } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 10_000 }, { start: { replicasPerMaster: 0 } });

/** `count` keys owned by the master on `port`, each in a slot of its own. */
async function keysOn(port: number, count: number, tag: string): Promise<string[]> {
  const keys: string[] = [];
  const slots = new Set<number>();
  for (let i = 0; keys.length < count; i++) {
    const key = `ab:${tag}:${i}`;
    const slot = keySlot(key);
    if (slots.has(slot) || (await cluster.ownerOf(slot)) !== port) continue;
    slots.add(slot);
    keys.push(key);
  }
  return keys;
}

const SECRET = 'value-that-must-not-leak';
const address = (port: number) => `127.0.0.1:${port}`;
type WithNodes = AbortError & { nodes?: string[] };

describe('an aborted split or fanned-out command says where its written parts went', () => {
  it('parts on every master: nodes lists them, node is unset, the message names them and no key or value', async () => {
    const redis = client();
    const ports = cluster.masters().map((m) => m.port);
    const keys = (await Promise.all(ports.map((p, i) => keysOn(p, 2, `all${i}`)))).flat();
    await redis.db.reply('MGET', ...keys); // every master's connection is up: parts are written as they are issued
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    const mset = db.reply('MSET', ...keys.flatMap((k) => [k, SECRET])).catch((e: unknown) => e);
    const dbsize = db.reply('DBSIZE').catch((e: unknown) => e);
    ac.abort(); // before any reply can arrive
    const err = (await mset) as WithNodes;
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ sent: true, command: 'MSET' });
    expect([...err.nodes!].sort()).toEqual(ports.map(address).sort());
    expect(err.node).toBeUndefined();
    expect(err.message).toContain(`6 of its 6 parts`);
    for (const port of ports) expect(err.message).toContain(address(port));
    expect(err.message).not.toContain(SECRET);
    for (const k of keys) expect(err.message).not.toContain(k);
    const fanned = (await dbsize) as WithNodes;
    expect(fanned).toMatchObject({ name: 'AbortError', sent: true, command: 'DBSIZE' });
    expect([...fanned.nodes!].sort()).toEqual(ports.map(address).sort());
    await redis.db.reply('DEL', ...keys);
  });

  it('parts all on one master: node is that master, as for a command that was not split', async () => {
    const redis = client();
    const port = cluster.masters()[1]!.port;
    const keys = await keysOn(port, 3, 'one');
    await redis.db.reply('MGET', ...keys);
    const ac = new AbortController();
    const del = redis.db.with({ signal: ac.signal }).reply('DEL', ...keys).catch((e: unknown) => e);
    ac.abort();
    const err = (await del) as WithNodes;
    expect(err).toMatchObject({ name: 'AbortError', sent: true, command: 'DEL', node: address(port) });
    expect(err.nodes).toEqual([address(port)]);
    expect(err.message).toContain(`3 of its 3 parts`);
  });

  it('parts on nodes whose connections are down are not written: nodes lists only where parts went', async () => {
    const [a, b, c] = cluster.masters().map((m) => m.port);
    // A slow reconnect: the parts for b and c wait, unwritten, for their nodes' connections.
    const redis = client({ reconnect: { baseDelay: 1000, maxDelay: 1000 } });
    const onA = await keysOn(a!, 2, 'up');
    const down = [...(await keysOn(b!, 2, 'down')), ...(await keysOn(c!, 2, 'down'))];
    await redis.db.reply('MGET', ...onA, ...down);
    let lost = 0;
    const bothLost = new Promise<void>((resolve) => redis.on('reconnecting', () => ++lost === 2 && resolve()));
    await Promise.all([b, c].map((port) => cluster.call(port!, 'CLIENT', 'KILL', 'TYPE', 'normal')));
    await bothLost;

    const none = new AbortController();
    const unwritten = redis.db.with({ signal: none.signal }).reply('MSET', ...down.flatMap((k) => [k, SECRET])).catch((e: unknown) => e);
    none.abort();
    const nothing = (await unwritten) as WithNodes;
    expect(nothing).toMatchObject({ name: 'AbortError', sent: false, command: 'MSET' });
    expect(nothing.node).toBeUndefined();
    expect(nothing.nodes).toEqual([]);

    const some = new AbortController();
    const mixed = redis.db.with({ signal: some.signal }).reply('MSET', ...[...onA, ...down].flatMap((k) => [k, SECRET])).catch((e: unknown) => e);
    some.abort();
    const err = (await mixed) as WithNodes;
    expect(err).toMatchObject({ name: 'AbortError', sent: true, command: 'MSET', node: address(a!) });
    expect(err.nodes).toEqual([address(a!)]);
    expect(err.message).toContain('2 of its 6 parts');
    expect(err.message).not.toContain(SECRET);
    // Sent after the parts on the same connections: only the written parts' keys may exist.
    expect(await redis.db.reply('EXISTS', ...down)).toBe(0);
    await redis.db.reply('DEL', ...onA);
  });
});
