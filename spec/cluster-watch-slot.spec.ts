/**
 * db.watch on a cluster runs on the master of its keys' slot, on a connection
 * of its own. DESIGN: multi and watch need every key in one slot (else
 * CrossSlotError, nothing sent). What fn sent through `conn` with keys of
 * another slot went to the watch's node all the same: a key another master
 * serves came back as the server's MOVED (conn.multi: EXECABORT), one the
 * same node serves ran there, so the outcome depended on where the slots
 * happened to be. Both are now a CrossSlotError, nothing sent, and the watch
 * goes on. And a `redis.database(3)` handle made before auto mode knew it
 * talks to a cluster: its db.watch sent SELECT 3 to the node (the node's
 * error came back); it is refused like its other commands, nothing sent.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { CrossSlotError, InvalidArgumentError, Redis } from '../lib/index.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { outcome } from './support/outcome.js';

const { cluster, client, track } = useCluster({ commandTimeout: 3000 }, { start: { replicasPerMaster: 0 } });

/** A key `port`'s master serves, in another slot than `than`. */
async function otherSlotOn(port: number, prefix: string, than: string): Promise<string> {
  for (let i = 0; ; i++) {
    const key = await keyOn(cluster, port, `${prefix}${i}`);
    if (keySlot(key) !== keySlot(than)) return key;
  }
}

describe('db.watch on a cluster: what fn sends through conn', () => {
  it('keys of another slot (this node\'s or another\'s) are a CrossSlotError, nothing sent; the watch goes on and commits', async () => {
    const [here, there] = cluster.masters().map((m) => m.port);
    const watched = await keyOn(cluster, here!, 'ws-watched');
    const sameSlot = `{${watched}}:b`;
    const sameNode = await otherSlotOn(here!, 'ws-same-node', watched);
    const otherNode = await keyOn(cluster, there!, 'ws-other-node');
    const redis = client();
    await redis.db.reply('SET', watched, '1');
    const seen = await redis.db.watch([watched], async (conn) => {
      const results = {
        getSameNode: await outcome(conn.reply('GET', sameNode)),
        setOtherNode: await outcome(conn.reply('SET', otherNode, 'x')),
        command: await outcome(Promise.resolve(conn.command('SET', sameNode, 'x'))),
        script: await outcome(conn.reply('EVAL', 'return 1', 2, watched, otherNode)),
        block: await outcome(conn.multi((tx) => { tx.command('SET', watched, '2'); tx.command('SET', otherNode, 'x'); })),
        blockCross: await outcome(conn.multi((tx) => { tx.command('MGET', watched, sameNode); })),
      };
      const value = await conn.reply('GET', watched);
      const committed = await conn.multi((tx) => { tx.command('SET', watched, '3'); tx.command('SET', sameSlot, '3'); });
      return { results, value, committed };
    });
    for (const [what, r] of Object.entries(seen.results)) expect(r, what).toBeInstanceOf(CrossSlotError);
    expect(seen.value).toBe('1');
    expect(seen.committed).toEqual(['OK', 'OK']);
    expect(await redis.db.reply('MGET', watched, sameSlot, sameNode, otherNode)).toEqual(['3', '3', null, null]); // nothing else was written
  });
});

describe('db.watch on a redis.database(3) handle made before auto mode knew it talks to a cluster', () => {
  it('is an InvalidArgumentError, fn never runs, and no node sees SELECT', async () => {
    for (const m of cluster.masters()) await cluster.call(m.port, 'CONFIG', 'RESETSTAT');
    const redis = track(new Redis(cluster.seedUrl, { commandTimeout: 3000 })); // mode 'auto'
    redis.on('error', () => {});
    const db3 = redis.database(3); // the mode is not known yet
    let runs = 0;
    const err = await outcome(db3.watch(['ws-db3'], () => runs++));
    expect(redis.mode).toBe('cluster');
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/only database 0/);
    expect(runs).toBe(0);
    let selects = 0;
    for (const m of cluster.masters()) {
      const line = /cmdstat_select:calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)/.exec(String(await cluster.call(m.port, 'INFO', 'commandstats')));
      if (line) selects += Number(line[1]) + Number(line[2]) + Number(line[3]);
    }
    expect(selects).toBe(0);
    expect(await redis.db.watch(['ws-db3'], async (conn) => conn.reply('GET', 'ws-db3'))).toBeNull(); // database 0 watches on
  });
});
