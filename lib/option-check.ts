/**
 * A small checker for options objects: a schema maps each valid key to a
 * validator. Unknown keys and wrong types become an `InvalidArgumentError`
 * naming the option and, for a misspelt key, the closest valid one ("did you
 * mean ...?"), so a typo fails at construction instead of being ignored.
 *
 * Messages name options, never their values: a value may be a password.
 */
import { InvalidArgumentError } from './errors.js';

/**
 * Throws an `InvalidArgumentError` when `value` is wrong; `name` is the
 * option's full name (`reconnect.baseDelay`). Never called for `undefined`
 * (an absent option takes its default).
 */
export type Validator = (value: unknown, name: string) => void;

/** Valid keys and their validators. A null-prototype record: keys such as `constructor` are unknown. */
export type Schema = Readonly<Record<string, Validator>>;

export interface CheckOptions {
  /** Where the options were given, prefixed to messages: `db.with()`. */
  where?: string;
  /** What an unknown key is called: 'option' (default) or 'URL option'. */
  noun?: string;
  /** Advice for keys that other clients use: key -> "did you mean X?" target or a sentence. */
  hints?: Readonly<Record<string, string>>;
}

export function schema(validators: Record<string, Validator>): Schema {
  return Object.freeze(Object.assign(Object.create(null), validators) as Record<string, Validator>);
}

function fail(message: string, where: string | undefined): never {
  throw new InvalidArgumentError(where ? `${where}: ${message}` : message);
}

/** A key as it may appear in a message: printable, and short. */
function shown(key: string): string {
  const clean = key.replace(/[^\x21-\x7e]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The valid key closest to `key`, if it is close enough to be a typo. */
export function closest(key: string, valid: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the longer name (at least 2 edits) still reads as a typo; more is another word.
  const allowed = Math.max(2, Math.ceil(Math.max(key.length, best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** The message for an unknown key; `prefix` is the parent's name with a dot (`reconnect.`). */
export function unknownKey(key: string, valid: readonly string[], prefix: string, opts: CheckOptions = {}): string {
  const noun = opts.noun ?? 'option';
  const head = `unknown ${noun} ${prefix}${shown(key)}`;
  const hint = opts.hints && Object.hasOwn(opts.hints, key) ? opts.hints[key]! : undefined;
  if (hint !== undefined) return valid.includes(hint) ? `${head}; did you mean ${prefix}${hint}?` : `${head}; ${hint}`;
  const near = closest(key, valid);
  if (near !== undefined) return `${head}; did you mean ${prefix}${near}?`;
  return `${head}; valid ${noun}s: ${valid.map((k) => prefix + k).join(', ')}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks every own key of `value` against `rules`. `value` must be an
 * object; `name` is the parent option's name ('' at the top level).
 */
export function checkObject(value: unknown, rules: Schema, name: string, opts: CheckOptions = {}): void {
  if (!isPlainObject(value)) {
    fail(name ? `option ${name} must be an object` : 'expected an options object', opts.where);
  }
  const prefix = name ? `${name}.` : '';
  for (const key of Object.keys(value)) {
    const validate = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (validate === undefined) fail(unknownKey(key, Object.keys(rules), prefix, opts), opts.where);
    const v = value[key];
    if (v === undefined) continue;
    try {
      validate(v, prefix + key);
    } catch (err) {
      if (err instanceof InvalidArgumentError && opts.where) fail(err.message, opts.where);
      throw err;
    }
  }
}

// ---- validators ----

function must(ok: boolean, name: string, what: string): void {
  if (!ok) throw new InvalidArgumentError(`option ${name} must be ${what}`);
}

export const string: Validator = (v, name) => must(typeof v === 'string', name, 'a string');

export const nonEmptyString: Validator = (v, name) => must(typeof v === 'string' && v.length > 0, name, 'a non-empty string');

/** A host name or IP address alone: a scheme or a port in it (other clients' habits) would be looked up as a name. */
export const hostName: Validator = (v, name) => {
  nonEmptyString(v, name);
  const text = v as string;
  if (text.includes('://')) throw new InvalidArgumentError(`option ${name} takes a host name or address only: pass a URL as the first argument, new Redis(url, options)`);
  // One colon is host:port; IPv6 literals have two or more.
  if (text.indexOf(':') !== -1 && text.indexOf(':') === text.lastIndexOf(':')) throw new InvalidArgumentError(`option ${name} takes a host name or address only: give the port as option port`);
};

export const boolean: Validator = (v, name) => must(typeof v === 'boolean', name, 'a boolean');

export const func: Validator = (v, name) => must(typeof v === 'function', name, 'a function');

/** An integer in [min, max]; `Infinity` too when `infinite`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER, infinite = false): Validator {
  const range = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`) : `an integer from ${min} to ${max}`;
  const what = infinite ? `${range} (or Infinity)` : range;
  return (v, name) =>
    must(typeof v === 'number' && ((Number.isSafeInteger(v) && v >= min && v <= max) || (infinite && v === Infinity)), name, what);
}

/** Longest delay a Node timer takes: past it, setTimeout fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration in ms that a timer can wait: a finite number from 0 to 2^31-1. */
export const milliseconds: Validator = (v, name) =>
  must(typeof v === 'number' && v >= 0 && v <= MAX_TIMER_MS, name, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`);

/** One of a few literal values. */
export function oneOf(...values: readonly (string | number | boolean)[]): Validator {
  const list = values.map((x) => (typeof x === 'string' ? `'${x}'` : String(x)));
  const what = list.length === 2 ? `${list[0]} or ${list[1]}` : `one of ${list.join(', ')}`;
  return (v, name) => must(values.includes(v as string), name, what);
}

/** An instance of `cls`; `what` describes it (`a RetryPolicy (RetryPolicy.exponential(...))`). */
export function instanceOf(cls: abstract new (...args: never[]) => unknown, what: string): Validator {
  return (v, name) => must(v instanceof cls, name, what);
}

/** A nested options object checked against its own schema. */
export function nested(rules: Schema, opts: CheckOptions = {}): Validator {
  return (v, name) => checkObject(v, rules, name, opts);
}

/** The first validator whose `accepts` says the value is of its kind; otherwise `what`. */
export function either(what: string, ...alternatives: [accepts: (v: unknown) => boolean, validate: Validator][]): Validator {
  return (v, name) => {
    for (const [accepts, validate] of alternatives) if (accepts(v)) return validate(v, name);
    throw new InvalidArgumentError(`option ${name} must be ${what}`);
  };
}
