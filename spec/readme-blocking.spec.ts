/**
 * README "Blocking commands and retries", against a real server:
 *
 *  - every command of the README's list runs on a leased connection (the
 *    shared one keeps answering while it blocks) with its own timeout plus
 *    `blockingMargin` as its deadline, so a `commandTimeout` far shorter than
 *    the block does not cut it and the server's timeout answer comes back;
 *  - a lease waited for longer than `maxWait` is a PoolTimeoutError, which the
 *    client's default policy tries once more (so it waits up to twice
 *    `maxWait`) and `RetryPolicy.none()` does not;
 *  - the failures a policy retries by default are the ones the README names.
 *
 * WAITAOF (Redis 7.2+) is in the README's list, but the test server (7.0)
 * does not know it: it is left out of the first test by name.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionError, PoolTimeoutError, RetryPolicy, type Arg } from '../lib/index.js';
import { serverErrorFrom } from '../lib/errors.js';
import { DEFAULT_RETRY_ON } from '../lib/retry.js';
import { blockedIn } from './support/blocked-clients.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Blocking commands and retries'), readme.indexOf('### Pub/sub'));
const env = useRealServer();

/** A call of each listed command that blocks for `ms` on an empty key and then gets the server's timeout answer. */
const samples = (ms: number): Record<string, { args: Arg[]; answer: unknown }> => {
  const s = ms / 1000;
  return {
    BLPOP: { args: ['BLPOP', 'rb:l', s], answer: null },
    BRPOP: { args: ['BRPOP', 'rb:l', s], answer: null },
    BRPOPLPUSH: { args: ['BRPOPLPUSH', 'rb:l', 'rb:l2', s], answer: null },
    BLMOVE: { args: ['BLMOVE', 'rb:l', 'rb:l2', 'LEFT', 'RIGHT', s], answer: null },
    BLMPOP: { args: ['BLMPOP', s, 1, 'rb:l', 'LEFT'], answer: null },
    BZPOPMIN: { args: ['BZPOPMIN', 'rb:z', s], answer: null },
    BZPOPMAX: { args: ['BZPOPMAX', 'rb:z', s], answer: null },
    BZMPOP: { args: ['BZMPOP', s, 1, 'rb:z', 'MIN'], answer: null },
    XREAD: { args: ['XREAD', 'BLOCK', ms, 'STREAMS', 'rb:s', '$'], answer: null },
    XREADGROUP: { args: ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', ms, 'STREAMS', 'rb:s', '>'], answer: null },
    WAIT: { args: ['WAIT', 1, ms], answer: 0 },
  };
};

describe('README, blocking commands and retries', () => {
  it('each listed blocking command runs on a lease, with its own timeout plus blockingMargin as its deadline', async () => {
    const listed = /Commands the command table flags as blocking \(([^)]*)\)/.exec(section)![1]!
      .replace(/ with BLOCK/, '')
      .split(/,\s*|\//)
      .map((w) => w.trim());
    const calls = samples(1500);
    expect(listed.filter((name) => name !== 'WAITAOF').sort()).toEqual(Object.keys(calls).sort());

    const redis = env.client({ commandTimeout: 100, blockingMargin: 2000, blockingPool: { size: 12 } });
    const admin = env.client().db;
    const db = redis.db;
    await admin.reply('XADD', 'rb:s', '1-1', 'f', 'v');
    await admin.reply('XGROUP', 'CREATE', 'rb:s', 'g', '$');
    const settled: string[] = [];
    const running = Object.entries(calls).map(([name, { args }]) =>
      db.reply(...(args as [string, ...Arg[]])).finally(() => settled.push(name)),
    );
    // Every one of them is blocked on the server, past the 100 ms commandTimeout ...
    for (const name of Object.keys(calls)) await until(`${name} blocked on the server`, async () => (await blockedIn(admin, name)) === 1);
    // ... and the shared connection still answers, before any of them (its own generous deadline: a loaded machine).
    expect(await db.with({ timeout: 5000 }).reply('PING')).toBe('PONG');
    expect(settled).toEqual([]);
    // The server's own timeout ends each one: its answer, not a ReplyTimeoutError.
    const answers = await Promise.all(running);
    expect(answers).toEqual(Object.values(calls).map((c) => c.answer));
  });

  it('a lease not free within maxWait: PoolTimeoutError, tried once more by the default policy, not by RetryPolicy.none()', async () => {
    const redis = env.client({ blockingPool: { size: 1, maxWait: 1000 } });
    const db = redis.db;
    // Holds the only lease for 1.5 s: one wait of 1 s is not enough, two are.
    const holder = db.reply('BLPOP', 'rb:held', 1.5);
    await until('the holder blocked', async () => (await blockedIn(env.client().db, 'blpop')) === 1);
    const once = await db.with({ retry: RetryPolicy.none() }).reply('BLPOP', 'rb:held', 0.05).catch((e) => e);
    expect(once).toBeInstanceOf(PoolTimeoutError);
    expect(await holder).toBeNull();
    const holder2 = db.reply('BLPOP', 'rb:held', 1.5);
    await until('the second holder blocked', async () => (await blockedIn(env.client().db, 'blpop')) === 1);
    expect(await db.reply('BLPOP', 'rb:held', 0.05)).toBeNull(); // the default policy waited again, and got the lease
    expect(await holder2).toBeNull();
  });

  it('the failures retried by default are the ones the README names', () => {
    const sentence = /By default it retries([\s\S]*?)\. It never/.exec(section)![1]!.replace(/\s+/g, ' ');
    expect(sentence).toMatch(/^ connection errors, a lease that timed out waiting /);
    const states = /the transient server states ([A-Z, ]+?) and ([A-Z]+) /.exec(sentence)!;
    const codes = [...states[1]!.split(', '), states[2]!];
    const classes = codes.map((code) => serverErrorFrom(`${code} refused`).constructor);
    expect(new Set(classes).size).toBe(codes.length); // each state has a class of its own
    expect(new Set(DEFAULT_RETRY_ON)).toEqual(new Set([ConnectionError, PoolTimeoutError, ...classes]));
    const policy = RetryPolicy.exponential();
    for (const code of codes) expect([code, policy.retries(serverErrorFrom(`${code} refused`))]).toEqual([code, true]);
    expect(policy.retries(serverErrorFrom('WRONGTYPE no'))).toBe(false);
  });
});
