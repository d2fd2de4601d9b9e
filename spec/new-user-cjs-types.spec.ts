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
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { useConsumerProject } from './support/consumer-project.js';

const project = useConsumerProject('cjs-types', 'commonjs');

describe('the CommonJS declarations', () => {
  it('compile in a strict module: commonjs / node10 project without esModuleInterop, checking library declarations', () => {
    const consumer = path.join(project.dir, 'consumer.ts');
    writeFileSync(
      consumer,
      "import { Redis, ServerError } from 'redmux';\nimport { instrument } from 'redmux/otel';\n" +
        "export async function main(): Promise<string | null> {\n  const redis = new Redis('redis://127.0.0.1:6379');\n" +
        "  const v = await redis.db.reply('GET', 'k');\n  await redis.close();\n  void [ServerError, instrument];\n  return v;\n}\n",
    );
    const errors = project.compile([consumer], {
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      skipLibCheck: false,
    });
    expect(errors).toEqual([]);
  }, 60_000);
});
