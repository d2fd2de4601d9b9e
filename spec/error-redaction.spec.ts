/**
 * "Every error names the command (never its arguments: values and passwords
 * stay out of messages)" (DESIGN.md, Errors). Some server replies quote an
 * argument back: ACL SETUSER quotes the modifier it refused, and a modifier is
 * where passwords and password hashes go ('<password' removes one, '#<sha256>'
 * adds one). Those quotes are cut before the reply becomes an Error, as the
 * unknown command's "with args beginning with" echo is.
 */
import { describe, expect, it } from 'vitest';
import { ServerError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

const SECRET = 'Sup3r-secret-Passw0rd';

function everywhere(err: Error): string {
  return `${err.message} ${String(err.stack)} ${JSON.stringify(err)} ${(err as ServerError).serverMessage}`;
}

describe('server errors that quote an argument', () => {
  it('ACL SETUSER: a refused password modifier never reaches the error', async () => {
    const redis = env.client();
    for (const modifier of [`<${SECRET}`, `#${SECRET}`, SECRET, `${SECRET}': x`]) {
      const err = await redis.db.reply('ACL', 'SETUSER', 'redaction-user', modifier).catch((e: Error) => e);
      expect(err, modifier).toBeInstanceOf(ServerError);
      expect(everywhere(err as Error), modifier).not.toContain(SECRET);
      expect((err as ServerError).message).toMatch(/Error in ACL SETUSER modifier '\(redacted\)'/);
      expect((err as ServerError).command).toBe('ACL SETUSER');
    }
    await redis.db.reply('ACL', 'DELUSER', 'redaction-user');
  });

  it('the same modifier inside a transaction (an error inside EXEC\'s reply) is cut too', async () => {
    const redis = env.client();
    const [res] = await redis.db.multi((tx) => {
      tx.command('ACL', 'SETUSER', 'redaction-user', `<${SECRET}`);
    });
    expect(res).toBeInstanceOf(ServerError);
    expect(everywhere(res as Error)).not.toContain(SECRET);
    await redis.db.reply('ACL', 'DELUSER', 'redaction-user');
  });

  it('an unknown command still gets its argument echo cut', async () => {
    const redis = env.client();
    const err = await redis.db.reply('NOSUCHCOMMAND' as string, SECRET).catch((e: Error) => e);
    expect(everywhere(err as Error)).not.toContain(SECRET);
  });
});
