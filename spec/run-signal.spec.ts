/**
 * `db.run(script)` on a signal view (`db.with({ signal })`), against a real
 * redis-server: an abort before the write means never sent (AbortError,
 * sent: false), after it the caller is released at once with sent: true and
 * the next caller still gets its own reply; and once a run settles the signal
 * lets go of it: no abort listener is left on a long-lived signal (which
 * would keep the watch, its settled runs and the client alive), however many
 * runs it carried.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortError, Redis, Script } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const faults = useProxiedServer();

const settle = <T>(p: PromiseLike<T>) => Promise.resolve(p).then((value) => ({ value, error: undefined }), (error: unknown) => ({ value: undefined, error }));
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

const incr = new Script('return redis.call("INCR", KEYS[1])');
const echo = new Script('return ARGV[1]', { readOnly: true });

describe('db.run on a signal view: abort', () => {
  it('aborted before the write (still connecting): AbortError sent: false, the script never runs', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const run = settle(redis.db.with({ signal: ac.signal }).run(incr, ['run-signal:queued']));
    ac.abort();
    expect((await run).error).toMatchObject({ name: 'AbortError', sent: false, command: 'EVALSHA' });
    expect(await redis.db.reply('EXISTS', 'run-signal:queued')).toBe(0);
    expect(listeners(ac.signal)).toBe(0);
  });

  it('aborted after the write: AbortError sent: true at once, the FIFO slot is kept, the next caller gets its own reply', async () => {
    const { redis, proxy } = await faults.through();
    await redis.db.reply('DEL', 'run-signal:written');
    await redis.db.run(incr, ['run-signal:loaded']); // the server knows the script: no NOSCRIPT round
    const ac = new AbortController();
    proxy.stall(); // written to the socket, held before the server
    const run = settle(redis.db.with({ signal: ac.signal }).run(incr, ['run-signal:written']));
    const next = redis.db.reply('SET', 'run-signal:other', 'mine');
    ac.abort();
    const { error } = await run;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ sent: true, command: 'EVALSHA' });
    expect(listeners(ac.signal)).toBe(0);
    proxy.resume();
    expect(await next).toBe('OK'); // not the script's reply
    expect(await redis.db.reply('GET', 'run-signal:written')).toBe('1'); // it ran: a written call may run
  });
});

describe('db.run on a signal view: the signal lets go of settled runs', () => {
  it('one run: once it settles, no abort listener is left', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    expect(await db.run(echo, [], ['a'])).toBe('a');
    expect(listeners(ac.signal)).toBe(0);
    ac.abort(); // nothing left to give up
    expect(await redis.db.reply('PING')).toBe('PONG');
  });

  it('a run that fails (a script error) lets go too', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const failing = new Script('return redis.error_reply("MYCODE failed")');
    await expect(redis.db.with({ signal: ac.signal }).run(failing)).rejects.toThrow(/MYCODE/);
    expect(listeners(ac.signal)).toBe(0);
  });

  it('10k runs one after another on one long-lived view: no listener left after each; none keeps the closed client', async () => {
    const redis = new Redis(env.server.url);
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    let left = 0;
    for (let i = 0; i < 10_000; i++) {
      await db.run(echo, [], [i]);
      if (listeners(ac.signal) !== 0) left++;
    }
    expect(left).toBe(0);
    await redis.close();
    expect(listeners(ac.signal)).toBe(0);
  });

  it('10k runs at once: one listener while in flight, none after', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    const runs = Array.from({ length: 10_000 }, (_, i) => db.run(echo, [], [i]));
    expect(listeners(ac.signal)).toBe(1);
    const values = await Promise.all(runs);
    expect(values[9_999]).toBe('9999');
    expect(listeners(ac.signal)).toBe(0);
  });
});
