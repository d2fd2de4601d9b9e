/**
 * Every public option of `new Redis(...)`, its default, and the normalisation
 * from URL + object into what the connection layer takes.
 */
import type * as tls from 'node:tls';
import { InvalidArgumentError } from './errors.js';
import type { CacheLimits } from './cache/client-cache.js';
import type { CredentialsProvider } from './connection/handshake.js';
import type { FailoverSettings } from './topology/failover/endpoints.js';
import { failoverOptions, maintenanceOptions, sentinelOptions } from './topology/ha-options.js';
import { checkAddressMap, hasHostAndPort, type AddressMap } from './topology/address-map.js';
import type { MultiplexerOptions, ReconnectStrategy } from './connection/multiplexer.js';
import type { Endpoint } from './connection/socket.js';
import {
  boolean,
  checkObject,
  either,
  func,
  instanceOf,
  integer,
  isPlainObject,
  milliseconds,
  MAX_TIMER_MS,
  nested,
  hostName,
  nonEmptyString,
  oneOf,
  schema,
  string,
  type Schema,
  type Validator,
} from './option-check.js';
import { DEFAULT_MAX_ARGUMENT_BYTES } from './resp/encoder.js';
import { DEFAULT_LIMITS, type DecoderLimits } from './resp/types.js';
import { RetryPolicy, guardedReconnect } from './retry.js';
import { parseUrl } from './url.js';

export { DEFAULT_MAX_ARGUMENT_BYTES };

export interface ReconnectOptions {
  /** Delay before the first attempt in ms (default 50). */
  baseDelay?: number | undefined;
  /** Cap of the delay in ms (default 2000). */
  maxDelay?: number | undefined;
  /** Give up after this many consecutive failed attempts (default Infinity). */
  maxAttempts?: number | undefined;
}

export interface PoolOptions {
  /** Most side connections for blocking commands and WATCH (default 8). */
  size?: number | undefined;
  /** Longest wait for a free one in ms before `PoolTimeoutError` (default 5000). */
  maxWait?: number | undefined;
}

