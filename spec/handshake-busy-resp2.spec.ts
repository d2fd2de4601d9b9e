/**
 * A RESP2 connection (protocol: 2) with a client name, opened while another
 * client's script runs away. RESP3 names the connection inside HELLO, which
 * a busy server runs; RESP2 sends CLIENT SETNAME, which it answers BUSY. That
 * answer failed the handshake, so the connection reconnected for as long as
 * the script ran and SCRIPT KILL (the way out) could never be sent through
 * it. Like CLIENT TRACKING and SELECT, the name is no refusal: the
 * connection opens and names itself once the server is free.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Redis, RetryPolicy } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { duringRunaway, keysIn } from './support/runaway.js';
import { until, within } from './support/until.js';

const env = useRealServer();

describe('a RESP2 connection with a client name, opened during a runaway script', () => {
  it.each([0, 1])('opens (database %i), sends SCRIPT KILL, and is named once the server is free', async (db) => {
    await duringRunaway(env, async (admin) => {
      const redis = env.track(new Redis(env.server.url, { protocol: 2, clientName: 'busy-named', db, retry: RetryPolicy.none(), reconnect: { baseDelay: 20, maxDelay: 40 } }));
      const errors: Error[] = [];
      redis.on('error', (e) => errors.push(e));
      await within('the connection opens', once(redis, 'ready'));
      expect(await within('SCRIPT KILL', redis.db.reply('SCRIPT', 'KILL'))).toBe('OK');
      // The script ends at its next check after the OK: a SET right after it may still be answered BUSY.
      await until('the SET runs once the script ended', async () => (await redis.db.reply('SET', 'named', 'yes').catch((e: Error) => e.name)) === 'OK');
      await until('the connection is named', async () => (await redis.db.reply('CLIENT', 'GETNAME')) === 'busy-named');
      expect(redis.stats().reconnects).toBe(0);
      expect(errors).toEqual([]);
      expect(await keysIn(admin, db, 'named')).toEqual(['yes']);
    });
  });
});
