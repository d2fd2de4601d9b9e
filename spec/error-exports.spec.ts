/**
 * Every error class the library can throw is exported from the package entry,
 * the very same constructor, so `err instanceof X` works for every `err.name`
 * a user can see; and the CommonJS build exports the same names.
 *
 * The classes are found by loading every module under lib/ (a new error class
 * anywhere is checked without editing this file); the CommonJS names come
 * from the built `dist/cjs` (`npm run build`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as entry from '../lib/index.js';
import { RedisError } from '../lib/errors.js';

const lib = path.resolve(__dirname, '..', 'lib');

async function errorClasses(): Promise<Map<string, Function>> {
  const found = new Map<string, Function>();
  const files = readdirSync(lib, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const mod = (await import(path.join(lib, file))) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (typeof value === 'function' && value.prototype instanceof RedisError) found.set(value.name, value);
    }
  }
  found.set('RedisError', RedisError);
  return found;
}

describe('error classes on the public surface', () => {
  it('every error class in lib/ is exported from the ESM entry as the same constructor', async () => {
    const classes = await errorClasses();
    expect(classes.has('NodeLeftError')).toBe(true); // the search does reach modules the entry does not import directly
    const missing = [...classes].filter(([name, cls]) => (entry as Record<string, unknown>)[name] !== cls).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('the CommonJS build exports the same error names', async () => {
    const built = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
    if (!existsSync(built)) throw new Error('dist/cjs/index.js is missing: run `npm run build` first');
    const cjs = createRequire(import.meta.url)(built) as Record<string, unknown>;
    const missing = [...(await errorClasses()).keys()].filter((name) => typeof cjs[name] !== 'function');
    expect(missing).toEqual([]);
  });
});
