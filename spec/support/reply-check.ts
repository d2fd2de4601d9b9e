/**
 * Checks a reply against its entry in lib/commands/reply-table.ts at run time,
 * with the same reading of the table as the types (lib/commands/typed.ts,
 * ShapeType): a reply that passes has the type the API declares for it.
 */
import type { Shape } from '../../lib/commands/reply-table.js';
import { branch } from '../../lib/commands/resp3-shapes.js';

export interface Decoding {
  buffer: boolean;
  map: boolean;
  set: boolean;
}

/** Where `value` departs from `shape` ('' when it fits), e.g. "[2][1]: 'x' is not a double". */
export function misfit(shape: Shape, value: unknown, args: readonly unknown[], d: Decoding, at = '', taken?: Set<string>): string | undefined {
  const s = branch(shape, args);
  if (taken && typeof shape !== 'string' && (shape[0] === 'kw' || shape[0] === 'argc')) taken.add(`${at}:${JSON.stringify(s)}`);
  const bad = (what: string) => `${at || 'reply'}: ${describe(value)} is not ${what}`;
  if (typeof s === 'string') {
    switch (s) {
      case 'bulk':
        return (d.buffer ? Buffer.isBuffer(value) : typeof value === 'string') ? undefined : bad(d.buffer ? 'a Buffer' : 'a string');
      case 'simple':
        return typeof value === 'string' ? undefined : bad('a simple string');
      case 'OK':
        return value === 'OK' ? undefined : bad("'OK'");
      case 'int':
        return typeof value === 'number' && Number.isInteger(value) ? undefined : bad('an integer number');
      case 'big':
        return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint' ? undefined : bad('an integer');
      case 'double':
        return typeof value === 'number' ? undefined : bad('a double');
      case 'bit':
        return value === 0 || value === 1 ? undefined : bad('0 or 1');
      case 'unknown':
        return undefined;
      case 'never':
        return bad('anything (the command is refused)');
    }
  }
  switch (s[0]) {
    case '?':
      return value === null ? undefined : misfit(s[1], value, args, d, at, taken);
    case 'arr':
      if (!Array.isArray(value)) return bad('an array');
      return first(value.map((v, i) => misfit(s[1], v, args, d, `${at}[${i}]`, taken)));
    case 'set': {
      if (d.set ? !(value instanceof Set) : !Array.isArray(value)) return bad(d.set ? 'a Set' : 'an array');
      return first([...(value as Iterable<unknown>)].map((v, i) => misfit(s[1], v, args, d, `${at}{${i}}`, taken)));
    }
    case 'map':
      if (d.map) {
        if (!(value instanceof Map)) return bad('a Map');
        return first([...value].flatMap(([k, v]) => [misfit('bulk', k, args, d, `${at}<key>`, taken), misfit(s[1], v, args, d, `${at}<${String(k)}>`, taken)]));
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== null) return bad('a null-prototype object');
      return first(Object.entries(value).map(([k, v]) => misfit(s[1], v, args, d, `${at}.${k}`, taken)));
    case 'tup':
      if (!Array.isArray(value) || value.length !== s.length - 1) return bad(`an array of ${s.length - 1}`);
      return first(value.map((v, i) => misfit(s[i + 1] as Shape, v, args, d, `${at}[${i}]`, taken)));
    case 'or': {
      const a = misfit(s[1], value, args, d, at, taken);
      return a === undefined ? undefined : misfit(s[2], value, args, d, at, taken) === undefined ? undefined : `${a} (nor the alternative)`;
    }
  }
  return bad('described by the table');
}

function first(results: (string | undefined)[]): string | undefined {
  return results.find((r) => r !== undefined);
}

function describe(v: unknown): string {
  if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Map) return 'Map';
  if (v instanceof Set) return 'Set';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
