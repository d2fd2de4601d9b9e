/**
 * A script that increments a counter and then answers a NOSCRIPT of its own
 * with a text that is not the server's (`redis.error_reply('NOSCRIPT other
 * text')`). The client asks SCRIPT EXISTS about such a NOSCRIPT before it
 * loads anything (a fork's server may word its own refusal that way): the
 * server knows the script, so it ran, and its error reaches the caller. The
 * counter says it ran once, through db.run (loaded, or loaded on the server's
 * own NOSCRIPT first), watch's conn.run and a db.multi block. Against a real
 * server; INFO commandstats says what was sent.
 */
import { describe, expect, it } from 'vitest';
import { NoScriptError, Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { calls } from './support/commandstats.js';

const env = useRealServer();

const OWN = 'NOSCRIPT other text';
const script = new Script(`redis.call('INCR', KEYS[1]) return redis.error_reply('${OWN}')`);

async function ownError(pending: PromiseLike<unknown>): Promise<void> {
  const err = await Promise.resolve(pending).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NoScriptError);
  expect((err as NoScriptError).serverMessage).toBe(OWN);
}

describe("a script's own NOSCRIPT with a text not the server's", () => {
  it('db.run of a loaded script: SCRIPT EXISTS says it ran; its error reaches the caller; the counter is 1', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'own-text:loaded');
    await db.reply('SCRIPT', 'LOAD', script.lua);
    await db.reply('CONFIG', 'RESETSTAT');
    await ownError(db.run(script, ['own-text:loaded']));
    expect(await db.reply('GET', 'own-text:loaded')).toBe('1');
    expect(await calls(db, 'evalsha')).toBe(1);
    expect(await calls(db, 'script|exists')).toBe(1);
    expect(await calls(db, 'script|load')).toBe(0);
  });

  it("db.run of a script not loaded: the server's NOSCRIPT is asked about and loads it, its own then reaches the caller unasked; the counter is 1", async () => {
    const db = env.client().db;
    await db.reply('DEL', 'own-text:flushed');
    await db.reply('SCRIPT', 'FLUSH');
    await db.reply('CONFIG', 'RESETSTAT');
    await ownError(db.run(script, ['own-text:flushed']));
    expect(await db.reply('GET', 'own-text:flushed')).toBe('1');
    expect(await calls(db, 'evalsha')).toBe(2); // the server's NOSCRIPT, then the call that ran
    expect(await calls(db, 'script|load')).toBe(1);
    expect(await calls(db, 'script|exists')).toBe(1); // about the server's NOSCRIPT; a second one on the connection that loaded it is the caller's
  });

  it("watch's conn.run: the counter is 1", async () => {
    const db = env.client().db;
    await db.reply('DEL', 'own-text:watch');
    await db.reply('SCRIPT', 'LOAD', script.lua);
    await db.watch(['own-text:watch'], async (conn) => {
      await ownError(conn.run(script, ['own-text:watch']));
    });
    expect(await db.reply('GET', 'own-text:watch')).toBe('1');
  });

  it('a db.multi block: each call ran once, its error in its slot; nothing asked or sent again', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'own-text:multi');
    await db.reply('CONFIG', 'RESETSTAT');
    const handles: PromiseLike<unknown>[] = [];
    const result = await db.multi((tx) => {
      handles.push(tx.run(script, ['own-text:multi']), tx.run(script, ['own-text:multi']));
    });
    for (const slot of result!) expect(slot).toBeInstanceOf(NoScriptError);
    for (const h of handles) await ownError(h);
    expect(await db.reply('GET', 'own-text:multi')).toBe('2');
    expect(await calls(db, 'eval')).toBe(1);
    expect(await calls(db, 'evalsha')).toBe(1);
    expect(await calls(db, 'script|exists')).toBe(0);
  });
});
