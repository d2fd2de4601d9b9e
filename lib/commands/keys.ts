/**
 * Which arguments of a call are keys, from the server's key specifications
 * (Redis 7 `COMMAND INFO`, "Key specifications" in the Redis docs), computed
 * the way the server computes them (db.c `getKeysUsingKeySpecs`, with its
 * hand-written fallbacks for the commands whose specs are incomplete). Cluster
 * routing hashes these arguments; they must be the ones the server hashes
 * (`COMMAND GETKEYS`), or a call goes to the wrong node.
 *
 * Index convention: positions are 0-based indices into `args`, the call's
 * arguments WITHOUT the command name, as `db.command(name, ...args)` and
 * `commandInfo(name, args[0])` take them. For a container command the
 * subcommand is `args[0]`: `OBJECT ENCODING k` is `commandInfo('OBJECT',
 * 'ENCODING')` with args `['ENCODING', 'k']`, and its key is at 1. (The server
 * counts from the command name: its position p is our p - 1.)
 *
 * Results: a count >= 0 of keys written to `out`, or a negative code:
 *  - CANNOT_FIND_KEYS: the arguments do not say where the keys are (a numkeys
 *    that is not a non-negative integer or counts past the arguments, too few
 *    arguments for a key position). The server would answer an error; the
 *    router turns it into an InvalidArgumentError before sending anything.
 *  - KEYS_UNKNOWN: the table cannot tell (a command it does not know, an
 *    unknown subcommand, a module command with an incomplete key spec): ask
 *    the server (`COMMAND GETKEYS`) or let the server redirect.
 */
import { isCKeyword } from './words.js';

// Key spec flags (the server's names, `COMMAND INFO` key_specs[].flags).
/** Read-only: the command reads the key's value. */
export const KS_RO = 1 << 0;
/** Read-write: reads and modifies the value. */
export const KS_RW = 1 << 1;
/** Overwrite: replaces the value without reading it. */
export const KS_OW = 1 << 2;
/** Remove: deletes the key. */
export const KS_RM = 1 << 3;
export const KS_ACCESS = 1 << 4;
export const KS_UPDATE = 1 << 5;
export const KS_INSERT = 1 << 6;
export const KS_DELETE = 1 << 7;
/** Not a key: a shard channel (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE), hashed to a slot like a key. */
export const KS_NOT_KEY = 1 << 8;
/** The spec may miss keys: the server uses the command's own key finder instead (MIGRATE). */
export const KS_INCOMPLETE = 1 << 9;
/** The access flags depend on the arguments (SET ... GET, BITFIELD ... GET); positions do not. */
export const KS_VARIABLE_FLAGS = 1 << 10;
// How the spec searches (our encoding, not server flags).
/** begin_search is `keyword` (else `index`). */
export const KS_BEGIN_KEYWORD = 1 << 12;
/** begin_search is `unknown`: the server cannot say where the keys start (SORT BY/GET/STORE). */
export const KS_BEGIN_UNKNOWN = 1 << 13;
/** find_keys is `keynum` (else `range`). */
export const KS_FIND_KEYNUM = 1 << 14;
/** find_keys is `unknown`. */
export const KS_FIND_UNKNOWN = 1 << 15;

/** The server's flag names -> bits. */
const SPEC_FLAGS: Record<string, number> = {
  RO: KS_RO, RW: KS_RW, OW: KS_OW, RM: KS_RM, access: KS_ACCESS, update: KS_UPDATE, insert: KS_INSERT,
  delete: KS_DELETE, not_key: KS_NOT_KEY, incomplete: KS_INCOMPLETE, variable_flags: KS_VARIABLE_FLAGS,
};
/** The bits of a spec that are the server's flags (handed to callers per key). */
export const KS_SERVER_FLAGS = (1 << 11) - 1;

/**
 * One key specification, as the generated table stores it:
 * `[flags, begin, a, b, c, keyword?]` where
 *  - `begin` is the begin_search index (type index) or `startfrom` (type
 *    keyword, with `keyword` in upper case), in the server's counting (the
 *    command name is 0);
 *  - `a, b, c` are `lastkey, keystep, limit` (find_keys range) or
 *    `keynumidx, firstkey, keystep` (find_keys keynum).
 */
export type KeySpecRow = readonly [flags: number, begin: number, a: number, b: number, c: number, keyword?: string];

