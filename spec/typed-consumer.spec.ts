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
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root, useConsumerProject } from './support/consumer-project.js';

const project = useConsumerProject('typed', 'module');
const compile = project.compile;

function declarations(from: string): string[] {
  return readdirSync(from).flatMap((name) => {
    const full = path.join(from, name);
    return statSync(full).isDirectory() ? declarations(full) : full.endsWith('.d.ts') ? [full] : [];
  });
}

describe('the typed surface', () => {
  it('a strict consumer compiles, and every @ts-expect-error in it is still an error', () => {
    const consumer = path.join(project.dir, 'consumer.ts');
    writeFileSync(consumer, readFileSync(path.join(root, 'spec/consumer/typed.ts'), 'utf8'));
    const source = readFileSync(consumer, 'utf8');
    expect(source.match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(10);
    expect(compile([consumer])).toEqual([]);
  }, 60_000);

  it('the same consumer fails when an expected error is gone (the check can fail)', () => {
    const broken = path.join(project.dir, 'broken.ts');
    writeFileSync(broken, "import { Redis } from 'redmux';\nconst db = new Redis().db;\n// @ts-expect-error\nvoid db.reply('GET', 'k');\n");
    expect(compile([broken]).join('\n')).toMatch(/Unused '@ts-expect-error' directive/);
  }, 60_000);

  it("a consumer on the old resolution (moduleResolution: node10, CommonJS) finds the types of 'redmux' and 'redmux/otel'", () => {
    const consumer = path.join(project.dir, 'node10.ts');
    writeFileSync(consumer, readFileSync(path.join(root, 'spec/consumer/node10.ts'), 'utf8'));
    expect(compile([consumer], { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 })).toEqual([]);
  }, 60_000);

  it("the README's ts examples compile with --strict", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    const files = blocks.map((code, i) => {
      const file = path.join(project.dir, `readme-${i}.ts`);
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
      const file = path.join(project.dir, `readme-js-${i}.js`);
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
