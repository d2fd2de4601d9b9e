/**
 * `redis://app@host` (or `{ username: 'app' }`) without a password: the
 * README's URL table says `redis://user@host` sets the username, and the
 * options table that username and password go in `HELLO 3 AUTH`. Without a
 * password nothing was sent and the connection was the `default` user's,
 * silently: a user relying on the ACL user 'app' (its key patterns, its
 * command rules) ran as another. Found by a new user of the packed tarball.
 * Either the client authenticates as that user (an ACL user with `nopass`
 * accepts any password) or it refuses the options at construction; never
 * another user. (lib/options.ts / lib/connection/handshake.ts.)
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('a username without a password', () => {
  it('authenticates as that user or is refused; never connects as default', async () => {
    const admin = env.client();
    await admin.db.reply('ACL', 'SETUSER', 'nopass-app', 'on', 'nopass', '~*', '+@all');
    for (const make of [
      () => new Redis(`redis://nopass-app@127.0.0.1:${env.server.port}`, { reconnect: false }),
      () => new Redis({ port: env.server.port, username: 'nopass-app', reconnect: false }),
    ]) {
      let redis: Redis;
      try {
        redis = make();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as Error).message).toMatch(/password/);
        continue;
      }
      try {
        expect(await redis.db.reply('ACL', 'WHOAMI')).toBe('nopass-app');
      } finally {
        await redis.close();
      }
    }
    await admin.db.reply('ACL', 'DELUSER', 'nopass-app');
  });
});