/** How the keys of a command are found (CommandInfo.keyPlan). */
/** At fixed positions (`keyPositions`, possibly none): GET, SET, RENAME, PING. No argument is read. */
export const PLAN_FIXED = 0;
/** By evaluating the key specs on the arguments (MGET, EVAL numkeys, XREAD STREAMS, GEORADIUS STORE). */
export const PLAN_SPECS = 1;
/** SORT: the key, and STORE's destination (the spec for STORE is `unknown`). */
export const PLAN_SORT = 2;
/** SORT_RO: the key only. */
export const PLAN_SORT_RO = 3;
/** MIGRATE: the key, or the keys after KEYS (that spec is `incomplete`). */
export const PLAN_MIGRATE = 4;
/** Not known here (unknown command or subcommand, unevaluable module spec). */
export const PLAN_UNKNOWN = 5;

/** The keys cannot be found from these arguments (bad numkeys, too few arguments). */
export const CANNOT_FIND_KEYS = -2;
/** The table does not know how to find this command's keys. */
export const KEYS_UNKNOWN = -3;
/** firstKeyIndex: the call has no key. */
export const NO_KEY = -1;

/** What commandKeys reads on a CommandInfo (a subset of it, so this file does not depend on index.ts). */
export interface KeyedInfo {
  readonly name: string;
  readonly keySpecs: readonly KeySpecRow[];
  readonly keyPlan: number;
  /** PLAN_FIXED: the key positions in `args`, in the specs' order. */
  readonly keyPositions: readonly number[];
  /** PLAN_FIXED: how many arguments the call needs for its key positions to exist. */
  readonly keyNeed: number;
}

/** Commands whose incomplete / unknown specs the server completes with its own code (db.c *GetKeys). */
const HANDLERS: Record<string, number> = { sort: PLAN_SORT, sort_ro: PLAN_SORT_RO, migrate: PLAN_MIGRATE };

/** The plan of a command (table key `name`, lower case), from its specs: computed once per command. */
export function planKeys(name: string, specs: readonly KeySpecRow[]): { plan: number; positions: number[]; need: number } {
  let fixed = true;
  const positions: number[] = [];
  let need = 0;
  for (const s of specs) {
    const f = s[0];
    if (f & KS_NOT_KEY) continue;
    if (f & (KS_INCOMPLETE | KS_BEGIN_UNKNOWN | KS_FIND_UNKNOWN) || (!(f & KS_FIND_KEYNUM) && s[3] < 1) || (f & KS_FIND_KEYNUM && s[4] < 1)) {
      // A zero keystep (a module's malformed spec) would never advance: not evaluated either.
      return { plan: Object.hasOwn(HANDLERS, name) ? HANDLERS[name]! : PLAN_UNKNOWN, positions: [], need: 0 };
    }
    if (f & (KS_BEGIN_KEYWORD | KS_FIND_KEYNUM) || s[2] < 0) fixed = false;
    else {
      for (let i = s[1] - 1; i <= s[1] - 1 + s[2]; i += s[3]) positions.push(i);
      need = Math.max(need, s[1] + s[2]);
    }
  }
  if (Object.hasOwn(HANDLERS, name)) return { plan: HANDLERS[name]!, positions: [], need: 0 };
  return fixed ? { plan: PLAN_FIXED, positions, need } : { plan: PLAN_SPECS, positions: [], need: 0 };
}

/** Reused by firstKeyIndex (one element at most): never escapes. */
const scratch: number[] = [];

/**
 * The position in `args` of the call's first key (in the specs' order: the
 * one to route a single-slot command by), NO_KEY if it has none, or
 * CANNOT_FIND_KEYS / KEYS_UNKNOWN, exactly as commandKeys would say. Allocates
 * nothing and writes one position however many keys the call has; for
 * fixed-position commands (GET, SET, HGET, ...) it reads no argument.
 */
export function firstKeyIndex(info: KeyedInfo, args: ArrayLike<unknown>): number {
  if (info.keyPlan === PLAN_FIXED) {
    const p = info.keyPositions;
    if (p.length === 0) return NO_KEY;
    return args.length >= info.keyNeed ? p[0]! : CANNOT_FIND_KEYS;
  }
  const n = findKeys(info, args, scratch, undefined, 1);
  return n > 0 ? scratch[0]! : n === 0 ? NO_KEY : n;
}

/**
 * Writes the positions in `args` of every key of the call to `out` (which is
 * truncated to them: pass a reused array to allocate nothing), in the order
 * `COMMAND GETKEYS` lists them, and returns how many, or CANNOT_FIND_KEYS /
 * KEYS_UNKNOWN (then `out` is empty). `flagsOut`, if given, receives each
 * key's spec flags (KS_RO, KS_RW, KS_OW, KS_RM, KS_ACCESS, ...). Shard
 * channels are not keys (see commandChannels).
 *
 * Numbers: a numkeys argument is read from a string, Buffer, Uint8Array,
 * number or bigint, as the server would parse what the encoder sends; keywords
 * match ASCII case-insensitively in any of the byte forms.
 */
