#!/usr/bin/env node
// Generates lib/commands/table.ts, key-table.ts and tip-table.ts from a real
// server's COMMAND reply.
//
//   npx tsc -p tsconfig.json && npm run gen:commands        (uses redis-server from PATH)
//
// It starts a private redis-server on a free loopback port, asks COMMAND, and
// writes one row per command and subcommand: [flags, firstKey, lastKey, step].
// The flag bits are lib/commands/flags.ts; OVERRIDES below adds what the server
// does not say but the multiplexer must know.
//
// Beside it, for cluster routing: key-table.ts holds each command's key
// specifications (COMMAND INFO item 8, encoded by lib/commands/keys.ts
// keySpecRow), tip-table.ts its command tips (item 7, as bits of
// lib/commands/tips.ts, with TIP_OVERRIDES below). Only commands that have
// any are listed, so both stay small.
//
// RESENDABLE ("safe to send twice": DESIGN rule 2 may resend it after a cut
// when it may already have run) is derived from the server's flags:
//  1. a container (CLIENT, CONFIG, ...) is not resendable: its subcommand
//     decides, and an unrecognised subcommand is not resendable;
//  2. a command flagged `readonly` is resendable: it reads the dataset and
//     changes nothing (XREAD BLOCK, EVAL_RO, FCALL_RO included);
//  3. any other command is resendable unless it has an effect:
//       `write`, `may_replicate`   changes the dataset / the replication stream
//       `admin`                    administers the server (CONFIG SET, CLIENT KILL, DEBUG, SAVE, SHUTDOWN, ...)
//       `pubsub`                   PUBLISH, SPUBLISH, (UN)SUBSCRIBE
//       `blocking`                 holds the connection (also WAIT, WAITAOF: OVERRIDES)
//       `no_multi`                 SAVE, SYNC, PSYNC, SHUTDOWN: effects outside the dataset
//       `@scripting` + `noscript`  runs or manages scripts: EVAL, EVALSHA, FCALL, SCRIPT ..., FUNCTION ...
//       connection state           CONNECTION_STATE (refused anyway) and the SESSION list below
//     Flags that say nothing about effects are ignored: loading, stale, fast,
//     skip_monitor, skip_slowlog, no_auth, allow_busy, no_mandatory_keys,
//     no_async_loading, movablekeys, denyoom (always with write), module-*.
//     So are the command tips: nondeterministic_output (TIME, INFO, CLIENT
//     LIST: a resend reads a later value, as any read may) and
//     request_policy / response_policy (routing, not effects). ACL categories
//     other than @scripting are not used: @connection holds PING and ECHO as
//     well as SELECT, @dangerous holds KEYS and INFO as well as FLUSHALL.
//  4. hand-made exceptions, each with its reason: INSPECT (resendable although
//     flagged admin / pubsub / script: they only read) and SESSION (not
//     resendable although unflagged: they change the connection's state).
// Commands unknown to the table are never resendable unless the connected
// server reports them `readonly` (lib/commands/index.ts, learnCommands).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withPrivateServer } from './private-server.mjs';
import * as F from '../dist/commands/flags.js';
import * as K from '../dist/commands/keys.js';
import * as T from '../dist/commands/tips.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const OVERRIDES = {
  // WAIT and WAITAOF block the connection until replicas acknowledge, but carry no `blocking` flag.
  wait: { add: F.BLOCKING },
  waitaof: { add: F.BLOCKING },
  // XREAD / XREADGROUP block only with a BLOCK argument.
  xread: { add: F.BLOCKING_WITH_ARG, remove: F.BLOCKING },
  xreadgroup: { add: F.BLOCKING_WITH_ARG, remove: F.BLOCKING },
  subscribe: { add: F.SUBSCRIBE },
  psubscribe: { add: F.SUBSCRIBE },
  ssubscribe: { add: F.SUBSCRIBE },
  unsubscribe: { add: F.SUBSCRIBE },
  punsubscribe: { add: F.SUBSCRIBE },
  sunsubscribe: { add: F.SUBSCRIBE },
};
// State the multiplexer owns for every caller sharing the connection. CLIENT
// CACHING and ASKING apply to the next command on the connection, which on a
// shared one belongs to another caller; READONLY / READWRITE switch the whole
// connection's cluster read mode, which routing owns.
for (const name of ['select', 'auth', 'hello', 'quit', 'reset', 'multi', 'exec', 'discard', 'watch', 'unwatch',
  'monitor', 'sync', 'psync', 'replconf', 'client|reply', 'client|tracking', 'client|caching', 'asking', 'readonly', 'readwrite']) {
  OVERRIDES[name] = { add: F.CONNECTION_STATE };
}

