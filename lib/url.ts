/**
 * Connection URLs:
 *   redis://[user[:pass]@]host[:port][/db][?option=value...]
 *   rediss://...                 (TLS, verified)
 *   unix:///path/to.sock[?db=N]  or  redis+unix:///path/to.sock
 * Query options: db, protocol, clientName (or name), connectTimeout, commandTimeout, username, password.
 */
import { InvalidArgumentError } from './errors.js';
import { unknownKey } from './option-check.js';

export interface UrlOptions {
  /** Several hosts (`redis://h1:7000,h2:7001`): cluster seeds, any reachable one is enough. */
  nodes?: { host: string; port: number }[];
  host?: string;
  port?: number;
  path?: string;
  tls?: boolean;
  username?: string;
  password?: string;
  db?: number;
  protocol?: 2 | 3;
  clientName?: string;
  connectTimeout?: number;
  commandTimeout?: number;
}

/** Query options the URL understands (`name` is an alias of `clientName`). */
export const QUERY_OPTIONS = ['db', 'protocol', 'clientName', 'name', 'connectTimeout', 'commandTimeout', 'username', 'password'];

/** `?tls=true` is how other clients' URLs ask for TLS; here the scheme says it. */
const TLS_HINT = 'for TLS use a rediss:// URL (or the tls option)';

function integer(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} in the URL must be a non-negative integer`);
  return n;
}

/**
 * Percent-decodes a part of the URL. A malformed escape (`%zz`) is the
 * user's input, so it is an InvalidArgumentError, and the part is not quoted:
 * it may be a password.
 */
function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidArgumentError(`the ${what} in the URL has a malformed percent-escape (write a literal % as %25)`);
  }
}

/** What every malformed URL is told (never the URL itself: it may hold a password). */
const NOT_A_URL =
  'the connection URL is not a valid URL; expected redis://[user[:password]@]host[:port][/db], rediss://... for TLS, or unix:///path/to.sock' +
  ' (a / ? or # in the user name or password is written %2F %3F %23)';

/** `redis://h1:7000,h2:7001/...`: the hosts of a multi-host URL (cluster seeds), or undefined for one host. */
function hostList(input: string): { first: string; nodes: { host: string; port: number }[] } | undefined {
  const m = /^(rediss?:\/\/(?:[^/?#@]*@)?)([^/?#]*)(.*)$/s.exec(input);
  if (!m || !m[2]!.includes(',')) return undefined;
  // Seeds often come from a list written with spaces (`h1:7000, h2:7001`): a host never holds one.
  const seeds = m[2]!.split(',').map((hp) => hp.trim());
  const nodes = seeds.map((hp) => {
    let url: URL;
    try {
      url = new URL(`redis://${hp}`);
    } catch {
      throw new InvalidArgumentError('a host in the connection URL is not a valid host[:port] (hosts are separated by commas: redis://h1:7000,h2:7001)');
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (!host) throw new InvalidArgumentError('a host in the connection URL is empty');
    return { host, port: url.port ? integer(url.port, 'port') : 6379 };
  });
  return { first: m[1]! + seeds[0]! + m[3]!, nodes };
}

export function parseUrl(input: string): UrlOptions {
  let url: URL;
  const hosts = hostList(input);
  if (hosts) input = hosts.first;
  try {
    url = new URL(input);
  } catch {
    // Never echo the URL: it may hold a password.
    throw new InvalidArgumentError(NOT_A_URL);
  }
  const out: UrlOptions = {};
  if (hosts) out.nodes = hosts.nodes;
  const scheme = url.protocol;
  const unix = scheme === 'unix:' || scheme === 'redis+unix:' || scheme === 'redis+socket:';
  // `localhost:6379` parses as scheme "localhost:", `redis:6379` as a path: a scheme not followed by // was not meant as one.
  if (!unix && !input.trimStart().slice(scheme.length).startsWith('//')) throw new InvalidArgumentError(NOT_A_URL);
  if (unix) {
    // `unix://tmp/redis.sock` reads `tmp` as a host and connects to /redis.sock: refuse it rather than misread it.
    if (url.host) throw new InvalidArgumentError('a unix socket URL takes no host: write the absolute path after three slashes, unix:///path/to.sock');
    if (!url.pathname) throw new InvalidArgumentError('a unix socket URL needs a path');
    out.path = decode(url.pathname, 'socket path');
  } else if (scheme === 'redis:' || scheme === 'rediss:') {
    out.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname || '127.0.0.1';
    out.port = url.port ? integer(url.port, 'port') : 6379;
    if (scheme === 'rediss:') out.tls = true;
    const dbPath = url.pathname.replace(/^\//, '');
    if (dbPath) out.db = integer(dbPath, 'the database');
  } else {
    throw new InvalidArgumentError(`unsupported URL scheme ${JSON.stringify(scheme)}; use redis:, rediss:, unix: or redis+unix:`);
  }
  if (url.username) out.username = decode(url.username, 'user name');
  if (url.password) out.password = decode(url.password, 'password');
  // redis://:pass@host means "password only" (the default user).
  if (out.username === '' || (url.username === '' && url.password)) delete out.username;
  for (const [key, value] of url.searchParams) {
    switch (key) {
      case 'db':
        out.db = integer(value, 'db');
        break;
      case 'protocol':
        if (value !== '2' && value !== '3') throw new InvalidArgumentError('protocol in the URL must be 2 or 3');
        out.protocol = Number(value) as 2 | 3;
        break;
      case 'name':
      case 'clientName':
        out.clientName = value;
        break;
      case 'connectTimeout':
      case 'commandTimeout':
        out[key] = integer(value, key);
        break;
      case 'password':
        out.password = value;
        break;
      case 'username':
        out.username = value;
        break;
      default:
        // A password holding an unencoded & is cut there, and its end arrives here as a key: never quote it then.
        if (url.searchParams.has('password')) {
          throw new InvalidArgumentError('the connection URL has an unknown option (not shown: the URL holds a password; write a & inside the password as %26)');
        }
        throw new InvalidArgumentError(unknownKey(key, QUERY_OPTIONS, '', { noun: 'URL option', hints: { database: 'db', tls: TLS_HINT, ssl: TLS_HINT } }));
    }
  }
  return out;
}
