/**
 * Scripts: `new Script(lua)`, `db.run` (EVALSHA, NOSCRIPT -> SCRIPT LOAD and
 * the call again, once) and `tx.run` inside MULTI (EVAL: never EXECABORT),
 * against a real server; INFO commandstats says what the server ran.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NoScriptError, Redis, Script, ServerError, type Database } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { scriptedServer } from './support/scripted-server.js';

const env = useRealServer();

/** `cmdstat_<name>` counters since the last CONFIG RESETSTAT. */
async function commandStats(db: Database): Promise<Record<string, { calls: number; failed: number; rejected: number }>> {
  const info: string = await db.reply('INFO', 'commandstats');
  const out: Record<string, { calls: number; failed: number; rejected: number }> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+).*?rejected_calls=(\d+),failed_calls=(\d+)/gm)) {
    out[m[1]!] = { calls: Number(m[2]), rejected: Number(m[3]), failed: Number(m[4]) };
  }
  return out;
}

const incrBy = new Script('return redis.call("INCRBY", KEYS[1], ARGV[1])');

describe('Script', () => {
  it('computes the SHA1 the server uses, for strings and Buffers', async () => {
    const db = env.client().db;
    expect(incrBy.sha1).toBe(createHash('sha1').update('return redis.call("INCRBY", KEYS[1], ARGV[1])').digest('hex'));
    expect(await db.reply('SCRIPT', 'LOAD', incrBy.lua)).toBe(incrBy.sha1);
    const bytes = new Script(Buffer.from('return "\xe9t\xe9"', 'latin1'));
    expect(await db.reply('SCRIPT', 'LOAD', bytes.lua)).toBe(bytes.sha1);
    expect(incrBy.readOnly).toBe(false);
    expect(new Script('return 1', { readOnly: true }).readOnly).toBe(true);
    const body = Buffer.from('return 1');
    const copied = new Script(body);
    body[7] = 0x32; // the caller changes its buffer afterwards
    expect(copied.lua.toString()).toBe('return 1');
    expect(await db.reply('SCRIPT', 'LOAD', copied.lua)).toBe(copied.sha1);
  });

  it('refuses bad bodies and unknown options', () => {
    expect(() => new Script('')).toThrow(InvalidArgumentError);
    expect(() => new Script(42 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => new Script('return 1', { readonly: true } as never)).toThrow(/did you mean readOnly/);
    expect(() => new Script('return 1', { readOnly: 'yes' } as never)).toThrow(InvalidArgumentError);
  });
});

describe('db.run', () => {
  it('after SCRIPT FLUSH: one NOSCRIPT, one SCRIPT LOAD, the body runs once per call, never EVAL', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'run:counter');
    await db.reply('SCRIPT', 'FLUSH');
    await db.reply('CONFIG', 'RESETSTAT');
    expect(await db.run(incrBy, ['run:counter'], [5])).toBe(5);
    expect(await db.run(incrBy, ['run:counter'], [5])).toBe(10);
    const stats = await commandStats(db);
    expect(stats.evalsha!.calls).toBe(3); // NOSCRIPT, then the call again, then the second call
    expect(stats.evalsha!.failed + stats.evalsha!.rejected).toBe(1);
    expect(stats['script|load']!.calls).toBe(1);
    expect(stats.eval).toBeUndefined();
    expect(await db.reply('GET', 'run:counter')).toBe('10');
  });

  it('100 concurrent calls after SCRIPT FLUSH all succeed, each ran exactly once', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'run:many');
    await db.reply('SCRIPT', 'FLUSH');
    const results = await Promise.all(Array.from({ length: 100 }, () => db.run(incrBy, ['run:many'], [1])));
    expect(new Set(results).size).toBe(100);
    expect(await db.reply('GET', 'run:many')).toBe('100');
  });

  it('a read-only script goes as EVALSHA_RO, and the server enforces it', async () => {
    const db = env.client().db;
    await db.reply('SET', 'run:ro', 'v');
    await db.reply('SCRIPT', 'FLUSH');
    await db.reply('CONFIG', 'RESETSTAT');
    const read = new Script('return redis.call("GET", KEYS[1])', { readOnly: true });
    expect(await db.run(read, ['run:ro'])).toBe('v');
    expect(await db.run(read, ['run:ro'])).toBe('v');
    const stats = await commandStats(db);
    expect(stats.evalsha_ro!.calls).toBe(3);
    expect(stats.evalsha).toBeUndefined();
    const sneaky = new Script('return redis.call("SET", KEYS[1], "x")', { readOnly: true });
    await expect(db.run(sneaky, ['run:ro'])).rejects.toBeInstanceOf(ServerError);
    expect(await db.reply('GET', 'run:ro')).toBe('v');
  });

  it("a script's error reply reaches the caller as a ServerError with its code", async () => {
    const db = env.client().db;
    const failing = new Script('return redis.error_reply("MYCODE something went wrong")');
    const err = await db.run(failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('MYCODE');
    await db.reply('SET', 'run:str', 'x');
    const wrong = new Script('return redis.call("LPUSH", KEYS[1], "a")');
    await expect(db.run(wrong, ['run:str'])).rejects.toBeInstanceOf(ServerError);
  });

  it('a body that does not compile rejects with the compile error, not NOSCRIPT', async () => {
    const db = env.client().db;
    const err = await db.run(new Script('this is not lua')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).not.toBeInstanceOf(NoScriptError);
    expect((err as Error).message).toMatch(/compil/i);
    expect(await db.reply('PING')).toBe('PONG'); // the connection is in step
  });

  it('keys, args and decode options apply; bad input is refused with nothing sent', async () => {
    const db = env.client().db;
    const echo = new Script('return {KEYS[1], ARGV[1], ARGV[2]}');
    expect(await db.run(echo, ['k'], ['a', 7])).toEqual(['k', 'a', '7']);
    const raw = await db.with({ decode: 'buffer' }).run<Buffer[]>(echo, ['k'], [Buffer.from([0xff, 0])]);
    expect(raw[1]).toEqual(Buffer.from([0xff, 0]));
    expect(await db.run(new Script('return 1'))).toBe(1);
    await expect(db.run({ sha1: 'x' } as unknown as Script)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.run(echo, 'k' as unknown as string[])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.run(echo, ['k'], [undefined as unknown as string])).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a key prefix (db.with({ prefix })) applies to the keys of db.run and tx.run, not to the arguments', async () => {
    const db = env.client().db;
    const p = db.with({ prefix: 'app:' });
    const setTo = new Script('return redis.call("SET", KEYS[1], ARGV[1])');
    await p.run(setTo, ['pk'], ['pv']);
    await p.multi((tx) => void tx.run(setTo, ['pk2'], ['pv2']));
    expect(await db.reply('MGET', 'app:pk', 'app:pk2')).toEqual(['pv', 'pv2']);
  });

  it('runs in the handle database', async () => {
    const redis = env.client();
    await redis.database(3).run(new Script('return redis.call("SET", KEYS[1], "three")'), ['run:db']);
    expect(await redis.database(3).reply('GET', 'run:db')).toBe('three');
    expect(await redis.db.reply('EXISTS', 'run:db')).toBe(0);
  });

  it('FUNCTION LOAD and FCALL / FCALL_RO work like any command', async () => {
    const db = env.client().db;
    await db.reply('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=runlib\nredis.register_function{function_name='rget', callback=function(k) return redis.call('GET', k[1]) end, flags={'no-writes'}}");
    await db.reply('SET', 'run:f', 'fv');
    expect(await db.reply('FCALL', 'rget', 1, 'run:f')).toBe('fv');
    expect(await db.reply('FCALL_RO', 'rget', 1, 'run:f')).toBe('fv');
  });
});

