/**
 * A Lua script, identified by the SHA1 of its body, computed here (node:crypto)
 * so that the first call can already be an EVALSHA: the body travels only when
 * a server answers NOSCRIPT (see connection/script-command.ts), or inside a
 * MULTI block (see transaction.ts).
 *
 * A Script is a value, frozen at construction: it is shared (a module
 * constant, a library's export), and a body changed after the SHA1 was taken
 * would be sent, after a NOSCRIPT or as EVAL in a block, under a SHA1 that
 * names another script. A Buffer body is kept private: `lua` hands out copies.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { boolean, checkObject, schema } from './option-check.js';

export interface ScriptOptions {
  /**
   * The script only reads (it may call only read-only commands): it is sent
   * with EVALSHA_RO / EVAL_RO, which the server enforces, so it is safe to
   * send again after a lost connection (per the retry policy) and, in a
   * cluster with `readFrom`, may run on a replica.
   */
  readOnly?: boolean;
}

const SCRIPT_OPTIONS = schema({ readOnly: boolean });

/** The body a Script was made with, without a copy (set in Script's static block). */
let privateBody: (script: Script) => string | Buffer;

export class Script {
  readonly #body: string | Buffer;
  /** SHA1 of the body's bytes, lower-case hex: the name the server knows it by. */
  readonly sha1: string;
  readonly readOnly: boolean;

  static {
    privateBody = (script) => script.#body;
  }

  constructor(lua: string | Buffer | Uint8Array, options: ScriptOptions = {}) {
    if (typeof lua !== 'string' && !(lua instanceof Uint8Array)) {
      throw new InvalidArgumentError('new Script(lua): the Lua body must be a string or a Buffer');
    }
    if (lua.length === 0) throw new InvalidArgumentError('new Script(lua): the Lua body is empty');
    checkObject(options, SCRIPT_OPTIONS, '', { where: 'new Script()' });
    // A copy: bytes changed later by the caller must not make the body disagree with its SHA1.
    this.#body = typeof lua === 'string' ? lua : Buffer.from(lua);
    this.sha1 = createHash('sha1').update(this.#body).digest('hex');
    this.readOnly = options.readOnly === true;
    Object.freeze(this);
  }

  /** The Lua body, as given: the string, or a copy of the bytes of a Buffer body (changing it changes nothing). */
  get lua(): string | Buffer {
    const body = this.#body;
    return typeof body === 'string' ? body : Buffer.from(body);
  }
}

/**
 * The body to send for `script`: a Script's own (no copy), or the `lua` of a
 * Script of the other build (ESM / CommonJS: each has its own class), which
 * is a copy of its body.
 */
export function scriptBody(script: { readonly lua: string | Buffer }): string | Buffer {
  return script instanceof Script ? privateBody(script) : script.lua;
}
