/**
 * A Lua script, identified by the SHA1 of its body, computed here (node:crypto)
 * so that the first call can already be an EVALSHA: the body travels only when
 * a server answers NOSCRIPT (see connection/script-command.ts), or inside a
 * MULTI block (see transaction.ts).
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

export class Script {
  /** The Lua body, as given (a Buffer stays bytes-exact). */
  readonly lua: string | Buffer;
  /** SHA1 of the body's bytes, lower-case hex: the name the server knows it by. */
  readonly sha1: string;
  readonly readOnly: boolean;

  constructor(lua: string | Buffer | Uint8Array, options: ScriptOptions = {}) {
    if (typeof lua !== 'string' && !(lua instanceof Uint8Array)) {
      throw new InvalidArgumentError('new Script(lua): the Lua body must be a string or a Buffer');
    }
    if (lua.length === 0) throw new InvalidArgumentError('new Script(lua): the Lua body is empty');
    checkObject(options, SCRIPT_OPTIONS, '', { where: 'new Script()' });
    // A copy: bytes changed later by the caller must not make the body disagree with its SHA1.
    this.lua = typeof lua === 'string' ? lua : Buffer.from(lua);
    this.sha1 = createHash('sha1').update(this.lua).digest('hex');
    this.readOnly = options.readOnly === true;
  }
}
