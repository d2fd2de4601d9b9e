/**
 * A client with `db: 1` whose connection opens during a runaway script sends
 * SCRIPT KILL: the handshake's SELECT is answered BUSY (SELECT is not among
 * what a busy server runs); the connection opens with no database selected
 * (instead of failing its handshake and reconnecting for as long as the
 * script runs, so that nothing, SCRIPT KILL included, was ever written) and
 * writes the SCRIPT KILL issued while it was connecting ahead of what waits
 * for the database. More in spec/select-busy-wait.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('a client of database 1 opened during a runaway script', () => {
  it('sends SCRIPT KILL', async () => {
    const admin = env.client();
    const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
    const runaway = env.client().db.reply('EVAL', 'while true do end', 0).then(
      () => 'returned',
      (e: Error) => e.message,
    );
    try {
      const probe = env.client({ retry: RetryPolicy.none() });
      await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
      const redis = env.client({ db: 1, reconnect: { baseDelay: 20, maxDelay: 40 } });
      redis.on('error', () => {});
      expect(await redis.db.with({ timeout: 5000 }).reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await runaway).toMatch(/killed/i);
    } finally {
      await admin.db.reply('SCRIPT', 'KILL').catch(() => undefined);
      await runaway;
      await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
    }
  });
});
