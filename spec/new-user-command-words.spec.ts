/**
 * A new user writes the whole command as one string, redis-cli style:
 * `db.reply('GET user:42:token')`, `db.reply('CONFIG SET requirepass hunter2')`.
 * It was sent, the server answered "unknown command", and the error carried
 * the words twice: the server's quote is cut now (errors.ts), but the
 * command's own label, `err.command` and the message's "(command GET
 * USER:42:TOKEN, ...)" suffix, still held them, values and passwords included.
 * No command name holds whitespace: refuse it before sending, with an
 * InvalidArgumentError that says to pass each argument on its own and does
 * not quote the name. (lib/connection/command.ts checkCommand.)
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type RedisError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const SECRET = 'hunter2-Sup3rSecret';

describe('a command name holding several words', () => {
  it('is refused before it is sent, without quoting it, saying how to pass the arguments', async () => {
    const redis = env.client();
    for (const name of [`GET user:42:${SECRET}`, `CONFIG SET requirepass ${SECRET}`, `SET\t${SECRET} x`]) {
      const err = (await redis.db.reply(name as string).catch((e: unknown) => e)) as RedisError;
      expect(err, name).toBeInstanceOf(InvalidArgumentError);
      expect(`${err.message} ${err.command ?? ''} ${String(err.stack)}`).not.toContain(SECRET);
      expect(err.message).toMatch(/argument/);
      expect(() => redis.db.command(name as string)).toThrow(InvalidArgumentError);
    }
  });
});
