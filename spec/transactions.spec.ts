import { describe, expect, it } from 'vitest';
import { ExecAbortError, InvalidArgumentError, Redis, ServerError, WrongTypeError, type RedisOptions } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const client = (opts: RedisOptions = {}) => env.client(opts);

describe('db.multi', () => {
  it('compiles to MULTI ... EXEC and resolves with every reply; handles resolve too', async () => {
    const db = client().db;
    let handle: PromiseLike<number | bigint> | undefined; // INCR: a bigint past 2^53
    const [ok, count] = (await db.multi((tx) => {
      tx.command('SET', 'a', '1');
      handle = tx.command('INCR', 'a');
    }))!;
    expect(ok).toBe('OK');
    expect(count).toBe(2);
    expect(await handle).toBe(2);
  });

  it('50 concurrent blocks stay atomic among other traffic', async () => {
    const redis = client();
    const db = redis.db;
    await db.reply('DEL', 'atomic:list');
    const noise = [];
    for (let i = 0; i < 500; i++) noise.push(db.reply('INCR', 'atomic:noise'));
    const blocks = Array.from({ length: 50 }, (_, b) =>
      db.multi((tx) => {
        for (let i = 0; i < 5; i++) tx.command('RPUSH', 'atomic:list', `${b}:${i}`);
      }),
    );
    for (let i = 0; i < 500; i++) noise.push(db.reply('INCR', 'atomic:noise'));
    await Promise.all([...blocks, ...noise]);
    const list: string[] = await db.reply('LRANGE', 'atomic:list', 0, -1);
    expect(list).toHaveLength(250);
    // Each block's five entries are contiguous.
    for (let i = 0; i < 250; i += 5) {
      const block = list[i]!.split(':')[0];
      expect(list.slice(i, i + 5)).toEqual([0, 1, 2, 3, 4].map((n) => `${block}:${n}`));
    }
  });

  it('a run-time error sits in its slot and rejects its own handle; the others succeed', async () => {
    const db = client().db;
    await db.reply('SET', 'str', 'x');
    let bad: PromiseLike<unknown> | undefined;
    const result = (await db.multi((tx) => {
      tx.command('SET', 'm1', 'v');
      bad = tx.command('LPUSH', 'str', 'y');
      tx.command('GET', 'm1');
    }))!;
    expect(result[0]).toBe('OK');
    expect(result[1]).toBeInstanceOf(WrongTypeError);
    expect(result[2]).toBe('v');
    await expect(bad).rejects.toBeInstanceOf(WrongTypeError);
  });

  it('a queue-time error aborts the block with ExecAbortError listing each refusal', async () => {
    const db = client().db;
    const err = await db
      .multi((tx) => {
        tx.command('SET', 'never', '1');
        tx.command('NOSUCHCOMMAND', 'x');
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ExecAbortError);
    expect(err.errors[0]).toBeUndefined();
    expect(err.errors[1]).toBeInstanceOf(ServerError);
    expect(await db.reply('EXISTS', 'never')).toBe(0);
  });

  it('bad input inside the builder throws before anything is sent', async () => {
    const redis = client();
    await redis.db.reply('PING');
    const before = redis.stats().commands;
    await expect(redis.db.multi((tx) => tx.command('SET', 'k', undefined as never))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redis.db.multi((tx) => tx.command('WATCH', 'k'))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(redis.stats().commands).toBe(before);
  });

  it('runs in the handle database and decodes with the handle options', async () => {
    const redis = client();
    const d7 = redis.database(7);
    const res = await d7.with({ decode: 'buffer' }).multi((tx) => {
      tx.command('SET', 'in7', 'seven');
      tx.command('GET', 'in7');
    });
    expect(res![1]).toEqual(Buffer.from('seven'));
    expect(await redis.db.reply('GET', 'in7')).toBeNull();
    expect(await d7.reply('GET', 'in7')).toBe('seven');
  });
});

describe('db.watch', () => {
  it('concurrent read-modify-write workers end in the right total', async () => {
    const redis = client({ blockingPool: { size: 4 } });
    const db = redis.db;
    await db.reply('SET', 'counter', 0);
    let aborts = 0;
    const worker = async () => {
      for (let i = 0; i < 10; i++) {
        for (;;) {
          const res = await db.watch(['counter'], async (conn) => {
            const cur = Number(await conn.reply('GET', 'counter'));
            return conn.multi((tx) => tx.command('SET', 'counter', cur + 1));
          });
          if (res !== null) break;
          aborts++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(await db.reply('GET', 'counter')).toBe('80');
    expect(aborts).toBeGreaterThanOrEqual(0);
  });

  it('returns null when a watched key changes, and retries on request', async () => {
    const redis = client();
    const db = redis.db;
    await db.reply('SET', 'w', '1');
    const aborted = await db.watch(['w'], async (conn) => {
      await db.reply('SET', 'w', 'changed-by-someone-else');
      return conn.multi((tx) => tx.command('SET', 'w', 'mine'));
    });
    expect(aborted).toBeNull();
    expect(await db.reply('GET', 'w')).toBe('changed-by-someone-else');

    let runs = 0;
    const retried = await db.watch(
      ['w'],
      async (conn) => {
        runs++;
        if (runs === 1) await db.reply('SET', 'w', 'interference');
        return conn.multi((tx) => tx.command('SET', 'w', `run${runs}`));
      },
      { retries: 2 },
    );
    expect(runs).toBe(2);
    expect(retried).toEqual(['OK']);
    expect(await db.reply('GET', 'w')).toBe('run2');
  });

  it('the lease goes back clean (unwatched) even when fn throws', async () => {
    const redis = client({ blockingPool: { size: 1 } });
    const db = redis.db;
    await expect(
      db.watch(['x'], async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // With a pool of one, this only works if the lease came back (or was replaced).
    const res = await db.watch(['x'], (conn) => conn.multi((tx) => tx.command('SET', 'x', '1')));
    expect(res).toEqual(['OK']);
  });
});
