/**
 * Where a command goes in a cluster, decided from the command table alone
 * (pure; no IO): the slot of its keys, any master, every master or node (the
 * command's request policy), or one part per slot (multi_shard commands whose
 * keys span slots). Computed once per command, on the hot path: a fixed-key
 * command (GET, SET, HGET...) costs one table read and one CRC16 of its key.
 */
import { commandChannels, commandKeys, CANNOT_FIND_KEYS, firstKeyIndex, KEYS_UNKNOWN, keysProblem, PLAN_FIXED, type CommandInfo } from '../../commands/index.js';
import { keySlot } from '../../commands/slot.js';
import { REQUEST_ALL_NODES, REQUEST_ALL_SHARDS, REQUEST_MULTI_SHARD, REQUEST_POLICY, REQUEST_SPECIAL } from '../../commands/tips.js';
import { CrossSlotError, InvalidArgumentError } from '../../errors.js';
import type { Arg } from '../../resp/encoder.js';

/** To the master (or, for reads, a replica) of `slot`. */
export const TO_SLOT = 0;
/** Keyless: any master. */
export const TO_ANY = 1;
/** Every master, replies combined per the response policy. */
export const TO_ALL_SHARDS = 2;
/** Every node, replicas too. */
export const TO_ALL_NODES = 3;
/** Keys in several slots, splittable (multi_shard): one part per slot. */
export const TO_SPLIT = 4;
/** The table cannot find the keys (module command, unknown subcommand): any master, and follow MOVED. */
export const TO_UNKNOWN = 5;

export interface Route {
  to: number;
  /** TO_SLOT: the slot. */
  slot: number;
}

const keys: number[] = [];

/**
 * The slot of a command with one key at a fixed place (GET, SET, HGET...),
 * or -1 for any other: the hot path's question, answered without allocating
 * a `Route` (routeOf is too large to be inlined, so its object would be
 * allocated for every command).
 */
export function fixedKeySlot(info: CommandInfo, args: readonly Arg[]): number {
  if (info.keyPlan !== PLAN_FIXED || info.keyPositions.length !== 1) return -1;
  const at = firstKeyIndex(info, args);
  return at >= 0 ? keySlot(args[at]!) : -1;
}

/**
 * The route of a call. Throws `CrossSlotError` when its keys span slots and
 * it cannot be split, `InvalidArgumentError` when its key arguments are
 * malformed (a numkeys past the arguments): nothing is sent either way.
 */
export function routeOf(info: CommandInfo, args: readonly Arg[]): Route {
  const policy = info.tips & REQUEST_POLICY;
  const fixed = fixedKeySlot(info, args);
  if (fixed >= 0) return { to: TO_SLOT, slot: fixed };
  const n = commandKeys(info, args, keys);
  if (n === CANNOT_FIND_KEYS) throw new InvalidArgumentError(keysProblem(info, n), { command: info.name });
  if (n === KEYS_UNKNOWN) return { to: TO_UNKNOWN, slot: -1 };
  if (n === 0) {
    // SPUBLISH: its shard channel is not a key (the server marks it not_key) but hashes to a slot, whose master serves it.
    if (info.keySpecs.length > 0 && commandChannels(info, args, keys) > 0) return { to: TO_SLOT, slot: keySlot(args[keys[0]!]!) };
    if (policy === REQUEST_SPECIAL) {
      // SCAN: a cursor belongs to one node; round-robin routing would skip keys.
      const iterate = info.name === 'SCAN' ? 'iterate every master with db.scan(), or ' : '';
      throw new InvalidArgumentError(`${info.name} needs one node in a cluster: ${iterate}run it on each master with redis.nodes('master')`, { command: info.name });
    }
    if (policy === REQUEST_ALL_SHARDS) return { to: TO_ALL_SHARDS, slot: -1 };
    if (policy === REQUEST_ALL_NODES) return { to: TO_ALL_NODES, slot: -1 };
    return { to: TO_ANY, slot: -1 };
  }
  const slot = keySlot(args[keys[0]!]!);
  for (let i = 1; i < n; i++) {
    if (keySlot(args[keys[i]!]!) !== slot) {
      if (policy !== REQUEST_MULTI_SHARD) throw crossSlot(info.name);
      // Split into parts of whole key[/value] runs: a ragged MSET would split a pair.
      if ((args.length - (info.firstKey - 1)) % Math.max(1, info.keyStep) !== 0) {
        throw new InvalidArgumentError('wrong number of arguments: keys and values must come in pairs; nothing was sent', { command: info.name });
      }
      return { to: TO_SPLIT, slot: -1 };
    }
  }
  return { to: TO_SLOT, slot };
}

/** The one slot of every key in `keyArgs` (a transaction's, a WATCH's), or CrossSlotError. */
export function singleSlot(command: string, keyArgs: readonly Arg[]): number {
  let slot = -1;
  for (const k of keyArgs) {
    const s = keySlot(k);
    if (slot === -1) slot = s;
    else if (s !== slot) throw crossSlot(command);
  }
  return slot;
}

/** The error for keys that hash to different slots where one slot is needed. */
export function crossSlot(command: string): CrossSlotError {
  return new CrossSlotError(
    'its keys hash to different cluster slots and it cannot be split; nothing was sent. Put related keys in one slot with a hash tag, e.g. {user:1}:name and {user:1}:age',
    { command },
  );
}

/**
 * Commands whose request policy sends them to every master or node, where
 * only that makes them mean what they say: DBSIZE sums, KEYS concatenates,
 * FLUSHALL, SCRIPT LOAD and CONFIG SET act on each. A MULTI block, or a
 * db.watch's connection, runs on one node: there they would answer for that
 * node, or act on it, only, silently. Except PING and WAIT, whose answer on
 * that node is what a block means (the node answers; the block's writes
 * reached its replicas: WAIT in MULTI does not block, it counts).
 */
const ONE_NODE_SUFFICES = new Set(['PING', 'WAIT']);

/**
 * Why the keyless command `info` may not run on one node (`where`: a block,
 * a watch), or undefined: an InvalidArgumentError saying what to do instead.
 */
export function everyNodeOnly(info: CommandInfo, where: 'block' | 'watch'): InvalidArgumentError | undefined {
  const policy = info.tips & REQUEST_POLICY;
  if ((policy !== REQUEST_ALL_SHARDS && policy !== REQUEST_ALL_NODES) || ONE_NODE_SUFFICES.has(info.name)) return undefined;
  const every = policy === REQUEST_ALL_SHARDS ? 'master' : 'node';
  const [one, outside] = where === 'block' ? ['a MULTI block runs on one node', 'outside the block'] : ["a db.watch's connection is one node", 'outside the watch'];
  const handles = policy === REQUEST_ALL_SHARDS ? "redis.nodes('master')" : 'redis.nodes()';
  return new InvalidArgumentError(
    `${info.name} goes to every ${every} in a cluster (its answer covers them all), and ${one}: it would reach that node only. Nothing was sent: run it ${outside}, where it goes to every ${every}, or per node with ${handles}`,
    { command: info.name },
  );
}
