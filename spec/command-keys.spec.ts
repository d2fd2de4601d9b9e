/**
 * Key positions and command tips, for cluster routing (issue 11, Routing).
 *
 * A cluster client must hash the arguments the server hashes, or a call goes
 * to the wrong node (at best a MOVED per call, at worst a CROSSSLOT the user
 * cannot explain). commandKeys() computes them from the key specifications
 * in the generated table; here it is compared with the real server's
 * `COMMAND GETKEYS` on a corpus: every command and subcommand the server
 * documents (`COMMAND DOCS`), with arguments generated from its documented
 * syntax in three shapes, plus hand-written tricky calls (numkeys, STREAMS,
 * STORE, KEYS, keywords as Buffers, Uint8Arrays and in mixed case).
 * Index convention: positions are into the arguments after the command name;
 * a container's subcommand is args[0].
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CANNOT_FIND_KEYS,
  commandChannels,
  commandInfo,
  commandKeys,
  commandTips,
  firstKeyIndex,
  KEYS_UNKNOWN,
  keysProblem,
  KS_OW,
  KS_RO,
  KS_RW,
  learnCommands,
  NO_KEY,
  NONDETERMINISTIC_OUTPUT,
  NONDETERMINISTIC_OUTPUT_ORDER,
  parseTips,
  PLAN_FIXED,
  PLAN_UNKNOWN,
  readCount,
  REQUEST_ALL_NODES,
  REQUEST_ALL_SHARDS,
  REQUEST_DEFAULT,
  REQUEST_MULTI_SHARD,
  REQUEST_POLICY,
  REQUEST_SPECIAL,
  RESPONSE_AGG_LOGICAL_AND,
  RESPONSE_AGG_MIN,
  RESPONSE_AGG_SUM,
  RESPONSE_ALL_SUCCEEDED,
  RESPONSE_DEFAULT,
  RESPONSE_ONE_SUCCEEDED,
  RESPONSE_POLICY,
  RESPONSE_SPECIAL,
} from '../lib/commands/index.js';
import { COMMAND_TABLE } from '../lib/commands/table.js';
import { Decoder } from '../lib/resp/decoder.js';
import { encodeCommand, type Arg } from '../lib/resp/encoder.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const bytes = (s: string) => new TextEncoder().encode(s); // a Uint8Array that is not a Buffer

/** A raw RESP3 connection: pipelined commands, replies in order (errors as values). */
class Raw {
  private readonly waiting: ((v: unknown) => void)[] = [];
  private readonly decoder = new Decoder({ replyFlags: () => 0, onPush() {}, onReply: (v: unknown) => this.waiting.shift()!(v) });
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => this.decoder.feed(chunk));
  }
  static async open(port: number): Promise<Raw> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const raw = new Raw(socket);
    await raw.send(['HELLO', '3']);
    return raw;
  }
  send(parts: Arg[]): Promise<unknown> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(encodeCommand(parts));
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

let server: RedisServer;
let raw: Raw;
beforeAll(async () => {
  server = await startRedis();
  raw = await Raw.open(server.port);
});
afterAll(async () => {
  raw?.close();
  await destroyRedis(server);
});

type Call = Arg[];
/** Our keys of a call, as the strings the server would list, or the negative code. */
function ours(call: Call): string[] | number {
  const [name, ...args] = call as [string, ...Arg[]];
  const info = commandInfo(name, args[0]);
  const out: number[] = [];
  const n = commandKeys(info, args, out);
  if (n < 0) return n;
  expect(out.length).toBe(n);
  return out.map((i) => text(args[i]));
}
function text(a: unknown): string {
  return a instanceof Uint8Array ? Buffer.from(a).toString() : String(a);
}

/** The server's keys of a call: names, 'none' (GETKEYS: no key arguments / invalid arguments), or 'arity'. */
async function theirs(call: Call): Promise<string[] | 'none' | 'arity'> {
  const reply = await raw.send(['COMMAND', 'GETKEYS', ...call]);
  if (reply instanceof Error) {
    // GETKEYS itself needs an argument after the name: a call without any has no key.
    if (/arguments for 'command\|getkeys'/i.test(reply.message)) return 'none';
    if (/number of arguments/i.test(reply.message)) return 'arity';
    if (/no key arguments|Invalid arguments/i.test(reply.message)) return 'none';
    throw new Error(`unexpected GETKEYS error for ${text(call[0])}: ${reply.message}`);
  }
  const keys = (reply as unknown[]).map(text);
  return keys.length === 0 ? 'none' : keys;
}

