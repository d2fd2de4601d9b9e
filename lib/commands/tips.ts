/**
 * Command tips (Redis 7 `COMMAND INFO`, "Command tips" in the Redis docs):
 * how a cluster client should route a command that is not simply sent to the
 * master of its keys' slot, and how it combines the replies. Stored as bits on
 * each CommandInfo (`info.tips`), from the generated table (the server's tips
 * with a few reasoned overrides in scripts/gen-commands.mjs).
 *
 *   const tips = commandTips(info);
 *   switch (tips & REQUEST_POLICY) { case REQUEST_ALL_SHARDS: ...; }
 *   if ((tips & RESPONSE_POLICY) === RESPONSE_AGG_SUM) ...
 *
 * No request policy (REQUEST_DEFAULT) means: a command with keys goes to the
 * master of their slot (all keys in one slot, else CrossSlotError); a keyless
 * one to any master. No response policy (RESPONSE_DEFAULT) means: for a
 * keyless fan-out, concatenate the replies (KEYS); for a multi_shard command,
 * merge them in the caller's key order (MGET).
 */

/** Mask of the request policy (one of REQUEST_*). */
export const REQUEST_POLICY = 0x7;
/** No tip: by the keys' slot, or any master when keyless. */
export const REQUEST_DEFAULT = 0;
/** Every node, masters and replicas (CONFIG SET, SCRIPT LOAD). */
export const REQUEST_ALL_NODES = 1;
/** Every master (DBSIZE, KEYS, FLUSHALL, PING). */
export const REQUEST_ALL_SHARDS = 2;
/** Split by the keys' slots, one part per slot, sent in parallel (MGET, MSET, DEL, EXISTS, UNLINK, TOUCH). */
export const REQUEST_MULTI_SHARD = 3;
/** Needs command-specific handling (SCAN: a cursor per master). */
export const REQUEST_SPECIAL = 4;

/** Mask of the response policy (one of RESPONSE_*). */
export const RESPONSE_POLICY = 0xf << 3;
export const RESPONSE_DEFAULT = 0;
/** Succeeds if any part succeeded; returns the first success (SCRIPT KILL, FUNCTION KILL). */
export const RESPONSE_ONE_SUCCEEDED = 1 << 3;
/** Fails if any part failed; else returns one reply (FLUSHALL, MSET, SCRIPT LOAD). */
export const RESPONSE_ALL_SUCCEEDED = 2 << 3;
/** Logical AND of the replies, element-wise for arrays (SCRIPT EXISTS). */
export const RESPONSE_AGG_LOGICAL_AND = 3 << 3;
/** Logical OR of the replies, element-wise for arrays. */
export const RESPONSE_AGG_LOGICAL_OR = 4 << 3;
/** The smallest integer reply (WAIT). */
export const RESPONSE_AGG_MIN = 5 << 3;
/** The largest integer reply. */
export const RESPONSE_AGG_MAX = 6 << 3;
/** The sum of the integer replies (DBSIZE, DEL, EXISTS). */
export const RESPONSE_AGG_SUM = 7 << 3;
/** Command-specific (INFO, MEMORY STATS, LATENCY ...; RANDOMKEY: any non-null reply). */
export const RESPONSE_SPECIAL = 8 << 3;

/** The output may differ between identical calls (TIME, RANDOMKEY, SPOP). */
export const NONDETERMINISTIC_OUTPUT = 1 << 7;
/** The order of the output may differ between identical calls (SMEMBERS, HGETALL, KEYS). */
export const NONDETERMINISTIC_OUTPUT_ORDER = 1 << 8;

const TIPS: Record<string, number> = {
  'request_policy:all_nodes': REQUEST_ALL_NODES,
  'request_policy:all_shards': REQUEST_ALL_SHARDS,
  'request_policy:multi_shard': REQUEST_MULTI_SHARD,
  'request_policy:special': REQUEST_SPECIAL,
  'response_policy:one_succeeded': RESPONSE_ONE_SUCCEEDED,
  'response_policy:all_succeeded': RESPONSE_ALL_SUCCEEDED,
  'response_policy:agg_logical_and': RESPONSE_AGG_LOGICAL_AND,
  'response_policy:agg_logical_or': RESPONSE_AGG_LOGICAL_OR,
  'response_policy:agg_min': RESPONSE_AGG_MIN,
  'response_policy:agg_max': RESPONSE_AGG_MAX,
  'response_policy:agg_sum': RESPONSE_AGG_SUM,
  'response_policy:special': RESPONSE_SPECIAL,
  nondeterministic_output: NONDETERMINISTIC_OUTPUT,
  nondeterministic_output_order: NONDETERMINISTIC_OUTPUT_ORDER,
};

/** The tips bits of a command (0: none). */
export function commandTips(info: { readonly tips: number }): number {
  return info.tips;
}

/** Bits of the server's tip strings (`COMMAND INFO`'s tips); unknown tips are ignored. */
export function parseTips(tips: unknown): number {
  if (!Array.isArray(tips)) return 0;
  let bits = 0;
  for (const t of tips) {
    const s = String(t).toLowerCase();
    if (!Object.hasOwn(TIPS, s)) continue;
    // One request and one response policy: a later one replaces an earlier one.
    const v = TIPS[s]!;
    if (v & REQUEST_POLICY) bits = (bits & ~REQUEST_POLICY) | v;
    else if (v & RESPONSE_POLICY) bits = (bits & ~RESPONSE_POLICY) | v;
    else bits |= v;
  }
  return bits;
}

/** The server's spelling of tips bits (for the generated table's comments and for messages). */
export function tipNames(bits: number): string[] {
  const names: string[] = [];
  for (const [name, v] of Object.entries(TIPS)) {
    if (v & REQUEST_POLICY ? (bits & REQUEST_POLICY) === v : v & RESPONSE_POLICY ? (bits & RESPONSE_POLICY) === v : (bits & v) !== 0) names.push(name);
  }
  return names;
}