// Resendable although flagged admin, pubsub or script: they only read (rule 4).
const INSPECT = {
  command: 'COMMAND alone lists every command (its unknown subcommands stay not resendable)',
  'config|get': 'reads configuration parameters',
  'client|list': 'lists connections',
  'slowlog|get': 'reads the slow log (SLOWLOG RESET is the write)',
  'slowlog|len': 'reads the slow log length',
  'latency|latest': 'reads latency samples (LATENCY RESET is the write)',
  'latency|history': 'reads latency samples',
  'latency|graph': 'renders latency samples',
  'latency|doctor': 'renders a latency report',
  'latency|histogram': 'reads per-command latency histograms',
  'acl|list': 'reads ACL rules (ACL LOG is left out: ACL LOG RESET clears it)',
  'acl|users': 'reads user names',
  'acl|getuser': 'reads one user',
  'acl|dryrun': 'checks a command against a user without running it',
  'module|list': 'lists loaded modules',
  'cluster|replicas': 'lists replicas',
  'cluster|slaves': 'lists replicas (old name)',
  'cluster|count-failure-reports': 'reads failure reports',
  'pubsub|channels': 'inspects channels, publishes nothing',
  'pubsub|numpat': 'inspects patterns, publishes nothing',
  'pubsub|numsub': 'inspects channels, publishes nothing',
  'pubsub|shardchannels': 'inspects shard channels, publishes nothing',
  'pubsub|shardnumsub': 'inspects shard channels, publishes nothing',
  'script|exists': 'asks whether scripts are cached',
  'script|load': 'only adds a script, addressed by its SHA1: loading it again changes nothing, and cannot undo another client\'s SCRIPT FLUSH that came between (the reply was never seen, so "loaded after the flush" is a valid order)',
  'function|list': 'lists functions',
  'function|dump': 'serialises functions',
  'function|stats': 'reads the running function\'s state',
};
// Not resendable although no flag says so: they change the state of the
// connection they run on, and a resend runs on another one (rule 4). Names
// the generating server does not know are kept for newer servers.
const SESSION = {
  'client|setname': 'names this connection (the handshake owns the name)',
  'client|setinfo': 'labels this connection (Redis 7.2)',
  'client|caching': 'applies to the next command of this connection only',
  'client|no-touch': 'a mode of this connection (Redis 7.2)',
  readonly: 'a cluster replica read mode of this connection',
  readwrite: 'ends the READONLY mode of this connection',
  asking: 'applies to the next command of this connection only',
};
for (const name of Object.keys(INSPECT)) OVERRIDES[name] = { ...OVERRIDES[name], add: (OVERRIDES[name]?.add ?? 0) | F.RESENDABLE };
for (const name of Object.keys(SESSION)) OVERRIDES[name] = { ...OVERRIDES[name], remove: (OVERRIDES[name]?.remove ?? 0) | F.RESENDABLE };

// Where we route differently from the server's tips (tip-table.ts). Each
// entry replaces the command's tips; the reason is the comment.
const TIP_OVERRIDES = {
  // The server says multi_shard / agg_min, but MSETNX sets all its keys or
  // none: split by slot, one part could set its keys while another finds one
  // existing and sets nothing, leaving a half-done MSETNX that no reply can
  // describe. It stays a single-slot command (CrossSlotError across slots).
  msetnx: [],
  // Redis 7.0 gives all_shards with no response policy, which would mean
  // "concatenate": RANDOMKEY replies one key (or nil), so the router must pick
  // one non-nil reply (Redis 7.2 says response_policy:special too).
  randomkey: ['request_policy:all_shards', 'response_policy:special', 'nondeterministic_output'],
};