/** Mismatches between commandKeys and GETKEYS on calls (arity mistakes of the generator counted apart). */
async function compare(calls: Call[]): Promise<{ compared: number; arity: Call[]; mismatches: string[] }> {
  const server = await Promise.all(calls.map(theirs));
  const mismatches: string[] = [];
  const arity: Call[] = [];
  let compared = 0;
  calls.forEach((call, i) => {
    const s = server[i]!;
    if (s === 'arity') return void arity.push(call);
    compared++;
    const o = ours(call);
    // The server finds no keys: we must find none either, or say we cannot.
    const agree = s === 'none' ? o === 0 || o === CANNOT_FIND_KEYS || (Array.isArray(o) && o.length === 0) : Array.isArray(o) && o.join('\n') === s.join('\n');
    if (!agree) mismatches.push(`${call.map(text).join(' ')}: server ${JSON.stringify(s)}, ours ${JSON.stringify(o)}`);
  });
  return { compared, arity, mismatches };
}

// ---- Calls generated from COMMAND DOCS ------------------------------------

interface DocArg {
  name: string;
  type: string;
  token?: string;
  flags?: string[];
  arguments?: DocArg[];
}
type Mode = 'min' | 'max' | 'alt';
const NUMKEYS = Symbol('numkeys');

/** One call of a documented command: `min` skips optional arguments, `max` gives every one (multiple ones twice), `alt` too but picks the last alternative of each choice. */
function generate(words: string[], docArgs: DocArg[], mode: Mode): Call {
  let n = 0;
  const out: (Arg | typeof NUMKEYS)[] = [...words];
  const keyAt = new Set<number>();
  const emit = (a: DocArg, inChoice: boolean) => {
    const flags = a.flags ?? [];
    if (!inChoice && flags.includes('optional') && mode === 'min') return;
    const times = flags.includes('multiple') && mode !== 'min' ? 2 : 1;
    for (let t = 0; t < times; t++) {
      if (a.token !== undefined && (t === 0 || flags.includes('multiple_token'))) out.push(a.token);
      switch (a.type) {
        case 'pure-token':
          break;
        case 'oneof': {
          const options = a.arguments ?? [];
          emit(mode === 'alt' ? options[options.length - 1]! : options[0]!, true);
          break;
        }
        case 'block':
          for (const sub of a.arguments ?? []) emit(sub, false);
          break;
        case 'key':
          keyAt.add(out.length);
          out.push(`k${++n}`);
          break;
        case 'integer':
          out.push(a.name === 'numkeys' ? NUMKEYS : '1');
          break;
        case 'double':
          out.push('1.5');
          break;
        case 'unix-time':
          out.push('100');
          break;
        case 'pattern':
          out.push(`p${++n}*`);
          break;
        default:
          out.push(`s${++n}`);
      }
    }
  };
  for (const a of docArgs) emit(a, false);
  // numkeys counts the keys that follow it.
  const at = out.indexOf(NUMKEYS);
  if (at >= 0) out[at] = String([...keyAt].filter((i) => i > at).length);
  return out as Arg[];
}

function docCalls(docs: Record<string, Record<string, unknown>>): Call[] {
  const calls: Call[] = [];
  const add = (full: string, doc: Record<string, unknown>) => {
    const words = full.split('|').map((w) => w.toUpperCase());
    // Only what the generated table knows: a newer server's extra commands are not ours to route.
    if (!Object.hasOwn(COMMAND_TABLE, full)) return;
    const subs = doc.subcommands as Record<string, Record<string, unknown>> | undefined;
    if (subs && Object.keys(subs).length > 0) {
      for (const [name, sub] of Object.entries(subs)) add(name, sub);
      return;
    }
    const args = (doc.arguments ?? []) as DocArg[];
    for (const mode of ['min', 'max', 'alt'] as const) calls.push(generate(words, args, mode));
  };
  for (const [name, doc] of Object.entries(docs)) add(name, doc);
  return calls;
}

