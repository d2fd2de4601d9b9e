/**
 * What the bounded-* specs check once their churn is over: the client holds
 * nothing for it any more (counts a leak would keep up), and a closed client
 * let go of the process's resources (sockets, timers, ...).
 */
import { expect } from 'vitest';
import type { Redis } from '../../lib/index.js';
import { until } from './until.js';

/** Nothing pending, queued or waiting to be written on `redis`; with `poolSize`, no more side connections leased. */
export function expectIdle(redis: Redis, poolSize?: number): void {
  const s = redis.stats();
  expect(s.pending).toBe(0);
  expect(s.queued).toBe(0);
  expect(s.queuedBytes).toBe(0);
  if (poolSize !== undefined) expect(s.leased).toBeLessThanOrEqual(poolSize);
}

/** Resolves once the process has no more active resources than `before` (taken before the client was made). */
export async function resourcesBackTo(before: number): Promise<void> {
  await until(`the process's active resources back to ${before}`, () => process.getActiveResourcesInfo().length <= before);
}
