/**
 * Wait for a state instead of a duration: `await until('the XREAD is blocked',
 * check)` polls `check` until it holds. A fixed sleep stands in for an event
 * and flakes on a slow machine; polling waits exactly as long as needed. The
 * bound is generous (a loaded 2-core CI machine) and only there so that a
 * state that never comes fails the test with what it was waiting for, before
 * the test's own timeout does so without saying.
 */

/** The real setTimeout, taken at load: a spec that spies on the global one is not disturbed. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

export const UNTIL_BOUND_MS = 10_000;

export async function until(what: string, check: () => boolean | Promise<boolean>, boundMs = UNTIL_BOUND_MS): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${boundMs} ms for: ${what}`);
    await new Promise<void>((r) => realSetTimeout(r, 5));
  }
}

/**
 * `promise`, or a failure saying `what` did not happen if it has not settled
 * within the bound: for a step that must complete (a reply that must not be
 * held up), where hanging until the test's timeout would not say why.
 */
export async function within<T>(what: string, promise: Promise<T>, boundMs = UNTIL_BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = realSetTimeout(() => reject(new Error(`not within ${boundMs} ms: ${what}`)), boundMs);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    realClearTimeout(timer);
  }
}
