/**
 * A server whose NOSCRIPT has a text of its own (a fork: neither Redis's
 * "NOSCRIPT No matching script. Please use EVAL." nor Valkey's "NOSCRIPT No
 * matching script."). Such a NOSCRIPT may be the server's (the script is not
 * loaded: it did not run) or the script's own answer (it ran): the client
 * asks `SCRIPT EXISTS <sha1>` on the same connection. 0: load it and run it,
 * once; 1: the script ran and answered that error, which reaches the caller;
 * SCRIPT EXISTS refused or failing: the original error, nothing run again.
 * A scripted server plays the fork (a real one cannot answer another text)
 * and counts what it ran.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, NoScriptError, Redis, Script } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until } from './support/until.js';

const clients: Redis[] = [];
const env = { track: (redis: Redis) => (clients.push(redis), redis) };
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const FORK_TEXT = 'NOSCRIPT Unknown script, load it with SCRIPT LOAD';

interface ForkOptions {
  /** What the server answers an EVALSHA of a script it does not have. */
  noscript?: string;
  /** What a loaded script answers (an error of its own); default: an integer, how many times it ran. */
  scriptAnswer?: string;
  /** SCRIPT EXISTS's answer instead of the truth. */
  exists?: (socket: import('node:net').Socket) => string | Promise<string>;
  /** SCRIPT LOAD is answered but forgotten at once (a flush right after it). */
  forgetLoads?: boolean;
  /** Every script is forgotten when a new connection comes (a restart, a failover to a server that never had it). */
  forgetOnConnect?: boolean;
  /** What SET answers (default: the backend's). */
  set?: string;
}

interface Fork {
  server: ScriptedServer;
  /** How many times a script body ran. */
  ran: number;
  /** Load a script ahead (as another client would). */
  preload(script: Script): void;
  /** How many commands named `name` ('EVALSHA', 'SCRIPT LOAD', ...) it received. */
  count(name: string): number;
}

const sha1 = (body: string) => createHash('sha1').update(body).digest('hex');

async function fork(opts: ForkOptions = {}): Promise<Fork> {
  const loaded = new Set<string>();
  let inMulti = false;
  const state: Fork = {
    server: undefined as unknown as ScriptedServer,
    ran: 0,
    preload: (script) => void loaded.add(script.sha1),
    count: (name) => state.server.received.filter((a) => [a[0]!.toUpperCase(), a[1]?.toUpperCase()].slice(0, name.split(' ').length).join(' ') === name).length,
  };
  const connections = new WeakSet<object>();
  let connected = 0;
  state.server = await scriptedServer(async (args, socket) => {
    const name = args[0]!.toUpperCase();
    if (!connections.has(socket)) {
      connections.add(socket);
      if (++connected > 1 && opts.forgetOnConnect) loaded.clear();
    }
    if (name === 'SET' && opts.set !== undefined) return opts.set;
    const sub = args[1]?.toUpperCase();
    if (name === 'EVALSHA') {
      if (!loaded.has(args[1]!)) return `-${opts.noscript ?? FORK_TEXT}\r\n`;
      state.ran++;
      return opts.scriptAnswer !== undefined ? `-${opts.scriptAnswer}\r\n` : `:${state.ran}\r\n`;
    }
    if (name === 'SCRIPT' && sub === 'LOAD') {
      const sha = sha1(args[2]!);
      if (!opts.forgetLoads) loaded.add(sha);
      return `$40\r\n${sha}\r\n`;
    }
    if (name === 'SCRIPT' && sub === 'EXISTS') {
      if (opts.exists !== undefined) return opts.exists(socket);
      const shas = args.slice(2);
      return `*${shas.length}\r\n${shas.map((s) => `:${loaded.has(s) ? 1 : 0}\r\n`).join('')}`;
    }
    // A block: MULTI, its commands QUEUED, and EXEC answering the first script call 1 and the second a NOSCRIPT.
    if (name === 'MULTI') {
      inMulti = true;
      return '+OK\r\n';
    }
    if (name === 'EXEC') {
      inMulti = false;
      state.ran++;
      return `*2\r\n:1\r\n-${opts.noscript ?? FORK_TEXT}\r\n`;
    }
    if (inMulti) return '+QUEUED\r\n';
    return undefined;
  });
  return state;
}

