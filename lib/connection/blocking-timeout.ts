/**
 * The server-side timeout of a blocking call, read from its arguments: the
 * blocking pool's deadline for the call is that plus `blockingMargin`, and a
 * cluster waits that long for a blocking call refused by TRYAGAIN.
 */
import { isCKeyword } from '../commands/words.js';
import type { Arg } from '../resp/encoder.js';

function numberArg(a: Arg | undefined): number | undefined {
  if (typeof a === 'number') return a;
  if (typeof a === 'string' || typeof a === 'bigint') {
    const n = Number(a);
    return Number.isFinite(n) ? n : undefined;
  }
  if (a instanceof Uint8Array) return numberArg(Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('latin1'));
  return undefined;
}

/**
 * The server-side timeout of a blocking call in ms (0 = forever), or undefined
 * if it cannot be read from the arguments. Seconds for the list and sorted-set
 * commands, milliseconds for XREAD BLOCK, WAIT and WAITAOF.
 */
export function blockingTimeoutMs(name: string, args: ArrayLike<Arg>): number | undefined {
  const n = args.length;
  switch (name) {
    case 'BLPOP':
    case 'BRPOP':
    case 'BRPOPLPUSH':
    case 'BLMOVE':
    case 'BZPOPMIN':
    case 'BZPOPMAX': {
      const s = numberArg(args[n - 1]);
      return s === undefined ? undefined : Math.ceil(s * 1000);
    }
    case 'BLMPOP':
    case 'BZMPOP': {
      const s = numberArg(args[0]);
      return s === undefined ? undefined : Math.ceil(s * 1000);
    }
    case 'WAIT':
    case 'WAITAOF':
      return numberArg(args[n - 1]);
    case 'XREAD':
    case 'XREADGROUP':
      // Options come before STREAMS; after it, every argument is a stream name or an id.
      for (let i = 0; i < n - 1; i++) {
        const a = args[i];
        if (isCKeyword(a, 'BLOCK')) return numberArg(args[i + 1]);
        if (isCKeyword(a, 'STREAMS')) return undefined;
      }
      return undefined;
    default:
      return undefined;
  }
}
