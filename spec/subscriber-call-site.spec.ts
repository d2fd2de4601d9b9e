/**
 * `callSiteStacks` for the subscriber's calls: `subscribe`, `psubscribe`,
 * `ssubscribe`, their `un...` counterparts and `keyspace` (with the CONFIG
 * commands it issues on the caller's behalf) reject with an error that
 * carries, after `--- issued at ---`, the line that made the call, as
 * `db.reply` does; off, no stack is captured. Against a real redis-server:
 * an ACL user restricted with `resetchannels` (NOPERM on a channel) and
 * without CONFIG (NOPERM on keyspace's `configure`), and calls refused once
 * the subscriber or the client is closed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClosedError, NoPermError, Redis, type RedisOptions } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  await admin.db.reply('ACL', 'SETUSER', 'subcs', 'on', '>pw', '~*', 'resetchannels', '&allowed:*', '+@all', '-config');
});
afterAll(async () => {
  await admin.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const restricted: RedisOptions = { username: 'subcs', password: 'pw' };

/** The line of this file that called here(): the test's own call, to find in a stack. */
function here(): number {
  const caller = new Error().stack!.split('\n')[2]!;
  return Number(/subscriber-call-site\.spec\.ts:(\d+):/.exec(caller)![1]);
}

/** The first frame after `--- issued at ---` is this file's line `line`. */
function issuedAt(line: number): RegExp {
  return new RegExp(`--- issued at ---\\n\\s+at .*subscriber-call-site\\.spec\\.ts:${line}:`);
}

function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(() => new Error('the call succeeded'), (e: Error) => e);
}

describe('subscriber calls with callSiteStacks', () => {
  it('a channel, pattern or shard channel the ACL forbids: the NOPERM carries the line of the call; off, it does not', async () => {
    for (const on of [true, false]) {
      const sub = env.client({ ...restricted, callSiteStacks: on }).subscriber();
      // Each call observed as it is made (failure()): the later ones settle while the first is awaited.
      const calls: [Promise<Error>, number][] = [
        [failure(sub.subscribe('forbidden')), here()],
        [failure(sub.psubscribe('forbidden:*')), here()],
        [failure(sub.ssubscribe('forbidden:shard')), here()],
        [failure(sub.subscribe('allowed:1', 'forbidden')), here()],
      ];
      for (const [call, line] of calls) {
        const err = await call;
        expect(err).toBeInstanceOf(NoPermError);
        if (on) expect(err.stack).toMatch(issuedAt(line));
        else expect(err.stack).not.toMatch(/issued at/);
      }
      await sub.subscribe('allowed:2'); // the connection is fine: later calls work
    }
  });

  it('two subscribers waiting on the same refused channel: each error carries its own caller\'s line, never the other\'s', async () => {
    const redis = env.client({ ...restricted, callSiteStacks: true });
    const [first, second] = [redis.subscriber(), redis.subscriber()];
    // One SUBSCRIBE goes out, for both calls: the server's one refusal settles both.
    const a = failure(first.subscribe('forbidden')), lineA = here();
    const b = failure(second.subscribe('forbidden')), lineB = here();
    const [errA, errB] = await Promise.all([a, b]);
    for (const err of [errA, errB]) expect(err).toBeInstanceOf(NoPermError);
    expect(errA.stack).toMatch(issuedAt(lineA));
    expect(errB.stack).toMatch(issuedAt(lineB));
    expect(errB.stack).not.toMatch(new RegExp(`subscriber-call-site\\.spec\\.ts:${lineA}:`));
    expect({ ...errB, message: errB.message }).toEqual({ ...errA, message: errA.message }); // the same refusal otherwise
  });

  it('keyspace({ configure: true }) for a user without CONFIG: the NOPERM of its CONFIG carries the keyspace() line, not keyspace.ts', async () => {
    const sub = env.client({ ...restricted, callSiteStacks: true }).subscriber();
    const err = await failure(sub.keyspace('kcs:*', { configure: true })), line = here();
    expect(err).toBeInstanceOf(NoPermError);
    expect(err.stack).toMatch(issuedAt(line));
  });

  it('calls refused once the subscriber, or the client, is closed: the ClosedError carries the line of the call', async () => {
    const redis = env.client({ callSiteStacks: true });
    const sub = redis.subscriber();
    await sub.subscribe('c1');
    await sub.close();
    const refused: [Promise<unknown>, number][] = [
      [sub.subscribe('c2'), here()],
      [sub.unsubscribe('c1'), here()],
      [sub.keyspace('kcs:*'), here()],
    ];
    const other = redis.subscriber();
    await redis.close();
    refused.push([other.psubscribe('p:*'), here()]);
    for (const [call, line] of refused) {
      const err = await failure(call);
      expect(err).toBeInstanceOf(ClosedError);
      expect(err.stack).toMatch(issuedAt(line));
    }
  });

  it('off, no stack is captured by subscriber calls; on, one per call', async () => {
    const count = async (on: boolean): Promise<number> => {
      const sub = env.client({ callSiteStacks: on }).subscriber();
      const capture = vi.spyOn(Error, 'captureStackTrace');
      await sub.subscribe('n1', 'n2');
      await sub.psubscribe('n:*');
      await sub.ssubscribe('n3');
      const ks = await sub.keyspace('kcs:*');
      await sub.unsubscribe('n1');
      await sub.unsubscribe();
      await ks.close();
      const calls = capture.mock.calls.length;
      capture.mockRestore();
      return calls;
    };
    expect(await count(false)).toBe(0);
    expect(await count(true)).toBe(6);
  });
});
