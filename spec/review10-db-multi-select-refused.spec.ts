/**
 * A db.multi block queued for a database whose SELECT the server refuses
 * (an ACL that lost SELECT while connected): nothing of it is written, so
 * nothing ran. Each handle fails with the refusal, and so does the block;
 * the block must not say that the server ran its commands one by one
 * outside a transaction (what a refused MULTI means: the caller would take
 * the block for run and not try it again).
 */
import { describe, expect, it } from 'vitest';
import { NoPermError, RetryPolicy } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { keysIn } from './support/runaway.js';
import { within } from './support/until.js';

const env = useRealServer();

describe('a db.multi block behind a database switch the ACL refuses', () => {
  it('fails with the refusal and says nothing ran', async () => {
    const admin = env.client();
    await admin.db.reply('FLUSHALL');
    await admin.db.reply('ACL', 'SETUSER', 'review10-multi', 'on', '>pw', '~*', '&*', '+@all');
    try {
      const redis = env.client({ username: 'review10-multi', password: 'pw', retry: RetryPolicy.none() });
      const db1 = redis.database(1);
      expect(await db1.reply('SET', 'before', '1')).toBe('OK'); // database 1 selected once
      expect(await redis.db.reply('PING')).toBe('PONG');
      await admin.db.reply('ACL', 'SETUSER', 'review10-multi', '-select');
      const handles: Promise<unknown>[] = [];
      const block = outcome(db1.multi((tx) => {
        handles.push(outcome(Promise.resolve(tx.command('SET', 'm1', 'a'))), outcome(Promise.resolve(tx.command('INCR', 'c1'))));
      }));
      const err = await within('the block', block);
      expect(err).toBeInstanceOf(NoPermError);
      expect((err as Error).message).not.toMatch(/one by one|outside a transaction/);
      for (const h of await Promise.all(handles)) expect(h).toBeInstanceOf(NoPermError);
      expect(await keysIn(admin, 0, 'm1', 'c1')).toEqual([null, null]);
      expect(await keysIn(admin, 1, 'm1', 'c1')).toEqual([null, null]);
    } finally {
      await admin.db.reply('ACL', 'DELUSER', 'review10-multi');
    }
  });
});