export interface RedisOptions {
  /** Host name or IP (default 127.0.0.1). */
  host?: string | undefined;
  /** TCP port (default 6379). */
  port?: number | undefined;
  /** Unix socket path; overrides host and port. */
  path?: string | undefined;
  /** TLS: `true` for defaults (certificate verified), or Node's `tls.connect` options. */
  tls?: boolean | tls.ConnectionOptions | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /**
   * Rotating credentials (cloud IAM tokens, short-lived ACL passwords),
   * instead of `username`/`password`: called for every new connection; an
   * `expiresAt` (epoch ms) in the answer has live connections re-authenticate
   * (`AUTH`) at 3/4 of the token's lifetime. See README "Credentials".
   */
  credentials?: CredentialsProvider | undefined;
  /** Database of `redis.db` (default 0). */
  db?: number | undefined;
  /** Unset: HELLO 3, falling back to RESP2 on servers without HELLO. 3 forces RESP3 (no fallback), 2 forces RESP2. */
  protocol?: 2 | 3 | undefined;
  /** CLIENT SETNAME for every connection this client opens. */
  clientName?: string | undefined;
  /** Longest wait for a connection (TCP + TLS) in ms (default 10000). */
  connectTimeout?: number | undefined;
  /**
   * Default deadline of every command in ms, from the call to the reply,
   * covering time queued and time on the wire (default 10000; 0 disables).
   * Blocking commands get their own timeout plus `blockingMargin` instead.
   */
  commandTimeout?: number | undefined;
  /** TCP keepalive initial delay in ms (default 30000; 0 disables). */
  keepAlive?: number | undefined;
  /** TCP_NODELAY (default true). */
  noDelay?: boolean | undefined;
  /** Reconnect backoff (exponential with jitter), a function `(attempt, cause) => delay | -1`, or false for never. */
  reconnect?: ReconnectOptions | ReconnectStrategy | false | undefined;
  /** Queue commands while disconnected and send them after reconnect (default true); false fails them fast. */
  offlineQueue?: boolean | undefined;
  /** Most commands waiting to be written (default 100000): past it, `OfflineQueueFullError`. */
  maxQueued?: number | undefined;
  /** Most bytes of commands waiting to be written (default 64 MiB): past it, `OfflineQueueFullError`. */
  maxQueuedBytes?: number | undefined;
  /** Write at once when this many bytes are encoded, instead of at the end of the tick (default 262144). */
  flushThreshold?: number | undefined;
  /** Half-open detection: recycle the connection when the oldest reply is this late past its deadline (default 5000). */
  staleReplyGrace?: number | undefined;
  /** Send a PING after this many ms without a byte from the server; a missing answer recycles the connection (default 0 = off). */
  pingInterval?: number | undefined;
  /** Bounds on what the server may send. */
  limits?: Partial<DecoderLimits> | undefined;
  /**
   * Retry policy for every call unless `db.with({ retry })` overrides it.
   * Default: one retry of read-only commands whose connection was lost.
   */
  retry?: RetryPolicy | undefined;
  /** Side connections for blocking commands and WATCH. */
  blockingPool?: PoolOptions | undefined;
  /** Extra ms added to a blocking command's own timeout for its client-side deadline (default 2000). */
  blockingMargin?: number | undefined;
  /**
   * Largest single argument accepted, in bytes (default 512 MiB, the server's
   * default proto-max-bulk-len). A larger one is an `InvalidArgumentError` and
   * nothing is sent: the server would reset the link and take every command in
   * flight on it down too. Raise it only if the server's limit was raised.
   */
  maxArgumentBytes?: number | undefined;
  /**
   * Capture the caller's stack when a command is issued and append it to the
   * command's error ("issued at"), so a failure points at the code that sent
   * it, not at the socket that read the reply. Off by default: it costs a
   * stack capture per command (see the README for numbers).
   */
  callSiteStacks?: boolean | undefined;
  /**
   * What a RESP2 connection (`protocol: 2`, or a server without HELLO) hands
   * over: 'raw' (default) the server's RESP2 replies (maps as flat arrays,
   * doubles as strings); 'resp3' the RESP3 shapes the types describe, for the
   * commands of the reply table (README, TypeScript).
   */
  resp2?: 'raw' | 'resp3';
  /**
   * Cluster seeds: URLs (`redis://10.0.0.1:7000`) or `{ host, port }`; any one
   * reachable is enough. Other options (password, TLS, timeouts...) apply to
   * every node. A URL with several hosts (`redis://h1:7000,h2:7001`) is the same.
   */
  nodes?: (string | { host: string; port: number })[] | undefined;
  /**
   * 'standalone', 'cluster', or 'auto' (default): cluster when `nodes` or a
   * multi-host URL is given, else what the server's HELLO reply says (`mode`).
   */
  mode?: 'auto' | 'standalone' | 'cluster' | undefined;
  /** Cluster routing. */
  cluster?: ClusterOptions | undefined;
  /**
   * Client-side caching over RESP3 key tracking (README "Client-side
   * caching"): views made with `db.with({ cache: true })` answer cacheable
   * reads locally until the server says a key changed. Needs RESP3.
   */
  cache?: CacheOptions | undefined;
  /**
   * Redis Sentinel: ask these sentinels where the master of `name` is (and
   * follow it through failovers). `host`/`port`/`path` are then not used;
   * `username`, `password`, `tls` and the rest apply to the data nodes.
   */
  sentinel?: SentinelOptions | undefined;
  /** With `sentinel`: talk to the master (default) or to a healthy replica (reads). */
  role?: 'master' | 'replica' | undefined;
  /** Maintenance notifications (MOVING, MIGRATING, FAILING_OVER, ...) of servers that send them. See README. */
  maintenance?: MaintenanceOptions | undefined;
  /**
   * Endpoint failover (active-active): equivalent servers, URLs or
   * `{ host, port, weight? }`; every connection goes to the available one of
   * highest weight (default weight: 1 for the first, lower for the next ones,
   * in order). See README "Endpoint failover".
   */
  endpoints?: (string | { host: string; port: number; weight?: number })[] | undefined;
  /** Circuit breakers and health checks of `endpoints`. */
  failover?: FailoverOptions | undefined;
}

