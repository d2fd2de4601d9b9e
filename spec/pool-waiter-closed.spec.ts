/**
 * A caller waiting for a side connection (the blocking pool at its size) when
 * the client closes or is disconnected: its ClosedError names its command and
 * the node, as the pool's other ClosedErrors do, and says it was not sent.
 * Both kinds of waiter: a blocking command (BLPOP) and a `db.watch` (WATCH).
 * Against a real redis-server.
 */
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function failure(p: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(p).then(() => new Error('it succeeded'), (e: unknown) => e);
}

/**
 * A client whose only side connection is blocked in a BLPOP on the server,
 * with a BLPOP and a db.watch waiting in line for it.
 */
async function waitingForTheLease(key: string) {
  const redis = env.client({ blockingPool: { size: 1 } });
  const admin = env.client();
  await admin.db.reply('DEL', key, `${key}:next`);
  const hold = failure(redis.db.reply('BLPOP', key, 0));
  while (!String(await admin.db.reply('CLIENT', 'LIST')).includes('cmd=blpop')) await sleep(5);
  const pop = failure(redis.db.reply('BLPOP', `${key}:next`, 0));
  let ran = false;
  const watch = failure(
    redis.db.watch([key], () => {
      ran = true;
    }),
  );
  return { redis, admin, hold, pop, watch, ran: () => ran };
}

describe('waiting for a side connection when the client ends', () => {
  const node = () => `127.0.0.1:${env.server.port}`;

  it('close(): the waiting BLPOP and WATCH each get a ClosedError naming the command and the node, not sent', async () => {
    const { redis, admin, hold, pop, watch, ran } = await waitingForTheLease('pool-waiter:close');
    await redis.close();
    expect(await hold).toBeInstanceOf(ClosedError); // the blocked one: given up, drained (its own message)
    expect(await pop).toBeInstanceOf(ClosedError);
    expect(await pop).toMatchObject({ command: 'BLPOP', node: node(), message: expect.stringMatching(/closed while waiting for a side connection; the command was not sent/) });
    expect(await watch).toBeInstanceOf(ClosedError);
    expect(await watch).toMatchObject({ command: 'WATCH', node: node(), message: expect.stringMatching(/closed while waiting for a side connection; the command was not sent/) });
    expect(ran()).toBe(false);
    await admin.db.reply('RPUSH', 'pool-waiter:close:next', 'item');
    expect(await admin.db.reply('LRANGE', 'pool-waiter:close:next', 0, -1)).toEqual(['item']); // never sent
  });

  it('disconnect(): the same, saying the client was disconnected', async () => {
    const { redis, pop, watch, ran } = await waitingForTheLease('pool-waiter:disconnect');
    redis.disconnect();
    expect(await pop).toBeInstanceOf(ClosedError);
    expect(await pop).toMatchObject({ command: 'BLPOP', node: node(), message: expect.stringMatching(/disconnected while waiting for a side connection; the command was not sent/) });
    expect(await watch).toBeInstanceOf(ClosedError);
    expect(await watch).toMatchObject({ command: 'WATCH', node: node(), message: expect.stringMatching(/disconnected while waiting for a side connection; the command was not sent/) });
    expect(ran()).toBe(false);
  });
});
