/**
 * A script that increments a counter and then answers the server's own
 * NOSCRIPT text word for word (`redis.error_reply('NOSCRIPT No matching
 * script. Please use EVAL.')`). Trusting the text, the client took that for
 * the server's refusal, loaded the script and called it again: it ran twice.
 * Every NOSCRIPT is now settled by SCRIPT EXISTS on the connection that
 * answered it (the script known there: it ran, its error is the caller's);
 * only when that question cannot be asked (an ACL without SCRIPT EXISTS) is
 * the server's exact text trusted, as before. Against a real server; INFO
 * commandstats says what was sent.
 */
import { describe, expect, it } from 'vitest';
import { NoScriptError, Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { calls } from './support/commandstats.js';

const env = useRealServer();

const SERVER_TEXT = 'NOSCRIPT No matching script. Please use EVAL.';
const mimic = new Script(`redis.call('INCR', KEYS[1]) return redis.error_reply('${SERVER_TEXT}')`);
const plain = new Script("return redis.call('INCR', KEYS[1])");

describe("a script's own NOSCRIPT in the server's exact text", () => {
  it('runs once: SCRIPT EXISTS says it ran, and its error reaches the caller', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'exact:mimic');
    await db.reply('SCRIPT', 'LOAD', mimic.lua);
    await db.reply('CONFIG', 'RESETSTAT');
    const err = await db.run(mimic, ['exact:mimic']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoScriptError);
    expect((err as NoScriptError).serverMessage).toBe(SERVER_TEXT);
    expect(await db.reply('GET', 'exact:mimic')).toBe('1');
    expect(await calls(db, 'evalsha')).toBe(1);
    expect(await calls(db, 'script|load')).toBe(0);
  });

  it("the server's own NOSCRIPT (script not loaded): asked, loaded, run once", async () => {
    const db = env.client().db;
    await db.reply('DEL', 'exact:plain');
    await db.reply('SCRIPT', 'FLUSH');
    await db.reply('CONFIG', 'RESETSTAT');
    expect(await db.run(plain, ['exact:plain'])).toBe(1);
    expect(await calls(db, 'script|exists')).toBe(1);
    expect(await calls(db, 'script|load')).toBe(1);
    expect(await calls(db, 'evalsha')).toBe(2); // refused, then run
  });

  it('a user without SCRIPT EXISTS: the exact text is trusted, the script is loaded and run', async () => {
    const admin = env.client().db;
    await admin.reply('ACL', 'SETUSER', 'noexists', 'on', '>pw', '~*', '+@all', '-script|exists');
    try {
      const db = env.client({ username: 'noexists', password: 'pw' }).db;
      await admin.reply('DEL', 'exact:acl');
      await admin.reply('SCRIPT', 'FLUSH');
      expect(await db.run(plain, ['exact:acl'])).toBe(1);
      expect(await admin.reply('GET', 'exact:acl')).toBe('1');
    } finally {
      await admin.reply('ACL', 'DELUSER', 'noexists');
    }
  });
});
