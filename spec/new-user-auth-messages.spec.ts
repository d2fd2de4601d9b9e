/**
 * What a new user reads when the password is missing or wrong (found by
 * trying the packed tarball). The command's error said, for a server with
 * `requirepass` and no password given:
 *
 *   the server refused the connection's configuration (NOAUTH HELLO must be
 *   called with the client already authenticated, otherwise the HELLO AUTH
 *   <user> <pass> option can be used to ... (command HELLO, node H)); fix the
 *   options. Not reconnecting (node H) (command PING, node H)
 *
 * The server's words are about HELLO internals, not about the option to set,
 * and the node is named three times (each wrapping error appends its suffix
 * to a message that already has one). Wanted: the message says a password is
 * needed and which option gives it, and names the node once; the class, the
 * cause (the server's AuthError) and the absence of the password stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConnectError, Redis } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const PASSWORD = 'n3wUserSecret';
let server: RedisServer;
beforeAll(async () => {
  server = await startRedis(['--requirepass', PASSWORD]);
});
afterAll(async () => {
  await destroyRedis(server);
});

async function failure(url: string): Promise<Error> {
  const redis = new Redis(url);
  try {
    return await redis.db.reply('PING').then(() => new Error('PING succeeded'), (e: Error) => e);
  } finally {
    redis.disconnect();
  }
}

const node = () => `127.0.0.1:${server.port}`;
const times = (text: string, part: string) => text.split(part).length - 1;

describe('authentication errors a new user meets', () => {
  it('no password for a server that needs one: says to set the password option, names the node once', async () => {
    const err = await failure(server.url);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.cause).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/\bpassword\b/);
    expect(times(err.message, node())).toBe(1);
  });

  it('a wrong password: the server refused it, the node once, never the password', async () => {
    const err = await failure(`redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}`);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.cause).toBeInstanceOf(AuthError);
    expect(err.message).toMatch(/WRONGPASS/);
    expect(err.message).not.toContain(PASSWORD);
    expect(times(err.message, node())).toBe(1);
  });
});
