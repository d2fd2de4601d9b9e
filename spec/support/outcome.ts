/**
 * A call observed now and awaited later: its rejection becomes a value to
 * compare (never an unhandled rejection while the spec does other steps).
 */
export function outcome<T>(p: Promise<T>): Promise<T | Error> {
  return p.then((v) => v, (err: Error) => err);
}
