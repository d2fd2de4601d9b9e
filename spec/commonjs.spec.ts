/**
 * The package as a consumer installs it: `require('redmux')` from CommonJS and
 * `import ... from 'redmux'` from ESM both load, construct a client and talk
 * to a real server, and TypeScript finds declarations for both conditions.
 *
 * The consumers live in a temp dir whose node_modules/redmux is a symlink to
 * this package, and use the built `dist/` (`npm run build`, which `npm test`
 * and `npm ci` run). require(esm) (Node 20.19+) is switched off where the flag
 * exists, because `engines` says Node >= 20: the CommonJS build must stand alone.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const root = path.resolve(__dirname, '..');
let server: RedisServer;
let dir: string;

const noRequireEsm = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : [];

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...noRequireEsm, file], { cwd: dir, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  for (const built of ['dist/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json']) {
    if (!existsSync(path.join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  server = await startRedis();
  dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-consumer-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(root, path.join(dir, 'node_modules', 'redmux'), 'dir');
});

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await destroyRedis(server);
});

/** The same program in both module systems: prints where redmux came from and a round trip's reply. */
function consumer(load: string): string {
  return `${load}
const redis = new Redis(${JSON.stringify(server.url)});
(async () => {
  await redis.db.reply('SET', 'consumer', 'works');
  const value = await redis.db.reply('GET', 'consumer');
  let refused = false;
  try { new Redis({ comandTimeout: 1 }); } catch (e) { refused = e instanceof InvalidArgumentError; }
  await redis.close();
  console.log(JSON.stringify({ value, refused, exports: Object.keys(mod).sort() }));
})().catch((e) => { console.error(e); process.exitCode = 1; });
`;
}

describe('the package from CommonJS and ESM consumers', () => {
  it("require('redmux') loads the CommonJS build, which talks to a server", async () => {
    const file = path.join(dir, 'consumer.cjs');
    writeFileSync(
      file,
      consumer(`const mod = require('redmux');
const { Redis, InvalidArgumentError } = mod;
if (!require.resolve('redmux').endsWith(require('node:path').join('dist', 'cjs', 'index.js'))) throw new Error('not the CommonJS build: ' + require.resolve('redmux'));`),
    );
    const { code, stdout, stderr } = await run(file);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ value: 'works', refused: true });
    expect(out.exports).toContain('Redis');
    expect(out.exports).toContain('RetryPolicy');
  });

  it("import from 'redmux' still loads the ESM build, with the same exports", async () => {
    const cjs = path.join(dir, 'exports.cjs');
    writeFileSync(cjs, "console.log(JSON.stringify(Object.keys(require('redmux')).sort()));\n");
    const cjsExports = JSON.parse((await run(cjs)).stdout);
    const file = path.join(dir, 'consumer.mjs');
    writeFileSync(
      file,
      consumer(`import * as mod from 'redmux';
import { Redis, InvalidArgumentError } from 'redmux';
const where = import.meta.resolve('redmux');
if (!where.endsWith('/dist/index.js')) throw new Error('not the ESM build: ' + where);`),
    );
    const { code, stdout, stderr } = await run(file);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ value: 'works', refused: true });
    expect(out.exports).toEqual(cjsExports);
  });

  it('TypeScript resolves declarations for both conditions (module node16)', () => {
    const cts = path.join(dir, 'consumer.cts');
    const mts = path.join(dir, 'consumer.mts');
    const body = `
const redis = new Redis('redis://127.0.0.1:6379', { commandTimeout: 100 });
const v: Promise<string | null> = redis.db.reply('GET', 'k');
const p: RetryPolicy = RetryPolicy.none();
export { v, p };
`;
    writeFileSync(cts, `import { Redis, RetryPolicy } from 'redmux';${body}`);
    writeFileSync(mts, `import { Redis, RetryPolicy } from 'redmux';${body}`);
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      // The consumers' own code is what is checked; declarations are only loaded (much faster).
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    };
    const resolve = (from: string, mode: ts.ResolutionMode) =>
      ts.resolveModuleName('redmux', from, options, ts.sys, undefined, undefined, mode).resolvedModule?.resolvedFileName;
    expect(resolve(cts, ts.ModuleKind.CommonJS)).toBe(path.join(root, 'dist', 'cjs', 'index.d.ts'));
    expect(resolve(mts, ts.ModuleKind.ESNext)).toBe(path.join(root, 'dist', 'index.d.ts'));
    // Type-check both consumers: a CommonJS file given ESM declarations would fail here (TS1479).
    const program = ts.createProgram([cts, mts], options);
    const loaded = program.getSourceFiles().map((f) => path.resolve(f.fileName));
    expect(loaded).toContain(path.join(root, 'dist', 'cjs', 'index.d.ts'));
    expect(loaded).toContain(path.join(root, 'dist', 'index.d.ts'));
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || !d.file.fileName.includes('node_modules/@types'))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  });
});
