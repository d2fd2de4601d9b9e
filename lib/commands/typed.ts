/**
 * The typed command surface: types only, nothing here exists at run time, so
 * a typed call costs what an untyped one does.
 *
 * `db.reply(name, ...args)` looks its name up (any case) in `CommandArgs`
 * (generated from COMMAND DOCS: arg-types.ts) for the arguments and in
 * `REPLY_TABLE` (written by hand, checked against a server: reply-table.ts)
 * for the reply, read through the handle's decoding options (`Decoding`).
 * Lookups are one indexed access per call (`CommandArgs[N]`), never a union
 * of overloads, which keeps the compiler fast.
 */
import type { Reply } from '../resp/types.js';
import type { CommandArgs } from './arg-types.js';
import type { Arg } from './arg-kinds.js';
import type { ReplyTable } from './reply-table.js';

export type { CommandArgs };
export type { Arg, Int, Key, Num } from './arg-kinds.js';

/** How a handle decodes replies: the type-level image of `decode`, `map`, `set` and `attributes`. */
export interface Decoding {
  decode: 'utf8' | 'buffer';
  map: 'object' | 'map';
  set: 'array' | 'set';
  attributes: boolean;
}

/** `redis.db`: strings, objects for maps, arrays for sets. */
export interface DefaultDecoding {
  decode: 'utf8';
  map: 'object';
  set: 'array';
  attributes: false;
}

/** The decoding of a view made with `with(options)` on a handle decoding as `D`. */
export type WithDecoding<D extends Decoding, O> = {
  [K in keyof Decoding]: O extends { [P in K]?: infer V } ? ([V] extends [undefined] ? D[K] : Exclude<V, undefined> & Decoding[K]) : D[K];
};

/** A known command's name, upper case (`'GET'`, `'CLIENT'`). `reply()` takes any case. */
export type CommandName = keyof CommandArgs & string;

/** The arguments `name` takes after its name: its generated tuple, or any arguments for a name the table does not know. */
export type CommandArguments<N extends string> = [N] extends [never] ? Arg[] : ArgsLookup[Uppercase<N>];

/**
 * The generated tuples, and any arguments for any other name: one indexed
 * access, which the compiler relates far faster than a conditional over
 * every name.
 */
interface ArgsLookup extends CommandArgs {
  [name: string]: Arg[];
}

/** Text as the handle decodes bulk strings. */
type Str<D extends Decoding> = D['decode'] extends 'buffer' ? Buffer : string;

/** Whether the argument list `A` holds `W` (any case) at index `From` or later: true, false, or boolean when it cannot tell. */
type HasWord<A extends readonly unknown[], W extends string, From extends number, Seen extends unknown[] = []> =
  A extends readonly [infer H, ...infer T]
    ? Seen['length'] extends From
      ? WordIs<H, W> extends true
        ? true
        : WordIs<H, W> extends false
          ? HasWord<T, W, From, Seen>
          : HasWord<T, W, From, Seen> extends true ? true : boolean
      : HasWord<T, W, From, [...Seen, unknown]>
    : A extends readonly [] ? false : boolean;
type WordIs<H, W extends string> = H extends string ? (string extends H ? boolean : Uppercase<H> extends W ? true : false) : H extends number | bigint ? false : boolean;

/** How many arguments `A` has, compared with `N`: true when more, boolean when it depends (an optional element). */
type MoreThan<A extends readonly unknown[], N extends number> =
  number extends A['length'] ? boolean : A extends readonly [unknown, ...infer T] ? (N extends 0 ? true : MoreThan<T, Dec<N>>) : A extends readonly [] ? false : boolean;
type Dec<N extends number> = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8][N];

type Pick2<C, S1, S2> = C extends true ? S1 : C extends false ? S2 : S1 | S2;

/** The JavaScript type of a reply shape (reply-table.ts), for arguments `A` and decoding `D`. */
export type ShapeType<S, A extends readonly unknown[], D extends Decoding> =
  S extends 'bulk' ? Str<D>
  : S extends 'simple' ? string
  : S extends 'OK' ? 'OK'
  : S extends 'int' ? number
  : S extends 'big' ? number | bigint
  : S extends 'double' ? number
  : S extends 'bit' ? 0 | 1
  : S extends 'never' ? never
  : S extends readonly ['?', infer X] ? ShapeType<X, A, D> | null
  : S extends readonly ['arr', infer X] ? ShapeType<X, A, D>[]
  : S extends readonly ['set', infer X] ? (D['set'] extends 'set' ? Set<ShapeType<X, A, D>> : ShapeType<X, A, D>[])
  // Under 'buffer', a map with a key that is not UTF-8 is a Map keyed by Buffers (resp/maps.ts): its text would lose bytes.
  : S extends readonly ['map', infer X] ? (D['map'] extends 'map' ? Map<Str<D>, ShapeType<X, A, D>> : Record<string, ShapeType<X, A, D>> | (D['decode'] extends 'buffer' ? Map<Buffer, ShapeType<X, A, D>> : never))
  : S extends readonly ['tup', ...infer Xs] ? { -readonly [I in keyof Xs]: ShapeType<Xs[I], A, D> }
  : S extends readonly ['or', infer X, infer Y] ? ShapeType<X, A, D> | ShapeType<Y, A, D>
  : S extends readonly ['kw', infer W extends string, infer F extends number, infer X, infer Y] ? Pick2<HasWord<A, W, F>, ShapeType<X, A, D>, ShapeType<Y, A, D>>
  : S extends readonly ['argc', infer N extends number, infer X, infer Y] ? Pick2<MoreThan<A, N>, ShapeType<X, A, D>, ShapeType<Y, A, D>>
  : unknown;

/** The table key of a call: `CONFIG GET` for a container and its subcommand, else the name. */
type TableKey<N extends string, A extends readonly unknown[]> =
  `${N} ${A extends readonly [infer S extends string, ...unknown[]] ? Uppercase<S> : ''}` extends infer K extends keyof ReplyTable ? K : N;

/** What `reply(name, ...args)` resolves with on a handle decoding as `D`; `unknown` for names the table does not know. */
export type CommandReply<N extends string, A extends readonly unknown[], D extends Decoding = DefaultDecoding> =
  string extends N ? unknown
  : TableKey<Uppercase<N>, A> extends infer K extends keyof ReplyTable
    ? D['attributes'] extends false ? ShapeType<ReplyTable[K], A, D> : Reply
    : unknown;

/**
 * `T` when the caller named one, else the table's reply type. Used as
 * `Resolved<NoInfer<T>, ...>`: T is never inferred from where the reply goes
 * (`const n: number = await db.reply('GET', k)` must not make T `number`).
 */
export type Resolved<T, N extends string, A extends readonly unknown[], D extends Decoding> = [T] extends [never] ? CommandReply<N, A, D> : T;
