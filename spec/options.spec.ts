/**
 * Options objects are checked at construction: a misspelt or foreign option
 * (`comandTimeout`, node-redis's `url` / `socket`), or a value of the wrong
 * type, is an InvalidArgumentError that names the closest valid option, and
 * nothing connects. Messages never echo a value (a password least of all).
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis, RetryPolicy, type RedisOptions } from '../lib/index.js';
import { checkCallOptions, checkSubscriberOptions, resolveOptions } from '../lib/options.js';
import { useRealServer } from './support/real-server.js';
import { thrown } from './support/thrown.js';

const env = useRealServer();

function construct(opts: unknown): Error {
  return thrown(() => new Redis(opts as RedisOptions));
}

async function connectionsReceived(redis: Redis): Promise<number> {
  const info: string = await redis.db.reply('INFO', 'stats');
  return Number(/total_connections_received:(\d+)/.exec(info)![1]);
}

describe('new Redis(options) checks its options', () => {
  it('an unknown option names the closest valid one', () => {
    const cases: [unknown, RegExp][] = [
      [{ comandTimeout: 5 }, /unknown option comandTimeout; did you mean commandTimeout\?/],
      [{ connectTimout: 5 }, /unknown option connectTimout; did you mean connectTimeout\?/],
      [{ commandtimeout: 5 }, /did you mean commandTimeout\?/],
      [{ offlinequeue: false }, /did you mean offlineQueue\?/],
      [{ pingIntreval: 5 }, /did you mean pingInterval\?/],
      [{ database: 2 }, /unknown option database; did you mean db\?/],
      [{ name: 'x' }, /did you mean clientName\?/],
      [{ retryStrategy: () => 1 }, /did you mean reconnect\?/],
      [{ enableOfflineQueue: false }, /did you mean offlineQueue\?/],
    ];
    for (const [opts, message] of cases) {
      const err = construct(opts);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
    // Nothing close: the valid options are listed.
    expect(construct({ zzzzzzzzzz: 1 }).message).toMatch(/valid options: .*commandTimeout/);
  });

  it("node-redis's url and socket say what to do instead", () => {
    const url = construct({ url: 'redis://127.0.0.1:6379' });
    expect(url).toBeInstanceOf(InvalidArgumentError);
    expect(url.message).toMatch(/first argument/);
    const socket = construct({ socket: { host: '127.0.0.1', port: 6379 } });
    expect(socket).toBeInstanceOf(InvalidArgumentError);
    expect(socket.message).toMatch(/host, port/);
    expect(socket.message).toMatch(/tls/);
  });

  it('nested options are checked too', () => {
    const cases: [unknown, RegExp][] = [
      [{ reconnect: { maxDelays: 5 } }, /unknown option reconnect\.maxDelays; did you mean reconnect\.maxDelay\?/],
      [{ blockingPool: { sise: 2 } }, /unknown option blockingPool\.sise; did you mean blockingPool\.size\?/],
      [{ limits: { maxBulkLen: 5 } }, /unknown option limits\.maxBulkLen; did you mean limits\.maxBulkLength\?/],
      [{ reconnect: { baseDelay: -1 } }, /option reconnect\.baseDelay must be/],
      [{ reconnect: { maxAttempts: 1.5 } }, /option reconnect\.maxAttempts must be/],
      [{ reconnect: true }, /option reconnect must be/],
      [{ reconnect: 'never' }, /option reconnect must be/],
      [{ blockingPool: { size: 0 } }, /option blockingPool\.size must be/],
      [{ blockingPool: { maxWait: '5s' } }, /option blockingPool\.maxWait must be/],
      [{ blockingPool: 8 }, /option blockingPool must be an object/],
      [{ limits: { maxDepth: 'deep' } }, /option limits\.maxDepth must be/],
      [{ limits: [] }, /option limits must be an object/],
    ];
    for (const [opts, message] of cases) {
      const err = construct(opts);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });

  it('a value of the wrong type is refused (it used to loop forever or be ignored)', () => {
    const cases: [unknown, RegExp][] = [
      [{ port: 'abc' }, /option port must be an integer from 0 to 65535/],
      [{ port: 70_000 }, /option port must be an integer from 0 to 65535/],
      [{ port: 63.5 }, /option port/],
      [{ tls: 'yes' }, /option tls must be a boolean or an object/],
      [{ tls: null }, /option tls/],
      [{ host: 6379 }, /option host must be a non-empty string/],
      [{ host: '' }, /option host/],
      [{ path: {} }, /option path must be a non-empty string/],
      [{ db: '2' }, /option db must be/],
      [{ db: -1 }, /option db must be/],
      [{ protocol: 4 }, /option protocol must be 2 or 3/],
      [{ protocol: '3' }, /option protocol must be 2 or 3/],
      [{ username: 1 }, /option username must be a string/],
      [{ clientName: 'has space' }, /option clientName/],
      [{ clientName: 42 }, /option clientName must be a string/],
      [{ commandTimeout: Infinity }, /option commandTimeout must be/],
      [{ commandTimeout: Number.NaN }, /option commandTimeout must be/],
      [{ connectTimeout: 2 ** 31 }, /option connectTimeout must be/],
      [{ keepAlive: '30s' }, /option keepAlive must be/],
      [{ noDelay: 'true' }, /option noDelay must be a boolean/],
      [{ offlineQueue: 0 }, /option offlineQueue must be a boolean/],
      [{ maxQueued: -5 }, /option maxQueued must be/],
      [{ maxQueuedBytes: '64mb' }, /option maxQueuedBytes must be/],
      [{ flushThreshold: -1 }, /option flushThreshold must be/],
      [{ staleReplyGrace: null }, /option staleReplyGrace must be/],
      [{ pingInterval: -1 }, /option pingInterval must be/],
      [{ blockingMargin: '2s' }, /option blockingMargin must be/],
      [{ maxArgumentBytes: -1 }, /option maxArgumentBytes must be a non-negative integer/],
      [{ maxArgumentBytes: 1.5 }, /option maxArgumentBytes must be a non-negative integer/],
      [{ retry: { attempts: 3 } }, /option retry must be a RetryPolicy/],
    ];
    for (const [opts, message] of cases) {
      const err = construct(opts);
      expect(err, String(Object.keys(opts as object))).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });

  it('keys named like Object.prototype members are unknown options, not prototype lookups', () => {
    for (const opts of [{ constructor: 1 }, { toString: 'x' }, { hasOwnProperty: 1 }, JSON.parse('{"__proto__": {"db": 3}}')]) {
      expect(construct(opts), Object.keys(opts)[0]).toBeInstanceOf(InvalidArgumentError);
    }
    expect(construct([])).toBeInstanceOf(InvalidArgumentError);
  });

  it('messages never echo a value, least of all a password', () => {
    const secret = 'hunter2-s3cret';
    const cases: unknown[] = [
      { password: 12345678 },
      { password: { value: secret } },
      { password: secret, comandTimeout: 5 },
      { password: secret, port: 'abc' },
      { username: secret, tls: secret },
      { clientName: secret + ' x' },
      { host: secret, port: -1 },
      { reconnect: { baseDelay: secret } },
    ];
    for (const opts of cases) {
      const err = construct(opts);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).not.toContain(secret);
      expect(err.message).not.toContain('12345678');
    }
    const urlErr = thrown(() => new Redis(`redis://user:${secret}@127.0.0.1:1`, { pasword: secret } as never));
    expect(urlErr.message).toMatch(/did you mean password\?/);
    expect(urlErr.message).not.toContain(secret);
  });

  it('the options after a URL are checked the same way, and nothing connects', async () => {
    const observer = env.client();
    const before = await connectionsReceived(observer);
    expect(() => new Redis(env.server.url, { database: 2 } as never)).toThrow(/did you mean db\?/);
    expect(() => new Redis(env.server.url, { port: 'abc' } as never)).toThrow(InvalidArgumentError);
    expect(() => new Redis({ host: '127.0.0.1', port: env.server.port, socket: {} } as never)).toThrow(InvalidArgumentError);
    await new Promise((r) => setTimeout(r, 200));
    expect(await connectionsReceived(observer)).toBe(before);
  });

  it('every documented option with a valid value is accepted, and the client works', async () => {
    const redis = env.client({
      host: '127.0.0.1',
      port: env.server.port,
      tls: false,
      username: undefined,
      password: undefined,
      db: 3,
      protocol: 3,
      clientName: 'checked-options',
      connectTimeout: 5_000,
      commandTimeout: 5_000,
      keepAlive: 0,
      noDelay: true,
      reconnect: { baseDelay: 10, maxDelay: 100, maxAttempts: Infinity },
      offlineQueue: true,
      maxQueued: 1000,
      maxQueuedBytes: 1 << 20,
      flushThreshold: 1 << 16,
      staleReplyGrace: 1_000,
      pingInterval: 0,
      limits: { maxBulkLength: 1 << 20, maxDepth: 16 },
      retry: RetryPolicy.none(),
      blockingPool: { size: 2, maxWait: 1_000 },
      blockingMargin: 500,
      maxArgumentBytes: 1 << 20,
    });
    expect(await redis.db.reply('CLIENT', 'GETNAME')).toBe('checked-options');
    const other = env.client({ reconnect: false, tls: undefined, path: env.server.socket });
    expect(await other.db.reply('PING')).toBe('PONG');
    const fn = env.client({ reconnect: (attempt) => (attempt > 3 ? -1 : 10) });
    expect(await fn.db.reply('PING')).toBe('PONG');
  });

  it('maxArgumentBytes defaults to 512 MiB and is resolved at the top level', () => {
    expect(resolveOptions().maxArgumentBytes).toBe(512 * 1024 * 1024);
    expect(resolveOptions({ maxArgumentBytes: 1024 }).maxArgumentBytes).toBe(1024);
    expect(resolveOptions({ maxArgumentBytes: 0 }).maxArgumentBytes).toBe(0);
  });
});

describe('checkCallOptions (db.with)', () => {
  it('accepts every per-call option', () => {
    expect(() =>
      checkCallOptions({ decode: 'buffer', map: 'map', set: 'set', attributes: true, timeout: 0, retry: RetryPolicy.none(), idempotent: false }),
    ).not.toThrow();
    expect(() => checkCallOptions({ signal: new AbortController().signal, prefix: 'app:' })).not.toThrow();
    expect(() => checkCallOptions({ prefix: Buffer.from('app:') })).not.toThrow();
    expect(() => checkCallOptions({})).not.toThrow();
    expect(() => checkCallOptions({ timeout: undefined })).not.toThrow();
  });

  it('refuses unknown keys with a suggestion, wrong types, and non-objects', () => {
    const cases: [unknown, RegExp][] = [
      [{ timout: 5 }, /unknown option timout; did you mean timeout\?/],
      [{ decoding: 'buffer' }, /did you mean decode\?/],
      [{ idempotant: true }, /did you mean idempotent\?/],
      [{ signal: 'abort' }, /option signal must be an AbortSignal/],
      [{ signal: new AbortController() }, /option signal must be an AbortSignal/],
      [{ prefix: '' }, /option prefix must be a non-empty string or Buffer/],
      [{ prefix: Buffer.alloc(0) }, /option prefix must be a non-empty string or Buffer/],
      [{ prefix: 3 }, /option prefix must be a non-empty string or Buffer/],
      [{ keyPrefix: 'a:' }, /did you mean prefix\?/],
      [{ decode: 'latin1' }, /option decode must be 'utf8' or 'buffer'/],
      [{ map: 'dict' }, /option map must be 'object' or 'map'/],
      [{ set: 'list' }, /option set must be 'array' or 'set'/],
      [{ attributes: 'yes' }, /option attributes must be a boolean/],
      [{ timeout: -1 }, /option timeout must be/],
      [{ timeout: '200' }, /option timeout must be/],
      [{ retry: { attempts: 5 } }, /option retry must be a RetryPolicy/],
      [{ idempotent: 1 }, /option idempotent must be a boolean/],
      [null, /options object/],
      ['buffer', /options object/],
    ];
    for (const [opts, message] of cases) {
      const err = thrown(() => checkCallOptions(opts));
      expect(err, JSON.stringify(opts)).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });
});

describe('checkSubscriberOptions (redis.subscriber)', () => {
  it('accepts every subscriber option', () => {
    expect(() => checkSubscriberOptions({ decode: 'buffer', maxBuffered: 10, overflow: 'drop-oldest' })).not.toThrow();
    expect(() => checkSubscriberOptions({ overflow: 'error' })).not.toThrow();
    expect(() => checkSubscriberOptions({})).not.toThrow();
  });

  it('refuses unknown keys with a suggestion and wrong values', () => {
    const cases: [unknown, RegExp][] = [
      [{ overflow: 'drop' }, /option overflow must be 'error' or 'drop-oldest'/],
      [{ maxBufferd: 10 }, /unknown option maxBufferd; did you mean maxBuffered\?/],
      [{ overflw: 'error' }, /did you mean overflow\?/],
      [{ maxBuffered: 0 }, /option maxBuffered must be/],
      [{ maxBuffered: '10' }, /option maxBuffered must be/],
      [{ decode: 'binary' }, /option decode must be 'utf8' or 'buffer'/],
      [42, /options object/],
    ];
    for (const [opts, message] of cases) {
      const err = thrown(() => checkSubscriberOptions(opts));
      expect(err, JSON.stringify(opts)).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });
});
