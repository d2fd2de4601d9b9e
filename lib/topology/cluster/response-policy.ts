/**
 * Combining the replies of a command fanned out to several nodes, per the
 * command's `response_policy` tip (Redis 7 command tips). Pure: no IO.
 *
 *  - one_succeeded: the first reply that is not an error (SCRIPT KILL: only
 *    one node runs the script); every node failing is their deciding error.
 *  - all_succeeded: every node must succeed (CONFIG SET, SCRIPT FLUSH, PING);
 *    the first reply stands for all.
 *  - agg_logical_and / agg_logical_or: integer 0/1 replies (or arrays of them,
 *    element by element: SCRIPT EXISTS), combined as 1/0.
 *  - agg_min / agg_max / agg_sum: numbers, or arrays element by element
 *    (DBSIZE sums, WAIT takes the least).
 *  - no policy (keyless fan-out): arrays are concatenated (KEYS), maps merged,
 *    sets united; scalars must agree, else the per-node replies are returned
 *    as an object keyed by node (what `special` commands such as INFO get).
 * For every aggregating policy one failing node fails the whole call: a sum
 * without one shard's part would be a wrong answer, not a partial one. Of
 * several failures, one that may have run decides (`decidingError`).
 */
import {
  RESPONSE_AGG_LOGICAL_AND,
  RESPONSE_AGG_LOGICAL_OR,
  RESPONSE_AGG_MAX,
  RESPONSE_AGG_MIN,
  RESPONSE_AGG_SUM,
  RESPONSE_ALL_SUCCEEDED,
  RESPONSE_ONE_SUCCEEDED,
  RESPONSE_POLICY,
  RESPONSE_SPECIAL,
} from '../../commands/tips.js';
import { ProtocolError } from '../../errors.js';
import type { Reply } from '../../resp/types.js';

/** One node's answer: a reply, or the error it failed with. */
export interface NodeReply {
  node: string;
  value?: Reply;
  error?: Error;
}

/**
 * Combine per-node replies per the response policy in `tips` (the command's
 * tip bits, see commands/tips.ts); throws the error that decides the call.
 */
export function combineReplies(tips: number, replies: readonly NodeReply[], command = ''): Reply {
  const policy = tips & RESPONSE_POLICY;
  if (policy === RESPONSE_ONE_SUCCEEDED) {
    const ok = replies.find((r) => r.error === undefined);
    if (ok) return ok.value!;
  }
  const failed = decidingError(replies);
  if (failed) throw failed;
  const values = replies.map((r) => r.value!);
  if (policy >= RESPONSE_AGG_LOGICAL_AND && policy <= RESPONSE_AGG_SUM) checkAggregatable(replies, command);
  switch (policy) {
    case RESPONSE_ALL_SUCCEEDED:
      return values[0]!;
    case RESPONSE_AGG_LOGICAL_AND:
      return elementwise(values, (a, b) => (truthy(a) && truthy(b) ? 1 : 0));
    case RESPONSE_AGG_LOGICAL_OR:
      return elementwise(values, (a, b) => (truthy(a) || truthy(b) ? 1 : 0));
    case RESPONSE_AGG_MIN:
      return elementwise(values, (a, b) => (num(b) < num(a) ? b : a));
    case RESPONSE_AGG_MAX:
      return elementwise(values, (a, b) => (num(b) > num(a) ? b : a));
    case RESPONSE_AGG_SUM:
      return elementwise(values, add);
    case RESPONSE_SPECIAL:
      if (command === 'RANDOMKEY') {
        // Any node's key; null only when every node is empty.
        const keys = values.filter((v) => v !== null);
        return keys.length === 0 ? null : keys[Math.floor(Math.random() * keys.length)]!;
      }
      return merge(replies); // INFO, MEMORY STATS, LATENCY ...: every node's own answer, by node
    default:
      return merge(replies);
  }
}

/**
 * The error that decides a call of several parts, when some failed: the first
 * one that may have run (written, then timed out or lost: `sent` /
 * `maybeExecuted`), else the first. A part that never left (its node was
 * reconnecting) must not make the caller believe nothing ran while another
 * part may have.
 */
