/**
 * Per-call deadlines (`db.with({ timeout })`) live in a set of their own
 * (deadlines.ts: they can come out of FIFO order). A command settled without
 * a reply (aborted while queued, given up with its connection) must not stay
 * there until its deadline: under churn the set would grow with rate x
 * timeout. Test-only peek: the Deadlines instances are caught by wrapping
 * Deadlines.prototype.set, and their private `custom` set is read.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Deadlines } from '../lib/connection/deadlines.js';
import { AbortError, Redis } from '../lib/index.js';

const seen = new Set<Deadlines>();
const originalSet = Deadlines.prototype.set;
Deadlines.prototype.set = function (this: Deadlines, ...args: Parameters<Deadlines['set']>) {
  seen.add(this);
  return originalSet.apply(this, args);
};
const customSize = () => Math.max(0, ...[...seen].map((d) => (d as unknown as { custom: Set<unknown> }).custom.size));

/** A port where nothing listens: commands wait in the offline queue. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const clients: Redis[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
  seen.clear();
});

describe('per-call deadlines of commands settled without a reply', () => {
  it('5,000 queued commands with a 60 s timeout, aborted in rounds: the deadline set stays near what is live', async () => {
    const redis = new Redis({ port: await deadPort(), reconnect: { baseDelay: 50, maxDelay: 50 }, maxQueued: 100_000 });
    redis.on('error', () => {});
    clients.push(redis);
    for (let round = 0; round < 5; round++) {
      const ac = new AbortController();
      const view = redis.db.with({ timeout: 60_000, signal: ac.signal });
      const calls = Array.from({ length: 1000 }, (_, i) => view.reply('GET', `k${i}`).then(() => 'ok', (err: unknown) => err));
      ac.abort();
      const settled = await Promise.all(calls);
      expect(settled.every((e) => e instanceof AbortError)).toBe(true);
    }
    // 1,000 live at most at any time: the set may hold a round's worth and some slack, not every round's.
    expect(customSize()).toBeLessThanOrEqual(2 * 1000 + 64);
  });
});