// Commands newer than the generating server (redis-server 7.0 on the project's
// machine), as a newer server's COMMAND reply describes them, so that they are
// routed as what they are on the servers that have them. Without its row,
// WAITAOF (Redis 7.2) would be an unknown command, written on the shared
// connection, where it holds every later caller until the fsyncs are done.
// A server that knows the command replaces its row here.
const NEWER = [
  // COMMAND INFO WAITAOF on Redis 7.2: arity 4, noscript, keyless, @slow @connection, all shards / agg_min.
  ['waitaof', 4, ['noscript'], 0, 0, 0, ['@slow', '@connection'], ['request_policy:all_shards', 'response_policy:agg_min'], [], []],
];

/** Rules 1-3 of the comment at the top, on a row's bits (overrides applied) and the server's flags and ACL categories. */
function resendable(bits, flags, acl) {
  if (bits & (F.CONTAINER | F.UNKNOWN)) return false;
  if (flags.includes('readonly')) return true;
  if (bits & (F.WRITE | F.ADMIN | F.PUBSUB | F.SUBSCRIBE | F.BLOCKING | F.BLOCKING_WITH_ARG | F.CONNECTION_STATE)) return false;
  if (flags.includes('may_replicate') || flags.includes('no_multi')) return false;
  if (acl.includes('@scripting') && flags.includes('noscript')) return false;
  return true;
}

function row(info) {
  const [name, , flags, first, last, step, acl = []] = info;
  const serverFlags = flags.map(String);
  let bits = 0;
  for (const f of serverFlags) bits |= Object.hasOwn(F.SERVER_FLAGS, f) ? F.SERVER_FLAGS[f] : 0;
  const subs = info[9] ?? [];
  if (subs.length > 0) bits |= F.CONTAINER;
  const o = OVERRIDES[name];
  const apply = (b) => (o ? (b | (o.add ?? 0)) & ~(o.remove ?? 0) : b);
  bits = apply(bits);
  if (resendable(bits, serverFlags, acl.map(String))) bits |= F.RESENDABLE;
  bits = apply(bits); // the hand-made RESENDABLE exceptions win over the rule
  const specs = (info[8] ?? []).map((spec) => {
    const r = K.keySpecRow(spec);
    if (r === undefined) throw new Error(`${name}: a key spec this generator cannot read`);
    return r;
  });
  const tips = T.parseTips(Object.hasOwn(TIP_OVERRIDES, name) ? TIP_OVERRIDES[name] : info[7] ?? []);
  return [name, [bits, first, last, step], subs, serverFlags, specs, tips];
}

const KS_NAMES = Object.entries(K).filter(([n, v]) => n.startsWith('KS_') && n !== 'KS_SERVER_FLAGS' && typeof v === 'number').sort((x, y) => x[1] - y[1]);
/** A key spec row as the server would say it, for the generated file's comments. */
function describeSpec([flags, begin, a, b, c, keyword]) {
  const names = KS_NAMES.filter(([n, v]) => flags & v && !/BEGIN|FIND/.test(n)).map(([n]) => n.slice(3));
  const bs = flags & K.KS_BEGIN_UNKNOWN ? 'unknown' : flags & K.KS_BEGIN_KEYWORD ? `keyword ${keyword} from ${begin}` : `index ${begin}`;
  const fk = flags & K.KS_FIND_UNKNOWN ? 'unknown' : flags & K.KS_FIND_KEYNUM ? `keynum idx ${a} first ${b} step ${c}` : `range last ${a} step ${b} limit ${c}`;
  return `${names.join(' ')}: ${bs}, ${fk}`;
}

