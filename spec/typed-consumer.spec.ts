/**
 * The typed surface as a TypeScript user meets it: the built package's
 * declarations, a consumer compiled with `--strict` (spec/consumer/typed.ts
 * and every ```ts block of the README), where each `@ts-expect-error` must
 * still be an error (an unused one fails the compile), and no `any` anywhere
 * in the shipped declarations.
 *
 * Uses the built `dist/` (`npm run build`), like spec/commonjs.spec.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
let dir: string;

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/index.d.ts'))) throw new Error('dist/index.d.ts is missing: run `npm run build` first');
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-typed-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(root, path.join(dir, 'node_modules', 'redmux'), 'dir');
  // The README's OpenTelemetry example imports the SDK, as its reader would have installed it.
  symlinkSync(path.join(root, 'node_modules', '@opentelemetry'), path.join(dir, 'node_modules', '@opentelemetry'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function compile(files: string[], extra: ts.CompilerOptions = {}): string[] {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    ...extra,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
  };
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

function declarations(from: string): string[] {
  return readdirSync(from).flatMap((name) => {
    const full = path.join(from, name);
    return statSync(full).isDirectory() ? declarations(full) : full.endsWith('.d.ts') ? [full] : [];
  });
}

describe('the typed surface', () => {
  it('a strict consumer compiles, and every @ts-expect-error in it is still an error', () => {
    const consumer = path.join(dir, 'consumer.ts');
    writeFileSync(consumer, readFileSync(path.join(root, 'spec/consumer/typed.ts'), 'utf8'));
    const source = readFileSync(consumer, 'utf8');
    expect(source.match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(10);
    expect(compile([consumer])).toEqual([]);
  }, 60_000);

  it('the same consumer fails when an expected error is gone (the check can fail)', () => {
    const broken = path.join(dir, 'broken.ts');
    writeFileSync(broken, "import { Redis } from 'redmux';\nconst db = new Redis().db;\n// @ts-expect-error\nvoid db.reply('GET', 'k');\n");
    expect(compile([broken]).join('\n')).toMatch(/Unused '@ts-expect-error' directive/);
  }, 60_000);

  it("a consumer on the old resolution (moduleResolution: node10, CommonJS) finds the types of 'redmux' and 'redmux/otel'", () => {
    const consumer = path.join(dir, 'node10.ts');
    writeFileSync(consumer, readFileSync(path.join(root, 'spec/consumer/node10.ts'), 'utf8'));
    expect(compile([consumer], { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 })).toEqual([]);
  }, 60_000);

  it("the README's ts examples compile with --strict", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    const files = blocks.map((code, i) => {
      const file = path.join(dir, `readme-${i}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    expect(compile(files)).toEqual([]);
  }, 60_000);

  it("the README's js examples type-check as JavaScript against the declarations (checkJs, strict)", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    // Every one of them: none is left out (the cache counters, the diagnostics channels and OpenTelemetry included).
    expect(readme.match(/```js\n/g)?.length).toBe(blocks.length);
    const files = blocks.map((code, i) => {
      const file = path.join(dir, `readme-js-${i}.js`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    for (const marker of ['redis.stats().cache', "tracingChannel('redmux:command')", "from 'redmux/otel'"]) {
      expect(blocks.some((code) => code.includes(marker)), marker).toBe(true);
    }
    expect(compile(files, { allowJs: true, checkJs: true })).toEqual([]);
  }, 60_000);

  it('the committed argument types are what scripts/gen-types.mjs makes from the installed server', async () => {
    const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'scripts/gen-types.mjs'), '--check'], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
    expect(out).toMatch(/is what this server generates/);
    expect(code).toBe(0);
  }, 40_000);

  it('no `any` in the shipped declarations (ESM and CommonJS)', () => {
    const found: string[] = [];
    for (const file of declarations(path.join(root, 'dist'))) {
      // Comments and string literals may say "any"; types may not.
      const text = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
      text.split('\n').forEach((line, i) => {
        if (/\bany\b/.test(line)) found.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
