/**
 * The cache's store when a cluster shard's slots are dropped (a node's
 * connection lost or new, a FLUSHALL there): no entry of those slots is
 * served from that moment, entries kept after the drop are, and the stale
 * ones leave memory a bounded number per turn of the event loop, so that
 * dropping a third of a large cache never blocks the process for long.
 */
import { describe, expect, it } from 'vitest';
import { Store, SWEEP_PER_TURN } from '../lib/cache/store.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

function store(maxEntries = 1_000_000): Store {
  return new Store({ maxEntries, maxBytes: 1 << 30, ttl: 0 });
}

/** Keep entry `GET k<i>` for key `k<i>` in `slot`. */
function keep(s: Store, i: number, slots: number[]): void {
  expect(s.set('GET', `k${i}`, `v${i}`, [`k${i}`], slots, 2, 0)).toBe(true);
}

describe('cache store: dropping slots', () => {
  it('serves no entry of a dropped slot from the drop on, and serves one kept after it', () => {
    const s = store();
    keep(s, 1, [5]);
    keep(s, 2, [6]);
    keep(s, 3, [6, 5]); // an MGET over two slots: dropped with either
    s.dropSlots([5]);
    expect(s.get('GET', 'k1', 0)).toBeUndefined();
    expect(s.get('GET', 'k3', 0)).toBeUndefined();
    expect(s.get('GET', 'k2', 0)?.value).toBe('v2');
    keep(s, 4, [5]);
    expect(s.get('GET', 'k4', 0)?.value).toBe('v4');
    expect(s.size).toBe(2);
    expect(s.slotDrops).toBe(2);
  });

  it('a small drop is removed from memory at once', () => {
    const s = store();
    for (let i = 0; i < 100; i++) keep(s, i, [i % 10]);
    s.dropSlots([0, 1, 2]);
    expect(s.size).toBe(70);
    expect(s.slotDrops).toBe(30);
  });

  it('a large drop is removed at most about SWEEP_PER_TURN per turn, every stale entry unseen meanwhile, the rest kept', async () => {
    const s = store();
    const n = 10 * SWEEP_PER_TURN;
    for (let i = 0; i < n; i++) keep(s, i, [i % 300]);
    const dropped = Array.from({ length: 100 }, (_, slot) => slot); // a third of the entries
    const stale = Array.from({ length: n }, (_, i) => i).filter((i) => i % 300 < 100);
    s.dropSlots(dropped);
    // Removed in bounded steps, whole slots at a time (a slot holds n / 300 entries here).
    const perSlot = Math.ceil(n / 300);
    const sizes = [s.size];
    while (s.size > n - stale.length) {
      await turn();
      sizes.push(s.size);
      expect(sizes.length).toBeLessThan(50);
    }
    for (let t = 1; t < sizes.length; t++) expect(sizes[t - 1]! - sizes[t]!).toBeLessThanOrEqual(SWEEP_PER_TURN + perSlot);
    expect(n - sizes[0]!).toBeLessThanOrEqual(SWEEP_PER_TURN + perSlot);
    expect(sizes.length).toBeGreaterThan(2);
    expect(s.size).toBe(n - stale.length);
    expect(s.slotDrops).toBe(stale.length);
    for (const i of stale) expect(s.get('GET', `k${i}`, 0)).toBeUndefined();
    expect(s.get('GET', 'k100', 0)?.value).toBe('v100');
  });

  it('a stale entry is never served while its sweep is pending, and entries kept meanwhile in those slots survive it', async () => {
    const s = store();
    const n = 5 * SWEEP_PER_TURN;
    for (let i = 0; i < n; i++) keep(s, i, [i % 10]);
    s.dropSlots([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.size).toBeGreaterThan(SWEEP_PER_TURN); // the sweep is pending
    for (let i = n - 10; i < n; i++) expect(s.get('GET', `k${i}`, 0)).toBeUndefined();
    for (let i = 0; i < 10; i++) keep(s, n + i, [i]);
    for (let t = 0; t < 20; t++) await turn();
    expect(s.size).toBe(10);
    for (let i = 0; i < 10; i++) expect(s.get('GET', `k${n + i}`, 0)?.value).toBe(`v${n + i}`);
  });

  it('clear() during a pending sweep leaves nothing for it, and the store works on', async () => {
    const s = store();
    for (let i = 0; i < 3 * SWEEP_PER_TURN; i++) keep(s, i, [i % 3]);
    s.dropSlots([0, 1]);
    expect(s.clear()).toBeGreaterThan(0);
    keep(s, 1, [0]);
    await turn();
    await turn();
    expect(s.size).toBe(1);
    expect(s.get('GET', 'k1', 0)?.value).toBe('v1');
  });
});