await withPrivateServer(async (command) => {
  const reply = await command(['COMMAND']);
  const version = await command(['INFO', 'server']);
  const rows = [];
  const walk = (info) => {
    const [name, data, subs, serverFlags, specs, tips] = row(info);
    rows.push([name, data, serverFlags, specs, tips]);
    for (const sub of subs) walk(sub);
  };
  for (const info of reply) walk(info);
  const known = new Set(rows.map(([n]) => n));
  for (const info of NEWER) if (!known.has(info[0])) walk(info);
  rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  // For review: what the rule made resendable beyond the read-only commands, and overrides naming nothing.
  const extra = rows.filter(([, d, f]) => d[0] & F.RESENDABLE && !f.includes('readonly')).map(([n]) => n);
  console.log(`resendable without the readonly flag (${extra.length}): ${extra.join(' ')}`);
  const names = new Set(rows.map(([n]) => n));
  const absent = Object.keys(OVERRIDES).filter((n) => !names.has(n));
  if (absent.length > 0) console.log(`overrides for commands this server does not know: ${absent.join(' ')}`);
  const redisVersion = /redis_version:(\S+)/.exec(version)?.[1] ?? 'unknown';
  const body = rows.map(([n, d]) => `  ${JSON.stringify(n)}: [${d.join(', ')}],`).join('\n');
  writeFileSync(
    path.join(root, 'lib/commands/table.ts'),
    `// GENERATED by scripts/gen-commands.mjs from redis-server ${redisVersion}. Do not edit by hand.\n` +
      `// name (lower case; subcommands as "container|sub") -> [flags, firstKey, lastKey, keyStep]\n` +
      `// flags are the bits of ./flags.ts.\n\n` +
      `export const COMMAND_TABLE: Record<string, readonly [number, number, number, number]> = {\n${body}\n};\n`,
  );
  const keyed = rows.filter(([, , , specs]) => specs.length > 0);
  const specBody = keyed
    .map(([n, , , specs]) => `  ${JSON.stringify(n)}: [${specs.map((s) => JSON.stringify(s).replace(/,/g, ', ')).join(', ')}], // ${specs.map(describeSpec).join('; ')}`)
    .join('\n');
  writeFileSync(
    path.join(root, 'lib/commands/key-table.ts'),
    `// GENERATED by scripts/gen-commands.mjs from redis-server ${redisVersion}. Do not edit by hand.\n` +
      `// name -> key specifications (COMMAND INFO), in the server's order, as keys.ts KeySpecRow:\n` +
      `// [flags (KS_* bits), begin (index, or keyword startfrom), lastkey|keynumidx, keystep|firstkey, limit|keystep, keyword?]\n` +
      `// Commands without key specifications are not listed.\n\n` +
      `import type { KeySpecRow } from './keys.js';\n\n` +
      `export const KEY_SPECS: Record<string, readonly KeySpecRow[]> = {\n${specBody}\n};\n`,
  );
  const tipped = rows.filter(([, , , , tips]) => tips !== 0);
  const tipBody = tipped.map(([n, , , , t]) => `  ${JSON.stringify(n)}: ${t}, // ${T.tipNames(t).join(' ')}`).join('\n');
  writeFileSync(
    path.join(root, 'lib/commands/tip-table.ts'),
    `// GENERATED by scripts/gen-commands.mjs from redis-server ${redisVersion}. Do not edit by hand.\n` +
      `// name -> command tips (COMMAND INFO) as bits of ./tips.ts, TIP_OVERRIDES applied. Commands without tips are not listed.\n\n` +
      `export const COMMAND_TIPS: Record<string, number> = {\n${tipBody}\n};\n`,
  );
  // For review: the specs the server cannot evaluate itself (it falls back to hand-written code, so must we).
  const partial = keyed.filter(([, , , specs]) => specs.some((s) => !(s[0] & K.KS_NOT_KEY) && s[0] & (K.KS_INCOMPLETE | K.KS_BEGIN_UNKNOWN | K.KS_FIND_UNKNOWN)));
  for (const [n, , , specs] of partial) {
    const { plan } = K.planKeys(n, specs);
    if (plan === K.PLAN_UNKNOWN) throw new Error(`${n} has an incomplete key spec and no hand-written key finder in lib/commands/keys.ts`);
  }
  console.log(`incomplete or unknown key specs, found by hand-written code: ${partial.map(([n]) => n).join(' ')}`);
  const absentTips = Object.keys(TIP_OVERRIDES).filter((n) => !names.has(n));
  if (absentTips.length > 0) console.log(`tip overrides for commands this server does not know: ${absentTips.join(' ')}`);
  console.log(`wrote ${rows.length} commands (${keyed.length} with key specs, ${tipped.length} with tips) from redis ${redisVersion}`);
});
