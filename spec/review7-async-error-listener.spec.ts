/**
 * A subscriber's async 'error' listener whose promise rejects (review of
 * bfceb7c, which made Subscriber and Keyspace emitters with
 * captureRejections). Node's capture re-emits a rejection as 'error', an
 * 'error' listener's own rejection included: the listener is called a second
 * time with its own failure, as if the subscriber had reported it, and that
 * second rejection is an unhandled rejection all the same. The contract
 * (lib/pubsub/listeners.ts) is that a rejecting listener is one that throws:
 * an 'error' listener that throws is rethrown on its own, once, never fed
 * back to itself. The child runs the build in dist/ (build first).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

function runChild(mode: string): Promise<{ seen: string[]; unhandled: number; uncaught: number }> {
  const child = path.join(__dirname, 'support', 'review7-async-error-listener.child.mjs');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [child, env.server.url, mode], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe("an async 'error' listener that rejects", () => {
  it.each([
    ['one-async', 'message listener bug'],
    ['two-async', 'message listener bug'],
    ['two-throwing', 'message listener bug'],
    ['connection', 'the connection closed'],
    ['client', 'the connection closed'], // the client's own 'error' listener (captureRejections since d220d3c)
  ])('%s: it hears the subscriber\'s error once, and its own rejection is thrown on its own', async (mode, first) => {
    const { seen, unhandled, uncaught } = await runChild(mode);
    expect(seen).toHaveLength(1); // never its own failure, as if the subscriber had reported it
    expect(seen[0]).toContain(first);
    expect({ unhandled, uncaught }).toEqual({ unhandled: 0, uncaught: 1 });
  });
});
