/**
 * A map reply whose keys cannot all be object keys without loss.
 *
 * An object key is a string. Under `decode: 'buffer'` a map's Buffer keys used
 * to be turned into UTF-8 text: two hash fields whose bytes are not UTF-8
 * (0xff 0xfe ... and 0xff 0xfd ...) both became '\ufffd\ufffd...', and
 * HGETALL handed back one field of two, silently, under the option that
 * promises bytes. Keys of different types with the same text (the integer 1
 * and the string '1', which a Lua script can return in one RESP3 map) collided
 * the same way on any handle.
 */
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

const fieldA = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
const fieldB = Buffer.from([0xff, 0xfd, 0x00, 0x41]);

/** The reply is a Map holding both binary fields, by their bytes, with their values. */
function expectBothFields(reply: unknown): void {
  expect(reply).toBeInstanceOf(Map);
  const entries = [...(reply as Map<Buffer, Buffer>)].map(([k, v]) => [k.toString('hex'), v.toString()]);
  expect(entries.sort()).toEqual([
    [fieldB.toString('hex'), 'two'],
    [fieldA.toString('hex'), 'one'],
  ].sort());
}

describe('map replies keep every key', () => {
  it("HGETALL under decode: 'buffer' with field names that are not UTF-8: a Map keyed by the fields' bytes, nothing dropped", async () => {
    const db = env.client().db;
    await db.reply('DEL', 'binary-fields');
    await db.reply('HSET', 'binary-fields', fieldA, 'one', fieldB, 'two');
    const reply: unknown = await db.with({ decode: 'buffer' }).reply('HGETALL', 'binary-fields');
    expectBothFields(reply);
  });

  it("the same on RESP2 with resp2: 'resp3' (the flat array made a map by the client)", async () => {
    const db = env.client({ protocol: 2, resp2: 'resp3' }).db;
    await db.reply('DEL', 'binary-fields-2');
    await db.reply('HSET', 'binary-fields-2', fieldA, 'one', fieldB, 'two');
    const reply: unknown = await db.with({ decode: 'buffer' }).reply('HGETALL', 'binary-fields-2');
    expectBothFields(reply);
    const text = await db.with({ decode: 'buffer' }).reply('CONFIG', 'GET', 'maxmemory-policy');
    expect(Object.keys(text)).toEqual(['maxmemory-policy']);
  });

  it("HGETALL under decode: 'buffer' with UTF-8 field names keeps the object form, keyed by their text", async () => {
    const db = env.client().db;
    await db.reply('DEL', 'text-fields');
    await db.reply('HSET', 'text-fields', 'café', 'one', Buffer.from('naïve'), Buffer.from([0xff, 0x00]));
    const reply = await db.with({ decode: 'buffer' }).reply('HGETALL', 'text-fields');
    expect(reply).not.toBeInstanceOf(Map);
    expect(Object.getPrototypeOf(reply)).toBeNull();
    expect(Object.keys(reply).sort()).toEqual(['café', 'naïve']);
    expect((reply as Record<string, Buffer>)['naïve']).toEqual(Buffer.from([0xff, 0x00]));
  });

  it('a RESP3 map from Lua with the keys 1 and "1": a Map with both, on the default handle too', async () => {
    const db = env.client().db;
    const lua = "redis.setresp(3); return { map = { [1] = 'number', ['1'] = 'text' } }";
    for (const view of [db, db.with({ decode: 'buffer' })]) {
      const reply = await view.reply<unknown>('EVAL', lua, 0);
      expect(reply).toBeInstanceOf(Map);
      const m = reply as Map<unknown, unknown>;
      expect(m.size).toBe(2);
      expect(String(m.get(1))).toBe('number');
      const textKey = [...m.keys()].find((k) => typeof k !== 'number');
      expect(String(m.get(textKey))).toBe('text');
    }
  });
});
