/**
 * `redmux/otel` runs inside the application's commands (it subscribes to
 * diagnostics channels, whose subscriber errors Node rethrows as uncaught
 * exceptions): a tracer or meter provider that misbehaves must never crash
 * the process nor cost a command. Its failures go to OpenTelemetry's own
 * `diag` logger, as instrumentations do. And `instrument()` checks its
 * options like every options object of redmux. The child runs the build in
 * dist/ (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/errors.js';
import { instrument } from '../lib/otel.js';
import { thrown } from './support/thrown.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('redmux/otel with hostile providers', () => {
  it('a span processor, tracer, span or instrument that throws never becomes an uncaught exception, and every command settles as without it', async () => {
    const child = path.join(__dirname, 'support', 'otel-hostile.child.mjs');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [child, env.server.url], { timeout: 20_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const summary = JSON.parse(out.trim().split('\n').pop()!) as { uncaught: string[]; reported: number; results: Record<string, unknown[]>; healthySpans: string[] };
    expect(summary.uncaught).toEqual([]);
    expect(Object.keys(summary.results)).toHaveLength(6);
    for (const replies of Object.values(summary.results)) expect(replies).toEqual(['OK', 'v', 'WrongTypeError']);
    expect(summary.reported).toBeGreaterThan(0); // told to OpenTelemetry's diag logger, not swallowed
    // Spans still end whatever throws after them (a later processor, the histogram): the healthy exporter got both cases' spans.
    expect(summary.healthySpans).toEqual(['SET', 'GET', 'LPUSH', 'SET', 'GET', 'LPUSH']);
  });
});

describe('instrument(options)', () => {
  it('an unknown option is an InvalidArgumentError naming the closest valid one', () => {
    const err = thrown(() => instrument({ tracerprovider: {} } as never));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(/unknown option tracerprovider; did you mean tracerProvider\?/);
    expect(thrown(() => instrument({ meterProvider: {} } as never)).message).toMatch(/meterProvider must be/);
    expect(thrown(() => instrument('x' as never))).toBeInstanceOf(InvalidArgumentError);
  });
});
