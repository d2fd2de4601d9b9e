/**
 * `with({ timeout })` is a per-call deadline for every call of the view
 * (README: Databases and per-call options); `db.multi` keeps it. Inside
 * `db.watch` it was ignored: WATCH, fn's `conn.reply` / `conn.multi` and
 * UNWATCH went to the lease with the client's `commandTimeout`, so a view
 * with a short timeout waited the full default for a stuck reply, and one
 * with a long timeout (a slow script, a large block) failed at the default.
 */
import { describe, expect, it } from 'vitest';
import { ReplyTimeoutError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const settle = (p: PromiseLike<unknown>) => Promise.resolve(p).then((v) => v, (e: unknown) => e);

describe('db.with({ timeout }).watch: the view\'s deadline applies on the lease', () => {
  it('a shorter timeout than commandTimeout: a reply and a block past it reject with ReplyTimeoutError { sent: true }', async () => {
    const db = env.client({ commandTimeout: 20_000 }).db;
    const quick = db.with({ timeout: 100 });
    const reply = await quick.watch(['r10wt:k'], (conn) => settle(conn.reply('DEBUG', 'SLEEP', '0.6')));
    expect(reply).toBeInstanceOf(ReplyTimeoutError);
    expect((reply as ReplyTimeoutError).sent).toBe(true);
    await db.reply('PING'); // DEBUG SLEEP holds the whole server: the next lease's handshake waits it out first
    const block = await quick.watch(['r10wt:k'], (conn) => settle(conn.multi((tx) => void tx.command('DEBUG', 'SLEEP', '0.6'))));
    expect(block).toBeInstanceOf(ReplyTimeoutError);
    expect((block as ReplyTimeoutError).sent).toBe(true);
  });

  it('a longer timeout than commandTimeout: a reply and a block within it succeed', async () => {
    const db = env.client({ commandTimeout: 100 }).db;
    const patient = db.with({ timeout: 20_000 });
    expect(await patient.watch(['r10wt:k'], (conn) => conn.reply('DEBUG', 'SLEEP', '0.6'))).toBe('OK');
    expect(await patient.watch(['r10wt:k'], (conn) => conn.multi((tx) => void tx.command('DEBUG', 'SLEEP', '0.6')))).toEqual(['OK']);
  });
});
