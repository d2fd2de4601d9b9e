/**
 * A CommonJS TypeScript project that checks its dependencies' declarations
 * (`skipLibCheck` false, the compiler's default) and has no `esModuleInterop`
 * / `allowSyntheticDefaultImports` (the default for `module: commonjs`) must
 * compile against the shipped CommonJS declarations. Found by a new user on
 * `module: commonjs` + `moduleResolution: node10`: `import net from 'node:net'`
 * in dist/cjs/*.d.ts is TS1192 ("has no default export") there. The fix is in
 * the sources the declarations come from: `import * as net from 'node:net'`
 * (and `import type * as tls`, `import * as dc`), which both builds accept.
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
  if (!existsSync(path.join(root, 'dist/cjs/index.d.ts'))) throw new Error('dist/cjs/index.d.ts is missing: run `npm run build` first');
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-cjs-types-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(root, path.join(dir, 'node_modules', 'redmux'), 'dir');
  symlinkSync(path.join(root, 'node_modules', '@opentelemetry'), path.join(dir, 'node_modules', '@opentelemetry'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), '{}\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the CommonJS declarations', () => {
  it('compile in a strict module: commonjs / node10 project without esModuleInterop, checking library declarations', () => {
    const consumer = path.join(dir, 'consumer.ts');
    writeFileSync(
      consumer,
      "import { Redis, ServerError } from 'redmux';\nimport { instrument } from 'redmux/otel';\n" +
        "export async function main(): Promise<string | null> {\n  const redis = new Redis('redis://127.0.0.1:6379');\n" +
        "  const v = await redis.db.reply('GET', 'k');\n  await redis.close();\n  void [ServerError, instrument];\n  return v;\n}\n",
    );
    const program = ts.createProgram([consumer], {
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? `${path.relative(dir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
      return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
    });
    expect(errors).toEqual([]);
  }, 60_000);
});