describe('commandKeys agrees with COMMAND GETKEYS', () => {
  it('on every documented command and subcommand, with arguments generated from its documented syntax', async () => {
    const docs = (await raw.send(['COMMAND', 'DOCS'])) as Record<string, Record<string, unknown>>;
    const calls = docCalls(docs);
    const { compared, arity, mismatches } = await compare(calls);
    expect(mismatches).toEqual([]);
    // firstKeyIndex says what commandKeys says, on every call.
    const out: number[] = [];
    for (const [name, ...args] of calls as [string, ...Arg[]][]) {
      const info = commandInfo(name, args[0]);
      const n = commandKeys(info, args, out);
      expect([name, firstKeyIndex(info, args)]).toEqual([name, n > 0 ? out[0] : n === 0 ? NO_KEY : n]);
    }
    // The corpus is real: hundreds of calls, nearly all of them well-formed for the server.
    expect(compared).toBeGreaterThan(600);
    expect(arity.length).toBeLessThan(calls.length / 20);
    // And it covers the commands with keys: every one of them got a compared call.
    const keyed = new Set(calls.filter((c) => !arity.includes(c)).map((c) => commandInfo(String(c[0]), c[1]).name));
    for (const [key] of Object.entries(COMMAND_TABLE)) {
      const info = commandInfo(key.split('|')[0]!, key.split('|')[1]);
      if (info.keySpecs.length > 0 && !/^(sort|sort_ro|migrate)$/.test(key)) expect([key, keyed.has(info.name)]).toEqual([key, true]);
    }
  });

  const tricky: Call[] = [
    // numkeys: scripts and functions
    ['EVAL', 'return 1', 2, 'a', 'b', 'x', 'y'],
    ['EVAL', 'return 1', '0'],
    ['EVAL', 'return 1', 0, 'arg'],
    ['eval', 'return 1', 2n, 'a', 'b'],
    ['EVAL', 'return 1', Buffer.from('1'), 'a', 'b'],
    ['EVAL', 'return 1', bytes('2'), 'a', 'b', 'c'],
    ['EVALSHA', 'a'.repeat(40), 1, 'k'],
    ['EVAL_RO', 'return 1', 1, 'k', 'v'],
    ['EVALSHA_RO', 'a'.repeat(40), 2, 'k', 'l'],
    ['FCALL', 'f', 2, 'a', 'b', 'c'],
    ['FCALL_RO', 'f', 1, Buffer.from('bk'), 'x'],
    ['fcall', 'f', 0],
    // numkeys: sorted sets, sets, lists
    ['ZUNIONSTORE', 'd', 2, 'a', 'b', 'WEIGHTS', 1, 2, 'AGGREGATE', 'SUM'],
    ['ZINTERSTORE', 'd', '3', 'a', 'b', 'c'],
    ['ZDIFFSTORE', 'd', 2, 'a', 'b'],
    ['ZUNION', 2, 'a', 'b', 'WITHSCORES'],
    ['ZINTER', 1, 'a'],
    ['ZDIFF', 2, 'a', 'b'],
    ['ZINTERCARD', 2, 'a', 'b', 'LIMIT', 3],
    ['SINTERCARD', 2, 'a', 'b', 'LIMIT', 1],
    ['LMPOP', 2, 'a', 'b', 'LEFT', 'COUNT', 2],
    ['ZMPOP', 1, 'a', 'MIN'],
    ['BLMPOP', 0, 2, 'a', 'b', 'RIGHT'],
    ['BZMPOP', 1.5, 1, 'a', 'MAX'],
    // STREAMS: keys are the first half of what follows the keyword
    ['XREAD', 'COUNT', 1, 'STREAMS', 'a', 'b', '0', '0'],
    ['XREAD', 'BLOCK', 0, 'streams', 'a', '$'],
    ['XREAD', Buffer.from('StReAmS'), 'a', 'b', 'c', '0', '0', '0'],
    ['XREAD', bytes('streams'), 'a', '0'],
    ['XREAD', 'STREAMS', 'streams', '0'],
    ['XREAD', 'STREAMS', 'a', 'b', 'c'],
    ['XREAD', Buffer.from('STREAMS\0x'), 'a', '0'],
    ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', 'a', 'b', '>', '>'],
    ['XREADGROUP', 'GROUP', 'streams', 'c', 'STREAMS', 'k', '>'],
    ['xreadgroup', 'group', 'g', 'c', 'block', 10, 'noack', Buffer.from('streams'), 'k', '>'],
    // MIGRATE: the key, or the keys after KEYS (AUTH / AUTH2 skip their arguments)
    ['MIGRATE', 'h', 1, 'k', 0, 100],
    ['MIGRATE', 'h', 1, '', 0, 100, 'KEYS', 'a', 'b'],
    ['MIGRATE', 'h', 1, '', 0, 100, 'COPY', 'REPLACE', 'AUTH', 'keys', 'KEYS', 'a'],
    ['MIGRATE', 'h', 1, '', 0, 100, 'AUTH2', 'keys', 'keys', Buffer.from('keys'), 'a', 'b', 'c'],
    ['MIGRATE', 'h', 1, Buffer.alloc(0), 0, 100, bytes('Keys'), 'a'],
    ['MIGRATE', 'h', 1, 'k', 0, 100, 'COPY'],
    // SORT: the key, and the last STORE's destination; BY / GET patterns are skipped
    ['SORT', 'k'],
    ['SORT', 'k', 'STORE', 'd'],
    ['SORT', 'k', 'BY', 'store', 'GET', 'store', 'STORE', 'd'],
    ['SORT', 'k', 'LIMIT', 0, 'store', 'ALPHA', 'store', 'd'],
    ['SORT', 'k', 'STORE', 'a', 'STORE', 'b'],
    ['SORT', 'k', 'DESC', 'store'],
    ['SORT', 'k', 'BY', 'store', 'DESC'],
    ['SORT', 'k', 'GET', 'Store', 'GET', '#'],
    ['SORT', 'k', 'LIMIT', 'store', 'store', 'ASC'],
    ['sort', 'k', Buffer.from('Store'), bytes('d')],
    ['SORT_RO', 'k', 'BY', 'w_*', 'GET', '#', 'GET', 'o_*'],
    ['SORT_RO', 'k', 'STORE', 'd'],
    // GEORADIUS ... STORE / STOREDIST
    ['GEORADIUS', 'k', 0, 0, 1, 'km', 'STORE', 'd'],
    ['GEORADIUS', 'k', 0, 0, 1, 'km', 'COUNT', 5, 'storedist', 'd'],
    ['GEORADIUS', 'k', 0, 0, 1, 'km', 'STORE', 'd', 'STOREDIST', 'e'],
    ['GEORADIUS', 'k', 0, 0, 1, 'km', 'WITHDIST'],
    ['GEORADIUSBYMEMBER', 'k', 'm', 1, 'km', Buffer.from('store'), 'd'],
    ['GEOSEARCHSTORE', 'd', 's', 'FROMMEMBER', 'm', 'BYRADIUS', 1, 'km'],
    // subcommands: the subcommand is args[0]
    ['OBJECT', 'ENCODING', 'k'],
    ['object', Buffer.from('encoding'), 'k'],
    ['MEMORY', 'USAGE', 'k', 'SAMPLES', 5],
    ['MEMORY', bytes('usage'), 'k'],
    ['XINFO', 'STREAM', 'k', 'FULL', 'COUNT', 5],
    ['XINFO', 'GROUPS', 'k'],
    ['XGROUP', 'CREATE', 'k', 'g', '$', 'MKSTREAM'],
    // multi-key commands
    ['MSET', 'a', 1, 'b', 2, 'c', 3],
    ['MSETNX', 'a', 1, 'b', 2],
    ['MGET', 'a', 'b', 'c'],
    ['DEL', 'a', Buffer.from('b'), bytes('c'), 5, 6n],
    ['EXISTS', 'a', 'b'],
    ['UNLINK', 'a'],
    ['TOUCH', 'a', 'b'],
    ['BITOP', 'AND', 'd', 'a', 'b'],
    ['LCS', 'a', 'b', 'LEN'],
    ['RENAME', 'a', 'b'],
    ['COPY', 'a', 'b', 'REPLACE'],
    ['SMOVE', 'a', 'b', 'm'],
    ['BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', 0],
    ['BLPOP', 'a', 'b', 0],
    ['PFMERGE', 'd', 'a', 'b'],
    ['SUNIONSTORE', 'd', 'a', 'b'],
    ['SET', 'k', 'v', 'GET'],
    ['BITFIELD', 'k', 'GET', 'u8', 0],
    ['GET', 5],
    ['HGET', 6n, 'f'],
    // keyless and channel commands
    ['PING'],
    ['DBSIZE'],
    ['SPUBLISH', 'ch', 'msg'],
    ['PUBLISH', 'ch', 'msg'],
  ];

  it('on hand-written tricky calls: numkeys, STREAMS, KEYS, STORE, subcommands; Buffers, Uint8Arrays, mixed case', async () => {
    const { compared, arity, mismatches } = await compare(tricky);
    expect(arity).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(compared).toBe(tricky.length);
  });

  it('a few known answers, spelled out', () => {
    expect(ours(['EVAL', 's', 2, 'a', 'b', 'x'])).toEqual(['a', 'b']);
    expect(ours(['XREAD', 'COUNT', 1, 'STREAMS', 'a', 'b', '0', '0'])).toEqual(['a', 'b']);
    expect(ours(['SORT', 'k', 'BY', 'store', 'STORE', 'd'])).toEqual(['k', 'd']);
    expect(ours(['MIGRATE', 'h', 1, '', 0, 100, 'AUTH', 'keys', 'KEYS', 'a', 'b'])).toEqual(['a', 'b']);
    expect(ours(['ZUNIONSTORE', 'd', 2, 'a', 'b', 'WEIGHTS', 1, 2])).toEqual(['d', 'a', 'b']);
    expect(ours(['GEORADIUS', 'k', 0, 0, 1, 'km', 'STORE', 'd'])).toEqual(['k', 'd']);
    expect(ours(['OBJECT', 'ENCODING', 'k'])).toEqual(['k']);
    expect(ours(['MSET', 'a', 1, 'b', 2])).toEqual(['a', 'b']);
    // positions are into the arguments after the name; a subcommand is args[0]
    const out: number[] = [];
    expect(commandKeys(commandInfo('OBJECT', 'ENCODING'), ['ENCODING', 'k'], out)).toBe(1);
    expect(out).toEqual([1]);
    expect(commandKeys(commandInfo('MSET'), ['a', 1, 'b', 2], out)).toBe(2);
    expect(out).toEqual([0, 2]);
  });
});

