/**
 * The layering of DESIGN.md, enforced: the codec knows no sockets, connections
 * know the codec, routing knows connections, the API knows routing. An import
 * may only point to the same layer or below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const lib = path.resolve(__dirname, '..', 'lib');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Layer of a file, by path relative to lib/. */
function layer(rel: string): number {
  if (rel === 'errors.ts') return 0;
  if (rel === 'events.ts') return 1; // types only
  if (rel.startsWith('resp/') || rel.startsWith('commands/') || rel === 'option-check.ts' || rel === 'script.ts') return 1;
  if (rel.startsWith('connection/')) return 2;
  // pub/sub hubs know connections, not routing: the topology owns one per node.
  // The client-side cache knows connections (commands, tracking), not routing.
  if (rel === 'retry.ts' || rel === 'url.ts' || rel.startsWith('pubsub/') || rel.startsWith('cache/')) return 3;
  if (rel.startsWith('topology/') || rel === 'options.ts') return 4;
  if (rel === 'transaction.ts' || rel === 'subscriber.ts' || rel === 'scan.ts' || rel === 'scan-seen.ts' || rel === 'call-options.ts') return 5;
  if (rel === 'client.ts') return 6;
  if (rel === 'index.ts') return 7;
  // The redmux/otel entry point: beside index.ts, on top of everything.
  if (rel === 'otel.ts') return 7;
  throw new Error(`no layer assigned to lib/${rel}: add it to spec/layering.spec.ts`);
}

const all = files(lib).map((f) => path.relative(lib, f).split(path.sep).join('/'));

function imports(rel: string): string[] {
  const src = readFileSync(path.join(lib, rel), 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('layering', () => {
  it('every import points to the same layer or below', () => {
    const violations: string[] = [];
    for (const rel of all) {
      for (const spec of imports(rel)) {
        if (!spec.startsWith('.')) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)).replace(/\.js$/, '.ts');
        if (layer(target) > layer(rel)) violations.push(`${rel} -> ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the codec imports no IO modules', () => {
    for (const rel of all.filter((r) => r.startsWith('resp/'))) {
      for (const spec of imports(rel)) {
        expect(spec, `${rel} imports ${spec}`).not.toMatch(/^(node:)?(net|tls|timers|events|dgram|child_process|fs|http)$/);
      }
      expect(readFileSync(path.join(lib, rel), 'utf8')).not.toMatch(/\b(setTimeout|setImmediate|setInterval)\(/);
    }
  });

  it('runtime dependencies are denque only', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(lib, '..', 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies)).toEqual(['denque']);
    for (const rel of all) {
      for (const spec of imports(rel)) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        // redmux/otel alone loads the optional peer @opentelemetry/api.
        if (rel === 'otel.ts' && spec === '@opentelemetry/api') continue;
        expect(spec, `lib/${rel}`).toBe('denque');
      }
    }
  });

  it('files stay readable in one sitting (600 lines at most)', () => {
    for (const rel of all.filter((r) => r !== 'commands/table.ts')) {
      const lines = readFileSync(path.join(lib, rel), 'utf8').trimEnd().split('\n').length;
      expect(lines, `lib/${rel}`).toBeLessThanOrEqual(600);
    }
  });
});
