/**
 * The README's examples run here, against a private server, so they never lie.
 * Every ```js block is written to a file inside the package (so `import ... from
 * 'redmux'` resolves to this package) and run in its own Node process, which
 * must exit by itself with status 0: a client left open would hang it. Cluster
 * examples (redis://127.0.0.1:7000) run against a private cluster, Sentinel
 * examples (redis://127.0.0.1:26379, master 'mymaster') against a private
 * master, replica and three sentinels.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RedisCluster } from './support/redis-cluster.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const tmp = path.join(root, 'spec', '.readme-tmp');
let server: RedisServer;
/** For the cluster examples, which say redis://127.0.0.1:7000. */
let cluster: RedisCluster;
/** For the Sentinel examples, which say redis://127.0.0.1:26379. */
let sentinels: RedisSentinels;

beforeAll(async () => {
  [server, cluster, sentinels] = await Promise.all([startRedis(), startCluster(), startSentinels()]);
  mkdirSync(tmp, { recursive: true });
});
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await Promise.all([destroyRedis(server), cluster?.stop(), sentinels?.stop()]);
});

describe('README examples', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.includes('//'))?.trim().slice(0, 60) ?? `block ${i}`;
    it(`example ${i + 1}: ${title}`, async () => {
      const file = path.join(tmp, `example-${i}.mjs`);
      // One line per console.log, however large the value, so output lines match the comments.
      const prelude =
        "import { inspect } from 'node:util';\n" +
        "console.log = (...a) => process.stdout.write(a.map((x) => (typeof x === 'string' ? x : inspect(x, { breakLength: Infinity }))).join(' ') + '\\n');\n";
      writeFileSync(file, prelude + code.replaceAll('redis://127.0.0.1:6379', server.url).replaceAll('redis://127.0.0.1:7000', cluster.seedUrl).replaceAll('redis://127.0.0.1:26379', sentinels.sentinelUrls[0]!));
      const { code: exit, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [file], { timeout: 15_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(stderr).toBe('');
      expect(exit).toBe(0);
      // Where an example prints, the comments say what: check the printed lines against them.
      const expectations = code
        .split('\n')
        .filter((l) => l.includes('console.log(') && l.includes('//'))
        .map((l) => l.slice(l.lastIndexOf('//') + 2).trim());
      const printed = stdout.trim().split('\n');
      expect(printed.length).toBe(expectations.length);
      // A comment starts with exactly what its line prints (a quoted string prints unquoted).
      expectations.forEach((want, j) => {
        const got = printed[j]!;
        expect(got.length).toBeGreaterThan(0);
        if (/^'[^']*'$/.test(want)) expect(got).toBe(want.slice(1, -1));
        else expect(want.startsWith(got), `printed ${JSON.stringify(got)}, README says ${JSON.stringify(want)}`).toBe(true);
      });
    });
  });
});