describe('a key count or position that does not hold is CANNOT_FIND_KEYS, never an exception', () => {
  const bad: Call[] = [
    ['EVAL', 's', -1, 'a'],
    ['EVAL', 's', '-1', 'a'],
    ['EVAL', 's', 'x', 'a'],
    ['EVAL', 's', '', 'a'],
    ['EVAL', 's', Infinity, 'a'],
    ['EVAL', 's', -1n, 'a'],
    ['EVAL', 's', 3, 'a', 'b'],
    ['EVAL', 's', '99999999999999999999', 'a'],
    ['EVAL', 's', 2 ** 53, 'a'],
    ['FCALL', 'f', Buffer.from('2'), 'a'],
    ['ZUNIONSTORE', 'd', 5, 'a'],
    ['LMPOP', 'x', 'a', 'LEFT'],
    ['BZMPOP', 0, bytes('9'), 'a', 'MIN'],
    ['SINTERCARD', 3, 'a', 'b'],
    ['MIGRATE', 'h', 1, 'k', 0, 100, 'KEYS', 'a'], // KEYS needs the key argument empty
  ];

  it('the server finds no keys either (GETKEYS: error or empty)', async () => {
    for (const call of bad) expect([call.map(text).join(' '), ours(call)]).toEqual([call.map(text).join(' '), CANNOT_FIND_KEYS]);
    const { mismatches } = await compare(bad);
    expect(mismatches).toEqual([]);
  });

  it('too few arguments for a key position: CANNOT_FIND_KEYS (the server would answer an arity error)', () => {
    for (const call of [['GET'], ['RENAME', 'a'], ['EVAL', 's'], ['ZUNIONSTORE', 'd'], ['MSET'], ['BLPOP', 'a'], ['SORT'], ['MIGRATE', 'h', 1], ['OBJECT', 'ENCODING']] as Call[]) {
      expect([call.join(' '), ours(call)]).toEqual([call.join(' '), CANNOT_FIND_KEYS]);
      const [name, ...args] = call as [string, ...Arg[]];
      expect(firstKeyIndex(commandInfo(name, args[0]), args)).toBe(CANNOT_FIND_KEYS);
    }
  });

  it('a numkeys the command itself refuses is CANNOT_FIND_KEYS, though GETKEYS finds keys with atoi()', async () => {
    // When the key spec cannot read numkeys, GETKEYS falls back to the
    // command's own finder, which reads it with atoi(): "02", " 1", "+1" and
    // "1.5" count keys there. EVAL parses numkeys strictly and refuses them,
    // so routing by those keys would only deliver that error: we say
    // CANNOT_FIND_KEYS before anything is sent.
    for (const numkeys of ['02', ' 1', '+1', 1.5, '1abc']) {
      const call: Call = ['EVAL', 'return 1', numkeys, 'a', 'b'];
      expect(ours(call)).toBe(CANNOT_FIND_KEYS);
      expect(await theirs(call)).not.toBe('none');
      const reply = await raw.send(call);
      expect(reply).toBeInstanceOf(Error);
      expect(String((reply as Error).message)).toMatch(/integer/);
    }
  });

  it('numkeys 0 names no keys (EVAL s 0 is keyless); ZUNIONSTORE d 0 keeps d so the server answers its own error', async () => {
    expect(ours(['EVAL', 's', 0])).toEqual([]);
    expect(firstKeyIndex(commandInfo('EVAL'), ['s', 0])).toBe(NO_KEY);
    // GETKEYS finds no key here (its fallback stops at numkeys < 1); we keep the destination.
    expect(await theirs(['ZUNIONSTORE', 'd', 0, 'x'])).toBe('none');
    expect(ours(['ZUNIONSTORE', 'd', 0, 'x'])).toEqual(['d']);
    const reply = await raw.send(['ZUNIONSTORE', 'd', 0, 'x']);
    expect(String((reply as Error).message)).toMatch(/at least 1 input key/);
  });

  it('readCount reads every argument form as the server parses the bytes sent', () => {
    for (const [a, v] of [['0', 0], ['7', 7], [7, 7], [-0, 0], [7n, 7], [Buffer.from('12'), 12], [bytes('3'), 3]] as const) expect(readCount(a)).toBe(v);
    for (const a of ['', '01', '-1', '1.0', '1e3', ' 1', '1 ', 'one', -1, 0.5, NaN, -1n, null, undefined, {}, Buffer.from('1\0')]) expect(readCount(a)).toBe(-1);
  });

  it('the message names the command, never an argument', () => {
    const msg = keysProblem(commandInfo('EVAL'), CANNOT_FIND_KEYS);
    expect(msg).toMatch(/EVAL/);
    expect(msg).toMatch(/numkeys/);
    expect(msg).not.toMatch(/secret/);
    expect(keysProblem(commandInfo('NOSUCH.CMD'), KEYS_UNKNOWN)).toMatch(/NOSUCH\.CMD/);
  });
});

