/**
 * Per-call options, set with `db.with(...)`, and the reply decoding they ask
 * for. Checked by options.ts (checkCallOptions); applied by the Database
 * handle (client.ts) to every command it makes.
 */
import { DECODE_ATTRIBUTES, DECODE_BUFFERS, DECODE_MAPS, DECODE_SETS } from './resp/types.js';
import type { RetryPolicy } from './retry.js';

/** Per-call options, set with `db.with(...)`. */
export interface CallOptions {
  /** 'utf8' (default) decodes bulk strings as strings; 'buffer' gives Buffers (simple strings stay strings). */
  decode?: 'utf8' | 'buffer' | undefined;
  /** 'object' (default): maps as null-prototype objects; 'map': as `Map`. */
  map?: 'object' | 'map' | undefined;
  /** 'array' (default): sets as arrays; 'set': as `Set`. */
  set?: 'array' | 'set' | undefined;
  /** Keep RESP3 attributes: values that carried one come wrapped as `Attributed`. */
  attributes?: boolean | undefined;
  /** Deadline in ms for these calls (overrides `commandTimeout`; 0 = none). */
  timeout?: number | undefined;
  /** Retry policy for these calls. */
  retry?: RetryPolicy | undefined;
  /** Declare these calls safe to run twice, so a retry policy may resend them after a lost connection. */
  idempotent?: boolean | undefined;
  /**
   * Give these calls up when the signal fires: one not yet written is never
   * sent; a written one rejects at once (its reply is dropped). Either way an
   * `AbortError` (`sent` tells which).
   */
  signal?: AbortSignal | undefined;
  /** Prepended to every key of these calls (the command table's key positions), never to other arguments. */
  prefix?: string | Uint8Array | undefined;
  /**
   * Answer cacheable reads (GET, HGETALL, SMEMBERS, ...) from the client-side
   * cache, kept fresh by RESP3 tracking; needs `new Redis({ cache: {...} })`.
   * Other commands of the view go to the server as usual.
   */
  cache?: boolean | undefined;
}

/** DECODE_* bits of checked per-call options. */
export function decodeFlagsOf(o: CallOptions): number {
  let f = 0;
  if (o.decode === 'buffer') f |= DECODE_BUFFERS;
  if (o.map === 'map') f |= DECODE_MAPS;
  if (o.set === 'set') f |= DECODE_SETS;
  if (o.attributes) f |= DECODE_ATTRIBUTES;
  return f;
}
