/** The slot map refresher: single-flight, spaced, retried on failure (scheduling only; IO injected). */
import { describe, expect, it } from 'vitest';
import { Refresher } from '../lib/topology/cluster/refresher.js';
import { until } from './support/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `gate`: each query waits for it (instead of `delay`), so a test can act while one is under way. */
function counting(opts: { fail?: number; delay?: number; gate?: Promise<void> } = {}) {
  const io = {
    queries: 0,
    applied: [] as number[],
    failures: 0,
    async query() {
      const n = ++io.queries;
      await (opts.gate ?? sleep(opts.delay ?? 5));
      if (n <= (opts.fail ?? 0)) throw new Error(`query ${n} failed`);
      return n;
    },
    apply(map: number) {
      io.applied.push(map);
    },
    failed() {
      io.failures++;
    },
  };
  return io;
}

describe('Refresher', () => {
  it('a burst of reasons makes one query, plus one more for reasons that came during it', async () => {
    let open!: () => void;
    const io = counting({ gate: new Promise<void>((r) => (open = r)) });
    const r = new Refresher(io, 10, 0);
    const first = r.refresh();
    await until('the first query under way', () => io.queries === 1);
    const during = [r.refresh(), r.refresh(), r.refresh()];
    open();
    await Promise.all([first, ...during]);
    expect(io.queries).toBe(2);
    expect(io.applied).toEqual([1, 2]);
    r.stop();
  });

  it('queries are spaced by minInterval', async () => {
    const io = counting({ delay: 1 });
    const r = new Refresher(io, 100, 0);
    await r.refresh();
    const started = Date.now();
    await r.refresh();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(io.queries).toBe(2);
    r.stop();
  });

  it('a failing query is retried, a bounded number of times', async () => {
    const io = counting({ fail: 2, delay: 1 });
    const r = new Refresher(io, 5, 0);
    await r.refresh();
    expect(io.failures).toBe(2);
    expect(io.applied).toEqual([3]);
    const stuck = counting({ fail: 1000, delay: 1 });
    const r2 = new Refresher(stuck, 1, 0);
    await r2.refresh();
    expect(stuck.queries).toBe(10);
    r.stop();
    r2.stop();
  });

  it('refreshes periodically, and stops', async () => {
    const io = counting({ delay: 1 });
    const r = new Refresher(io, 1, 40);
    await until('two periodic queries', () => io.queries >= 2);
    r.stop();
    const seen = io.queries;
    expect(seen).toBeGreaterThanOrEqual(2);
    await sleep(100); // a window of 2.5 periods in which a query would show; a slow machine only widens it
    expect(io.queries).toBe(seen);
  });
});
