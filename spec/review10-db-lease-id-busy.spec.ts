/**
 * A RESP2 blocking lease opened while another client's script runs away:
 * without HELLO its server-side id comes from CLIENT ID, which the busy
 * server answered BUSY. That is no refusal (an ACL without client|id is), but
 * the id stayed unknown for the lease's life, so a BLPOP later abandoned on
 * it (its caller's deadline) could not be ended with CLIENT UNBLOCK: it held
 * its lease (and its place in the pool) until an item came or close().
 */
import { describe, expect, it } from 'vitest';
import { ReplyTimeoutError, RetryPolicy } from '../lib/index.js';
import { blockedIn } from './support/blocked-clients.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { duringRunaway } from './support/runaway.js';
import { until, within } from './support/until.js';

const env = useRealServer();

describe('a RESP2 lease whose CLIENT ID was answered BUSY', () => {
  it('learns its id once the server is free: an abandoned BLPOP is unblocked, its lease is free again', async () => {
    const redis = env.client({ protocol: 2, retry: RetryPolicy.constant({ attempts: 1000, delay: 20 }) });
    expect(await redis.db.reply('PING')).toBe('PONG'); // the shared connection opens before the script
    let pop: Promise<unknown> | undefined;
    await duringRunaway(env, async (admin) => {
      pop = outcome(redis.db.with({ timeout: 3000 }).reply('BLPOP', 'review10-q', 0)); // its lease opens now: CLIENT ID answered BUSY
      await new Promise((r) => setTimeout(r, 150));
      expect(await admin.db.reply('SCRIPT', 'KILL')).toBe('OK');
      await until('the BLPOP blocks', async () => (await blockedIn(admin.db, 'blpop').catch(() => -1)) === 1); // BUSY until the script is gone
    });
    expect(await within('the BLPOP', pop!)).toBeInstanceOf(ReplyTimeoutError); // its deadline: abandoned, drained
    const admin = env.client();
    await until('the abandoned BLPOP is unblocked at the server', async () => (await blockedIn(admin.db, 'blpop')) === 0);
    // The lease is clean again: the next blocking call gets an answer.
    await admin.db.reply('RPUSH', 'review10-q', 'item');
    expect(await within('the next BLPOP', redis.db.reply('BLPOP', 'review10-q', 1))).toEqual(['review10-q', 'item']);
    expect(redis.stats().orphanedReplies ?? 0).toBe(0);
  });
});
