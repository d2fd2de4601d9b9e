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
