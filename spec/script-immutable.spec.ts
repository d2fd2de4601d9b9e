/**
 * A `Script` is a value: its body, SHA1 and readOnly flag cannot change after
 * `new Script()`. A Script is shared (a module constant, a library's export);
 * if anyone holding it could reassign `lua` or `sha1`, or change the bytes of
 * a Buffer body, the next call would send a body that disagrees with the SHA1
 * it is called by (after a NOSCRIPT, or as EVAL in a block). Against a real
 * server: every way to change it fails (TypeError: spec files are strict
 * mode), and calls keep running the body the Script was made with.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

const sha1 = (body: string) => createHash('sha1').update(body).digest('hex');

describe('Script is immutable', () => {
  it('is frozen: assigning or redefining lua, sha1 or readOnly throws, and nothing changes', () => {
    const script = new Script('return 1');
    const loose = script as unknown as Record<string, unknown>;
    expect(Object.isFrozen(script)).toBe(true);
    expect(() => (loose.lua = 'return 2')).toThrow(TypeError);
    expect(() => (loose.sha1 = sha1('return 2'))).toThrow(TypeError);
    expect(() => (loose.readOnly = true)).toThrow(TypeError);
    expect(() => Object.defineProperty(script, 'lua', { value: 'return 2' })).toThrow(TypeError);
    expect(() => Object.defineProperty(script, 'sha1', { value: sha1('return 2') })).toThrow(TypeError);
    expect(() => (loose.extra = 1)).toThrow(TypeError);
    expect(script.lua).toBe('return 1');
    expect(script.sha1).toBe(sha1('return 1'));
    expect(script.readOnly).toBe(false);
  });

  it('runs the body it was made with after every attempt to change it (db.run after SCRIPT FLUSH, tx.run)', async () => {
    const db = env.client().db;
    const script = new Script('return "made"');
    const loose = script as unknown as Record<string, unknown>;
    expect(Reflect.set(loose, 'lua', 'return "swapped"')).toBe(false);
    expect(Reflect.set(loose, 'sha1', sha1('return "swapped"'))).toBe(false);
    await db.reply('SCRIPT', 'FLUSH');
    expect(await db.run(script)).toBe('made'); // NOSCRIPT, SCRIPT LOAD of the body, the call again
    expect(await db.multi((tx) => tx.run(script))).toEqual(['made']); // EVAL with the body
    expect(await db.reply('SCRIPT', 'EXISTS', sha1('return "swapped"'))).toEqual([0]);
  });

  it("a Buffer body's bytes cannot be changed through script.lua", async () => {
    const db = env.client().db;
    const script = new Script(Buffer.from('return 1'));
    const exposed = script.lua as Buffer;
    exposed[7] = 0x32; // 'return 2', if it were the body
    expect(script.lua.toString()).toBe('return 1');
    expect(script.sha1).toBe(sha1('return 1'));
    await db.reply('SCRIPT', 'FLUSH');
    expect(await db.run(script)).toBe(1);
    await db.reply('SCRIPT', 'FLUSH');
    expect(await db.multi((tx) => tx.run(script))).toEqual([1]);
    expect(await db.reply('SCRIPT', 'EXISTS', sha1('return 2'))).toEqual([0]);
  });
});
