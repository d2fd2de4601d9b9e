/**
 * `callSiteStacks` for the commands of transactions: those queued in a
 * `db.multi` builder (`tx.command`, `tx.run`) and those sent on `db.watch`'s
 * connection (`conn.reply`, `conn.command`, `conn.run`, `conn.multi`) carry
 * where they were issued, as `db.reply` does; off, no stack is captured at
 * all. Against a real redis-server (run-time WRONGTYPE, a script's error, a
 * queue-time refusal).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExecAbortError, Redis, Script, ServerError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** The first frame after the marker is in this file: where the test issued the command. */
const ISSUED_HERE = /--- issued at ---\n\s+at .*transaction-call-site\.spec\.ts/;
const failing = new Script('return redis.error_reply("ERR call-site probe")');

async function failure(p: PromiseLike<unknown>): Promise<Error> {
  return Promise.resolve(p).then(() => new Error('it succeeded'), (e: Error) => e);
}

/** A string key: LPUSH on it is a WRONGTYPE at run time (EXEC runs the rest of the block). */
async function stringKey(redis: Redis, key: string): Promise<string> {
  await redis.db.reply('SET', key, 'x');
  return key;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('db.multi with callSiteStacks', () => {
  it("a handle's run-time error carries where tx.command was called; off, it does not", async () => {
    for (const on of [true, false]) {
      const redis = env.client({ callSiteStacks: on });
      const key = await stringKey(redis, 'tcs:multi');
      let handle: PromiseLike<unknown> | undefined;
      await redis.db.multi((tx) => {
        tx.command('GET', key);
        handle = tx.command('LPUSH', key, 'y');
      });
      const err = await failure(handle!);
      expect(err).toBeInstanceOf(ServerError);
      if (on) expect(err.stack).toMatch(ISSUED_HERE);
      else expect(err.stack).not.toMatch(/issued at/);
    }
  });

  it("tx.run: the script's error in its slot carries where tx.run was called", async () => {
    const redis = env.client({ callSiteStacks: true });
    let handle: PromiseLike<unknown> | undefined;
    await redis.db.multi((tx) => {
      handle = tx.run(failing, ['tcs:script'], []);
    });
    const err = await failure(handle!);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.stack).toMatch(ISSUED_HERE);
  });

  it("a block refused at queue time: each refused handle carries its call site, and so does the block's ExecAbortError", async () => {
    const redis = env.client({ callSiteStacks: true });
    let handle: PromiseLike<unknown> | undefined;
    const block = redis.db.multi((tx) => {
      handle = tx.command('NO.SUCH.COMMAND.TCS');
    });
    const refused = await failure(block);
    expect(refused).toBeInstanceOf(ExecAbortError);
    expect(refused.stack).toMatch(ISSUED_HERE);
    const err = await failure(handle!);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.stack).toMatch(ISSUED_HERE);
  });
});

describe('db.watch with callSiteStacks', () => {
  it("conn.reply, conn.command and conn.run: each error carries where it was called; off, none does", async () => {
    for (const on of [true, false]) {
      const redis = env.client({ callSiteStacks: on });
      const key = await stringKey(redis, 'tcs:watch');
      const errors = await redis.db.watch([key], async (conn) => {
        const byReply = await failure(conn.reply('LPUSH', key, 'y'));
        const byCommand = await failure(conn.command('LPUSH', key, 'y'));
        const byRun = await failure(conn.run(failing, [key], []));
        return [byReply, byCommand, byRun];
      });
      for (const err of errors) {
        expect(err).toBeInstanceOf(ServerError);
        if (on) expect(err.stack).toMatch(ISSUED_HERE);
        else expect(err.stack).not.toMatch(/issued at/);
      }
    }
  });

  it('conn.multi: a handle of the block carries where tx.command was called', async () => {
    const redis = env.client({ callSiteStacks: true });
    const key = await stringKey(redis, 'tcs:watch-multi');
    const err = await redis.db.watch([key], async (conn) => {
      let handle: PromiseLike<unknown> | undefined;
      await conn.multi((tx) => {
        handle = tx.command('LPUSH', key, 'y');
      });
      return failure(handle!);
    });
    expect(err).toBeInstanceOf(ServerError);
    expect(err.stack).toMatch(ISSUED_HERE);
  });
});

describe('callSiteStacks off costs nothing in transactions', () => {
  it('no stack is captured for a block or a watch when the option is off; one per command when on', async () => {
    const count = async (on: boolean): Promise<number> => {
      const redis = env.client({ callSiteStacks: on });
      const capture = vi.spyOn(Error, 'captureStackTrace');
      await redis.db.multi((tx) => {
        tx.command('SET', 'tcs:cost', '1');
        tx.run(failing, ['tcs:cost'], []);
      });
      await redis.db.watch(['tcs:cost'], async (conn) => {
        await conn.reply('GET', 'tcs:cost');
        await conn.command('GET', 'tcs:cost');
        await conn.run(failing, ['tcs:cost'], []).then(undefined, () => {});
        await conn.multi((tx) => tx.command('GET', 'tcs:cost'));
      });
      const calls = capture.mock.calls.length;
      capture.mockRestore();
      return calls;
    };
    expect(await count(false)).toBe(0);
    expect(await count(true)).toBe(6);
  });
});
