/**
 * The public objects expose only the public API, and a transaction builder
 * that cannot work is refused with every handle settled.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Pending } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('Pending', () => {
  it('can be awaited, and nothing else: its internals cannot forge a reply', async () => {
    const redis = env.client();
    await redis.db.reply('SET', 'surface:k', 'real');
    const p = redis.db.command('GET', 'surface:k') as unknown as Record<string, unknown>;
    expect(p).toBeInstanceOf(Pending);
    for (const name of ['resolve', 'reject', 'toPromise', 'state', 'deadline', 'args', 'info', 'retry', 'onLateReply']) {
      expect(p[name], name).toBeUndefined();
    }
    expect(Object.keys(p)).toEqual([]);
    expect(Object.getOwnPropertySymbols(p)).toEqual([]);
    expect(await (p as unknown as Promise<string>)).toBe('real');
    expect(Object.prototype.toString.call(p)).toBe('[object Pending]');
  });

  it('then, catch and finally behave like a promise', async () => {
    const redis = env.client();
    const p = redis.db.command('INCR', 'surface:n');
    expect(await p.then((v) => Number(v) + 1)).toBe(2);
    const failed = redis.db.command('LPUSH', 'surface:n', 'x'); // WRONGTYPE
    expect(await failed.catch((e: Error) => e.name)).toBe('WrongTypeError');
    let ran = false;
    await redis.db.command('PING').finally(() => (ran = true));
    expect(ran).toBe(true);
  });

  it('clients and database handles keep their internals private', () => {
    const redis = env.client();
    const surface = (o: object) => [...Object.keys(o), ...Object.getOwnPropertySymbols(o).map(String)];
    expect(surface(redis.db)).toEqual(['index']);
    for (const key of surface(redis)) expect(key).not.toMatch(/core|topology|options/);
    expect((redis as unknown as Record<string, unknown>).core).toBeUndefined();
    expect((redis.db as unknown as Record<string, unknown>).core).toBeUndefined();
  });
});

describe('db.multi builders', () => {
  it('an async builder is refused, nothing is sent, and every handle settles', async () => {
    const redis = env.client();
    let first: PromiseLike<unknown> | undefined;
    let second: PromiseLike<unknown> | undefined;
    let lateError: unknown;
    let resumed = false;
    const block = redis.db.multi(async (tx) => {
      first = tx.command('SET', 'surface:async1', '1');
      await new Promise((r) => setTimeout(r, 10));
      try {
        second = tx.command('SET', 'surface:async2', '2');
      } catch (err) {
        lateError = err;
      }
      resumed = true;
    });
    const err = await block.catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/synchronously/);
    await expect(Promise.resolve(first)).rejects.toBeInstanceOf(InvalidArgumentError);
    await until('the builder ran on after its await', () => resumed);
    expect(second).toBeUndefined(); // queueing after the builder returned throws at once
    expect(lateError).toBeInstanceOf(InvalidArgumentError);
    expect(await redis.db.reply('EXISTS', 'surface:async1', 'surface:async2')).toBe(0);
  });

  it('a builder that throws settles the handles it made, and sends nothing', async () => {
    const redis = env.client();
    let made: PromiseLike<unknown> | undefined;
    const block = redis.db.multi((tx) => {
      made = tx.command('SET', 'surface:throw', '1');
      tx.command('SET', 'surface:throw2', undefined as unknown as string);
    });
    await expect(block).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Promise.resolve(made)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await redis.db.reply('EXISTS', 'surface:throw')).toBe(0);
  });

  it('a builder kept and used after multi() returned cannot queue into a sent block', async () => {
    const redis = env.client();
    let kept: { command(name: string, ...args: string[]): PromiseLike<unknown> } | undefined;
    const result = await redis.db.multi((tx) => {
      kept = tx;
      tx.command('SET', 'surface:kept', '1');
    });
    expect(result).toEqual(['OK']);
    expect(() => kept!.command('SET', 'surface:kept', '2')).toThrow(InvalidArgumentError);
    expect(await redis.db.reply('GET', 'surface:kept')).toBe('1');
  });
});

describe('per-call and subscriber options are checked where they are given', () => {
  it('db.with() refuses an unknown key, naming the closest option, and a wrong type', () => {
    const redis = env.client();
    expect(() => redis.db.with({ timout: 5 } as never)).toThrow(/timeout/);
    expect(() => redis.db.with({ timout: 5 } as never)).toThrow(InvalidArgumentError);
    expect(() => redis.db.with({ decode: 'latin1' } as never)).toThrow(InvalidArgumentError);
    expect(() => redis.db.with({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(redis.db.with({ timeout: 50, decode: 'buffer' })).toBeDefined();
  });

  it('redis.subscriber() refuses unknown keys and values', () => {
    const redis = env.client();
    expect(() => redis.subscriber({ overflow: 'drop' } as never)).toThrow(InvalidArgumentError);
    expect(() => redis.subscriber({ maxBufferd: 5 } as never)).toThrow(/maxBuffered/);
  });
});
