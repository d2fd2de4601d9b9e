/**
 * package.json says `"sideEffects": false`, so a bundler (esbuild, webpack,
 * rollup: how Lambda-style deployments ship Node code) may drop the modules
 * of redmux an application does not use. That is only true while no module
 * does anything when it is loaded: no import kept only for its effect, and
 * loading both entry points (ESM and CommonJS) opens nothing, arms nothing
 * and patches nothing global.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

function node(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))),
  );
}

describe('sideEffects: false', () => {
  it('is declared', () => {
    expect(pkg.sideEffects).toBe(false);
  });

  it('no module is imported only for its effects', () => {
    for (const file of sources(path.join(root, 'lib'))) {
      expect(readFileSync(file, 'utf8'), path.relative(root, file)).not.toMatch(/^\s*import\s+['"]/m);
    }
  });

  it('loading both entry points, ESM and CommonJS, opens no handle and changes no global', async () => {
    for (const built of ['dist/index.js', 'dist/otel.js', 'dist/cjs/index.js', 'dist/cjs/otel.js']) {
      if (!existsSync(path.join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
    }
    const probe = `
const snapshot = () => JSON.stringify({ resources: process.getActiveResourcesInfo(), globals: Object.getOwnPropertyNames(globalThis).sort(),
  listeners: process.eventNames().map((e) => [String(e), process.listenerCount(e)]) });
const before = snapshot();
await import('./dist/index.js'); await import('./dist/otel.js');
const { createRequire } = await import('node:module');
const require = createRequire(process.cwd() + '/');
require('./dist/cjs/index.js'); require('./dist/cjs/otel.js');
// The loader's own file requests (FSReqCallback, CloseReq) finish within a few turns.
for (let i = 0; i < 20 && snapshot() !== before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
console.log(JSON.stringify({ same: snapshot() === before, before, after: snapshot() }));`;
    const out = JSON.parse(await node(['--input-type=module', '-e', probe]));
    expect(out.after).toBe(out.before);
    expect(out.same).toBe(true);
  }, 40_000);
});
