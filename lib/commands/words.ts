/**
 * Reading command words (subcommands, keywords) from arguments of any type,
 * the way the server reads them: ASCII case-insensitively, whether the caller
 * gave a string, a Buffer or a Uint8Array. Anything else (a number, a bigint,
 * non-ASCII bytes) is never a word.
 */

/** Longer than any subcommand or keyword: a longer argument cannot match and is not even lower-cased. */
export const MAX_WORD = 64;

/** `word` in ASCII lower case, or undefined if it is empty, too long or not ASCII (then it names nothing). */
export function lowerWord(word: string | Uint8Array): string | undefined {
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

/** Whether `arg` begins with `word` (upper case ASCII), ASCII case-insensitively; the caller checked it is long enough. */
function beginsWith(arg: string | Uint8Array, word: string): boolean {
  const text = typeof arg === 'string';
  for (let i = 0; i < word.length; i++) {
    let ch = text ? arg.charCodeAt(i) : arg[i]!;
    if (ch >= 0x61 && ch <= 0x7a) ch -= 0x20;
    if (ch !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether argument `arg` is the keyword `word` (given in upper case ASCII):
 * a string, Buffer or Uint8Array, ASCII case-insensitive, as the server reads it.
 */
export function isKeyword(arg: unknown, word: string): boolean {
  if (typeof arg !== 'string' && !(arg instanceof Uint8Array)) return false;
  return arg.length === word.length && beginsWith(arg, word);
}

/**
 * Whether `arg` is `word` as C's `strcasecmp` sees it: like `isKeyword`, but
 * the argument ends at its first NUL byte. The server finds key-spec keywords
 * (XREAD ... STREAMS, GEORADIUS ... STORE) and SORT / MIGRATE options with
 * strcasecmp, so `STREAMS\0x` is STREAMS to it; key positions must agree with
 * the server's or the call is routed by the wrong argument.
 */
export function isCKeyword(arg: unknown, word: string): boolean {
  if (typeof arg !== 'string' && !(arg instanceof Uint8Array)) return false;
  const n = word.length;
  if (arg.length < n) return false;
  if (arg.length > n && (typeof arg === 'string' ? arg.charCodeAt(n) : arg[n]) !== 0) return false;
  return beginsWith(arg, word);
}
