/**
 * A listener that throws never leaves the connection half-handled: its error
 * is rethrown on its own (an uncaught exception, as with any Node emitter),
 * and the client still reconnects and settles every command. The child runs
 * the build in dist/ (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('listeners that throw', () => {
  it('every event listener throws: the client recovers from killed connections and every command settles', async () => {
    const child = path.join(__dirname, 'support', 'throwing-listeners.child.mjs');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [child, env.server.url], { timeout: 15_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const summary = JSON.parse(out.trim().split('\n').pop()!) as { thrown: number; results: { ok: boolean; v?: unknown; e?: string }[] };
    expect(summary.thrown).toBeGreaterThanOrEqual(4); // ready, error, reconnecting at least: they did throw
    expect(summary.results).toHaveLength(7);
    expect(summary.results[0]).toEqual({ ok: true, v: 'OK' });
    // A GET caught by the kill is read-only: sent again. Every GET after it succeeds.
    for (const r of summary.results.slice(1)) expect(r).toEqual({ ok: true, v: 'v' });
  });
});
