/**
 * A cluster has only database 0. In auto mode a `redis.database(3)` handle
 * can be made before the client knows it talks to a cluster; its commands
 * are then refused (InvalidArgumentError, nothing sent). `scan()` on that
 * handle must be refused too: it walked database 0 of every master and gave
 * database 0's keys to a handle of database 3, a read in the wrong database.
 */
import { expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client, track } = useCluster({ commandTimeout: 8000 }, { end: 'disconnect' });

it('scan() on a database(3) handle made before auto mode knew: InvalidArgumentError, no key of database 0', async () => {
  const writer = client();
  await writer.db.reply('SET', 'db0-only:a', '1');
  const redis = track(new Redis(cluster.seedUrl, { commandTimeout: 8000 })); // mode 'auto'
  const d3 = redis.database(3); // before the first handshake: the mode is not known yet
  const seen: string[] = [];
  let failure: unknown;
  try {
    for await (const key of d3.scan({ match: 'db0-only:*' })) seen.push(String(key));
  } catch (err) {
    failure = err;
  }
  expect(redis.mode).toBe('cluster');
  expect(seen).toEqual([]);
  expect(failure).toBeInstanceOf(InvalidArgumentError);
  expect((failure as Error).message).toMatch(/only database 0/);
  // database 0 still scans every master
  const all: string[] = [];
  for await (const key of redis.db.scan({ match: 'db0-only:*' })) all.push(String(key));
  expect(all).toEqual(['db0-only:a']);
});
