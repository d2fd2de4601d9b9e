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
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
let dir: string;

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/index.d.ts'))) throw new Error('dist/index.d.ts is missing: run `npm run build` first');
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-exact-optional-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(root, path.join(dir, 'node_modules', 'redmux'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('options under exactOptionalPropertyTypes', () => {
  it('an option whose value may be undefined compiles, as it runs', () => {
    const consumer = path.join(dir, 'consumer.ts');
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
    const program = ts.createProgram([consumer], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]);
    expect(errors).toEqual([]);
  }, 60_000);
});
