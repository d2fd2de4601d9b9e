/**
 * README promises the code did not keep (found by the README review of
 * 2026-12-02; each failed before its fix):
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
 *  3. "Blocking commands": close() gives a blocking command waiting out its
 *     retry backoff ClosedError at once. It does, but when the command waits
 *     because the server refused it with BUSY (it never ran), the message
 *     says "it was written on a connection that was lost and may have run":
 *     a caller of BLPOP is told an item may have been popped when none was.
 */
import { describe, expect, it } from 'vitest';
import { ClosedError, Redis, RetryPolicy } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { scriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();

describe('README promises the code did not keep', () => {
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

  it('a blocking command refused with BUSY and closed in its backoff is not said to be lost or maybe run', async () => {
    const admin = env.client().db;
    const redis = env.client();
    await redis.db.reply('BLPOP', 'rd:warm', 0.01); // its lease is open
    await admin.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
    const busy = env.client().db.reply('EVAL', 'local s = redis.call("TIME"); while true do local n = redis.call("TIME"); if (n[1] - s[1]) * 1000000 + n[2] - s[2] > 300000 then break end end return 1', 0);
    try {
      await until('the script is busy', async () => /BUSY/.test(String(await admin.reply('PING').catch((e: Error) => e.message))));
      const pop = redis.db.with({ retry: RetryPolicy.constant({ attempts: 3, delay: 5000 }) }).reply('BLPOP', 'rd:never', 10).then((v) => v, (e) => e);
      await until('the BLPOP was refused', async () => /errorstat_BUSY:count=[1-9]/.test(String(await admin.reply('INFO', 'errorstats').catch(() => ''))));
      await redis.close();
      const err = await pop;
      expect(err).toBeInstanceOf(ClosedError);
      expect(err.message).not.toMatch(/lost|may have run/);
    } finally {
      await busy.catch(() => {});
      await admin.reply('CONFIG', 'SET', 'busy-reply-threshold', '5000');
    }
  });
});
