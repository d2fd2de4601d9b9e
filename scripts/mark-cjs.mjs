// After `tsc -p tsconfig.cjs.json`: the package is "type": "module", so the
// CommonJS build needs its own package.json saying otherwise, or Node would
// load dist/cjs/*.js as ES modules (and TypeScript would read its .d.ts as ESM).
import { mkdirSync, writeFileSync } from 'node:fs';

const dir = new URL('../dist/cjs/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('package.json', dir), '{\n  "type": "commonjs"\n}\n');