export interface FailoverOptions {
  /** Failed health checks within `failureWindow` that open an endpoint's breaker (default 3). */
  failureThreshold?: number | undefined;
  /** ms (default 10000). */
  failureWindow?: number | undefined;
  /** ms an open breaker waits before a health check may close it again (default 5000). */
  gracePeriod?: number | undefined;
  /** ms between health checks, a PING per endpoint (default 1000). */
  healthCheckInterval?: number | undefined;
  /** ms a health check PING may take (default 1000). */
  healthCheckTimeout?: number | undefined;
}

export interface MaintenanceOptions {
  /** 'auto' (default): asked for on every RESP3 connection, used when the server accepts; 'off': never asked for. */
  notifications?: 'auto' | 'off' | undefined;
  /** Extra ms every deadline gets during a maintenance (MIGRATING / FAILING_OVER / MOVING) (default 10000). */
  relaxedTimeout?: number | undefined;
  /** `moving-endpoint-type` (default: from the host and TLS: internal/external, ip/fqdn). */
  endpointType?: 'internal-ip' | 'internal-fqdn' | 'external-ip' | 'external-fqdn' | 'none' | undefined;
}

/**
 * `RedisOptions` whose `cache` is `C`, for `new Redis(...)` to infer it: a
 * client made with a cache has its counters in `stats().cache` for sure.
 */
export type RedisOptionsWith<C extends CacheOptions | undefined> = Omit<RedisOptions, 'cache'> & {
  /** Client-side caching over RESP3 key tracking (see `RedisOptions.cache`). */
  cache?: C | undefined;
};

export interface CacheOptions {
  /** Most entries kept (default 10000); the least recently used go first. */
  maxEntries?: number | undefined;
  /** Most estimated bytes of entries kept (default 64 MiB). */
  maxBytes?: number | undefined;
  /** Serve an entry for at most this many ms, should invalidations stop coming (default 0: until invalidated or evicted). */
  ttl?: number | undefined;
}

export interface SentinelOptions {
  /** The monitored master's name (`sentinel monitor <name> ...`). */
  name: string;
  /** The sentinels: URLs (`redis://10.0.0.5:26379`) or `{ host, port }`; any one reachable is enough. */
  nodes: (string | { host: string; port: number })[];
  /** The sentinels' own ACL user (not the data nodes'). */
  username?: string | undefined;
  /** The sentinels' own password (not the data nodes'). */
  password?: string | undefined;
  /** TLS to the sentinels (not the data nodes'): `true` or `tls.connect` options. */
  tls?: boolean | tls.ConnectionOptions | undefined;
  /** The sentinels' own rotating credentials, instead of username/password (called for every sentinel connection). */
  credentials?: CredentialsProvider | undefined;
  /**
   * Where to connect for data nodes the sentinels name by addresses the client cannot
   * reach (Docker, Kubernetes, NAT), as `cluster.addressMap`; also for the sentinels
   * learned from them, never for `nodes`. See README "High availability".
   */
  addressMap?: AddressMap | undefined;
}

export interface ClusterOptions {
  /** Where reads (read-only commands) go: 'master' (default), 'replica' or 'prefer-replica' (a replica of the slot when it has one, else its master). */
  readFrom?: 'master' | 'replica' | 'prefer-replica' | undefined;
  /** Refresh the slot map every this many ms anyway (default 30000; 0: only on MOVED, node loss, CLUSTERDOWN). */
  refreshInterval?: number | undefined;
  /** Most MOVED / ASK redirections of one command before ClusterRedirectError (default 5). */
  maxRedirects?: number | undefined;
  /**
   * Where to connect for nodes the cluster announces by addresses the client
   * cannot reach (Docker, Kubernetes, NAT): `{ 'announced-host:port': { host, port } }`,
   * or a function of the announced `{ host, port }` answering `{ host, port }` or
   * undefined (connect as announced). See README "Redis Cluster".
   */
  addressMap?: AddressMap | undefined;
}

export interface ResolvedOptions {
  connection: Omit<MultiplexerOptions, 'db'> & { db: number };
  retry: RetryPolicy;
  pool: Required<PoolOptions>;
  blockingMargin: number;
  /** Largest single argument in bytes (see `RedisOptions.maxArgumentBytes`). */
  maxArgumentBytes: number;
  callSiteStacks: boolean;
  /** RESP2 replies in RESP3 shapes (`resp2: 'resp3'`). */
  resp3Shapes: boolean;
  /** 'auto' only when neither `nodes` nor `mode` decided it. */
  mode: 'auto' | 'standalone' | 'cluster';
  /** Cluster seeds (the configured endpoint when none were given). */
  seeds: Endpoint[];
  cluster: Required<Omit<ClusterOptions, 'addressMap'>> & Pick<ClusterOptions, 'addressMap'>;
  /** Client-side cache bounds; undefined when no cache is configured. */
  cache?: CacheLimits;
  /** Sentinel discovery, when the `sentinel` option was given. */
  sentinel?: SentinelSettings;
  /** Endpoint failover, when the `endpoints` option was given. */
  failover?: FailoverSettings;
}

