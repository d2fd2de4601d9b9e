/**
 * disconnect() with a MULTI block written and unanswered: the block may have
 * run (README Failure semantics: everything pending rejects with ClosedError;
 * a written command "may have run"). The block and its handles were told
 * "the client closed before the connection was ready (command DEBUG)": every
 * internal command in flight (a block's MULTI, its commands and EXEC are
 * internal ones) was settled as if it were the handshake of a connection
 * attempt under way, though the connection had long been ready, and the
 * block had run. The same on a db.watch lease destroyed while fn's block is
 * in flight (fn threw without awaiting it).
 */
import { describe, expect, it } from 'vitest';
import { ClosedError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();
const settle = (p: PromiseLike<unknown>) => Promise.resolve(p).then((v) => v, (e: unknown) => e);

describe('a block in flight when its connection is disconnected', () => {
  it('db.multi then disconnect(): ClosedError saying it may have run, for the block and its handles; it ran', async () => {
    const check = env.client().db;
    await check.reply('DEL', 'r10md:k');
    const redis = new Redis(env.server.url);
    await redis.db.reply('PING');
    const before = redis.stats().bytesOut;
    let handle: PromiseLike<unknown> | undefined;
    const block = settle(redis.db.multi((tx) => {
      tx.command('DEBUG', 'SLEEP', '0.3');
      handle = tx.command('SET', 'r10md:k', 'ran');
    }));
    await until('the block was written', () => redis.stats().bytesOut > before);
    await new Promise((r) => setTimeout(r, 50)); // and has reached the server, which runs it (else "may have run" is all one can say)
    redis.disconnect();
    for (const err of [await block, await settle(handle!)]) {
      expect(err).toBeInstanceOf(ClosedError);
      expect((err as Error).message).toMatch(/may have run/);
    }
    expect(await check.reply('GET', 'r10md:k')).toBe('ran');
  });

  it('db.watch whose fn throws with its block in flight: the block says it may have run; it ran', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'r10md:w');
    let block: Promise<unknown> | undefined;
    const watched = await settle(db.watch(['r10md:w'], async (conn) => {
      block = settle(conn.multi((tx) => {
        tx.command('DEBUG', 'SLEEP', '0.3');
        tx.command('SET', 'r10md:w', 'ran');
      }));
      await new Promise((r) => setTimeout(r, 50)); // the block is flushed in this turn of the event loop, long before this
      throw new Error('fn gave up');
    }));
    expect((watched as Error).message).toBe('fn gave up');
    const err = await block;
    expect(err).toBeInstanceOf(ClosedError);
    expect((err as Error).message).toMatch(/may have run/);
    expect(await db.reply('GET', 'r10md:w')).toBe('ran');
  });
});
