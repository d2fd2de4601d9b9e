/**
 * Watch the timers a spec cares about, told apart by their delay (a delay no
 * other timer of the client uses, such as a retry policy's 987654 ms): each
 * test gets the timers set with those delays, in order, and the set of timers
 * cleared. A delay may be shortened (`shorten`: delay -> ms it really lasts),
 * so a spec can see what happens when such a timer ends without waiting for
 * it. Installed around every test of the file (beforeEach / afterEach); a
 * watched timer still pending when a test ends is cleared then.
 */
import { afterEach, beforeEach, vi } from 'vitest';

export interface TimerWatch {
  /** The timers set with a watched delay during the current test, in order. */
  readonly set: NodeJS.Timeout[];
  /** Every timer cleared during the current test. */
  readonly cleared: Set<unknown>;
  /** The real setTimeout, for the spec's own waits. */
  readonly realSetTimeout: typeof setTimeout;
  /** Wait `ms` on the real clock (the spy does not touch it). */
  sleep(ms: number): Promise<void>;
  /** Poll `check` every 5 ms until it holds (bounded by the test's own timeout). */
  until(check: () => boolean | Promise<boolean>): Promise<void>;
}

export function watchTimers(delays: readonly number[], shorten: ReadonlyMap<number, number> = new Map()): TimerWatch {
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const sleep = (ms: number) => new Promise<void>((r) => realSetTimeout(r, ms));
  const until = async (check: () => boolean | Promise<boolean>) => {
    while (!(await check())) await sleep(5);
  };
  const watch = { set: [] as NodeJS.Timeout[], cleared: new Set<unknown>(), realSetTimeout, sleep, until };
  beforeEach(() => {
    watch.set.length = 0;
    watch.cleared.clear();
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      if (ms === undefined || !delays.includes(ms)) return realSetTimeout(fn, ms, ...args);
      const timer = realSetTimeout(fn, shorten.get(ms) ?? ms, ...args);
      watch.set.push(timer);
      return timer;
    }) as typeof setTimeout);
    vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((timer?: NodeJS.Timeout | string | number) => {
      watch.cleared.add(timer);
      realClearTimeout(timer);
    }) as typeof clearTimeout);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const t of watch.set) realClearTimeout(t); // a failing run leaves none behind
  });
  return watch;
}