const incr = new Script("return redis.call('INCR', KEYS[1])");

describe("a NOSCRIPT with another server's text", () => {
  it('for a script the server has not loaded: SCRIPT EXISTS says 0, it is loaded and runs once', async () => {
    const f = await fork();
    try {
      const redis = env.track(new Redis(f.server.url));
      expect(await redis.db.run(incr, ['k'])).toBe(1);
      expect(f.ran).toBe(1);
      const sent = f.server.received.filter((a) => a[0] === 'EVALSHA' || a[0] === 'SCRIPT').map((a) => `${a[0]} ${a[0] === 'SCRIPT' ? a[1] : ''}`.trim());
      expect(sent).toEqual(['EVALSHA', 'SCRIPT EXISTS', 'SCRIPT LOAD', 'EVALSHA']);
      expect(await redis.db.run(incr, ['k'])).toBe(2); // loaded now: one EVALSHA
      expect(f.count('SCRIPT EXISTS')).toBe(1);
    } finally {
      await f.server.close();
    }
  });

  it("the script's own NOSCRIPT (SCRIPT EXISTS says 1) reaches the caller; it ran once, nothing was loaded", async () => {
    const f = await fork({ scriptAnswer: FORK_TEXT });
    try {
      f.preload(incr);
      const redis = env.track(new Redis(f.server.url));
      const err = await redis.db.run(incr, ['k']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoScriptError);
      expect((err as NoScriptError).serverMessage).toBe(FORK_TEXT);
      expect(f.ran).toBe(1);
      expect(f.count('EVALSHA')).toBe(1);
      expect(f.count('SCRIPT EXISTS')).toBe(1);
      expect(f.count('SCRIPT LOAD')).toBe(0);
    } finally {
      await f.server.close();
    }
  });

  it('SCRIPT EXISTS refused (ACL), answered oddly, or its connection cut: the original NOSCRIPT, nothing loaded or run', async () => {
    const answers: [string, (socket: import('node:net').Socket) => string][] = [
      ['refused', () => "-NOPERM User app has no permissions to run the 'script|exists' command\r\n"],
      ['not an array', () => ':0\r\n'],
      ['an empty array', () => '*0\r\n'],
      ['cut', (socket) => (socket.destroy(), '')],
    ];
    for (const [what, exists] of answers) {
      const f = await fork({ exists });
      try {
        const redis = env.track(new Redis(f.server.url));
        const err = await redis.db.run(incr, ['k']).catch((e: unknown) => e);
        expect(err, what).toBeInstanceOf(NoScriptError);
        expect((err as NoScriptError).serverMessage, what).toBe(FORK_TEXT);
        expect(f.count('EVALSHA'), what).toBe(1);
        expect(f.count('SCRIPT LOAD'), what).toBe(0);
        expect(f.ran, what).toBe(0);
      } finally {
        await f.server.close();
      }
    }
  });

  it("SCRIPT EXISTS unanswered: the call's deadline settles it with its NOSCRIPT, nothing loaded or run", async () => {
    const f = await fork({ exists: () => new Promise<string>(() => {}) });
    try {
      const redis = env.track(new Redis(f.server.url, { commandTimeout: 300 }));
      const err = await redis.db.run(incr, ['k']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoScriptError);
      expect(f.count('SCRIPT LOAD')).toBe(0);
      expect(f.ran).toBe(0);
    } finally {
      await f.server.close();
    }
  });

  it('SCRIPT EXISTS that could not be written on the connection that answered NOSCRIPT: its answer is not trusted', async () => {
    // The SET's READONLY makes the connection reconnect (recycling): the question waits for the next connection,
    // to a server that restarted in between and forgot the script the first one ran.
    const f = await fork({ scriptAnswer: FORK_TEXT, forgetOnConnect: true, set: "-READONLY You can't write against a read only replica.\r\n" });
    try {
      f.preload(incr);
      const redis = env.track(new Redis(f.server.url));
      const set = redis.db.reply('SET', 'x', '1').catch((e: unknown) => e);
      const err = await redis.db.run(incr, ['k']).catch((e: unknown) => e);
      await set;
      expect(err).toBeInstanceOf(NoScriptError);
      expect((err as NoScriptError).serverMessage).toBe(FORK_TEXT);
      expect(f.ran).toBe(1);
      expect(f.count('SCRIPT LOAD')).toBe(0);
    } finally {
      await f.server.close();
    }
  });

  it('once per connection: a NOSCRIPT again after the load reaches the caller, without asking again', async () => {
    const f = await fork({ forgetLoads: true });
    try {
      const redis = env.track(new Redis(f.server.url));
      const err = await redis.db.run(incr, ['k']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoScriptError);
      expect(f.count('EVALSHA')).toBe(2);
      expect(f.count('SCRIPT EXISTS')).toBe(1);
      expect(f.count('SCRIPT LOAD')).toBe(1);
    } finally {
      await f.server.close();
    }
  });

  it("aborted while SCRIPT EXISTS is out: it rejects at once, and the answer 0 that comes later loads and runs nothing", async () => {
    let answer: ((reply: string) => void) | undefined;
    const f = await fork({ exists: () => new Promise<string>((resolve) => (answer = resolve)) });
    try {
      const redis = env.track(new Redis(f.server.url));
      const ac = new AbortController();
      const pending = redis.db.with({ signal: ac.signal }).run(incr, ['k']).catch((e: unknown) => e);
      await until('SCRIPT EXISTS was asked', () => answer !== undefined);
      ac.abort();
      const err = await pending;
      expect(err).toBeInstanceOf(AbortError);
      expect((err as AbortError).sent).toBe(true); // it may have run, as far as anyone knew then
      answer!('*1\r\n:0\r\n');
      expect(await redis.db.reply('PING')).toBe('PONG'); // after the SCRIPT EXISTS answer, in order
      expect(f.count('SCRIPT LOAD')).toBe(0);
      expect(f.count('EVALSHA')).toBe(1);
      expect(f.ran).toBe(0);
    } finally {
      await f.server.close();
    }
  });

  it("Valkey's text: asked like any other (a script can answer it word for word), loaded and run", async () => {
    const f = await fork({ noscript: 'NOSCRIPT No matching script.' });
    try {
      const redis = env.track(new Redis(f.server.url));
      expect(await redis.db.run(incr, ['k'])).toBe(1);
      expect(f.count('SCRIPT EXISTS')).toBe(1);
      expect(f.count('SCRIPT LOAD')).toBe(1);
    } finally {
      await f.server.close();
    }
  });

  it('in a db.multi block a NOSCRIPT at EXEC stays in its slot: nothing asked, loaded or sent again', async () => {
    const f = await fork();
    try {
      const redis = env.track(new Redis(f.server.url));
      let second: PromiseLike<unknown> | undefined;
      const result = await redis.db.multi((tx) => {
        tx.run(incr, ['k']);
        second = tx.run(incr, ['k']);
      });
      expect(result![0]).toBe(1);
      expect(result![1]).toBeInstanceOf(NoScriptError);
      await expect(second).rejects.toBeInstanceOf(NoScriptError);
      expect(await redis.db.reply('PING')).toBe('PONG');
      expect(f.count('EXEC')).toBe(1);
      expect(f.count('EVAL')).toBe(1);
      expect(f.count('EVALSHA')).toBe(1);
      expect(f.count('SCRIPT')).toBe(0);
    } finally {
      await f.server.close();
    }
  });
});