export function commandKeys(info: KeyedInfo, args: ArrayLike<unknown>, out: number[] = [], flagsOut?: number[]): number {
  const n = findKeys(info, args, out, flagsOut, Infinity);
  // Setting .length is a runtime call (~30 ns): only when it changes.
  const len = n > 0 ? n : 0;
  if (out.length !== len) out.length = len;
  if (flagsOut !== undefined && flagsOut.length !== len) flagsOut.length = len;
  return n;
}

/** The keys of a call: all are counted, the first `max` positions written. */
function findKeys(info: KeyedInfo, args: ArrayLike<unknown>, out: number[], flagsOut: number[] | undefined, max: number): number {
  const plan = info.keyPlan;
  if (plan === PLAN_FIXED) {
    const p = info.keyPositions;
    const n = p.length;
    if (n > 0 && args.length < info.keyNeed) return CANNOT_FIND_KEYS;
    for (let i = 0; i < n && i < max; i++) out[i] = p[i]!;
    if (flagsOut !== undefined) fixedFlags(info.keySpecs, flagsOut);
    return n;
  }
  if (plan === PLAN_SPECS) return evalSpecs(info.keySpecs, args, out, flagsOut, false, max);
  if (plan === PLAN_SORT || plan === PLAN_SORT_RO) return sortKeys(args, out, flagsOut, plan === PLAN_SORT);
  if (plan === PLAN_MIGRATE) return migrateKeys(args, out, flagsOut, max);
  return KEYS_UNKNOWN;
}

/**
 * Like commandKeys, for the arguments the server marks `not_key` but hashes
 * to a slot: the shard channels of SPUBLISH, SSUBSCRIBE and SUNSUBSCRIBE.
 */
export function commandChannels(info: KeyedInfo, args: ArrayLike<unknown>, out: number[] = []): number {
  const n = info.keyPlan === PLAN_UNKNOWN ? KEYS_UNKNOWN : evalSpecs(info.keySpecs, args, out, undefined, true, Infinity);
  const len = n > 0 ? n : 0;
  if (out.length !== len) out.length = len;
  return n;
}

/** A message for CANNOT_FIND_KEYS / KEYS_UNKNOWN that names the command, never an argument's value. */
export function keysProblem(info: KeyedInfo, code: number): string {
  return code === KEYS_UNKNOWN
    ? `the keys of ${info.name} are not known to this client: it cannot be routed by key`
    : `cannot find the keys of ${info.name}: check the number of arguments and that any key count (numkeys) is a non-negative integer that does not count past the arguments`;
}

function fixedFlags(specs: readonly KeySpecRow[], flagsOut: number[]): void {
  let k = 0;
  for (const s of specs) {
    if (s[0] & KS_NOT_KEY) continue;
    for (let j = 0; j <= s[2]; j += s[3]) flagsOut[k++] = s[0] & KS_SERVER_FLAGS;
  }
}

/**
 * db.c getKeysUsingKeySpecs, in our index convention (the server's argv
 * position p is our p - 1, its argc our args.length + 1). A spec whose
 * keyword is absent contributes nothing; one whose range falls outside the
 * arguments, or whose numkeys is not a valid count, makes the whole call
 * CANNOT_FIND_KEYS (the server then finds no keys either, and the command
 * answers an error). One difference, on purpose: a numkeys of 0 is valid and
 * names no keys (EVAL script 0), where the server calls the spec invalid and
 * falls back to the command's key finder, which finds no keys at all
 * (`ZUNIONSTORE dest 0` has no keys for GETKEYS; we keep `dest`, and the
 * server answers the real error, "at least 1 input key is needed").
 */