/** The `sentinel` option, normalised (see lib/topology/sentinel/sentinel.ts). */
export interface SentinelSettings {
  name: string;
  nodes: Endpoint[];
  username?: string;
  password?: string;
  credentials?: CredentialsProvider;
  tls?: tls.ConnectionOptions;
  role: 'master' | 'replica';
  addressMap?: AddressMap;
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

// ---- the schemas: every key a user may pass, and what its value must be ----

const accept: Validator = () => {};
const retryPolicy = instanceOf(RetryPolicy, 'a RetryPolicy, e.g. RetryPolicy.exponential({ attempts: 3 })');
/** A count that may be unbounded on purpose. */
const count = integer(0, Number.MAX_SAFE_INTEGER, true);

/** CLIENT SETNAME refuses spaces, newlines and anything outside '!'..'~': say so now, not at every reconnect. */
const clientName: Validator = (v, name) => {
  if (typeof v !== 'string' || !/^[\x21-\x7e]*$/.test(v)) {
    throw new InvalidArgumentError(`option ${name} must be a string without spaces, newlines or non-ASCII characters (the server refuses them)`);
  }
};

const RECONNECT = schema({ baseDelay: milliseconds, maxDelay: milliseconds, maxAttempts: count });
const POOL = schema({ size: integer(1), maxWait: milliseconds });
// Built from the defaults, so a limit added to the decoder is accepted here without a second list.
const LIMITS = schema(Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, count])));

const CACHE = schema({ maxEntries: count, maxBytes: count, ttl: milliseconds });

const CLUSTER = schema({ readFrom: oneOf('master', 'replica', 'prefer-replica'), refreshInterval: milliseconds, maxRedirects: integer(0), addressMap: checkAddressMap });

/** A cluster seed: a URL or `{ host, port }`. */
const seed: Validator = (v, name) => {
  if (typeof v === 'string') {
    const u = parseUrl(v);
    // Credentials, TLS, a database or a socket in one seed would silently not apply to the others.
    const extra = Object.keys(u).filter((k) => k !== 'host' && k !== 'port' && k !== 'tls');
    if (extra.length > 0 || u.path !== undefined) {
      const where = !(extra.includes('password') || extra.includes('username')) ? 'the other options' : name.startsWith('sentinel.') ? 'sentinel.username/password' : 'username/password'; // a sentinel's are its own
      throw new InvalidArgumentError(`option ${name} takes only host and port (redis://host:port); set ${where} once, for every node, in the options`);
    }
    return;
  }
  if (isPlainObject(v) && hasHostAndPort(v)) {
    if (Object.keys(v).some((k) => k !== 'host' && k !== 'port')) throw new InvalidArgumentError(`option ${name} takes only host and port (other options apply to every node)`);
    return;
  }
  throw new InvalidArgumentError(`option ${name} must be a URL or { host, port }`);
};
const seeds: Validator = (v, name) => {
  if (!Array.isArray(v) || v.length === 0) throw new InvalidArgumentError(`option ${name} must be a non-empty array of URLs or { host, port }`);
  v.forEach((s, i) => seed(s, `${name}[${i}]`));
};

const tlsOption = either('a boolean or an object (tls.connect options)', [(v) => typeof v === 'boolean', accept], [isPlainObject, accept]);

const MAINTENANCE = schema({
  notifications: oneOf('auto', 'off'),
  relaxedTimeout: milliseconds,
  endpointType: oneOf('internal-ip', 'internal-fqdn', 'external-ip', 'external-fqdn', 'none'),
});

const FAILOVER = schema({
  failureThreshold: integer(1),
  failureWindow: milliseconds,
  gracePeriod: milliseconds,
  healthCheckInterval: integer(1, MAX_TIMER_MS),
  healthCheckTimeout: integer(1, MAX_TIMER_MS),
});

