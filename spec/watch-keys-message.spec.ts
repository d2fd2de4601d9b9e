/**
 * What `db.watch` says when it is called wrong, and what a watch connection
 * says when it refuses a command: each names what to do instead.
 * `db.watch('x', fn)` (one key, not in an array) used to say "db.watch needs
 * at least one key", although a key was given; a watch connection refused
 * WATCH with "cannot be used inside a transaction", although it was in none.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.watch refusals that name the way out', () => {
  it('one key not in an array: the error says to put it in one, and nothing runs', async () => {
    const db = env.client().db;
    let ran = false;
    for (const key of ['wk:x', Buffer.from('wk:x')]) {
      const err = await db.watch(key as unknown as string[], async () => void (ran = true)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/needs an array of keys; it got one key: put it in an array, db\.watch\(\[key\], fn\)/);
      expect((err as Error).message).not.toContain('wk:x'); // keys are arguments: never in messages
    }
    const none = await db.watch([], async () => void (ran = true)).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/at least one key/);
    const wrong = await db.watch(42 as unknown as string[], async () => void (ran = true)).catch((e: unknown) => e);
    expect((wrong as Error).message).toMatch(/needs an array of keys; it got number/);
    expect(ran).toBe(false);
  });

  it('a watch connection refusing WATCH says it is the connection state the client owns, in a block or on the connection', async () => {
    const db = env.client().db;
    const onConn = await db.watch(['wk:y'], async (conn) => conn.reply('WATCH', 'wk:z').catch((e: unknown) => e));
    expect(onConn).toBeInstanceOf(InvalidArgumentError);
    expect((onConn as Error).message).toMatch(/cannot be used inside a transaction or on a watch connection/);
    const inBlock = await db.multi((tx) => void tx.command('WATCH', 'wk:z')).catch((e: unknown) => e);
    expect((inBlock as Error).message).toMatch(/cannot be used inside a transaction or on a watch connection/);
  });
});
