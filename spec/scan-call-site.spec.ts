/**
 * `callSiteStacks` for the SCAN iterators (`db.scan`, `hscan`, `sscan`,
 * `zscan`, and `.pages()`). Their commands are issued by the library, so the
 * stack a plain `db.reply` capture would give starts in lib/scan.ts (and,
 * for a page asked for after an await, may not reach the user's code at
 * all). A failed page's error carries, after `--- issued at ---`, the
 * caller of the iterator's next() (the `for await` line, or `it.next()`),
 * then, after `--- iterator made at ---`, the line that called `db.scan()`
 * (the only user frame when the iterator is driven by other code, e.g.
 * `Readable.from`). Off, nothing is captured. Against a real redis-server:
 * WRONGTYPE, an ACL refusal (NOPERM), a page lost with its connection
 * (retries off, through a fault proxy).
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectionLostError, NoPermError, Redis, RetryPolicy, WrongTypeError, type RedisOptions } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';

const env = useProxiedServer();
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  await admin.db.reply('ACL', 'SETUSER', 'scs-noscan', 'on', '>pw', '~*', '+@all', '-scan');
  await admin.db.reply('SET', 'scs:str', 'x');
  await admin.db.reply('MSET', 'scs:k1', '1', 'scs:k2', '2', 'scs:k3', '3');
  await admin.db.reply('HSET', 'scs:hash', 'f1', 'a', 'f2', 'b');
});
afterAll(async () => {
  await admin.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function client(opts: RedisOptions): Redis {
  return env.track(new Redis(env.server.url, opts));
}

/** The line of this file that called here(): the test's own call, to find in a stack. */
function here(): number {
  const caller = new Error().stack!.split('\n')[2]!;
  return Number(/scan-call-site\.spec\.ts:(\d+):/.exec(caller)![1]);
}

/** The first frame after `marker` is this file's line `line` (any line when undefined). */
function frameAfter(marker: string, line?: number): RegExp {
  return new RegExp(`--- ${marker} ---\\n\\s+at .*scan-call-site\\.spec\\.ts:${line ?? '\\d+'}:`);
}

/** Iterate to the end: the error the iteration failed with. */
async function drain(iterable: AsyncIterable<unknown>): Promise<Error> {
  try {
    for await (const item of iterable) void item;
  } catch (err) {
    return err as Error;
  }
  return new Error('the iteration ended without an error');
}

const DRAINED_HERE = /--- issued at ---\n\s+at drain .*scan-call-site\.spec\.ts:\d+:/;

describe('SCAN iterators with callSiteStacks', () => {
  it('H/S/ZSCAN of a string key: the WRONGTYPE carries the for-await line, then the line that made the iterator; off, neither', async () => {
    for (const on of [true, false]) {
      const db = client({ callSiteStacks: on }).db;
      const made: [AsyncIterable<unknown>, number][] = [
        [db.hscan('scs:str'), here()],
        [db.sscan('scs:str'), here()],
        [db.zscan('scs:str'), here()],
        [db.hscan('scs:str').pages(), here()],
      ];
      for (const [iterable, line] of made) {
        const err = await drain(iterable);
        expect(err).toBeInstanceOf(WrongTypeError);
        if (!on) {
          expect(err.stack).not.toMatch(/issued at|made at/);
          continue;
        }
        expect(err.stack).toMatch(DRAINED_HERE); // the user's frame first, not lib/scan.ts
        expect(err.stack).toMatch(frameAfter('iterator made at', line));
      }
    }
  });

  it('SCAN refused by ACL (its first page is asked for after an await): NOPERM carries both call sites', async () => {
    const db = client({ callSiteStacks: true, username: 'scs-noscan', password: 'pw' }).db;
    const keys = db.scan({ match: 'scs:*' }), line = here();
    const err = await drain(keys);
    expect(err).toBeInstanceOf(NoPermError);
    expect(err.stack).toMatch(DRAINED_HERE);
    expect(err.stack).toMatch(frameAfter('iterator made at', line));
    const pages = await drain(db.scan().pages());
    expect(pages).toBeInstanceOf(NoPermError);
    expect(pages.stack).toMatch(DRAINED_HERE);
    expect(pages.stack).toMatch(frameAfter('iterator made at'));
  });

  it('driven by other code (Readable.from): the line that made the iterator is there, though no frame of ours asked for the page', async () => {
    const db = client({ callSiteStacks: true }).db;
    const fields = db.hscan('scs:str'), line = here();
    const err = await Readable.from(fields).toArray().then(() => new Error('the stream ended'), (e: Error) => e);
    expect(err).toBeInstanceOf(WrongTypeError);
    expect(err.stack).toMatch(frameAfter('iterator made at', line));
  });

  it('it.next() by hand, its page lost with the connection (retries off): the ConnectionLostError carries the next() line', async () => {
    const { redis, proxy } = await env.through({ callSiteStacks: true, retry: RetryPolicy.none() });
    const keys = redis.db.scan({ match: 'scs:k*', count: 1 })[Symbol.asyncIterator](), made = here();
    proxy.stall();
    const page = keys.next().then(() => new Error('the page came'), (e: Error) => e), asked = here();
    while (proxy.held === 0) await new Promise((r) => setTimeout(r, 5)); // the SCAN reached the proxy: it is in flight
    proxy.cutAll();
    const err = await page;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(err.stack).toMatch(frameAfter('issued at', asked));
    expect(err.stack).toMatch(frameAfter('iterator made at', made));
  });

  it('off, no stack is captured for a whole iteration; on, one when the iterator is made and one per page asked for (not one more per command)', async () => {
    const count = async (on: boolean): Promise<number> => {
      const db = client({ callSiteStacks: on }).db;
      await db.reply('PING');
      const capture = vi.spyOn(Error, 'captureStackTrace');
      let pages = 0;
      for await (const page of db.hscan('scs:hash').pages()) pages += page.length > 0 ? 1 : 0; // a small hash: one page
      await drain(db.sscan('scs:str'));
      const calls = capture.mock.calls.length;
      capture.mockRestore();
      expect(pages).toBe(1);
      return calls;
    };
    expect(await count(false)).toBe(0);
    // hscan: made, its page, the next() that finds the end; sscan: made, its (failed) page
    expect(await count(true)).toBe(5);
  });
});
