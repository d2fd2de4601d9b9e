/**
 * README (Optimistic transactions): "conn is good only until the promise fn
 * returns settles: its lease then goes back to the pool and may serve another
 * caller, so a conn kept and used later refuses with ClosedError and sends
 * nothing". conn refused only once UNWATCH had answered: a command issued
 * after fn's promise settled, during UNWATCH's round trip, was written behind
 * UNWATCH, ran, and was still in flight when the lease went back to the pool
 * as clean (a blocking one would have held the next caller's lease).
 */
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('a watch connection used after the promise fn returned settled', () => {
  it('refuses at once, even before UNWATCH is answered: nothing sent', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'r10wc:w', 'r10wc:late');
    let late: Promise<unknown> | undefined;
    const result = await db.watch(['r10wc:w'], (conn) => {
      const done = Promise.resolve('done');
      // A few turns after fn's promise settled (db.watch has sent UNWATCH by then; its answer needs a round trip).
      void done.then(() => undefined).then(() => undefined).then(() => {
        late = conn.reply('SET', 'r10wc:late', 'ran').then((v) => v, (e: unknown) => e);
      });
      return done;
    });
    expect(result).toBe('done');
    expect(await late).toBeInstanceOf(ClosedError);
    expect(await db.reply('EXISTS', 'r10wc:late')).toBe(0);
  });
});
