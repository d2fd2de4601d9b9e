/**
 * close() while a database switch waits for a busy server (another client's
 * runaway script answers the SELECT BUSY; it is asked again when free,
 * select.ts). Once every command behind the switch has settled (its
 * deadline passed, unsent), nothing is owed: close() must finish then, not
 * wait for the script to end. It used to count the settled commands still
 * sitting in the queue (a queue waiting for a SELECT is not pumped, and
 * nothing else empties it), so close() never settled while the script ran.
 * Commands behind the switch settled by their signal instead: the same.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, Redis, ReplyTimeoutError, RetryPolicy } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { duringRunaway, keysIn } from './support/runaway.js';
import { within } from './support/until.js';

const env = useRealServer();

describe('close() while a database switch waits for a busy server', () => {
  it('settles once the commands behind the switch timed out (close() called after)', async () => {
    const redis = env.client({ retry: RetryPolicy.none() });
    const db1 = redis.database(1);
    expect(await db1.reply('GET', 'k')).toBeNull(); // database 1 selected once
    expect(await redis.db.reply('GET', 'k')).toBeNull(); // back in database 0
    await duringRunaway(env, async (admin) => {
      const err = await db1.with({ timeout: 100 }).reply('SET', 'k', 'v').catch((e: Error) => e);
      expect(err).toBeInstanceOf(ReplyTimeoutError);
      expect(err).toMatchObject({ sent: false });
      await within('close() while the script still runs', redis.close());
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await keysIn(admin, 1, 'k')).toEqual([null]);
      expect(await keysIn(admin, 0, 'k')).toEqual([null]);
    });
  });

  it('settles once the commands behind the switch time out (close() called first)', async () => {
    const redis = env.client({ retry: RetryPolicy.none() });
    const db1 = redis.database(1);
    expect(await db1.reply('GET', 'k')).toBeNull();
    expect(await redis.db.reply('GET', 'k')).toBeNull();
    await duringRunaway(env, async (admin) => {
      const set = outcome(db1.with({ timeout: 300 }).reply('SET', 'k', 'v'));
      const closed = redis.close();
      expect(await within('the SET', set)).toBeInstanceOf(ReplyTimeoutError);
      await within('close() while the script still runs', closed);
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await keysIn(admin, 1, 'k')).toEqual([null]);
    });
  });

  it('settles once the commands behind the switch are aborted by their signal (close() called first)', async () => {
    const redis = env.client({ retry: RetryPolicy.none() });
    const db1 = redis.database(1);
    expect(await db1.reply('GET', 'k')).toBeNull();
    expect(await redis.db.reply('GET', 'k')).toBeNull();
    await duringRunaway(env, async (admin) => {
      const ac = new AbortController();
      const set = outcome(db1.with({ signal: ac.signal, timeout: 60_000 }).reply('SET', 'k', 'v'));
      await new Promise((r) => setTimeout(r, 100)); // the SELECT is answered BUSY meanwhile, and asked again
      const closed = redis.close();
      ac.abort();
      expect(await within('the SET', set)).toBeInstanceOf(AbortError);
      await within('close() while the script still runs', closed);
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await keysIn(admin, 1, 'k')).toEqual([null]);
    });
  });

  it('a connection that opened with its database unselected (handshake SELECT answered BUSY): the same', async () => {
    await duringRunaway(env, async (admin) => {
      const redis = new Redis(env.server.url, { db: 2, retry: RetryPolicy.none() });
      const set = outcome(redis.db.with({ timeout: 300 }).reply('SET', 'k', 'v'));
      expect(await within('the SET', set)).toBeInstanceOf(ReplyTimeoutError);
      await within('close() while the script still runs', redis.close());
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await keysIn(admin, 2, 'k')).toEqual([null]);
    });
  });
});