describe('shard channels, unknown commands, learned module commands', () => {
  it('SPUBLISH / SSUBSCRIBE / SUNSUBSCRIBE channels are not keys, but commandChannels finds them', () => {
    const out: number[] = [];
    expect(commandKeys(commandInfo('SPUBLISH'), ['ch', 'msg'], out)).toBe(0);
    expect(commandChannels(commandInfo('SPUBLISH'), ['ch', 'msg'], out)).toBe(1);
    expect(out).toEqual([0]);
    expect(commandChannels(commandInfo('ssubscribe'), ['a', 'b', 'c'], out)).toBe(3);
    expect(out).toEqual([0, 1, 2]);
    expect(commandChannels(commandInfo('SUNSUBSCRIBE'), ['a'], out)).toBe(1);
    expect(commandChannels(commandInfo('GET'), ['k'], out)).toBe(0);
    // Classic pub/sub is cluster-wide: no channel to route by.
    expect(commandChannels(commandInfo('PUBLISH'), ['ch', 'm'], out)).toBe(0);
  });

  it('every command of the table has a plan: incomplete specs (SORT, SORT_RO, MIGRATE) have hand-written finders', () => {
    for (const key of Object.keys(COMMAND_TABLE)) {
      const [name, sub] = key.split('|') as [string, string?];
      expect([key, commandInfo(name, sub).keyPlan === PLAN_UNKNOWN]).toEqual([key, false]);
    }
  });

  it('an unknown command or subcommand is KEYS_UNKNOWN: the router must ask the server', () => {
    expect(commandKeys(commandInfo('NOSUCH.CMD'), ['a'])).toBe(KEYS_UNKNOWN);
    expect(firstKeyIndex(commandInfo('NOSUCH.CMD'), ['a'])).toBe(KEYS_UNKNOWN);
    expect(commandKeys(commandInfo('OBJECT', 'NOSUCHSUB'), ['NOSUCHSUB', 'k'])).toBe(KEYS_UNKNOWN);
    expect(commandKeys(commandInfo('CLIENT', 5), [5])).toBe(KEYS_UNKNOWN);
  });

  it('module commands learned at connect bring their key specs (RESP3 maps, RESP2 pairs) and tips', () => {
    const spec3 = { flags: ['RW', 'update'], begin_search: { type: 'index', spec: { index: 1 } }, find_keys: { type: 'range', spec: { lastkey: 0, keystep: 1, limit: 0 } } };
    const spec2 = ['flags', ['RO'], 'begin_search', ['type', 'keyword', 'spec', ['keyword', 'keys', 'startfrom', 1]], 'find_keys', ['type', 'keynum', 'spec', ['keynumidx', 0, 'firstkey', 1, 'keystep', 1]]];
    const n = learnCommands([
      ['kmod.set', -2, ['write'], 1, 1, 1, [], ['request_policy:all_shards', 'response_policy:agg_sum'], [spec3]],
      ['kmod.multi', -2, ['readonly', 'movablekeys'], 0, 0, 0, [], [], [spec2]],
      ['kmod.legacy', -2, ['readonly'], 1, -1, 2], // Redis 6: no specs, the legacy range
      ['kmod.movable', -2, ['readonly', 'movablekeys'], 0, 0, 0], // movable keys without specs: unknown
      ['kmod.odd', -2, ['readonly'], 0, 0, 0, [], [], [{ flags: [], begin_search: { type: 'unknown', spec: {} }, find_keys: { type: 'unknown', spec: {} } }]],
    ]);
    expect(n).toBe(5);
    expect(ours(['KMOD.SET', 'k', 'v'])).toEqual(['k']);
    expect(commandTips(commandInfo('kmod.set'))).toBe(REQUEST_ALL_SHARDS | RESPONSE_AGG_SUM);
    expect(ours(['kmod.multi', 'x', Buffer.from('KEYS'), 2, 'a', 'b', 'c'])).toEqual(['a', 'b']);
    expect(ours(['kmod.legacy', 'a', 1, 'b', 2])).toEqual(['a', 'b']);
    expect(ours(['kmod.movable', 'a'])).toBe(KEYS_UNKNOWN);
    expect(ours(['kmod.odd', 'a'])).toBe(KEYS_UNKNOWN);
  });

  it('flagsOut gives each key its spec flags (what a write does to it)', () => {
    const out: number[] = [];
    const flags: number[] = [];
    expect(commandKeys(commandInfo('ZUNIONSTORE'), ['d', 2, 'a', 'b'], out, flags)).toBe(3);
    expect(flags.map((f) => [f & KS_OW, f & KS_RO])).toEqual([[KS_OW, 0], [0, KS_RO], [0, KS_RO]]);
    expect(commandKeys(commandInfo('SORT'), ['k', 'STORE', 'd'], out, flags)).toBe(2);
    expect([flags[0]! & KS_RO, flags[1]! & KS_OW]).toEqual([KS_RO, KS_OW]);
    expect(commandKeys(commandInfo('INCR'), ['k'], out, flags)).toBe(1);
    expect(flags[0]! & KS_RW).toBe(KS_RW);
    expect(commandKeys(commandInfo('PING'), [], out, flags)).toBe(0);
    expect(flags).toEqual([]);
  });
});

