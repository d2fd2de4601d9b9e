/**
 * README promises the code does not keep (found by the README review; kept
 * off main until lib/ is fixed):
 *
 *  1. "Failure semantics": NOREPLICAS is listed with LOADING, BUSY, TRYAGAIN,
 *     CLUSTERDOWN, MASTERDOWN as refused before running, "so it is retried
 *     (writes too) after the policy's backoff". lib/retry.ts DEFAULT_RETRY_ON
 *     has no NoReplicasError, so no policy without an explicit retryOn retries
 *     it: the SET below fails at once though its policy allows 200 tries.
 *  2. "Blocking commands and retries": WAITAOF runs on a leased connection.
 *     The command table is generated from redis-server 7.0.15, which has no
 *     WAITAOF (7.2+): it is an unknown command, sent on the shared connection,
 *     where it holds every later caller's command until it returns, under
 *     commandTimeout instead of its own timeout plus blockingMargin. A
 *     scripted server plays the 7.2 server (the test's real server is 7.0).
 */
import { describe, expect, it } from 'vitest';
import { Redis, RetryPolicy } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { scriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();

describe('README promises the code does not keep', () => {
  it('a write refused with NOREPLICAS is retried per its policy (Failure semantics)', async () => {
    const admin = env.client().db;
    const db = env.client({ commandTimeout: 15_000 }).db;
    await db.reply('PING');
    await admin.reply('CONFIG', 'RESETSTAT');
    await admin.reply('CONFIG', 'SET', 'min-replicas-to-write', '1');
    try {
      const refusals = async () => Number(/errorstat_NOREPLICAS:count=(\d+)/.exec(String(await admin.reply('INFO', 'errorstats')))?.[1] ?? 0);
      const set = db.with({ retry: RetryPolicy.constant({ attempts: 200, delay: 25 }) }).reply('SET', 'rd:nr', 'v');
      const outcome = set.then(() => 'resolved', (e) => e);
      await until('the SET refused once', async () => (await refusals()) >= 1);
      await admin.reply('CONFIG', 'SET', 'min-replicas-to-write', '0'); // the replicas are back
      expect(await within('the SET settled', outcome)).toBe('resolved');
      expect(await admin.reply('GET', 'rd:nr')).toBe('v');
    } finally {
      await admin.reply('CONFIG', 'SET', 'min-replicas-to-write', '0');
    }
  });

  it('WAITAOF runs on a leased connection: a GET issued behind it is answered while it waits (Blocking commands)', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    const server = await scriptedServer(async (args) => {
      if (args[0]!.toUpperCase() !== 'WAITAOF') return undefined;
      await released; // a 7.2 server: blocks this connection until the fsyncs (or its timeout)
      return '*2\r\n:1\r\n:0\r\n';
    });
    const redis = new Redis(server.url, { commandTimeout: 2000 });
    try {
      await redis.db.reply('PING');
      const waitaof = redis.db.reply('WAITAOF', 1, 0, 0).then((v) => v, (e) => e); // timeout 0: until done
      await until('WAITAOF reached the server', () => server.received.some((a) => a[0]!.toUpperCase() === 'WAITAOF'));
      const get = await redis.db.reply('GET', 'rd:k').then((v) => v, (e) => e);
      expect(get).toBeNull();
      release();
      expect(await waitaof).toEqual([1, 0]);
    } finally {
      release();
      await redis.close();
      await server.close();
    }
  });
});
