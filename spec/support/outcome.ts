/**
 * A call observed now and awaited later: its rejection becomes a value to
 * compare (never an unhandled rejection while the spec does other steps).
 */
export function outcome<T>(p: Promise<T>): Promise<T | Error> {
  return p.then((v) => v, (err: Error) => err);
}

/** `outcome(p)`, and whether it settled yet (a spec checks that a call is still waiting, or no longer). */
export function tracked<T>(p: Promise<T>): { settled: () => boolean; result: Promise<T | Error> } {
  let settled = false;
  const result = outcome(p);
  void result.then(() => (settled = true));
  return { settled: () => settled, result };
}

/** What `follow` saw of a call: how often it settled (once at most, or the spec fails) and with what. */
export interface Followed {
  settled: number;
  value: unknown;
  error: unknown;
}

/** Follow `p` as a plain object a spec can read at any moment, without awaiting it (a promise cannot settle twice: `settled` counts the outcome once). */
export function follow(p: PromiseLike<unknown>): Followed {
  const out: Followed = { settled: 0, value: undefined, error: undefined };
  Promise.resolve(p).then(
    (value) => Object.assign(out, { settled: out.settled + 1, value }),
    (error: unknown) => Object.assign(out, { settled: out.settled + 1, error }),
  );
  return out;
}
