/**
 * Command metadata lookup: flags, key positions and tips per command name,
 * computed once per distinct spelling and cached, so the hot path tests bits.
 *
 * Classification never depends on an argument's type: a subcommand (CLIENT
 * REPLY) or a keyword (XREAD ... BLOCK) is recognised as a string, a Buffer or
 * a Uint8Array, ASCII case-insensitively, like the server does. Anything
 * else (non-ASCII, oversized, a number) simply does not match.
 */
import { InvalidArgumentError } from '../errors.js';
import { COMMAND_TABLE } from './table.js';
import { KEY_SPECS } from './key-table.js';
import { COMMAND_TIPS } from './tip-table.js';
import { BLOCKING, BLOCKING_WITH_ARG, CONTAINER, MOVABLE_KEYS, READONLY, RESENDABLE, SERVER_FLAGS, UNKNOWN } from './flags.js';
import { KS_BEGIN_UNKNOWN, KS_FIND_UNKNOWN, keySpecRow, planKeys, PLAN_UNKNOWN, type KeySpecRow } from './keys.js';
import { REPLY_SHAPES, SHAPE_ANY } from './shapes.js';
import { parseTips } from './tips.js';
import { isCKeyword, lowerWord } from './words.js';

export * from './flags.js';
export * from './keys.js';
export * from './tips.js';
export { fitsShape, SHAPE_ANY } from './shapes.js';
export { isKeyword } from './words.js';
export { resp2ToResp3 } from './resp3-shapes.js';

export interface CommandInfo {
  /** Upper-case name for messages (`GET`, `CLIENT KILL`). */
  readonly name: string;
  readonly flags: number;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /** SHAPE_* of the reply, when it never varies (checked against desyncs). */
  readonly shape: number;
  /** The server's key specifications (keys.ts KeySpecRow), in its order; empty when keyless. */
  readonly keySpecs: readonly KeySpecRow[];
  /** How commandKeys finds the keys: a PLAN_* of keys.ts. */
  readonly keyPlan: number;
  /** PLAN_FIXED: the keys' positions in the arguments (after the name; a subcommand is args[0]). */
  readonly keyPositions: readonly number[];
  /** PLAN_FIXED: how many arguments the call needs for those positions to exist. */
  readonly keyNeed: number;
  /** Command tips bits (tips.ts: request / response policy, nondeterministic output). */
  readonly tips: number;
}

type Row = readonly [number, number, number, number];
/** What is learned about a command from a server at run time. */
interface Learned {
  readonly row: Row;
  readonly specs: readonly KeySpecRow[];
  readonly tips: number;
}
const NO_SPECS: readonly KeySpecRow[] = [];
const NO_POSITIONS: readonly number[] = [];

/** Caller's spelling of a command name -> its entry. Bounded: names are caller input. */
const cache = new Map<string, CommandInfo>();
const MAX_SPELLINGS = 10_000;
/** Lower-case table key (`get`, `client|kill`) -> its one entry; holds only known commands, so it is bounded by the table. */
const known = new Map<string, CommandInfo>();
/** Commands learned from a server at run time (module commands), beside the generated table. */
const learned = new Map<string, Learned>();
/** Per container: the caller's spellings of known subcommands. Unknown spellings are never cached. */
const MAX_SUB_SPELLINGS = 1_000;

interface Container {
  /** Lower-case name, the prefix of its subcommands' keys (`client`). */
  readonly key: string;
  /** Caller's spelling of a known subcommand (strings only) -> its entry. */
  readonly spellings: Map<string, CommandInfo>;
  /** Any other second word (unknown, non-ASCII, a number, absent from a Buffer): the container's own flags. */
  readonly other: CommandInfo;
}
/** Keyed by the container's entry (one per known command, see `known`). */
const containers = new Map<CommandInfo, Container>();

/**
 * Every CommandInfo is made here, with its fields in one order: the objects
 * share one hidden class, so reading `info.flags` stays monomorphic.
 */
