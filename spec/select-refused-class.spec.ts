/**
 * A database the server refuses to SELECT fails the commands queued for it with
 * the server's error, and that error is the class its code names (DESIGN.md,
 * "ServerError (subclass by code)"): an ACL user without SELECT gets a
 * NoPermError, as a refused GET would, not a bare ServerError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, ServerError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

beforeAll(async () => {
  const admin = env.client();
  await admin.db.reply('ACL', 'SETUSER', 'noselect', 'on', '>noselect-pw', '~*', '&*', '+@all', '-select');
});

afterAll(async () => {
  const admin = env.client();
  await admin.db.reply('ACL', 'DELUSER', 'noselect');
});

describe('a refused SELECT', () => {
  it('rejects the database handle\'s commands with the class of the server\'s code, and the others keep working', async () => {
    const redis = env.client({ username: 'noselect', password: 'noselect-pw' });
    expect(await redis.db.reply('SET', 'sel:k', 'v')).toBe('OK');
    const err = await redis.database(3).reply('GET', 'sel:k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(NoPermError);
    expect((err as ServerError).code).toBe('NOPERM');
    expect((err as ServerError).command).toBe('GET');
    expect((err as Error).message).not.toContain('noselect-pw');
    expect(await redis.db.reply('GET', 'sel:k')).toBe('v');
  });

  it('an index out of range stays a plain ServerError (ERR)', async () => {
    const redis = env.client();
    const err = await redis.database(100_000).reply('GET', 'sel:k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).not.toBeInstanceOf(NoPermError);
    expect((err as ServerError).code).toBe('ERR');
  });
});
