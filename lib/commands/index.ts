/**
 * Command metadata lookup: flags and key positions per command name, computed
 * once per distinct spelling and cached, so the hot path tests bits.
 *
 * Classification never depends on an argument's type: a subcommand (CLIENT
 * REPLY) or a keyword (XREAD ... BLOCK) is recognised as a string, a Buffer or
 * a Uint8Array, ASCII case-insensitively, like the server does. Anything
 * else (non-ASCII, oversized, a number) simply does not match.
 */
import { COMMAND_TABLE } from './table.js';
import { BLOCKING, BLOCKING_WITH_ARG, CONTAINER, READONLY, RESENDABLE, SERVER_FLAGS, UNKNOWN } from './flags.js';
import { REPLY_SHAPES, SHAPE_ANY } from './shapes.js';

export * from './flags.js';
export { fitsShape, SHAPE_ANY } from './shapes.js';

export interface CommandInfo {
  /** Upper-case name for messages (`GET`, `CLIENT KILL`). */
  readonly name: string;
  readonly flags: number;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /** SHAPE_* of the reply, when it never varies (checked against desyncs). */
  readonly shape: number;
}

type Row = readonly [number, number, number, number];

/** Caller's spelling of a command name -> its entry. Bounded: names are caller input. */
const cache = new Map<string, CommandInfo>();
const MAX_SPELLINGS = 10_000;
/** Lower-case table key (`get`, `client|kill`) -> its one entry; holds only known commands, so it is bounded by the table. */
const known = new Map<string, CommandInfo>();
/** Rows learned from a server at run time (module commands), beside the generated table. */
const learned = new Map<string, Row>();

/** Longer than any subcommand or keyword: a longer argument cannot match and is not even lower-cased. */
const MAX_WORD = 64;
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

function rowOf(key: string): Row | undefined {
  // Own properties only: `constructor` or `__proto__` is not a command.
  return Object.hasOwn(COMMAND_TABLE, key) ? COMMAND_TABLE[key] : learned.get(key);
}

/** The shared entry of a known command or subcommand, by its lower-case key; undefined if unknown. */
function knownInfo(key: string): CommandInfo | undefined {
  let info = known.get(key);
  if (info === undefined) {
    const row = rowOf(key);
    if (row === undefined) return undefined;
    const shape = Object.hasOwn(REPLY_SHAPES, key) ? REPLY_SHAPES[key]! : SHAPE_ANY;
    info = { name: key.toUpperCase().replace('|', ' '), flags: row[0], firstKey: row[1], lastKey: row[2], keyStep: row[3], shape };
    known.set(key, info);
  }
  return info;
}

/**
 * Metadata for a command given as the caller spelled it. For container commands
 * (CLIENT, CONFIG, ...) the subcommand is looked up from `sub`, which may be a
 * string, a Buffer or a Uint8Array; any other `sub` (a number, undefined) gives
 * the container's flags.
 */
export function commandInfo(name: string, sub?: unknown): CommandInfo {
  let info = cache.get(name);
  if (info === undefined) {
    // `client|kill` is how COMMAND INFO names a subcommand; the server runs no command by that name.
    info = (name.includes('|') ? undefined : knownInfo(name.toLowerCase())) ?? { name: name.toUpperCase(), flags: UNKNOWN, firstKey: 1, lastKey: 1, keyStep: 1, shape: SHAPE_ANY };
    if (cache.size < MAX_SPELLINGS) cache.set(name, info);
  }
  // The common case (GET key) pays one bit test for subcommands.
  if ((info.flags & CONTAINER) === 0 || sub === undefined) return info;
  return subcommandInfo(info, sub);
}

function subcommandInfo(info: CommandInfo, sub: unknown): CommandInfo {
  let c = containers.get(info);
  if (c === undefined) {
    // An unrecognised subcommand keeps what the container says, but nothing
    // vouches that it is safe to send twice.
    const other = { ...info, flags: info.flags & ~(CONTAINER | RESENDABLE), shape: SHAPE_ANY };
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

/** `word` in ASCII lower case, or undefined if it is empty, too long or not ASCII (then it names nothing). */
function lowerWord(word: string | Uint8Array): string | undefined {
  const n = word.length;
  if (n === 0 || n > MAX_WORD) return undefined;
  const text = typeof word === 'string';
  let out = '';
  for (let i = 0; i < n; i++) {
    let ch = text ? word.charCodeAt(i) : word[i]!;
    if (ch > 0x7f) return undefined;
    if (ch >= 0x41 && ch <= 0x5a) ch += 0x20;
    out += String.fromCharCode(ch);
  }
  return out;
}

/**
 * Whether argument `arg` is the keyword `word` (given in upper case ASCII):
 * a string, Buffer or Uint8Array, ASCII case-insensitive, as the server reads it.
 */
export function isKeyword(arg: unknown, word: string): boolean {
  const n = word.length;
  if (typeof arg === 'string') {
    if (arg.length !== n) return false;
    for (let i = 0; i < n; i++) {
      let ch = arg.charCodeAt(i);
      if (ch >= 0x61 && ch <= 0x7a) ch -= 0x20;
      if (ch !== word.charCodeAt(i)) return false;
    }
    return true;
  }
  if (arg instanceof Uint8Array) {
    if (arg.length !== n) return false;
    for (let i = 0; i < n; i++) {
      let ch = arg[i]!;
      if (ch >= 0x61 && ch <= 0x7a) ch -= 0x20;
      if (ch !== word.charCodeAt(i)) return false;
    }
    return true;
  }
  return false;
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
    for (let i = from; i < args.length; i++) if (isKeyword(args[i], 'BLOCK')) return true;
  }
  return false;
}

function learnedRow(entry: readonly unknown[], container: boolean): Row {
  let flags = container ? CONTAINER : 0;
  for (const f of entry[2] as unknown[]) {
    const name = String(f);
    if (Object.hasOwn(SERVER_FLAGS, name)) flags |= SERVER_FLAGS[name]!;
  }
  // A command the table does not know is safe to send twice only on the
  // server's word that it reads and changes nothing (flags.ts, RESENDABLE).
  if (flags & READONLY && !container) flags |= RESENDABLE;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  return [flags, num(entry[3]), num(entry[4]), num(entry[5])];
}

/**
 * Learn commands from a `COMMAND INFO` reply (module commands, unknown to the
 * generated table): their flags then route them like built-in ones, e.g. a
 * module's blocking command to the leased pool, and their subcommands are
 * looked up like CLIENT's. Returns how many commands and subcommands were learned.
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
