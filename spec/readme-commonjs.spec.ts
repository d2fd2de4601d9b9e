/**
 * README "CommonJS": the example runs as written from a .cjs file of a
 * consumer project (node_modules/redmux -> this package, its built dist/),
 * prints what its comments say, and the warning under it holds: the ESM and
 * CommonJS copies share no classes, so a RetryPolicy made by one is refused
 * by the other's clients.
 *
 * The example is fenced `javascript`, not `js`: spec/readme.spec.ts runs the
 * `js` blocks as ES modules, where `require` does not exist. require(esm)
 * (Node 20.19+) is switched off where the flag exists, as in
 * spec/commonjs.spec.ts: the CommonJS build must stand alone.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, useConsumerProject } from './support/consumer-project.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## CommonJS\n'), readme.indexOf('\n## ', readme.indexOf('\n## CommonJS\n') + 1));
const examples = [...section.matchAll(/```javascript\n([\s\S]*?)```/g)].map((m) => m[1]!);
const noRequireEsm = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : [];

const project = useConsumerProject('readme-cjs', 'commonjs');
let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await destroyRedis(server);
});

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...noRequireEsm, file], { cwd: project.dir, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('README, CommonJS', () => {
  it('the example runs from a .cjs file and prints what its comments say', async () => {
    expect(examples).toHaveLength(1);
    const code = examples[0]!;
    expect(code).toMatch(/require\('redmux'\)/);
    const file = path.join(project.dir, 'example.cjs');
    writeFileSync(file, code.replaceAll('redis://127.0.0.1:6379', server.url));
    const { code: exit, stdout, stderr } = await run(file);
    expect(stderr).toBe('');
    expect(exit).toBe(0);
    const expected = code
      .split('\n')
      .filter((l) => l.includes('console.log(') && l.includes('//'))
      .map((l) => l.slice(l.lastIndexOf('//') + 2).trim());
    expect(stdout.trim().split('\n')).toEqual(expected);
  });

  it('a RetryPolicy of the ESM copy is refused by the CommonJS copy, at construction and in with()', async () => {
    const file = path.join(project.dir, 'mixed.cjs');
    writeFileSync(
      file,
      `const { Redis, InvalidArgumentError } = require('redmux');
(async () => {
  const esm = await import('redmux');
  const refused = (fn) => { try { fn(); return 'accepted'; } catch (e) { return (e instanceof InvalidArgumentError) + ' ' + e.message; } };
  const redis = new Redis(${JSON.stringify(server.url)});
  const out = {
    copies: esm.Redis !== Redis,
    ctor: refused(() => new Redis(${JSON.stringify(server.url)}, { retry: esm.RetryPolicy.none() })),
    view: refused(() => redis.db.with({ retry: esm.RetryPolicy.exponential({ attempts: 2 }) })),
    own: refused(() => redis.db.with({ retry: require('redmux').RetryPolicy.none() })),
  };
  await redis.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exitCode = 1; });
`,
    );
    const { code, stdout, stderr } = await run(file);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      copies: true,
      ctor: 'true option retry must be a RetryPolicy, e.g. RetryPolicy.exponential({ attempts: 3 })',
      view: 'true db.with(): option retry must be a RetryPolicy, e.g. RetryPolicy.exponential({ attempts: 3 })',
      own: 'accepted',
    });
  });
});
