/**
 * Command metadata lookup: flags and key positions per command name, computed
 * once per distinct spelling and cached, so the hot path tests bits.
 */
import { COMMAND_TABLE } from './table.js';
import { BLOCKING, BLOCKING_WITH_ARG, CONTAINER, SERVER_FLAGS, UNKNOWN } from './flags.js';
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

const cache = new Map<string, CommandInfo>();
/** Rows learned from a server at run time (module commands), beside the generated table. */
const learned = new Map<string, readonly [number, number, number, number]>();

function build(key: string, display: string): CommandInfo {
  const row = COMMAND_TABLE[key] ?? learned.get(key);
  if (!row) return { name: display, flags: UNKNOWN, firstKey: 1, lastKey: 1, keyStep: 1, shape: SHAPE_ANY };
  return { name: display, flags: row[0], firstKey: row[1], lastKey: row[2], keyStep: row[3], shape: REPLY_SHAPES[key] ?? SHAPE_ANY };
}

/**
 * Metadata for a command given as the caller spelled it. For container commands
 * (CLIENT, CONFIG, ...) the subcommand is looked up from `sub`.
 */
export function commandInfo(name: string, sub?: unknown): CommandInfo {
  let info = cache.get(name);
  if (info === undefined) {
    info = build(name.toLowerCase(), name.toUpperCase());
    if (cache.size < 10_000) cache.set(name, info); // bounded: names are caller input
  }
  if (info.flags & CONTAINER && typeof sub === 'string') {
    const key = `${name}|${sub}`;
    let subInfo = cache.get(key);
    if (subInfo === undefined) {
      subInfo = build(key.toLowerCase(), `${info.name} ${sub.toUpperCase()}`);
      if (subInfo.flags & UNKNOWN) subInfo = { ...subInfo, flags: info.flags & ~CONTAINER };
      if (cache.size < 10_000) cache.set(key, subInfo);
    }
    return subInfo;
  }
  return info;
}

/** Whether this call blocks the connection (XREAD only with BLOCK). */
export function isBlockingCall(info: CommandInfo, args: ArrayLike<unknown>, from: number): boolean {
  if (info.flags & BLOCKING) return true;
  if (info.flags & BLOCKING_WITH_ARG) {
    for (let i = from; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'string' && a.length === 5 && a.toUpperCase() === 'BLOCK') return true;
    }
  }
  return false;
}

/**
 * Learn commands from a `COMMAND INFO` reply (module commands, unknown to the
 * generated table): their flags then route them like built-in ones, e.g. a
 * module's blocking command to the leased pool. Returns how many were learned.
 */
export function learnCommands(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  let n = 0;
  for (const entry of reply) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[2])) continue;
    const name = entry[0].toLowerCase();
    if (COMMAND_TABLE[name]) continue; // the generated table (and its overrides) wins
    let flags = 0;
    for (const f of entry[2]) flags |= SERVER_FLAGS[String(f)] ?? 0;
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    learned.set(name, [flags, num(entry[3]), num(entry[4]), num(entry[5])]);
    n++;
  }
  if (n > 0) cache.clear(); // spellings cached as unknown must be looked up again
  return n;
}
