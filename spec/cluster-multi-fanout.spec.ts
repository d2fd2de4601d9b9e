/**
 * Commands a cluster sends to every master or node (their request policy:
 * DBSIZE sums, KEYS concatenates, FLUSHALL / SCRIPT LOAD / CONFIG SET act on
 * each) inside a MULTI block, which runs on one node. There they answered
 * for that node only, or acted on it only, silently: DBSIZE in a block gave
 * one master's count. A block refuses them with an InvalidArgumentError that
 * says what to do instead (outside the block, or a per-node handle), nothing
 * sent. PING and WAIT stay: their answer on the block's node is what a block
 * means (that node answers; the block's writes reached its replicas). The
 * same holds on a db.watch connection (one node too).
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { InvalidArgumentError } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 10_000 }, { start: { replicasPerMaster: 0 } });

/** MULTI calls every master has run (INFO commandstats). */
async function multisRun(): Promise<number> {
  let n = 0;
  for (const m of cluster.masters()) n += Number(/cmdstat_multi:calls=(\d+)/.exec(String(await cluster.call(m.port, 'INFO', 'commandstats')))?.[1] ?? 0);
  return n;
}

const REFUSED: [string, ...string[]][] = [
  ['DBSIZE'],
  ['KEYS', 'fan:*'],
  ['RANDOMKEY'],
  ['FLUSHALL'],
  ['SCRIPT', 'LOAD', 'return 1'],
  ['SCRIPT', 'EXISTS', 'a'.repeat(40)],
  ['CONFIG', 'SET', 'maxmemory-samples', '5'],
  ['INFO', 'server'],
];

describe('a cluster MULTI block and commands that go to every master or node', () => {
  it('refuses them with InvalidArgumentError saying what to do instead; nothing is sent, every handle settles', async () => {
    const redis = client();
    // Keys on every master, so that one master's DBSIZE could not pass for the cluster's.
    for (let i = 0; i < 30; i++) await redis.db.reply('SET', `fan:${i}`, 'v');
    expect(await redis.db.reply('DBSIZE')).toBe(30);
    for (const m of cluster.masters()) await cluster.call(m.port, 'CONFIG', 'RESETSTAT');
    for (const [name, ...args] of REFUSED) {
      const handles: Promise<unknown>[] = [];
      const block = await outcome(
        redis.db.multi((tx) => {
          handles.push(outcome(Promise.resolve(tx.command('SET', '{fan}k', '1'))));
          handles.push(outcome(Promise.resolve(tx.command(name, ...args))));
        }),
      );
      const shown = args[0] !== undefined && /^[A-Z]+$/.test(args[0]) ? `${name} ${args[0]}` : name;
      expect(block, shown).toBeInstanceOf(InvalidArgumentError);
      expect((block as InvalidArgumentError).command).toBe(shown);
      expect((block as Error).message).toContain(`${shown} goes to every`);
      expect((block as Error).message).toContain('outside the block');
      expect((block as Error).message).toContain('redis.nodes(');
      for (const h of await Promise.all(handles)) expect(h).toBeInstanceOf(Error);
    }
    expect(await multisRun()).toBe(0);
    expect(await redis.db.reply('GET', '{fan}k')).toBeNull();
    expect(await redis.db.reply('DBSIZE')).toBe(30); // outside a block: every master, summed
  });

  it('PING and WAIT stay: the block runs on its keys\' node and they answer for it', async () => {
    const redis = client();
    expect(await redis.db.multi((tx) => [tx.command('SET', '{fan}w', '1'), tx.command('WAIT', 0, 0), tx.command('PING')])).toEqual(['OK', 0, 'PONG']);
    expect(await redis.db.multi((tx) => [tx.command('PING')])).toEqual(['PONG']);
  });

  it('on one node, through its handle, a block may still ask it (DBSIZE of that node)', async () => {
    const redis = client();
    await redis.db.reply('SET', '{fan}one', '1');
    const port = await cluster.ownerOf(keySlot('{fan}one'));
    await redis.db.reply('PING'); // the slot map is in
    const node = redis.nodes('master').find((n) => n.address === `127.0.0.1:${port}`)!;
    const [size] = (await node.db.multi((tx) => [tx.command('DBSIZE')])) as [number];
    expect(size).toBe(Number(await cluster.call(port, 'DBSIZE')));
  });

  it('on a db.watch connection: DBSIZE alone or in conn.multi is refused, nothing sent; the watch goes on', async () => {
    const redis = client();
    await redis.db.reply('SET', '{fan}watched', '1');
    const result = await redis.db.watch(['{fan}watched'], async (conn) => {
      const alone = await outcome(conn.reply('DBSIZE'));
      const inBlock = await outcome(conn.multi((tx) => [tx.command('DBSIZE')]));
      const value = await conn.reply('GET', '{fan}watched');
      const done = await conn.multi((tx) => [tx.command('SET', '{fan}watched', '2')]);
      return { alone, inBlock, value, done };
    });
    expect(result.alone).toBeInstanceOf(InvalidArgumentError);
    expect((result.alone as Error).message).toContain('DBSIZE goes to every master');
    expect(result.inBlock).toBeInstanceOf(InvalidArgumentError);
    expect(result.value).toBe('1');
    expect(result.done).toEqual(['OK']);
  });
});
