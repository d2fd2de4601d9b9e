/**
 * Another client's Lua script running away (busy-reply-threshold lowered to
 * 20 ms, so the server answers BUSY to everything but what may run then), and
 * what the select-* specs check around it: the server's own count of commands
 * it refused, and where keys ended up.
 */
import { Redis, RetryPolicy } from '../../lib/index.js';
import { outcome } from './outcome.js';
import type { RealServer } from './real-server.js';
import { until } from './until.js';

/** `body` runs while a script of another client keeps the server busy; the script is killed after, if still running. */
export async function duringRunaway(
  env: RealServer,
  body: (admin: Redis) => Promise<void>,
  script = (_admin: Redis) => env.client().db.reply('EVAL', 'while true do end', 0),
): Promise<void> {
  const admin = env.client();
  const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
  await admin.db.reply('FLUSHALL');
  await admin.db.reply('CONFIG', 'RESETSTAT');
  await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
  const runaway = outcome(script(admin));
  try {
    const probe = env.client({ retry: RetryPolicy.none() });
    await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
    await body(admin);
  } finally {
    await admin.db.reply('SCRIPT', 'KILL').catch(() => undefined);
    await admin.db.reply('FUNCTION', 'KILL').catch(() => undefined);
    await runaway;
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
  }
}

/** The server's count of `command` calls refused before running (BUSY, NOPERM), from INFO commandstats. */
export async function rejected(admin: Redis, command: string): Promise<number> {
  const info = String(await admin.db.reply('INFO', 'commandstats'));
  const line = new RegExp(`^cmdstat_${command}:.*rejected_calls=(\\d+)`, 'm').exec(info);
  return line ? Number(line[1]) : 0;
}

/** The values of `keys` in database `db`. */
export async function keysIn(admin: Redis, db: number, ...keys: string[]): Promise<unknown[]> {
  return Promise.all(keys.map((k) => admin.database(db).reply('GET', k)));
}
