/**
 * A block whose MULTI the server refuses (an ACL user without `multi`): the
 * block is pipelined, so the server has already read the commands after
 * MULTI, and with no transaction open it runs each one as it comes; EXEC is
 * then answered "EXEC without MULTI". The block rejected with MULTI's
 * NoPermError and so did every handle, which told each caller its command
 * failed although it ran (and a caller that retries runs it twice). Each
 * handle now settles with what its command really got, and the block's error
 * says the commands ran one by one, outside a transaction.
 */
import { describe, expect, it } from 'vitest';
import { NoPermError, WrongTypeError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const settle = (p: PromiseLike<unknown>) => Promise.resolve(p).then((v) => ({ value: v }), (e: unknown) => ({ error: e }));

async function noMultiUser(): Promise<void> {
  await env.client().db.reply('ACL', 'SETUSER', 'r10mr', 'on', '>pw', '~*', '&*', '+@all', '-multi');
}

describe('a block whose MULTI is refused', () => {
  it.each([3, 2] as const)('db.multi (protocol %i): each handle gets its own reply, the block says its commands ran outside a transaction', async (protocol) => {
    await noMultiUser();
    const redis = env.client({ username: 'r10mr', password: 'pw', protocol });
    const db = redis.db;
    await db.reply('DEL', 'r10mr:s', 'r10mr:n', 'r10mr:bin');
    await db.reply('SET', 'r10mr:str', 'x');
    await db.reply('SET', 'r10mr:bin', Buffer.from([0xff, 0x00]));
    const raw = db.with({ decode: 'buffer' });
    let set: PromiseLike<unknown> | undefined, incr: PromiseLike<unknown> | undefined, wrong: PromiseLike<unknown> | undefined, get: PromiseLike<unknown> | undefined;
    const block = await settle(raw.multi((tx) => {
      set = tx.command('SET', 'r10mr:s', 'v');
      incr = tx.command('INCR', 'r10mr:n');
      wrong = tx.command('LPUSH', 'r10mr:str', 'y');
      get = tx.command('GET', 'r10mr:bin');
    }));
    expect('error' in block).toBe(true);
    const err = (block as { error: Error }).error;
    expect(err).toBeInstanceOf(NoPermError);
    expect(err.message).toMatch(/commands one by one, outside a transaction/);
    expect(await settle(set!)).toEqual({ value: 'OK' });
    expect(await settle(incr!)).toEqual({ value: 1 });
    expect((await settle(wrong!) as { error: unknown }).error).toBeInstanceOf(WrongTypeError);
    expect(await settle(get!)).toEqual({ value: Buffer.from([0xff, 0x00]) });
    // The server's record agrees: they ran, once each.
    expect(await db.reply('MGET', 'r10mr:s', 'r10mr:n')).toEqual(['v', '1']);
  });

  it('conn.multi in db.watch: the same, and the watch rejects with the block\'s error', async () => {
    await noMultiUser();
    const db = env.client({ username: 'r10mr', password: 'pw' }).db;
    await db.reply('DEL', 'r10mr:w', 'r10mr:c');
    let incr: PromiseLike<unknown> | undefined;
    const watched = await settle(db.watch(['r10mr:w'], (conn) => conn.multi((tx) => void (incr = tx.command('INCR', 'r10mr:c')))));
    expect((watched as { error: Error }).error).toBeInstanceOf(NoPermError);
    expect((watched as { error: Error }).error.message).toMatch(/commands one by one, outside a transaction/);
    expect(await settle(incr!)).toEqual({ value: 1 });
    expect(await db.reply('GET', 'r10mr:c')).toBe('1');
  });
});