/** An endpoint: a URL or `{ host, port, weight? }`. */
const endpoint: Validator = (v, name) => {
  if (isPlainObject(v) && typeof v.weight === 'number') {
    if (!(v.weight > 0 && Number.isFinite(v.weight))) throw new InvalidArgumentError(`option ${name}.weight must be a positive number`);
    const { weight: _weight, ...rest } = v;
    return seed(rest, name);
  }
  return seed(v, name);
};
const endpointList: Validator = (v, name) => {
  if (!Array.isArray(v) || v.length === 0) throw new InvalidArgumentError(`option ${name} must be a non-empty array of URLs or { host, port, weight? }`);
  v.forEach((e, i) => endpoint(e, `${name}[${i}]`));
};

const SENTINEL = schema({ name: nonEmptyString, nodes: seeds, username: string, password: string, tls: tlsOption, credentials: func, addressMap: checkAddressMap });

const REDIS: Schema = schema({
  host: hostName,
  port: integer(0, 65535),
  path: nonEmptyString,
  tls: tlsOption,
  username: string,
  password: string,
  credentials: func,
  db: integer(0),
  protocol: oneOf(2, 3),
  clientName,
  connectTimeout: milliseconds,
  commandTimeout: milliseconds,
  keepAlive: milliseconds,
  noDelay: boolean,
  reconnect: either(
    'false, a function (attempt, cause) => delay, or { baseDelay, maxDelay, maxAttempts }',
    [(v) => v === false, accept],
    [(v) => typeof v === 'function', func],
    [isPlainObject, nested(RECONNECT)],
  ),
  offlineQueue: boolean,
  maxQueued: count,
  maxQueuedBytes: count,
  flushThreshold: count,
  staleReplyGrace: milliseconds,
  pingInterval: milliseconds,
  limits: nested(LIMITS),
  retry: retryPolicy,
  blockingPool: nested(POOL),
  blockingMargin: milliseconds,
  maxArgumentBytes: integer(0),
  callSiteStacks: boolean,
  resp2: oneOf('raw', 'resp3'),
  nodes: seeds,
  mode: oneOf('auto', 'standalone', 'cluster'),
  cluster: nested(CLUSTER),
  cache: nested(CACHE),
  sentinel: nested(SENTINEL, { hints: { sentinels: 'nodes', masterName: 'name', sentinelPassword: 'password', sentinelUsername: 'username', natMap: 'addressMap' } }),
  role: oneOf('master', 'replica'),
  maintenance: nested(MAINTENANCE),
  endpoints: endpointList,
  failover: nested(FAILOVER),
});

/** Options of other clients (node-redis, ioredis) and what to use here instead. */
const REDIS_HINTS = {
  database: 'db',
  url: 'pass the URL as the first argument: new Redis(url, options)',
  socket: 'redmux takes host, port, path and tls (and connectTimeout, keepAlive, noDelay, reconnect) at the top level',
  name: 'clientName',
  connectionName: 'clientName',
  retryStrategy: 'reconnect',
  reconnectStrategy: 'reconnect',
  enableOfflineQueue: 'offlineQueue',
  disableOfflineQueue: 'offlineQueue',
  RESP: 'protocol',
  sentinels: "sentinel: { name, nodes: [...] }",
  sentinelPassword: "sentinel: { password } (the sentinels' own credentials)",
  natMap: 'sentinel: { addressMap } (or cluster: { addressMap })',
  maxRetriesPerRequest: 'use retry: a RetryPolicy, e.g. RetryPolicy.exponential({ attempts: 3 })',
  keyPrefix: "keys are prefixed per view: redis.db.with({ prefix: 'app:' })",
  pool: 'blockingPool',
  lazyConnect: 'there is no connect() to call: the client connects when made, and commands issued before it is ready wait in the offline queue',
  isolationPoolOptions: 'blockingPool',
  enableAutoPipelining: 'every command is auto-pipelined already: drop it',
  showFriendlyErrorStack: 'callSiteStacks',
  scaleReads: "cluster: { readFrom: 'replica' }",
};

