/**
 * The reply shape some commands always have. A reply of another shape cannot
 * belong to the command at the FIFO head: the stream is out of step (a desync),
 * and the connection must be recycled rather than hand that reply to a caller.
 * Only commands whose reply shape never varies with their arguments are listed.
 */

/** No fixed shape: not checked. */
export const SHAPE_ANY = 0;
/** An integer (number or bigint). */
export const SHAPE_INTEGER = 1;
/** A string, a Buffer or null. */
export const SHAPE_STRING = 2;

const INTEGER = [
  'incr', 'incrby', 'decr', 'decrby', 'del', 'unlink', 'exists', 'llen', 'lpush', 'rpush', 'lpushx', 'rpushx',
  'sadd', 'srem', 'scard', 'sismember', 'hset', 'hdel', 'hlen', 'hexists', 'hincrby', 'zcard', 'zrem', 'publish',
  'expire', 'pexpire', 'ttl', 'pttl', 'persist', 'strlen', 'append', 'setnx', 'dbsize', 'bitcount', 'pfadd',
];
const STRING = ['get', 'getdel', 'getex', 'hget', 'echo', 'type', 'incrbyfloat', 'hincrbyfloat', 'lindex', 'getrange'];

export const REPLY_SHAPES: Record<string, number> = Object.fromEntries([
  ...INTEGER.map((n) => [n, SHAPE_INTEGER]),
  ...STRING.map((n) => [n, SHAPE_STRING]),
]);

/** Whether `value` (not an error) fits `shape`. */
export function fitsShape(shape: number, value: unknown): boolean {
  if (shape === SHAPE_INTEGER) return typeof value === 'number' || typeof value === 'bigint';
  if (shape === SHAPE_STRING) return value === null || typeof value === 'string' || Buffer.isBuffer(value);
  return true;
}
