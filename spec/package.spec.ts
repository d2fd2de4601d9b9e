/**
 * What `npm pack` ships (run after `npm run build`, like the CommonJS spec):
 * both builds with their types, the otel entry point (with typesVersions for
 * the old module resolution), LICENSE and README;
 * never the specs, benchmarks or scripts; every `exports` target present; and
 * every source map pointing at a source that ships with it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let files: Set<string>;

beforeAll(async () => {
  const out = await new Promise<string>((resolve, reject) =>
    // --ignore-scripts: no `prepare` rebuild here; the spec checks the build that exists.
    execFile('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`npm pack failed: ${stderr}`)) : resolve(stdout),
    ),
  );
  const [report] = JSON.parse(out) as [{ files: { path: string }[] }];
  files = new Set(report.files.map((f) => f.path));
}, 90_000);

/** Every string target of an `exports` entry, recursively. */
function targets(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (entry && typeof entry === 'object') return Object.values(entry).flatMap(targets);
  return [];
}

describe('the npm package', () => {
  it('ships both builds with their types, the otel entry point, LICENSE and README', () => {
    for (const f of [
      'package.json', 'README.md', 'LICENSE',
      'dist/index.js', 'dist/index.d.ts', 'dist/otel.js', 'dist/otel.d.ts',
      'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/otel.js', 'dist/cjs/otel.d.ts', 'dist/cjs/package.json',
    ]) {
      expect(files.has(f), f).toBe(true);
    }
    for (const t of targets(pkg.exports)) expect(files.has(t.replace(/^\.\//, '')), t).toBe(true);
    // The old resolution (moduleResolution: node10) reads no `exports`: every subpath needs typesVersions (typed-consumer.spec.ts compiles one).
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && !k.endsWith('.json')).map((k) => k.replace(/^\.\//, ''));
    expect(Object.keys(pkg.typesVersions['*']).sort()).toEqual(subpaths.sort());
    for (const t of targets(pkg.typesVersions)) expect(files.has(t.replace(/^\.\//, '')), t).toBe(true);
    expect(files.has(pkg.main.replace(/^\.\//, ''))).toBe(true);
    expect(files.has(pkg.types.replace(/^\.\//, ''))).toBe(true);
  });

  it('never ships specs, benchmarks, scripts, configs or dependencies', () => {
    for (const f of files) {
      expect(f, f).not.toMatch(/^(spec|bench|scripts|node_modules|\.ci)\/|^tsconfig|^vitest|\.spec\.|\.tgz$/);
    }
  });

  it('every source map points at a source that ships', () => {
    const maps = [...files].filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const shipped = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        expect(files.has(shipped), `${map} -> ${shipped}`).toBe(true);
      }
    }
  });

  it('metadata: MIT, repository, homepage, keywords; denque the only dependency; OpenTelemetry an optional peer', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\//);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.keywords).toContain('redis');
    expect(Object.keys(pkg.dependencies)).toEqual(['denque']);
    expect(Object.keys(pkg.peerDependencies ?? {})).toEqual(['@opentelemetry/api']);
    expect(pkg.peerDependenciesMeta['@opentelemetry/api'].optional).toBe(true);
  });
});