const CALL: Schema = schema({
  decode: oneOf('utf8', 'buffer'),
  map: oneOf('object', 'map'),
  set: oneOf('array', 'set'),
  attributes: boolean,
  timeout: milliseconds,
  retry: retryPolicy,
  idempotent: boolean,
  signal: instanceOf(AbortSignal, 'an AbortSignal (new AbortController().signal, AbortSignal.timeout(ms))'),
  prefix: (v, name) => {
    const ok = (typeof v === 'string' || v instanceof Uint8Array) && v.length > 0;
    if (!ok) throw new InvalidArgumentError(`option ${name} must be a non-empty string or Buffer`);
  },
  cache: boolean,
});

const SUBSCRIBER: Schema = schema({
  decode: oneOf('utf8', 'buffer'),
  maxBuffered: integer(1),
  overflow: oneOf('error', 'drop-oldest'),
  timeout: milliseconds,
});

/** Checks the options of `db.with(...)`: unknown keys and wrong types are an `InvalidArgumentError`. */
export function checkCallOptions(opts: unknown): void {
  checkObject(opts, CALL, '', { where: 'db.with()', hints: { encoding: 'decode' } });
}

const WATCH: Schema = schema({ retries: integer(0) });

/** Checks the options of `db.watch(keys, fn, options)`: unknown keys and wrong types are an `InvalidArgumentError`. */
export function checkWatchOptions(opts: unknown): void {
  checkObject(opts, WATCH, '', { where: 'db.watch()', hints: { attempts: 'retries', maxRetries: 'retries' } });
}

/** Checks the options of `redis.subscriber(...)`: unknown keys and wrong types are an `InvalidArgumentError`. */
export function checkSubscriberOptions(opts: unknown): void {
  checkObject(opts, SUBSCRIBER, '', { where: 'redis.subscriber()', hints: { encoding: 'decode' } });
}

export function checkDb(db: unknown): number {
  if (typeof db !== 'number' || !Number.isSafeInteger(db) || db < 0) {
    throw new InvalidArgumentError('a database index must be a non-negative integer');
  }
  return db;
}

/**
 * Copies the options that are set: an undefined value means "not given", so
 * `{ password: undefined }` after a URL keeps the URL's password and
 * `limits: { maxDepth: undefined }` keeps the default depth.
 */
function merge<T extends object>(into: T, from: T): T {
  for (const key of Object.keys(from) as (keyof T)[]) {
    if (from[key] !== undefined) into[key] = from[key];
  }
  return into;
}