function evalSpecs(specs: readonly KeySpecRow[], args: ArrayLike<unknown>, out: number[], flagsOut: number[] | undefined, channels: boolean, max: number): number {
  const n = args.length;
  let count = 0;
  for (let j = 0; j < specs.length; j++) {
    const s = specs[j]!;
    const f = s[0];
    if (((f & KS_NOT_KEY) !== 0) !== channels) continue;
    let first = -1;
    if (f & KS_BEGIN_KEYWORD) {
      const word = s[5]!;
      const from = s[1];
      if (from > 0) {
        // Forward from `startfrom`; the last argument cannot be the keyword (no key would follow).
        for (let i = from - 1; i <= n - 2; i++) {
          if (isCKeyword(args[i], word)) {
            first = i + 1;
            break;
          }
        }
      } else {
        // Backward from the end (MIGRATE ... KEYS): startfrom -2 is the second-to-last argument.
        for (let i = n + from; i >= 0; i--) {
          if (i >= n) break;
          if (isCKeyword(args[i], word)) {
            first = i + 1;
            break;
          }
        }
      }
      if (first < 0) continue;
    } else if (f & KS_BEGIN_UNKNOWN) {
      return KEYS_UNKNOWN;
    } else {
      first = s[1] - 1;
    }
    let last: number;
    let step: number;
    if (f & KS_FIND_KEYNUM) {
      const at = first + s[2];
      if (at >= n) return CANNOT_FIND_KEYS;
      const num = readCount(args[at]);
      if (num < 0) return CANNOT_FIND_KEYS;
      first += s[3];
      if (num === 0) continue;
      last = first + num - 1;
      step = s[4];
    } else if (f & KS_FIND_UNKNOWN) {
      return KEYS_UNKNOWN;
    } else {
      step = s[3];
      const lastkey = s[2];
      const limit = s[4];
      if (lastkey >= 0) last = first + lastkey;
      else if (limit === 0) last = n + lastkey;
      // XREAD STREAMS k1 k2 id1 id2: the keys are the first 1/limit of what follows.
      else last = first + (Math.trunc((n - first) / limit) + lastkey);
    }
    if (last >= n || last < first || first >= n) return CANNOT_FIND_KEYS;
    if (step < 1) return KEYS_UNKNOWN;
    // Later specs may still make the call invalid: count every key, write the first `max`.
    const total = Math.floor((last - first) / step) + 1;
    const write = Math.min(total, max - count);
    for (let k = 0, i = first; k < write; k++, i += step) {
      if (flagsOut !== undefined) flagsOut[count + k] = f & KS_SERVER_FLAGS;
      out[count + k] = i;
    }
    count += total;
  }
  return count;
}

/**
 * SORT / SORT_RO (db.c sortGetKeys / sortROGetKeys): the key, and for SORT
 * the destination of the last STORE. The server scans the options skipping
 * LIMIT's two arguments and BY's and GET's one, so a pattern spelled "store"
 * is not taken for the keyword.
 *
 * BY and GET patterns are not keys: the keys they name come from the sorted
 * values, which no client can know. In cluster mode the server itself refuses
 * a pattern that may reach another slot (Redis 7: allowed when the pattern's
 * hash tag maps to the key's slot), so routing by the key is what it expects.
 */
function sortKeys(args: ArrayLike<unknown>, out: number[], flagsOut: number[] | undefined, store: boolean): number {
  const n = args.length;
  if (n < 1) return CANNOT_FIND_KEYS;
  out[0] = 0;
  if (flagsOut !== undefined) flagsOut[0] = KS_RO | KS_ACCESS;
  if (!store) return 1;
  let dest = -1;
  for (let i = 1; i < n; i++) {
    const a = args[i];
    if (isCKeyword(a, 'LIMIT')) i += 2;
    else if (isCKeyword(a, 'GET') || isCKeyword(a, 'BY')) i += 1;
    else if (i + 1 < n && isCKeyword(a, 'STORE')) dest = i + 1; // no skip: the server does not skip either
  }
  if (dest < 0) return 1;
  out[1] = dest;
  if (flagsOut !== undefined) flagsOut[1] = KS_OW | KS_UPDATE;
  return 2;
}

const MIGRATE_FLAGS = KS_RW | KS_ACCESS | KS_DELETE;

/**
 * MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key...]
 * (cluster.c migrateGetKeys): the key, or with KEYS every key after it. AUTH
 * and AUTH2 skip their arguments, so a password spelled "keys" is not the
 * keyword. KEYS with a non-empty key argument is an error (no keys).
 */
function migrateKeys(args: ArrayLike<unknown>, out: number[], flagsOut: number[] | undefined, max: number): number {
  const n = args.length;
  if (n < 3) return CANNOT_FIND_KEYS;
  let first = 2;
  let num = 1;
  for (let i = 5; i < n; i++) {
    const a = args[i];
    if (isCKeyword(a, 'KEYS')) {
      if (!isEmpty(args[2])) return CANNOT_FIND_KEYS;
      first = i + 1;
      num = n - first;
      break;
    }
    if (isCKeyword(a, 'AUTH')) i += 1;
    else if (isCKeyword(a, 'AUTH2')) i += 2;
  }
  for (let k = 0; k < num && k < max; k++) {
    if (flagsOut !== undefined) flagsOut[k] = MIGRATE_FLAGS;
    out[k] = first + k;
  }
  return num;
}

