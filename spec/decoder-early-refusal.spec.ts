/**
 * "ProtocolError: the server sent bytes that are not RESP" (DESIGN.md, Errors;
 * style rule 2: a protocol error ends the connection). A frame whose type byte
 * is not RESP (a blank line, an HTTP answer cut before its line ends) is
 * refused as soon as that byte arrives, not once the line is complete: a
 * server that sends '\r\n' and then nothing left the caller waiting for its
 * deadline, forever with `commandTimeout: 0`.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, Redis } from '../lib/index.js';
import { Decoder } from '../lib/resp/decoder.js';
import { scriptedServer } from './support/scripted-server.js';

function fed(bytes: string): unknown {
  const d = new Decoder({ replyFlags: () => 0, onReply: () => {}, onPush: () => {} } as never, {});
  try {
    d.feed(Buffer.from(bytes, 'latin1'));
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('a type byte that is not RESP', () => {
  it('is refused at once, whole line or not', () => {
    for (const wire of ['\r\n', '\n', '\r', 'H', 'HTTP/1.1 400', '\x00', '+OK\r\n\r\n', '*2\r\n+a\r\n\r']) {
      expect(fed(wire), JSON.stringify(wire)).toBeInstanceOf(ProtocolError);
    }
  });

  it('an incomplete frame of a known type still waits for its bytes', () => {
    for (const wire of ['+', '+O', '$5\r\nhel', '*2\r\n:1\r\n', ':12', ',1.', '|1\r\n+a\r\n']) {
      expect(fed(wire), JSON.stringify(wire)).toBeUndefined();
    }
  });

  it('a server that answers a blank line and goes silent fails the command with ProtocolError, without a deadline', async () => {
    const server = await scriptedServer((args) => (args[0]!.toUpperCase() === 'GET' ? '\r\n' : undefined));
    const redis = new Redis(server.url, { commandTimeout: 0, reconnect: false });
    redis.on('error', () => {});
    try {
      const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
      expect(err).toBeInstanceOf(ProtocolError);
    } finally {
      redis.disconnect();
      await server.close();
    }
  });
});