function makeInfo(key: string, name: string, row: Row, shape: number, specs: readonly KeySpecRow[], tips: number, keysUnknown: boolean): CommandInfo {
  const plan = keysUnknown ? { plan: PLAN_UNKNOWN, positions: NO_POSITIONS, need: 0 } : planKeys(key, specs);
  return {
    name, flags: row[0], firstKey: row[1], lastKey: row[2], keyStep: row[3], shape,
    keySpecs: specs, keyPlan: plan.plan, keyPositions: plan.positions.length === 0 ? NO_POSITIONS : plan.positions, keyNeed: plan.need, tips,
  };
}

/** The shared entry of a known command or subcommand, by its lower-case key; undefined if unknown. */
function knownInfo(key: string): CommandInfo | undefined {
  let info = known.get(key);
  if (info === undefined) {
    const shape = Object.hasOwn(REPLY_SHAPES, key) ? REPLY_SHAPES[key]! : SHAPE_ANY;
    const name = key.toUpperCase().replace('|', ' ');
    // Own properties only: `constructor` or `__proto__` is not a command.
    if (Object.hasOwn(COMMAND_TABLE, key)) {
      const specs = Object.hasOwn(KEY_SPECS, key) ? KEY_SPECS[key]! : NO_SPECS;
      info = makeInfo(key, name, COMMAND_TABLE[key]!, shape, specs, Object.hasOwn(COMMAND_TIPS, key) ? COMMAND_TIPS[key]! : 0, false);
    } else {
      const l = learned.get(key);
      if (l === undefined) return undefined;
      info = makeInfo(key, name, l.row, shape, l.specs, l.tips, false);
    }
    known.set(key, info);
  }
  return info;
}

const UNKNOWN_ROW: Row = [UNKNOWN, 1, 1, 1];

/**
 * Metadata for a command given as the caller spelled it. For container commands
 * (CLIENT, CONFIG, ...) the subcommand is looked up from `sub`, which may be a
 * string, a Buffer or a Uint8Array; any other `sub` (a number, undefined) gives
 * the container's flags.
 */
export function commandInfo(name: string, sub?: unknown): CommandInfo {
  let info = cache.get(name);
  if (info === undefined) {
    if (/\s/.test(name)) throw severalWords(name);
    // `client|kill` is how COMMAND INFO names a subcommand; the server runs no command by that name.
    info = (name.includes('|') ? undefined : knownInfo(name.toLowerCase())) ?? makeInfo('', name.toUpperCase(), UNKNOWN_ROW, SHAPE_ANY, NO_SPECS, 0, true);
    if (cache.size < MAX_SPELLINGS) cache.set(name, info);
  }
  // The common case (GET key) pays one bit test for subcommands.
  if ((info.flags & CONTAINER) === 0 || sub === undefined) return info;
  return subcommandInfo(info, sub);
}

/**
 * A whole command line in the name (redis-cli style, 'GET user:42'): refused before it is sent or
 * remembered, naming its first word only (the rest may hold values or a password).
 */
function severalWords(name: string): InvalidArgumentError {
  const first = name.trim().split(/\s/)[0]!.slice(0, 32);
  return new InvalidArgumentError(`the command name holds several words: pass each argument on its own, as in reply('${first}', arg1, arg2), not reply('${first} arg1 arg2')`);
}

function subcommandInfo(info: CommandInfo, sub: unknown): CommandInfo {
  let c = containers.get(info);
  if (c === undefined) {
    // An unrecognised subcommand keeps what the container says, but nothing
    // vouches that it is safe to send twice, nor says where its keys are.
    const row: Row = [info.flags & ~(CONTAINER | RESENDABLE), info.firstKey, info.lastKey, info.keyStep];
    const other = makeInfo('', info.name, row, SHAPE_ANY, NO_SPECS, 0, true);
    c = { key: info.name.toLowerCase(), spellings: new Map(), other };
    containers.set(info, c);
  }
  if (typeof sub === 'string') {
    let hit = c.spellings.get(sub);
    if (hit !== undefined) return hit;
    const word = lowerWord(sub);
    hit = word === undefined ? undefined : knownInfo(`${c.key}|${word}`);
    if (hit === undefined) return c.other;
    if (c.spellings.size < MAX_SUB_SPELLINGS) c.spellings.set(sub, hit);
    return hit;
  }
  if (sub instanceof Uint8Array) {
    const word = lowerWord(sub);
    return (word === undefined ? undefined : knownInfo(`${c.key}|${word}`)) ?? c.other;
  }
  return c.other;
}

