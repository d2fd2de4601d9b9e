/**
 * README: "An object given after a URL overrides it (a key set to `undefined`
 * counts as not given, so it never wipes the URL's password)", and the options
 * check skips a key whose value is undefined. The declarations must say the
 * same for a project with `exactOptionalPropertyTypes` (in @tsconfig/strictest):
 * `new Redis(url, { password: process.env.REDIS_PASSWORD })` and
 * `db.with({ timeout: maybe })` were type errors there ("Type 'undefined' is
 * not assignable to type 'string'") although they work. Found by a new user
 * of the packed tarball. The fix is `?: T | undefined` on the option fields
 * the runtime treats as not given when undefined.
 *
 * Uses the built `dist/` (`npm run build`), like spec/typed-consumer.spec.ts.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useConsumerProject } from './support/consumer-project.js';

const project = useConsumerProject('exact-optional', 'module');

describe('options under exactOptionalPropertyTypes', () => {
  it('an option whose value may be undefined compiles, as it runs', () => {
    const consumer = path.join(project.dir, 'consumer.ts');
    writeFileSync(
      consumer,
      "import { Redis } from 'redmux';\n" +
        "const password: string | undefined = process.env['REDIS_PASSWORD'];\n" +
        "const timeout: number | undefined = process.env['T'] === undefined ? undefined : Number(process.env['T']);\n" +
        "const redis = new Redis('redis://127.0.0.1:6379', { password, commandTimeout: timeout });\n" +
        'const view = redis.db.with({ timeout });\n' +
        'const sub = redis.subscriber({ timeout });\n' +
        'export { view, sub };\n',
    );
    const errors = project.compile([consumer], { exactOptionalPropertyTypes: true });
    expect(errors).toEqual([]);
  }, 60_000);
});
