/**
 * close() and disconnect() while a db.watch or a blocking command waits for
 * the sentinels to name a reachable master (Sentinel.unreachable: the master
 * is dead and, with no replica, no failover will come; the command timeout
 * is long). The client's contract: close() resolves once every call in
 * flight settled, disconnect() rejects what is pending with ClosedError. A
 * call in that wait is in flight: it must not outlive close(), nor come back
 * later with the connection error as if the client were still open. Nor
 * may a watch whose signal fired in that wait lease again and run fn.
 */
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { AbortError, ClosedError, Redis, RetryPolicy } from '../lib/index.js';
import { Sentinel } from '../lib/topology/sentinel/sentinel.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { until } from './support/until.js';
import { tracked } from './support/outcome.js';

let sentinels: RedisSentinels;

beforeAll(async () => {
  sentinels = await startSentinels({ replicas: 0, sentinels: 1, quorum: 1 });
  await sentinels.killNode(await sentinels.masterPort()); // down for good: no replica to promote
}, 60_000);
afterAll(async () => {
  await sentinels?.stop();
});

const clients: Redis[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) c.disconnect();
});

function client(commandTimeout = 60_000): Redis {
  const redis = new Redis({ sentinel: { name: 'mymaster', nodes: sentinels.sentinelUrls.slice() }, connectTimeout: 1000, commandTimeout });
  redis.on('error', () => {});
  redis.on('commandError', () => {});
  clients.push(redis);
  return redis;
}

/** Counts the calls that entered the wait for a reachable master. */
function spyWait(): { entered(): number } {
  const spy = vi.spyOn(Sentinel.prototype, 'unreachable');
  return { entered: () => spy.mock.calls.length };
}

it('disconnect() during the wait: the watch rejects with ClosedError, fn never ran', async () => {
  const redis = client();
  const wait = spyWait();
  let runs = 0;
  const watched = tracked(redis.db.watch(['uc:counter'], () => runs++));
  await until('the watch waits for a reachable master', () => wait.entered() > 0);
  redis.disconnect();
  expect(await watched.result).toBeInstanceOf(ClosedError);
  expect(runs).toBe(0);
});

it('close() during the wait: the watch has settled, with ClosedError, once close() resolves', async () => {
  const redis = client();
  const wait = spyWait();
  const watched = tracked(redis.db.watch(['uc:counter'], () => 0));
  await until('the watch waits for a reachable master', () => wait.entered() > 0);
  await redis.close();
  expect(watched.settled()).toBe(true);
  expect(await watched.result).toBeInstanceOf(ClosedError);
});

it('close() during the wait: a BLPOP (no retries) has settled, with ClosedError, once close() resolves', async () => {
  const redis = client();
  const wait = spyWait();
  const popped = tracked(redis.db.with({ retry: RetryPolicy.none() }).reply('BLPOP', 'uc:list', 0));
  await until('the BLPOP waits for a reachable master', () => wait.entered() > 0);
  await redis.close();
  expect(popped.settled()).toBe(true);
  expect(await popped.result).toBeInstanceOf(ClosedError);
});

it('disconnect() during the wait: a BLPOP (no retries) rejects with ClosedError', async () => {
  const redis = client();
  const wait = spyWait();
  const popped = tracked(redis.db.with({ retry: RetryPolicy.none() }).reply('BLPOP', 'uc:list', 0));
  await until('the BLPOP waits for a reachable master', () => wait.entered() > 0);
  redis.disconnect();
  expect(await popped.result).toBeInstanceOf(ClosedError);
});

it('the signal fires during the wait: the watch rejects with AbortError (never sent), fn never ran', async () => {
  const redis = client(5000); // without the abort, the watch would end with the connection error after this
  const wait = spyWait();
  const ac = new AbortController();
  let runs = 0;
  const watched = tracked(redis.db.with({ signal: ac.signal }).watch(['uc:counter'], () => runs++));
  await until('the watch waits for a reachable master', () => wait.entered() > 0);
  ac.abort(new Error('enough'));
  const err = await watched.result;
  expect(err).toBeInstanceOf(AbortError);
  expect((err as AbortError).sent).toBe(false);
  expect(runs).toBe(0);
});
