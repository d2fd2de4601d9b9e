/**
 * The reader's one stop per read (lib/connection/reader.ts): after 64 replies
 * of a read, what their callers issued is written before the rest is decoded.
 * Mechanism first (a real decoder fed by hand), then the guarantee a user
 * relies on against a real server: every caller gets its own reply, whatever
 * the stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reader, REPLIES_BEFORE_FLUSH } from '../lib/connection/reader.js';
import { Decoder } from '../lib/resp/decoder.js';
import type { Reply } from '../lib/resp/types.js';
import { Redis } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const immediate = () => new Promise<void>((r) => setImmediate(r));

function rig() {
  const replies: Reply[] = [];
  const events: string[] = [];
  let current = true;
  let depth = 100;
  let reader: Reader;
  const decoder = new Decoder({
    replyFlags: () => 0,
    onReply: (v) => {
      replies.push(v);
      reader.replied();
    },
    onPush: () => events.push('push'),
  });
  reader = new Reader(decoder, {
    current: () => current,
    inFlight: () => depth,
    flush: () => events.push(`flush after ${replies.length}`),
    failed: (err) => events.push(`failed: ${(err as Error).message}`),
  });
  return { reader, replies, events, lose: () => (current = false), deep: () => (depth = 1000) };
}

const ints = (from: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `:${from + i}\r\n`).join(''));

describe('reader: one stop per read', () => {
  it('a read of many replies stops after 64, writes what their callers issued, then decodes the rest without another stop', async () => {
    const { reader, replies, events } = rig();
    reader.data(ints(0, 300));
    expect(replies).toHaveLength(REPLIES_BEFORE_FLUSH);
    // A read arriving during the stop waits behind the bytes already held.
    reader.data(ints(300, 10));
    expect(replies).toHaveLength(REPLIES_BEFORE_FLUSH);
    await immediate();
    expect(events).toEqual([`flush after ${REPLIES_BEFORE_FLUSH}`]);
    expect(replies).toEqual(Array.from({ length: 310 }, (_, i) => i));
  });

  it('a read of fewer replies (a lone caller, a few) never stops', async () => {
    const { reader, replies, events } = rig();
    reader.data(ints(0, REPLIES_BEFORE_FLUSH));
    reader.data(ints(REPLIES_BEFORE_FLUSH, 5));
    expect(replies).toHaveLength(REPLIES_BEFORE_FLUSH + 5);
    await immediate();
    expect(events).toEqual([]);
  });

  it('no stop while the server has plenty queued (1024 callers, a burst): nothing to gain, a write and a turn to lose', async () => {
    const { reader, replies, events, deep } = rig();
    deep();
    reader.data(ints(0, 300));
    expect(replies).toHaveLength(300);
    await immediate();
    expect(events).toEqual([]);
  });

  it('a connection lost during a stop decodes nothing more of it', async () => {
    const { reader, replies, events, lose } = rig();
    reader.data(ints(0, 100));
    reader.data(ints(100, 10));
    lose();
    await immediate();
    expect(replies).toHaveLength(REPLIES_BEFORE_FLUSH);
    expect(events).toEqual([]);
  });

  it('bytes that are not RESP after a stop fail the connection once', async () => {
    const { reader, events } = rig();
    reader.data(Buffer.concat([ints(0, 70), Buffer.from('?garbage\r\n')]));
    await immediate();
    expect(events).toHaveLength(2);
    expect(events[0]).toBe(`flush after ${REPLIES_BEFORE_FLUSH}`);
    expect(events[1]).toMatch(/^failed: invalid RESP/);
  });
});

describe('reader: against a real server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await destroyRedis(server);
  });

  it('1000 callers, each reading its own key and issuing the next command on its reply, all get their own values', async () => {
    const redis = new Redis({ port: server.port });
    try {
      await redis.db.reply('MSET', ...Array.from({ length: 1000 }, (_, i) => [`reader:${i}`, `v${i}`]).flat());
      const got = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const out: unknown[] = [];
          for (let round = 0; round < 20; round++) {
            out.push(await redis.db.reply('GET', `reader:${i}`));
            out.push(await redis.db.reply('INCR', `reader:n:${i}`));
          }
          return out;
        }),
      );
      got.forEach((out, i) => expect(out).toEqual(Array.from({ length: 20 }, (_, r) => [`v${i}`, r + 1]).flat()));
    } finally {
      await redis.close();
    }
  });
});
