/**
 * `callSiteStacks` for `db.run(script, keys, args)`: a script call that fails
 * carries where it was issued, as `db.reply` and `db.command` do; off, it
 * does not. Against a real redis-server (the script's own error, and a NOSCRIPT
 * reload whose body does not compile).
 */
import { describe, expect, it } from 'vitest';
import { Redis, Script, ServerError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

const failing = new Script('return redis.error_reply("ERR call-site probe")');
const broken = new Script('this is not lua');

async function runFromHere(redis: Redis, script: Script): Promise<Error> {
  return redis.db.run(script, ['cs:key'], []).then(() => new Error('the script succeeded'), (e: Error) => e);
}

describe('db.run with callSiteStacks', () => {
  it('appends where the script call was issued to its error when on; not when off', async () => {
    const on = await runFromHere(env.client({ callSiteStacks: true }), failing);
    expect(on).toBeInstanceOf(ServerError);
    expect(on.stack).toMatch(/--- issued at ---\n\s+at runFromHere .*run-call-site\.spec\.ts/);
    const off = await runFromHere(env.client(), failing);
    expect(off).toBeInstanceOf(ServerError);
    expect(off.stack).not.toMatch(/issued at/);
  });

  it('a NOSCRIPT reload whose body does not compile: its error carries the call site too', async () => {
    const on = await runFromHere(env.client({ callSiteStacks: true }), broken);
    expect(on).toBeInstanceOf(ServerError);
    expect(on.stack).toMatch(/--- issued at ---\n\s+at runFromHere .*run-call-site\.spec\.ts/);
  });
});
