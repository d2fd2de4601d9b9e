/**
 * `callSiteStacks` on a real Redis Cluster (3 masters, no replicas, started
 * for this file): the SCAN iterators and the subscriber take the same paths
 * as on one server. `db.scan()` walks every master through a database handle
 * per master, a keyed HSCAN goes to its key's node, a shard subscription to
 * its slot's hub: each failure still carries the user's lines, not the
 * library's. An ACL user on every node: SCAN taken away mid-walk (NOPERM on
 * a later page), channels restricted with `resetchannels`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, WrongTypeError } from '../lib/index.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 }, { start: { replicasPerMaster: 0 } });
const user = { username: 'cscl', password: 'pw' };

async function onEveryNode(...args: string[]): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => cluster.call(n.port, ...args)));
}

beforeAll(async () => {
  await onEveryNode('ACL', 'SETUSER', 'cscl', 'on', '>pw', '~*', 'resetchannels', '&allowed:*', '+@all');
});
afterAll(async () => {
  await onEveryNode('ACL', 'DELUSER', 'cscl');
});

/** The line of this file that called here(): the test's own call, to find in a stack. */
function here(): number {
  const caller = new Error().stack!.split('\n')[2]!;
  return Number(/call-site-cluster\.spec\.ts:(\d+):/.exec(caller)![1]);
}

/** The first frame after `marker` is this file's line `line`. */
function frameAfter(marker: string, line: number): RegExp {
  return new RegExp(`--- ${marker} ---\\n\\s+at .*call-site-cluster\\.spec\\.ts:${line}:`);
}

function failure(p: PromiseLike<unknown>): Promise<Error> {
  return Promise.resolve(p).then(() => new Error('it succeeded'), (e: Error) => e);
}

describe('callSiteStacks in a cluster', () => {
  it('db.scan() across the masters: a page refused after SCAN was taken away mid-walk carries the next() line and the db.scan() line', async () => {
    const redis = client({ ...user, callSiteStacks: true });
    for (const { key } of await keysOnEachMaster(cluster, 'cscl')) await redis.db.reply('SET', key, '1');
    try {
      const keys = redis.db.scan({ match: 'cscl:*', count: 1 })[Symbol.asyncIterator](), made = here();
      expect((await keys.next()).done).toBe(false); // walking a master
      await onEveryNode('ACL', 'SETUSER', 'cscl', '-scan');
      let err: Error | undefined, asked = 0;
      for (let i = 0; i < 10 && err === undefined; i++) {
        err = await keys.next().then(() => undefined, (e: Error) => e), asked = here(); // the rest of this page, then the refused one
      }
      expect(err).toBeInstanceOf(NoPermError);
      expect(err!.stack).toMatch(frameAfter('issued at', asked));
      expect(err!.stack).toMatch(frameAfter('iterator made at', made));
    } finally {
      await onEveryNode('ACL', 'SETUSER', 'cscl', '+scan');
    }
  });

  it("db.hscan() of a string key goes to the key's node: the WRONGTYPE carries the for-await line and the hscan() line", async () => {
    const redis = client({ callSiteStacks: true });
    await redis.db.reply('SET', 'cscl:str', 'x');
    const fields = redis.db.hscan('cscl:str'), made = here();
    let err: Error | undefined;
    try {
      for await (const field of fields) void field;
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(WrongTypeError);
    expect(err!.stack).toMatch(/--- issued at ---\n\s+at .*call-site-cluster\.spec\.ts:\d+:/);
    expect(err!.stack).toMatch(frameAfter('iterator made at', made));
  });

  it('the subscriber: SUBSCRIBE and SSUBSCRIBE of forbidden channels carry the line of the call', async () => {
    const sub = client({ ...user, callSiteStacks: true }).subscriber();
    const calls: [Promise<Error>, number][] = [
      [failure(sub.ssubscribe('forbidden:shard')), here()],
      [failure(sub.ssubscribe('allowed:shard', 'forbidden:shard')), here()], // the forbidden one's node refuses: that is the call's failure
      [failure(sub.subscribe('forbidden')), here()],
    ];
    for (const [call, line] of calls) {
      const err = await call;
      expect(err).toBeInstanceOf(NoPermError);
      expect(err.stack).toMatch(frameAfter('issued at', line));
    }
    await sub.ssubscribe('allowed:shard'); // later calls work
  });
});
