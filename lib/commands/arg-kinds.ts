/**
 * What a typed command's arguments may be (lib/commands/arg-types.ts is
 * generated from the server's COMMAND DOCS in these terms). Types only.
 */
import type { Arg } from '../resp/encoder.js';

export type { Arg };
/** A key: text or bytes (a number is refused by the types; `String(n)` says you meant it). */
export type Key = string | Buffer | Uint8Array;
/** An integer argument: a number, a bigint, or its decimal text. */
export type Int = number | bigint | `${bigint}`;
/** A floating-point argument: a number, or text (`'+inf'`, `'(1.5'` for exclusive ranges, ...). */
export type Num = number | bigint | string;
