/**
 * A NOSCRIPT is "the server does not know this script, it did not run" only
 * when the server wrote it: a script can return a NOSCRIPT error of its own
 * (`redis.error_reply('NOSCRIPT ...')`) after it ran, and loading it and
 * calling it again would run its side effects twice behind the caller's back.
 * The server's own NOSCRIPT has one exact text (Redis: "NOSCRIPT No matching
 * script. Please use EVAL.", src/server.c shared.noscripterr; Valkey 8:
 * "NOSCRIPT No matching script."); any other NOSCRIPT reaches the caller.
 * Against a real server; INFO commandstats says what it ran.
 */
import { describe, expect, it } from 'vitest';
import { NoScriptError, Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { calls } from './support/commandstats.js';

const env = useRealServer();

/** Increments its key, then answers with a NOSCRIPT error of its own. */
const fakeNoScript = (text: string) => new Script(`redis.call('INCR', KEYS[1]) return redis.error_reply('${text}')`);

describe("a script's own NOSCRIPT error", () => {
  it('reaches the caller, and the script ran once (no SCRIPT LOAD, no second call)', async () => {
    const db = env.client().db;
    const script = fakeNoScript('NOSCRIPT fake');
    await db.reply('DEL', 'own-noscript:n');
    await db.reply('SCRIPT', 'LOAD', script.lua);
    await db.reply('CONFIG', 'RESETSTAT');
    const err = await db.run(script, ['own-noscript:n']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoScriptError);
    expect((err as NoScriptError).serverMessage).toBe('NOSCRIPT fake');
    expect(await db.reply('GET', 'own-noscript:n')).toBe('1');
    expect(await calls(db, 'evalsha')).toBe(1);
    expect(await calls(db, 'script|load')).toBe(0);
  });

  it('a text close to the server\'s (another suffix, other case) is the script\'s too', async () => {
    const db = env.client().db;
    for (const text of ['NOSCRIPT No matching script. Please use EVAL. (from the script)', 'NOSCRIPT no matching script. please use eval.', 'NOSCRIPT No matching script']) {
      const script = fakeNoScript(text);
      await db.reply('DEL', 'own-noscript:near');
      await db.reply('SCRIPT', 'LOAD', script.lua);
      const err = await db.run(script, ['own-noscript:near']).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(NoScriptError);
      expect(await db.reply('GET', 'own-noscript:near'), text).toBe('1');
    }
  });

  it('the same script not loaded yet: the server\'s NOSCRIPT loads it, its own NOSCRIPT then reaches the caller, ran once', async () => {
    const db = env.client().db;
    const script = fakeNoScript('NOSCRIPT fake');
    await db.reply('DEL', 'own-noscript:first');
    await db.reply('SCRIPT', 'FLUSH');
    await db.reply('CONFIG', 'RESETSTAT');
    const err = await db.run(script, ['own-noscript:first']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoScriptError);
    expect((err as NoScriptError).serverMessage).toBe('NOSCRIPT fake');
    expect(await db.reply('GET', 'own-noscript:first')).toBe('1');
    expect(await calls(db, 'evalsha')).toBe(2); // the server's NOSCRIPT, then the call that ran
    expect(await calls(db, 'script|load')).toBe(1);
  });

  it("the server's own NOSCRIPT (after SCRIPT FLUSH) still loads the script and runs it once", async () => {
    const db = env.client().db;
    const incr = new Script("return redis.call('INCR', KEYS[1])");
    await db.reply('DEL', 'own-noscript:real');
    await db.reply('SCRIPT', 'FLUSH');
    expect(await db.run(incr, ['own-noscript:real'])).toBe(1);
    expect(await db.reply('GET', 'own-noscript:real')).toBe('1');
  });
});
