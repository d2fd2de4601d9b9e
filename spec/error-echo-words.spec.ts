/**
 * A new user writes a command as redis-cli takes it, several words in one
 * string: `db.reply('CONFIG', 'SET requirepass hunter2')`. Redis answers
 * "unknown subcommand 'SET requirepass hunter2'" (or, for CONFIG SET's
 * parameter, "... for CONFIG SET - 'requirepass hunter2'"), quoting the
 * argument back, password included, and that reached the error's message.
 * A subcommand or parameter name is one word; a quote holding several words
 * holds values, so it is cut like the "with args beginning with" echo. One
 * word is kept (`unknown subcommand 'GETT'` is what helps find a typo).
 */
import { describe, expect, it } from 'vitest';
import { ServerError } from '../lib/index.js';
import { serverErrorFrom } from '../lib/errors.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const SECRET = 'hunter2-Sup3rSecret';

function everywhere(err: Error): string {
  return `${err.message} ${String(err.stack)} ${JSON.stringify(err)} ${(err as ServerError).serverMessage}`;
}

describe('server errors that quote several words of an argument', () => {
  it('unknown subcommand / CONFIG SET parameter holding several words: the quote is cut', async () => {
    const redis = env.client();
    const cases: [string, ...string[]][] = [
      ['CONFIG', `SET requirepass ${SECRET}`],
      ['CONFIG', 'SET', `requirepass ${SECRET}`, 'x'],
      ['ACL', `SETUSER app >${SECRET}`],
      ['CLIENT', `KILL USER ${SECRET}`],
    ];
    for (const [name, ...args] of cases) {
      const err = await redis.db.reply(name, ...args).catch((e: Error) => e);
      expect(err, args[0]).toBeInstanceOf(ServerError);
      expect(everywhere(err as Error), args[0]).not.toContain(SECRET);
      expect((err as Error).message, args[0]).toContain("'(redacted)'");
    }
  });

  it('one word is kept: it is a name, and it shows the typo', async () => {
    const redis = env.client();
    const err = (await redis.db.reply('CONFIG' as string, 'GETT', 'maxmemory').catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/unknown subcommand 'GETT'/);
  });

  it('the same rule for the unknown command quote, as the server sends it', () => {
    // The name a user wrote with its arguments in it: 'GET user:42:token'.
    const err = serverErrorFrom(`ERR unknown command 'SET token ${SECRET}', with args beginning with: `);
    expect(everywhere(err)).not.toContain(SECRET);
    expect(err.message).toBe("ERR unknown command '(redacted)', with args beginning with: (redacted)");
    expect(serverErrorFrom("ERR unknown command 'GETT', with args beginning with: 'k' ").message).toBe(
      "ERR unknown command 'GETT', with args beginning with: (redacted)",
    );
  });
});