describe('tx.run inside db.multi', () => {
  it('after SCRIPT FLUSH the block never aborts and the body runs once per call', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'tx:counter');
    await db.reply('SCRIPT', 'FLUSH');
    await db.reply('CONFIG', 'RESETSTAT');
    let handle: PromiseLike<number> | undefined;
    const replies = await db.multi((tx) => {
      handle = tx.run(incrBy, ['tx:counter'], [2]);
      tx.run(incrBy, ['tx:counter'], [3]);
      tx.command('GET', 'tx:counter');
    });
    expect(replies).toEqual([2, 5, '5']);
    expect(await handle).toBe(2);
    const stats = await commandStats(db);
    expect(stats.exec!.calls).toBe(1);
    expect(stats.exec!.failed + stats.exec!.rejected).toBe(0);
    // The first call carries the body (EVAL), the second runs it by SHA1 after it in the same EXEC.
    expect(stats.eval!.calls).toBe(1);
    expect(stats.evalsha!.calls).toBe(1);
    expect(stats.evalsha!.failed + stats.evalsha!.rejected).toBe(0);
    expect(stats['script|load']).toBeUndefined();
  });

  it('every block carries the body again: a SCRIPT FLUSH between blocks changes nothing', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'tx:again');
    for (let i = 1; i <= 3; i++) {
      await db.reply('SCRIPT', 'FLUSH');
      expect(await db.multi((tx) => void tx.run(incrBy, ['tx:again'], [1]))).toEqual([i]);
    }
  });

  it('conn.run in a WATCH transaction runs on the leased connection, loading the script there', async () => {
    const db = env.client().db;
    await db.reply('SET', 'tx:wrun', '5');
    await db.reply('SCRIPT', 'FLUSH');
    const read = new Script('return redis.call("GET", KEYS[1])', { readOnly: true });
    const result = await db.watch(['tx:wrun'], async (conn) => {
      const cur = Number(await conn.run(read, ['tx:wrun']));
      return conn.multi((tx) => void tx.command('SET', 'tx:wrun', cur * 2));
    });
    expect(result).toEqual(['OK']);
    expect(await db.reply('GET', 'tx:wrun')).toBe('10');
  });

  it('works in a WATCH transaction too', async () => {
    const db = env.client().db;
    await db.reply('SET', 'tx:watched', '1');
    await db.reply('SCRIPT', 'FLUSH');
    const result = await db.watch(['tx:watched'], async (conn) => {
      const cur = Number(await conn.reply('GET', 'tx:watched'));
      return conn.multi((tx) => void tx.run(incrBy, ['tx:watched'], [cur]));
    });
    expect(result).toEqual([2]);
  });

  it('read-only scripts go as EVAL_RO; script errors sit in their slot', async () => {
    const db = env.client().db;
    await db.reply('SET', 'tx:ro', 'r');
    await db.reply('CONFIG', 'RESETSTAT');
    const read = new Script('return redis.call("GET", KEYS[1])', { readOnly: true });
    const failing = new Script('return redis.error_reply("OOPS no")');
    const replies = (await db.multi((tx) => {
      tx.run(read, ['tx:ro']);
      tx.run(failing).then(undefined, () => {});
    }))!;
    expect(replies[0]).toBe('r');
    expect(replies[1]).toBeInstanceOf(ServerError);
    expect((replies[1] as ServerError).code).toBe('OOPS');
    expect((await commandStats(db)).eval_ro!.calls).toBe(1);
  });

  it('refuses a non-Script with nothing sent', async () => {
    const db = env.client().db;
    await expect(db.multi((tx) => void tx.run('return 1' as unknown as Script))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('NOSCRIPT handling at the edges', () => {
  it('a server that keeps answering NOSCRIPT gets one SCRIPT LOAD and one resend, then the caller sees NoScriptError', async () => {
    const server = await scriptedServer((args) => {
      const name = args[0]!.toUpperCase();
      if (name === 'EVALSHA') return '-NOSCRIPT No matching script. Please use EVAL.\r\n';
      if (name === 'SCRIPT') return args[1]!.toUpperCase() === 'EXISTS' ? '*1\r\n:0\r\n' : `$40\r\n${incrBy.sha1}\r\n`;
      return undefined;
    });
    try {
      const redis = env.track(new Redis(server.url));
      const err = await redis.db.run(incrBy, ['k'], [1]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoScriptError);
      const names = server.received.map((a) => a.slice(0, a[0]!.toUpperCase() === 'SCRIPT' ? 2 : 1).join(' ').toUpperCase()).filter((n) => /^(EVALSHA|EVAL|SCRIPT)/.test(n));
      // Asked whether it ran (SCRIPT EXISTS: not known), loaded and sent again; the second NOSCRIPT is the caller's.
      expect(names).toEqual(['EVALSHA', 'SCRIPT EXISTS', 'SCRIPT LOAD', 'EVALSHA']);
      expect(await redis.db.reply('PING')).toBe('PONG');
    } finally {
      await server.close();
    }
  });

  it('a connection cut while the script is being loaded: the read-only call is resent, and loaded again on the new connection', async () => {
    const read = new Script('return 42', { readOnly: true });
    let loads = 0;
    const loadedOn = new Set<unknown>(); // connections that loaded the script: a new one knows nothing
    const server = await scriptedServer((args, socket) => {
      const name = args[0]!.toUpperCase();
      if (name === 'EVALSHA_RO') return loadedOn.has(socket) ? ':42\r\n' : '-NOSCRIPT No matching script. Please use EVAL.\r\n';
      if (name === 'SCRIPT' && args[1]!.toUpperCase() === 'EXISTS') return loadedOn.has(socket) ? '*1\r\n:1\r\n' : '*1\r\n:0\r\n';
      if (name === 'SCRIPT') {
        if (++loads === 1) {
          socket.destroy(); // the server "restarts": the load and the resent call are lost with the connection
          return '';
        }
        loadedOn.add(socket);
        return `$40\r\n${read.sha1}\r\n`;
      }
      return undefined;
    });
    try {
      const redis = env.track(new Redis(server.url));
      redis.on('error', () => {});
      expect(await redis.db.run(read)).toBe(42);
      expect(loads).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('after the server restarts (scripts lost), calls stay transparent', async () => {
    const redis = env.client();
    redis.on('error', () => {});
    const db = redis.db;
    await db.reply('DEL', 'restart:counter');
    expect(await db.run(incrBy, ['restart:counter'], [1])).toBe(1);
    await env.server.kill();
    await env.server.restart();
    // The restarted server has neither the key (no persistence) nor the script.
    const deadline = Date.now() + 10_000;
    let value: number | undefined;
    while (value === undefined && Date.now() < deadline) {
      value = await db.run<number>(incrBy, ['restart:counter'], [1]).catch(() => undefined);
    }
    expect(value).toBeGreaterThanOrEqual(1);
    expect(await db.reply('SCRIPT', 'EXISTS', incrBy.sha1)).toEqual([1]);
  });
});