describe('fast path', () => {
  it('fixed-position commands read no argument: firstKeyIndex and commandKeys look at the count only', () => {
    const untouchable = (n: number) =>
      new Proxy({ length: n }, { get: (t, p) => (p === 'length' ? t.length : expect.fail(`read argument ${String(p)}`)) }) as ArrayLike<unknown>;
    for (const [name, n, first] of [['GET', 1, 0], ['SET', 3, 0], ['HGET', 2, 0], ['INCR', 1, 0], ['HSET', 3, 0], ['RENAME', 2, 0], ['LPUSH', 2, 0], ['EXPIRE', 2, 0], ['ZADD', 3, 0]] as const) {
      const info = commandInfo(name);
      expect([name, info.keyPlan]).toEqual([name, PLAN_FIXED]);
      expect(firstKeyIndex(info, untouchable(n))).toBe(first);
    }
    expect(commandKeys(commandInfo('RENAME'), untouchable(2), [])).toBe(2);
    expect(commandKeys(commandInfo('PING'), untouchable(0), [])).toBe(0);
    expect(firstKeyIndex(commandInfo('PING'), untouchable(1))).toBe(NO_KEY);
  });

  it('firstKeyIndex of a huge multi-key call still checks the whole call', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}`);
    expect(firstKeyIndex(commandInfo('MGET'), keys)).toBe(0);
    expect(firstKeyIndex(commandInfo('MIGRATE'), ['h', 1, '', 0, 100, 'KEYS', ...keys])).toBe(6);
    // The destination is found first, but the key count past the arguments makes the call invalid.
    expect(firstKeyIndex(commandInfo('ZUNIONSTORE'), ['d', 100_001, ...keys])).toBe(CANNOT_FIND_KEYS);
    expect(commandKeys(commandInfo('MGET'), keys)).toBe(100_000);
  });

  it('a reused array is filled and truncated in place, and firstKeyIndex agrees with commandKeys on the corpus', () => {
    const out = [9, 9, 9, 9, 9];
    expect(commandKeys(commandInfo('GET'), ['k'], out)).toBe(1);
    expect(out).toEqual([0]);
    expect(commandKeys(commandInfo('EVAL'), ['s', 'x'], out)).toBe(CANNOT_FIND_KEYS);
    expect(out).toEqual([]);
    const calls: Call[] = [['GET', 'k'], ['EVAL', 's', 1, 'k'], ['XREAD', 'STREAMS', 'a', '0'], ['SORT', 'k', 'STORE', 'd'], ['MGET', 'a', 'b'], ['PING'], ['EVAL', 's', 0], ['EVAL', 's', 'x'],
      ['ZUNIONSTORE', 'd', 5, 'a'], ['MIGRATE', 'h', 1, '', 0, 100, 'KEYS', 'a', 'b'], ['GEORADIUS', 'k', 0, 0, 1, 'km', 'STORE', 'd']];
    for (const [name, ...args] of calls as [string, ...Arg[]][]) {
      const info = commandInfo(name, args[0]);
      const n = commandKeys(info, args, out);
      expect(firstKeyIndex(info, args)).toBe(n > 0 ? out[0] : n === 0 ? NO_KEY : n);
    }
  });
});

describe('command tips', () => {
  const tipsOf = (name: string, sub?: string) => commandTips(commandInfo(name, sub));

  it('the multi_shard commands of the issue: MGET, MSET, DEL, EXISTS, UNLINK, TOUCH (the server agrees)', () => {
    expect(tipsOf('MGET') & REQUEST_POLICY).toBe(REQUEST_MULTI_SHARD);
    expect(tipsOf('MGET') & RESPONSE_POLICY).toBe(RESPONSE_DEFAULT); // merged in the caller's key order
    expect(tipsOf('MSET') & (REQUEST_POLICY | RESPONSE_POLICY)).toBe(REQUEST_MULTI_SHARD | RESPONSE_ALL_SUCCEEDED);
    for (const name of ['DEL', 'EXISTS', 'UNLINK', 'TOUCH']) expect([name, tipsOf(name) & (REQUEST_POLICY | RESPONSE_POLICY)]).toEqual([name, REQUEST_MULTI_SHARD | RESPONSE_AGG_SUM]);
  });

  it('fan-outs and their combination', () => {
    expect(tipsOf('DBSIZE')).toBe(REQUEST_ALL_SHARDS | RESPONSE_AGG_SUM);
    expect(tipsOf('KEYS')).toBe(REQUEST_ALL_SHARDS | NONDETERMINISTIC_OUTPUT_ORDER); // concatenated
    expect(tipsOf('FLUSHALL')).toBe(REQUEST_ALL_SHARDS | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('FLUSHDB')).toBe(REQUEST_ALL_SHARDS | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('PING')).toBe(REQUEST_ALL_SHARDS | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('SCAN') & REQUEST_POLICY).toBe(REQUEST_SPECIAL);
    expect(tipsOf('SCRIPT', 'LOAD')).toBe(REQUEST_ALL_NODES | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('SCRIPT', 'FLUSH')).toBe(REQUEST_ALL_NODES | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('SCRIPT', 'EXISTS')).toBe(REQUEST_ALL_SHARDS | RESPONSE_AGG_LOGICAL_AND);
    expect(tipsOf('SCRIPT', 'KILL')).toBe(REQUEST_ALL_SHARDS | RESPONSE_ONE_SUCCEEDED);
    expect(tipsOf('FUNCTION', 'LOAD')).toBe(REQUEST_ALL_SHARDS | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('CONFIG', 'SET')).toBe(REQUEST_ALL_NODES | RESPONSE_ALL_SUCCEEDED);
    expect(tipsOf('WAIT')).toBe(REQUEST_ALL_SHARDS | RESPONSE_AGG_MIN);
    expect(tipsOf('INFO')).toBe(REQUEST_ALL_SHARDS | RESPONSE_SPECIAL | NONDETERMINISTIC_OUTPUT);
    expect(tipsOf('GET')).toBe(0);
    expect(tipsOf('CONFIG', 'GET')).toBe(0);
    expect(tipsOf('HGETALL')).toBe(NONDETERMINISTIC_OUTPUT_ORDER);
    expect(tipsOf('TIME')).toBe(NONDETERMINISTIC_OUTPUT);
  });

  it('overrides: MSETNX stays on one slot (all-or-nothing cannot be split); RANDOMKEY picks one reply', () => {
    expect(tipsOf('MSETNX') & REQUEST_POLICY).toBe(REQUEST_DEFAULT);
    expect(tipsOf('RANDOMKEY') & (REQUEST_POLICY | RESPONSE_POLICY)).toBe(REQUEST_ALL_SHARDS | RESPONSE_SPECIAL);
  });

  it('every other command has exactly the tips the server reports', async () => {
    const reply = (await raw.send(['COMMAND'])) as unknown[][];
    const overridden = new Set(['msetnx', 'randomkey']);
    const differ: string[] = [];
    let checked = 0;
    const walk = (entry: unknown[]) => {
      const key = String(entry[0]);
      if (Object.hasOwn(COMMAND_TABLE, key) && !overridden.has(key)) {
        const [name, sub] = key.split('|') as [string, string?];
        checked++;
        if (parseTips(entry[7]) !== tipsOf(name, sub)) differ.push(key);
      }
      for (const s of (entry[9] ?? []) as unknown[][]) walk(s);
    };
    for (const entry of reply) walk(entry);
    expect(differ).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });
});
