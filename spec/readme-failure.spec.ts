/**
 * README "Failure semantics", the row of refusals before running (LOADING,
 * BUSY, ...), against a real server busy with a script: a write refused with
 * BUSY is tried once more, at once, by the client's default policy (two
 * rejected calls of SET in the server's commandstats, none run), and is
 * retried until it runs by a policy with delays.
 */
import { describe, expect, it } from 'vitest';
import { BusyScriptError, RetryPolicy, type Database } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();
/** Runs ~600 ms of server time: the server answers BUSY meanwhile (busy-reply-threshold 10 ms). */
const SPIN = 'local s = redis.call("TIME"); while true do local n = redis.call("TIME"); if (n[1] - s[1]) * 1000000 + n[2] - s[2] > 600000 then break end end return 1';

/** SET's calls that ran and that were rejected, since the last CONFIG RESETSTAT. */
async function setStats(admin: Database): Promise<{ calls: number; rejected: number }> {
  const line = /^cmdstat_set:(.*)$/m.exec(String(await admin.reply('INFO', 'commandstats')))?.[1] ?? '';
  return { calls: Number(/calls=(\d+)/.exec(line)?.[1] ?? 0), rejected: Number(/rejected_calls=(\d+)/.exec(line)?.[1] ?? 0) };
}

describe('README, failure semantics: refused before running', () => {
  it('BUSY: the default policy tries once more, at once; a policy with delays waits the script out (a write too)', async () => {
    const admin = env.client().db;
    const db = env.client().db;
    await db.reply('PING');
    await admin.reply('CONFIG', 'SET', 'busy-reply-threshold', '10');
    const whileBusy = async <T>(body: () => Promise<T>): Promise<T> => {
      await admin.reply('CONFIG', 'RESETSTAT');
      const script = env.client().db.reply('EVAL', SPIN, 0);
      await until('the server is busy', async () => (await admin.reply('PING').catch((e: Error) => e)) instanceof BusyScriptError);
      try {
        return await body();
      } finally {
        await script;
      }
    };
    try {
      const refused = await whileBusy(() => db.reply('SET', 'rf:k', 'default').then((v) => v, (e) => e));
      expect(refused).toBeInstanceOf(BusyScriptError);
      expect(await setStats(admin)).toEqual({ calls: 0, rejected: 2 });

      const patient = db.with({ retry: RetryPolicy.constant({ attempts: 200, delay: 25 }) });
      expect(await whileBusy(() => patient.reply('SET', 'rf:k', 'patient'))).toBe('OK');
      const { calls, rejected } = await setStats(admin);
      expect(calls).toBe(1);
      expect(rejected).toBeGreaterThanOrEqual(1);
      expect(await admin.reply('GET', 'rf:k')).toBe('patient');
    } finally {
      await admin.reply('CONFIG', 'SET', 'busy-reply-threshold', '5000');
    }
  });
});
