#!/usr/bin/env node
// Generates lib/commands/arg-types.ts (types only, nothing at run time) from a
// real server's COMMAND DOCS: for every command and subcommand, the tuple of
// arguments `db.reply(name, ...args)` accepts.
//
//   npx tsc -p tsconfig.json && npm run gen:types          (uses redis-server from PATH)
//   node scripts/gen-types.mjs --check     exit 1 if the committed file differs (spec/typed-consumer.spec.ts)
//
// It starts a private redis-server on a free loopback port, asks COMMAND DOCS
// and turns each command's argument tree into a TypeScript tuple:
//  - the leading required arguments, each typed: a key is `Key`, an integer
//    `Int`, a double `Num`, a pure token its own literal (upper or lower case),
//    a token before a value the token then the value, a oneof of single
//    arguments the union, a required block its members in order;
//  - one optional argument at the very end is an optional element (`count?`);
//  - anything else in the middle (optional flags in any order, repeated
//    blocks) becomes one rest element typed by the union of what may appear
//    there (tokens stay literals unless a free string may appear, which makes
//    it `Arg`), followed by the trailing required arguments (one occurrence
//    of a trailing repeated argument), so the minimum arity still holds.
// A container (CLIENT, CONFIG, ...) is the union of its subcommands' tuples,
// each led by the subcommand's name.
//
// Reply types are not here: lib/commands/reply-table.ts, written by hand and
// checked against a real server by spec/typed-replies.spec.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withPrivateServer } from './private-server.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** A token as a literal type, in upper and lower case (the server ignores case). */
function tok(token) {
  const up = JSON.stringify(token.toUpperCase());
  const low = JSON.stringify(token.toLowerCase());
  return up === low ? up : `${up} | ${low}`;
}

const flagsOf = (arg) => (Array.isArray(arg.flags) ? arg.flags.map(String) : []);
const optional = (arg) => flagsOf(arg).includes('optional');
const multiple = (arg) => flagsOf(arg).includes('multiple');
const children = (arg) => (Array.isArray(arg.arguments) ? arg.arguments : []);

function leaf(type) {
  switch (type) {
    case 'key':
      return 'Key';
    case 'integer':
    case 'unix-time':
      return 'Int';
    case 'double':
      return 'Num';
    default:
      return 'Arg'; // string, pattern
  }
}

/** A label for a tuple element: the argument's name as an identifier. */
function label(name) {
  const id = String(name ?? 'arg').replace(/[^A-Za-z0-9_]+(.)?/g, (_, c) => (c ? c.toUpperCase() : ''));
  return /^[A-Za-z_]/.test(id) ? id : `arg${id}`;
}

/**
 * One occurrence of `arg` (its own optional / multiple flags aside) as a fixed
 * sequence of [label, type] elements, or undefined when its length varies.
 */
function slots(arg) {
  const pre = arg.token !== undefined && arg.type !== 'pure-token' ? [[label(arg.token), tok(String(arg.token))]] : [];
  switch (arg.type) {
    case 'pure-token':
      return [[label(arg.name), tok(String(arg.token))]];
    case 'oneof': {
      const alts = children(arg).map((a) => (optional(a) || multiple(a) ? undefined : slots(a)));
      if (alts.some((s) => s === undefined || s.length !== 1)) return undefined;
      return [...pre, [label(arg.name), union(alts.map((s) => s[0][1]))]];
    }
    case 'block': {
      const seq = [...pre];
      for (const c of children(arg)) {
        const s = optional(c) || multiple(c) ? undefined : slots(c);
        if (s === undefined) return undefined;
        seq.push(...s);
      }
      return seq;
    }
    default:
      return [...pre, [label(arg.name), leaf(arg.type)]];
  }
}

/** Every element type that may appear anywhere inside `arg` (for a rest element). */
function anyTypes(arg) {
  const out = [];
  if (arg.token !== undefined) out.push(tok(String(arg.token)));
  if (arg.type === 'oneof' || arg.type === 'block') for (const c of children(arg)) out.push(...anyTypes(c));
  else if (arg.type !== 'pure-token') out.push(leaf(arg.type));
  return out;
}

/**
 * A union of element types: `Arg` (any argument) swallows the rest, and a
 * `Key` (any string) swallows token literals.
 */
function union(types) {
  let parts = [...new Set(types.flatMap((t) => t.split(' | ')))];
  if (parts.includes('Arg')) return 'Arg';
  if (parts.includes('Key')) parts = parts.filter((t) => !t.startsWith('"'));
  return parts.join(' | ');
}

