/**
 * Every public option of `new Redis(...)`, its default, and the normalisation
 * from URL + object into what the connection layer takes.
 */
import type tls from 'node:tls';
import { InvalidArgumentError } from './errors.js';
import type { MultiplexerOptions, ReconnectStrategy } from './connection/multiplexer.js';
import type { DecoderLimits } from './resp/types.js';
import { RetryPolicy } from './retry.js';
import { parseUrl } from './url.js';

export interface ReconnectOptions {
  /** Delay before the first attempt in ms (default 50). */
  baseDelay?: number;
  /** Cap of the delay in ms (default 2000). */
  maxDelay?: number;
  /** Give up after this many consecutive failed attempts (default Infinity). */
  maxAttempts?: number;
}

export interface PoolOptions {
  /** Most side connections for blocking commands and WATCH (default 8). */
  size?: number;
  /** Longest wait for a free one in ms before `PoolTimeoutError` (default 5000). */
  maxWait?: number;
}

export interface RedisOptions {
  /** Host name or IP (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 6379). */
  port?: number;
  /** Unix socket path; overrides host and port. */
  path?: string;
  /** TLS: `true` for defaults (certificate verified), or Node's `tls.connect` options. */
  tls?: boolean | tls.ConnectionOptions;
  username?: string;
  password?: string;
  /** Database of `redis.db` (default 0). */
  db?: number;
  /** 3 (default): HELLO 3, falling back to RESP2 on servers without HELLO. 2 forces RESP2. */
  protocol?: 2 | 3;
  /** CLIENT SETNAME for every connection this client opens. */
  clientName?: string;
  /** Longest wait for a connection (TCP + TLS) in ms (default 10000). */
  connectTimeout?: number;
  /**
   * Default deadline of every command in ms, from the call to the reply,
   * covering time queued and time on the wire (default 10000; 0 disables).
   * Blocking commands get their own timeout plus `blockingMargin` instead.
   */
  commandTimeout?: number;
  /** TCP keepalive initial delay in ms (default 30000; 0 disables). */
  keepAlive?: number;
  /** TCP_NODELAY (default true). */
  noDelay?: boolean;
  /** Reconnect backoff (exponential with jitter), a function `(attempt, cause) => delay | -1`, or false for never. */
  reconnect?: ReconnectOptions | ReconnectStrategy | false;
  /** Queue commands while disconnected and send them after reconnect (default true); false fails them fast. */
  offlineQueue?: boolean;
  /** Most commands waiting to be written (default 100000): past it, `OfflineQueueFullError`. */
  maxQueued?: number;
  /** Most bytes of commands waiting to be written (default 64 MiB): past it, `OfflineQueueFullError`. */
  maxQueuedBytes?: number;
  /** Write at once when this many bytes are encoded, instead of at the end of the tick (default 262144). */
  flushThreshold?: number;
  /** Half-open detection: recycle the connection when the oldest reply is this late past its deadline (default 5000). */
  staleReplyGrace?: number;
  /** Send a PING after this many ms without a byte from the server; a missing answer recycles the connection (default 0 = off). */
  pingInterval?: number;
  /** Bounds on what the server may send. */
  limits?: Partial<DecoderLimits>;
  /**
   * Retry policy for every call unless `db.with({ retry })` overrides it.
   * Default: one retry of read-only commands whose connection was lost.
   */
  retry?: RetryPolicy;
  /** Side connections for blocking commands and WATCH. */
  blockingPool?: PoolOptions;
  /** Extra ms added to a blocking command's own timeout for its client-side deadline (default 2000). */
  blockingMargin?: number;
}

export interface ResolvedOptions {
  connection: Omit<MultiplexerOptions, 'db'> & { db: number };
  retry: RetryPolicy;
  pool: Required<PoolOptions>;
  blockingMargin: number;
}

export function exponentialReconnect(opts: ReconnectOptions = {}): ReconnectStrategy {
  const base = opts.baseDelay ?? 50;
  const max = opts.maxDelay ?? 2000;
  const attempts = opts.maxAttempts ?? Infinity;
  return (attempt) => {
    if (attempt > attempts) return -1;
    const d = Math.min(max, base * 2 ** (attempt - 1));
    return Math.round(d / 2 + Math.random() * (d / 2));
  };
}

function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) throw new InvalidArgumentError(`option ${name} must be a non-negative number`);
  return value;
}

export function checkDb(db: unknown): number {
  if (typeof db !== 'number' || !Number.isInteger(db) || db < 0) {
    throw new InvalidArgumentError('a database index must be a non-negative integer');
  }
  return db;
}

export function resolveOptions(urlOrOptions?: string | RedisOptions, extra?: RedisOptions): ResolvedOptions {
  let o: RedisOptions = {};
  if (typeof urlOrOptions === 'string') {
    const u = parseUrl(urlOrOptions);
    o = { ...u, tls: u.tls ? {} : undefined };
  } else if (urlOrOptions !== undefined) {
    if (typeof urlOrOptions !== 'object' || urlOrOptions === null) {
      throw new InvalidArgumentError('new Redis() takes a URL string or an options object');
    }
    o = { ...urlOrOptions };
  }
  if (extra) o = { ...o, ...extra };
  const tlsOpts = o.tls === true ? {} : o.tls === false ? undefined : o.tls;
  let reconnect: ReconnectStrategy;
  if (o.reconnect === false) reconnect = () => -1;
  else if (typeof o.reconnect === 'function') reconnect = o.reconnect;
  else reconnect = exponentialReconnect(o.reconnect);
  const protocol = o.protocol ?? 3;
  if (protocol !== 2 && protocol !== 3) throw new InvalidArgumentError('option protocol must be 2 or 3');
  return {
    connection: {
      endpoint: { host: o.host ?? '127.0.0.1', port: o.port ?? 6379, path: o.path, tls: tlsOpts },
      username: o.username,
      password: o.password,
      clientName: o.clientName,
      protocol,
      db: checkDb(o.db ?? 0),
      connectTimeout: nonNegative(o.connectTimeout, 'connectTimeout', 10_000),
      commandTimeout: nonNegative(o.commandTimeout, 'commandTimeout', 10_000),
      keepAlive: nonNegative(o.keepAlive, 'keepAlive', 30_000),
      noDelay: o.noDelay ?? true,
      reconnect,
      offlineQueue: o.offlineQueue ?? true,
      maxQueued: nonNegative(o.maxQueued, 'maxQueued', 100_000),
      maxQueuedBytes: nonNegative(o.maxQueuedBytes, 'maxQueuedBytes', 64 * 1024 * 1024),
      flushThreshold: nonNegative(o.flushThreshold, 'flushThreshold', 256 * 1024),
      staleReplyGrace: nonNegative(o.staleReplyGrace, 'staleReplyGrace', 5_000),
      limits: o.limits ?? {},
      pingInterval: nonNegative(o.pingInterval, 'pingInterval', 0),
      discoverModules: true,
    },
    retry: o.retry ?? new RetryPolicy({ attempts: 2, baseDelay: 0, jitter: false }),
    pool: {
      size: Math.max(1, Math.floor(nonNegative(o.blockingPool?.size, 'blockingPool.size', 8))),
      maxWait: nonNegative(o.blockingPool?.maxWait, 'blockingPool.maxWait', 5_000),
    },
    blockingMargin: nonNegative(o.blockingMargin, 'blockingMargin', 2_000),
  };
}
