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
 * Whether `arg` is `word` as C's `strcasecmp` sees it: like `isKeyword`, but
 * the argument ends at its first NUL byte. The server finds key-spec keywords
 * (XREAD ... STREAMS, GEORADIUS ... STORE) and SORT / MIGRATE options with
 * strcasecmp, so `STREAMS\0x` is STREAMS to it; key positions must agree with
 * the server's or the call is routed by the wrong argument.
 */
export function isCKeyword(arg: unknown, word: string): boolean {
  const n = word.length;
  if (typeof arg === 'string') {
    if (arg.length < n || (arg.length > n && arg.charCodeAt(n) !== 0)) return false;
    for (let i = 0; i < n; i++) {
      let ch = arg.charCodeAt(i);
      if (ch >= 0x61 && ch <= 0x7a) ch -= 0x20;
      if (ch !== word.charCodeAt(i)) return false;
    }
    return true;
  }
  if (arg instanceof Uint8Array) {
    if (arg.length < n || (arg.length > n && arg[n] !== 0)) return false;
    for (let i = 0; i < n; i++) {
      let ch = arg[i]!;
      if (ch >= 0x61 && ch <= 0x7a) ch -= 0x20;
      if (ch !== word.charCodeAt(i)) return false;
    }
    return true;
  }
  return false;
}