/**
 * Whether this call blocks the connection (XREAD only with BLOCK). Every
 * argument is looked at: a key or group named "block" only sends the call to
 * the leased pool, which is safe, while missing a BLOCK would stall the shared
 * socket.
 */
export function isBlockingCall(info: CommandInfo, args: ArrayLike<unknown>, from: number): boolean {
  if (info.flags & BLOCKING) return true;
  if (info.flags & BLOCKING_WITH_ARG) {
    // strcasecmp, as XREAD's parser: `BLOCK\0x` blocks on the server.
    for (let i = from; i < args.length; i++) if (isCKeyword(args[i], 'BLOCK')) return true;
  }
  return false;
}

function learnedRow(entry: readonly unknown[], container: boolean): Learned {
  let flags = container ? CONTAINER : 0;
  for (const f of entry[2] as unknown[]) {
    const name = String(f);
    if (Object.hasOwn(SERVER_FLAGS, name)) flags |= SERVER_FLAGS[name]!;
  }
  // A command the table does not know is safe to send twice only on the
  // server's word that it reads and changes nothing (flags.ts, RESENDABLE).
  if (flags & READONLY && !container) flags |= RESENDABLE;
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);
  const row: Row = [flags, num(entry[3]), num(entry[4]), num(entry[5])];
  return { row, specs: learnedSpecs(entry, row), tips: parseTips(entry[7]) };
}

/** A spec that cannot be evaluated: commandKeys answers KEYS_UNKNOWN (ask the server). */
const UNEVALUABLE: KeySpecRow = [KS_BEGIN_UNKNOWN | KS_FIND_UNKNOWN, 0, 0, 0, 0];

/**
 * Key specs of a learned command: its own (Redis 7, `COMMAND INFO` item 8),
 * else one made of the legacy first / last / step (Redis 6); movable keys
 * without specs cannot be found here.
 */
function learnedSpecs(entry: readonly unknown[], row: Row): readonly KeySpecRow[] {
  if (Array.isArray(entry[8])) {
    if (entry[8].length === 0) return NO_SPECS;
    return entry[8].map((s) => keySpecRow(s) ?? UNEVALUABLE);
  }
  const specs: KeySpecRow[] = [];
  const [flags, first, last, step] = row;
  if (first > 0) specs.push([0, first, last >= 0 ? Math.max(last - first, 0) : last, Math.max(step, 1), 0]);
  if (flags & MOVABLE_KEYS) specs.push(UNEVALUABLE);
  return specs;
}

/**
 * Learn commands from a `COMMAND INFO` reply (module commands, unknown to the
 * generated table): their flags then route them like built-in ones, e.g. a
 * module's blocking command to the leased pool, and their subcommands are
 * looked up like CLIENT's, and their key specs and tips route them in a
 * cluster. Returns how many commands and subcommands were learned.
 */
export function learnCommands(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  let n = 0;
  const learn = (entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[2])) return;
    const name = entry[0].toLowerCase();
    if (Object.hasOwn(COMMAND_TABLE, name)) return; // the generated table (and its overrides) wins
    const subs: unknown[] = Array.isArray(entry[9]) ? entry[9] : [];
    learned.set(name, learnedRow(entry, subs.length > 0));
    n++;
    for (const sub of subs) learn(sub);
  };
  for (const entry of reply) learn(entry);
  if (n > 0) {
    // Spellings cached as unknown must be looked up again.
    cache.clear();
    known.clear();
    containers.clear();
  }
  return n;
}