/**
 * The tuple type of an argument list. `arity` is the server's (COMMAND INFO:
 * n > 0 exactly n words with the name, -n at least n): a command whose docs
 * list no arguments although it takes some (DEBUG) gets `Arg[]`.
 *
 * After the leading required arguments comes at most one rest element: its
 * minimum length is not enforced, so that spreading an array
 * (`reply('DEL', ...keys)`, `reply('RPUSH', key, ...items)`) type-checks,
 * which TypeScript refuses when a fixed element follows or must be present.
 */
function tuple(args, arity, lead = []) {
  if (args.length === 0 && arity !== 1 + lead.length && arity !== -1 - lead.length) return `[${lead.map(([l, t]) => `${l}: ${t}, `).join('')}...args: Arg[]]`;
  const els = [...lead];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    const s = optional(a) || multiple(a) ? undefined : slots(a);
    if (s === undefined) break;
    els.push(...s);
  }
  const out = (rest) => {
    const seen = new Map();
    const name = (l) => {
      const n = (seen.get(l) ?? 0) + 1;
      seen.set(l, n);
      return n === 1 ? l : `${l}${n}`;
    };
    const parts = els.map(([l, t]) => `${name(l)}: ${t}`);
    if (rest !== undefined) parts.push(`...${name(rest[0])}: ${rest[1].includes(' ') ? `(${rest[1]})` : rest[1]}[]`);
    return `[${parts.join(', ')}]`;
  };
  if (i === args.length) return out();
  const a = args[i];
  // One optional argument at the end: two tuples rather than an optional
  // element, which would also admit an explicit `undefined`.
  if (i === args.length - 1 && optional(a) && !multiple(a)) {
    const s = slots(a);
    if (s !== undefined && s.length === 1) {
      const without = out();
      els.push(s[0]);
      return `${without} | ${out()}`;
    }
  }
  const rest = [];
  for (let k = i; k < args.length; k++) rest.push(...anyTypes(args[k]));
  const only = i === args.length - 1 && !optional(a) ? label(a.name) : 'args';
  return out([only === 'args' ? 'args' : `${only}s`, union(rest)]);
}

await withPrivateServer(async (command) => {
  const docs = await command(['COMMAND', 'DOCS']);
  // Arities from COMMAND: name (subcommands as container|sub) -> arity.
  const arities = new Map();
  const walk = (info) => {
    arities.set(String(info[0]), Number(info[1]));
    for (const sub of info[9] ?? []) walk(sub);
  };
  for (const info of await command(['COMMAND'])) walk(info);
  const version = /redis_version:(\S+)/.exec(await command(['INFO', 'server']))?.[1] ?? 'unknown';
  const lines = [];
  let subs = 0;
  for (const name of Object.keys(docs).sort()) {
    const doc = docs[name];
    const key = JSON.stringify(name.toUpperCase());
    const subcommands = doc.subcommands && typeof doc.subcommands === 'object' ? doc.subcommands : undefined;
    if (subcommands && Object.keys(subcommands).length > 0) {
      const alts = Object.keys(subcommands)
        .sort()
        .map((full) => {
          subs++;
          const sub = full.slice(full.indexOf('|') + 1);
          return `\n    | ${tuple(subcommands[full].arguments ?? [], arities.get(full), [['subcommand', tok(sub)]])}`;
        });
      // A subcommand given as bytes cannot be told apart by its type.
      alts.push('\n    | [subcommand: Buffer | Uint8Array, ...args: Arg[]]');
      lines.push(`  ${key}:${alts.join('')};`);
    } else {
      lines.push(`  ${key}: ${tuple(doc.arguments ?? [], arities.get(name))};`);
    }
  }
  const target = path.join(root, 'lib/commands/arg-types.ts');
  const text =
    `// GENERATED by scripts/gen-types.mjs from redis-server ${version} (COMMAND DOCS). Do not edit by hand.\n` +
      `// Command name (upper case) -> the arguments after the name, as a tuple. Types only: nothing here exists at run time.\n\n` +
      `import type { Arg, Int, Key, Num } from './arg-kinds.js';\n\n` +
      `export interface CommandArgs {\n${lines.join('\n')}\n}\n`;
  if (process.argv.includes('--check')) {
    const same = readFileSync(target, 'utf8') === text;
    console.log(same ? 'lib/commands/arg-types.ts is what this server generates' : 'lib/commands/arg-types.ts differs from what this server generates: run npm run gen:types');
    process.exitCode = same ? 0 : 1;
  } else writeFileSync(target, text);
  console.log(`argument types of ${lines.length} commands and ${subs} subcommands from redis ${version}`);
});
