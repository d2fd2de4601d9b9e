/**
 * A map from a name (a key name, a slot) to one or more values, holding a
 * lone value as itself: most keys are read by one entry (GET k) and one read
 * in flight, so a Set per key would be an allocation on every miss for nothing.
 */
export type MultiMap<T extends object, K = string> = Map<K, T | Set<T>>;

export function addTo<T extends object, K>(map: MultiMap<T, K>, name: K, value: T): void {
  const cur = map.get(name);
  if (cur === undefined) map.set(name, value);
  else if (cur instanceof Set) cur.add(value);
  else if (cur !== value) map.set(name, new Set([cur, value]));
}

export function removeFrom<T extends object, K>(map: MultiMap<T, K>, name: K, value: T): void {
  const cur = map.get(name);
  if (cur === value) map.delete(name);
  else if (cur instanceof Set) {
    cur.delete(value);
    if (cur.size === 0) map.delete(name);
  }
}

/** The values under `name` (a copy: the caller may remove them as it goes), or undefined. */
export function valuesOf<T extends object, K>(map: MultiMap<T, K>, name: K): T | T[] | undefined {
  const cur = map.get(name);
  return cur instanceof Set ? [...cur] : cur;
}