export function decidingError(replies: readonly NodeReply[]): Error | undefined {
  let first: Error | undefined;
  for (const { error } of replies) {
    if (error === undefined) continue;
    if (saysMayHaveRun(error)) return error;
    first ??= error;
  }
  return first;
}

/** The error says its command may have run (`sent` / `maybeExecuted`). */
export function saysMayHaveRun(err: Error): boolean {
  const flags = err as { sent?: unknown; maybeExecuted?: unknown };
  return flags.sent === true || flags.maybeExecuted === true;
}

/** A reply an aggregating policy can fold: an integer, a double or a boolean. */
function scalar(v: Reply | undefined): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/**
 * Aggregating policies fold numbers, or arrays of numbers of one length
 * (element by element). A node answering anything else (a string, a null, an
 * array of another length) gives no answer the call could honestly return: a
 * ProtocolError naming that node, rather than a TypeError or a silently
 * wrong element.
 */
function checkAggregatable(replies: readonly NodeReply[], command: string): void {
  const first = replies[0]?.value;
  const width = Array.isArray(first) ? first.length : -1;
  for (const { node, value } of replies) {
    const fits = width < 0 ? scalar(value) : Array.isArray(value) && value.length === width && value.every(scalar);
    if (!fits) {
      const what = Array.isArray(value) ? `an array of ${value.length}` : value === null ? 'a null' : `a ${typeof value}`;
      const expected = width < 0 ? 'a number' : `an array of ${width} numbers`;
      throw new ProtocolError(`the nodes' replies cannot be combined per the command's response policy: this node answered ${what} where ${expected} was expected`, { command: command || undefined, node });
    }
  }
}

function truthy(v: Reply): boolean {
  return v === true || (typeof v === 'number' && v !== 0) || (typeof v === 'bigint' && v !== 0n);
}

function num(v: Reply): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new TypeError(`cannot aggregate a ${v === null ? 'null' : typeof v} reply numerically`);
}

/** Sum keeping integers exact: numbers while safe, bigint past that. */
function add(a: Reply, b: Reply): Reply {
  const x = num(a);
  const y = num(b);
  if (typeof x === 'number' && typeof y === 'number') {
    const s = x + y;
    if (Number.isSafeInteger(s) || !Number.isInteger(x) || !Number.isInteger(y)) return s;
  }
  const big = BigInt(x) + BigInt(y);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Fold scalars, or arrays of equal length element by element. */
function elementwise(values: Reply[], fold: (a: Reply, b: Reply) => Reply): Reply {
  if (Array.isArray(values[0])) {
    const first = values[0] as Reply[];
    return first.map((_, i) => values.map((v) => (v as Reply[])[i] as Reply).reduce((a: Reply, b: Reply) => fold(a, b)));
  }
  return values.reduce((a: Reply, b: Reply) => fold(a, b));
}

function merge(replies: readonly NodeReply[]): Reply {
  const values = replies.map((r) => r.value!);
  const first = values[0];
  if (values.length === 1) return first!;
  if (Array.isArray(first) && values.every(Array.isArray)) return (values as Reply[][]).flat(1);
  if (first instanceof Set) {
    const out = new Set<Reply>();
    for (const v of values) if (v instanceof Set) for (const x of v) out.add(x);
    return out;
  }
  if (first instanceof Map) {
    const out = new Map<Reply, Reply>();
    for (const v of values) if (v instanceof Map) for (const [k, x] of v) out.set(k, x);
    return out;
  }
  if (isPlainMap(first) && values.every(isPlainMap)) return Object.assign(Object.create(null) as Record<string, Reply>, ...(values as Record<string, Reply>[]));
  if (values.every((v) => sameScalar(v, first))) return first!;
  // Disagreeing scalars (INFO, LASTSAVE, ...): every node's own answer, by node.
  const byNode = Object.create(null) as Record<string, Reply>;
  for (const r of replies) byNode[r.node] = r.value!;
  return byNode;
}

function isPlainMap(v: Reply | undefined): v is Record<string, Reply> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && Object.getPrototypeOf(v) === null;
}

function sameScalar(a: Reply | undefined, b: Reply | undefined): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}