export function resolveOptions(urlOrOptions?: string | URL | RedisOptions, extra?: RedisOptions): ResolvedOptions {
  const o: RedisOptions = {};
  if (typeof urlOrOptions === 'string' || urlOrOptions instanceof URL) {
    const u = parseUrl(String(urlOrOptions)); // a URL object is its href (it has no own keys: as options it read as {})
    // The URL's values were parsed from text: hold them to the same rules as the object form.
    checkObject(u, REDIS, '', { where: 'the connection URL' });
    merge(o, { ...u, tls: u.tls ? {} : undefined });
  } else if (urlOrOptions !== undefined) {
    if (!isPlainObject(urlOrOptions)) throw new InvalidArgumentError('new Redis() takes a URL string or an options object');
    checkObject(urlOrOptions, REDIS, '', { hints: REDIS_HINTS });
    merge(o, urlOrOptions);
  }
  if (extra !== undefined) {
    if (!isPlainObject(extra)) throw new InvalidArgumentError('the second argument of new Redis() must be an options object');
    checkObject(extra, REDIS, '', { hints: REDIS_HINTS });
    merge(o, extra);
  }
  if (o.credentials !== undefined && (o.username !== undefined || o.password !== undefined)) {
    throw new InvalidArgumentError('credentials replaces username/password (in the options or the URL): give one or the other');
  }
  const tlsOpts = o.tls === true ? {} : o.tls === false ? undefined : o.tls;
  let reconnect: ReconnectStrategy;
  if (o.reconnect === false) reconnect = () => -1;
  else if (typeof o.reconnect === 'function') reconnect = guardedReconnect(o.reconnect);
  else reconnect = exponentialReconnect(o.reconnect);
  const topology = topologyOptions(o, tlsOpts);
  if (o.cache !== undefined && o.protocol === 2) {
    throw new InvalidArgumentError('option cache needs RESP3 (its invalidations arrive in order with the replies): drop protocol: 2');
  }
  return {
    connection: {
      // With nodes given, the first is the server of mode 'standalone' / 'auto' too.
      endpoint: topology.seeds[0] && o.nodes ? { ...topology.seeds[0] } : { host: o.host ?? '127.0.0.1', port: o.port ?? 6379, path: o.path, tls: tlsOpts },
      username: o.username,
      password: o.password,
      credentials: o.credentials,
      ...maintenanceOptions(o, tlsOpts),
      clientName: o.clientName,
      protocol: o.protocol ?? 3,
      requireResp3: o.protocol === 3, // DESIGN: `protocol: 2 | 3` forces one; unset falls back to RESP2
      db: o.db ?? 0,
      connectTimeout: o.connectTimeout ?? 10_000,
      commandTimeout: o.commandTimeout ?? 10_000,
      keepAlive: o.keepAlive ?? 30_000,
      noDelay: o.noDelay ?? true,
      reconnect,
      offlineQueue: o.offlineQueue ?? true,
      maxQueued: o.maxQueued ?? 100_000,
      maxQueuedBytes: o.maxQueuedBytes ?? 64 * 1024 * 1024,
      flushThreshold: o.flushThreshold ?? 256 * 1024,
      staleReplyGrace: o.staleReplyGrace ?? 5_000,
      limits: merge({}, o.limits ?? {}),
      pingInterval: o.pingInterval ?? 0,
      discoverModules: true,
    },
    retry: o.retry ?? new RetryPolicy({ attempts: 2, baseDelay: 0, jitter: false }),
    pool: {
      size: o.blockingPool?.size ?? 8,
      maxWait: o.blockingPool?.maxWait ?? 5_000,
    },
    blockingMargin: o.blockingMargin ?? 2_000,
    maxArgumentBytes: o.maxArgumentBytes ?? DEFAULT_MAX_ARGUMENT_BYTES,
    callSiteStacks: o.callSiteStacks ?? false,
    resp3Shapes: o.resp2 === 'resp3',
    ...topology,
    cache: o.cache && { maxEntries: o.cache.maxEntries ?? 10_000, maxBytes: o.cache.maxBytes ?? 64 * 1024 * 1024, ttl: o.cache.ttl ?? 0 },
    sentinel: sentinelOptions(o),
    failover: failoverOptions(o, tlsOpts),
  };
}

/** Which routing, and the cluster's seeds and settings. */
function topologyOptions(o: RedisOptions & { nodes?: unknown[] }, tlsOpts: tls.ConnectionOptions | undefined): Pick<ResolvedOptions, 'mode' | 'seeds' | 'cluster'> {
  const given = (o.nodes ?? []).map((n) => {
    if (typeof n !== 'string') return { host: n.host, port: n.port, tls: tlsOpts };
    const u = parseUrl(n);
    if (u.tls && !tlsOpts) throw new InvalidArgumentError('a rediss:// seed needs TLS for every node: set the tls option (never a silent downgrade to plaintext)');
    return { host: u.host ?? '127.0.0.1', port: u.port ?? 6379, tls: tlsOpts };
  });
  const mode = o.mode ?? (given.length > 0 ? 'cluster' : 'auto');
  if (mode === 'standalone' && given.length > 1) throw new InvalidArgumentError("mode 'standalone' takes one server; several nodes were given (use mode 'cluster')");
  if (given.length > 0 && o.path !== undefined) throw new InvalidArgumentError('nodes and path exclude each other: a cluster is reached over TCP');
  if (mode === 'cluster' && o.path !== undefined) throw new InvalidArgumentError('a cluster is reached over TCP: drop the path option');
  const seeds = given.length > 0 ? given : [{ host: o.host ?? '127.0.0.1', port: o.port ?? 6379, tls: tlsOpts }];
  if ((mode === 'cluster' || given.length > 1) && (o.db ?? 0) !== 0) throw new InvalidArgumentError('a cluster has only database 0: drop the db option (or the /db in the URL)');
  const c = o.cluster ?? {};
  return {
    mode,
    seeds,
    cluster: { readFrom: c.readFrom ?? 'master', refreshInterval: c.refreshInterval ?? 30_000, maxRedirects: c.maxRedirects ?? 5, addressMap: c.addressMap },
  };
}
