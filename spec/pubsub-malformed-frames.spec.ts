/**
 * Hostile server bytes on the pub/sub connection (DESIGN.md, Safety rules): a
 * push frame of kind 'message' that is not a message (no payload, an array or
 * a number for one, extra elements) was delivered to listeners and iterators
 * as a message whose payload was the string "undefined" or "1". Such frames
 * are not messages: they are dropped, the connection and the messages around
 * them are untouched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, type Message } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until } from './support/until.js';

let server: ScriptedServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const MALFORMED = [
  `>2\r\n${bulk('message')}${bulk('c')}`, // no payload
  `>3\r\n${bulk('message')}${bulk('c')}*1\r\n:1\r\n`, // an array payload
  `>3\r\n${bulk('message')}${bulk('c')}:7\r\n`, // a number payload
  `>4\r\n${bulk('message')}${bulk('c')}${bulk('x')}${bulk('y')}`, // one element too many
  `>3\r\n${bulk('pmessage')}${bulk('p*')}${bulk('pc')}`, // a pattern message without its payload
];

describe('malformed message frames', () => {
  for (const decode of ['utf8', 'buffer'] as const) {
    it(`are dropped (decode: '${decode}'); the good ones around them arrive`, async () => {
      server = await scriptedServer((args, socket) => {
        const name = args[0]!.toUpperCase();
        if (name === 'SUBSCRIBE' || name === 'PSUBSCRIBE') {
          const kind = name.toLowerCase();
          setTimeout(() => {
            if (name !== 'PSUBSCRIBE') return;
            socket.write(`>3\r\n${bulk('message')}${bulk('c')}${bulk('before')}` + MALFORMED.join('') + `>4\r\n${bulk('pmessage')}${bulk('p*')}${bulk('pc')}${bulk('after')}`);
          }, 10);
          return `>3\r\n${bulk(kind)}${bulk(args[1]!)}:1\r\n`;
        }
        return undefined;
      });
      const redis = new Redis(server.url, { reconnect: false });
      try {
        const sub = redis.subscriber({ decode });
        const got: string[] = [];
        sub.on('message', (m: Message<string | Buffer>) => got.push(String(m.message)));
        await sub.subscribe('c');
        await sub.psubscribe('p*');
        await until('the last message arrived', () => got.includes('after'));
        expect(got).toEqual(['before', 'after']);
        expect(redis.stats().pubsub.connectionLost).toBe(0);
      } finally {
        redis.disconnect();
      }
    });
  }
});