function isEmpty(a: unknown): boolean {
  return (typeof a === 'string' || a instanceof Uint8Array) && a.length === 0;
}

/** Past this, a count cannot fit in any call's arguments: no need to read further digits. */
const MAX_COUNT = 2 ** 31;

/**
 * A key count as the server parses it (util.c string2ll): decimal digits, no
 * sign, no leading zero, no spaces; a number must be a safe integer (the
 * encoder sends it as its decimal digits); a bigint is exact. Returns -1 if
 * it is not a non-negative integer (the server refuses it).
 */
export function readCount(a: unknown): number {
  if (typeof a === 'number') return Number.isSafeInteger(a) && a >= 0 ? Math.min(a, MAX_COUNT) + 0 : -1;
  if (typeof a === 'bigint') return a < 0n ? -1 : a > BigInt(MAX_COUNT) ? MAX_COUNT : Number(a);
  let len: number;
  const text = typeof a === 'string';
  if (text) len = a.length;
  else if (a instanceof Uint8Array) len = a.length;
  else return -1;
  if (len === 0 || len > 20) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const ch = text ? (a as string).charCodeAt(i) : (a as Uint8Array)[i]!;
    if (ch < 0x30 || ch > 0x39 || (ch === 0x30 && i === 0 && len > 1)) return -1;
    if (v < MAX_COUNT) v = v * 10 + (ch - 0x30);
  }
  return Math.min(v, MAX_COUNT);
}

/**
 * One key spec from a `COMMAND INFO` reply (RESP3 map as an object or a Map,
 * or RESP2 flat [name, value, ...] arrays), as a table row; undefined if it
 * is not one. Used by the generator and for module commands learned at connect.
 */
export function keySpecRow(spec: unknown): KeySpecRow | undefined {
  const flagsList = field(spec, 'flags');
  const bs = field(spec, 'begin_search');
  const fk = field(spec, 'find_keys');
  if (!Array.isArray(flagsList) || bs === undefined || fk === undefined) return undefined;
  let flags = 0;
  for (const name of flagsList) {
    const s = String(name);
    if (Object.hasOwn(SPEC_FLAGS, s)) flags |= SPEC_FLAGS[s]!;
  }
  const bsType = String(field(bs, 'type'));
  const bsSpec = field(bs, 'spec');
  let begin = 0;
  let keyword: string | undefined;
  if (bsType === 'index') begin = int(field(bsSpec, 'index'));
  else if (bsType === 'keyword') {
    flags |= KS_BEGIN_KEYWORD;
    begin = int(field(bsSpec, 'startfrom'));
    keyword = String(field(bsSpec, 'keyword') ?? '').toUpperCase();
  } else flags |= KS_BEGIN_UNKNOWN;
  const fkType = String(field(fk, 'type'));
  const fkSpec = field(fk, 'spec');
  let a = 0, b = 0, c = 0;
  if (fkType === 'range') {
    a = int(field(fkSpec, 'lastkey'));
    b = int(field(fkSpec, 'keystep'));
    c = int(field(fkSpec, 'limit'));
  } else if (fkType === 'keynum') {
    flags |= KS_FIND_KEYNUM;
    a = int(field(fkSpec, 'keynumidx'));
    b = int(field(fkSpec, 'firstkey'));
    c = int(field(fkSpec, 'keystep'));
  } else flags |= KS_FIND_UNKNOWN;
  // An index of 0 (the command name) or a keyword that is no word cannot be searched.
  if ((flags & (KS_BEGIN_KEYWORD | KS_BEGIN_UNKNOWN)) === 0 && begin < 1) flags |= KS_BEGIN_UNKNOWN;
  if (flags & KS_BEGIN_KEYWORD && (keyword === '' || begin === 0)) flags |= KS_BEGIN_UNKNOWN;
  return keyword === undefined ? [flags, begin, a, b, c] : [flags, begin, a, b, c, keyword];
}

/** A field of a RESP3 map (object or Map) or a RESP2 flat pair list. */
function field(x: unknown, name: string): unknown {
  if (x instanceof Map) {
    for (const [k, v] of x) if (String(k) === name) return v;
    return undefined;
  }
  if (Array.isArray(x)) {
    for (let i = 0; i + 1 < x.length; i += 2) if (String(x[i]) === name) return x[i + 1];
    return undefined;
  }
  if (x !== null && typeof x === 'object') return Object.hasOwn(x, name) ? (x as Record<string, unknown>)[name] : undefined;
  return undefined;
}

function int(v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isInteger(n) ? n : 0;
}
