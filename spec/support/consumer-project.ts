/**
 * A scratch project that depends on the built package, for specs that
 * compile what a TypeScript user writes: node_modules/redmux is a symlink to
 * this repository (its `exports` and `dist/` as a user installs them) and the
 * OpenTelemetry API sits beside it, as a reader of the README would have it.
 * Made before the file's tests, removed after. Needs `npm run build` first.
 */
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll } from 'vitest';

export const root = path.resolve(__dirname, '..', '..');

export interface ConsumerProject {
  /** The project's directory (valid inside tests). */
  readonly dir: string;
  /** Diagnostics of compiling `files` strictly (`extra` may override any option), as `file:line message`. */
  compile(files: string[], extra?: ts.CompilerOptions): string[];
}

/** `type`: the project's package.json type ('module' or 'commonjs'). */
export function useConsumerProject(label: string, type: 'module' | 'commonjs'): ConsumerProject {
  let dir = '';
  beforeAll(() => {
    const types = type === 'module' ? 'dist/index.d.ts' : 'dist/cjs/index.d.ts';
    if (!existsSync(path.join(root, types))) throw new Error(`${types} is missing: run \`npm run build\` first`);
    dir = mkdtempSync(path.join(os.tmpdir(), `redmux-${label}-`));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(root, path.join(dir, 'node_modules', 'redmux'), 'dir');
    symlinkSync(path.join(root, 'node_modules', '@opentelemetry'), path.join(dir, 'node_modules', '@opentelemetry'), 'dir');
    writeFileSync(path.join(dir, 'package.json'), type === 'module' ? '{"type":"module"}\n' : '{}\n');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    compile(files, extra = {}) {
      const program = ts.createProgram(files, {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
        ...extra,
      });
      return ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file && d.start !== undefined ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
        return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
      });
    },
  };
}
