/**
 * "Default protocol RESP3 (HELLO 3 ...), falling back to RESP2 on servers
 * without HELLO; `protocol: 2 | 3` forces one" (DESIGN.md, Public API). Without
 * the option a server that does not know HELLO gets RESP2; `protocol: 3` given
 * explicitly (object or URL) never falls back: such a server fails the
 * connection with a ConnectError naming its refusal, for good (no fix comes
 * from reconnecting); `protocol: 2` never sends HELLO.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, Redis, UnknownCommandError } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

let old: ScriptedServer;

beforeAll(async () => {
  // A Redis 5: no HELLO.
  old = await scriptedServer((args) => (args[0]!.toUpperCase() === 'HELLO' ? "-ERR unknown command 'HELLO', with args beginning with: '3'\r\n" : undefined));
});

afterAll(async () => {
  await old.close();
});

function hellos(): number {
  return old.received.filter((c) => c[0]!.toUpperCase() === 'HELLO').length;
}

describe('protocol', () => {
  it('unset: falls back to RESP2 on a server without HELLO', async () => {
    const redis = new Redis(old.url);
    try {
      const ready = new Promise<{ protocol: number }>((resolve) => redis.once('ready', resolve));
      expect(await redis.db.reply('SET', 'p:k', 'v')).toBe('OK');
      expect((await ready).protocol).toBe(2);
    } finally {
      await redis.close();
    }
  });

  for (const how of ['object', 'URL'] as const) {
    it(`protocol: 3 (${how}) forces RESP3: a server without HELLO fails the connection, for good`, async () => {
      const redis = how === 'object' ? new Redis(old.url, { protocol: 3 }) : new Redis(`${old.url}?protocol=3`);
      redis.on('error', () => {});
      try {
        const before = hellos();
        const err = await redis.db.reply('GET', 'p:k').catch((e: Error) => e);
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as Error).cause).toBeInstanceOf(UnknownCommandError);
        expect((err as Error).message).toMatch(/HELLO/);
        const again = await redis.db.reply('GET', 'p:k').catch((e: Error) => e);
        expect(again).toBeInstanceOf(ConnectError);
        expect(hellos() - before).toBe(1); // not reconnecting
        expect(old.received.some((c) => c[0]!.toUpperCase() === 'GET')).toBe(false);
      } finally {
        redis.disconnect();
      }
    });
  }

  it('protocol: 2 forces RESP2: no HELLO is sent', async () => {
    const before = hellos();
    const redis = new Redis(old.url, { protocol: 2 });
    try {
      expect(await redis.db.reply('SET', 'p:k2', 'v')).toBe('OK');
      expect(hellos()).toBe(before);
    } finally {
      await redis.close();
    }
  });
});
