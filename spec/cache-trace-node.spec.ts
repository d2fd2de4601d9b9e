/**
 * A read on a caching view that goes to the server (a miss, or a caller
 * waiting for an identical read in flight) is traced on `redmux:command`
 * with the node that answered it, like any routed command: an APM (and
 * redmux/otel's server.address / server.port) must not lose it because the
 * request on the wire is the cache's. A hit was answered locally: no node.
 */
import { describe, expect, it } from 'vitest';
import type { CommandTraceContext } from '../lib/index.js';
import { traced } from './support/command-traces.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** The asyncEnd contexts published while `fn` runs. */
async function settledTraces(fn: () => Promise<unknown>): Promise<CommandTraceContext[]> {
  return (await traced(fn)).filter(([kind]) => kind === 'asyncEnd').map(([, ctx]) => ctx as unknown as CommandTraceContext);
}

describe('traces of reads through the client-side cache', () => {
  it('a miss and a caller that waited for the same read carry the node that answered; a hit has none', async () => {
    const redis = env.client({ cache: {} });
    const cached = redis.db.with({ cache: true });
    const node = `127.0.0.1:${env.server.port}`;
    await redis.db.reply('SET', 'ctn:k', 'v');
    const traces = await settledTraces(async () => {
      expect(await Promise.all([cached.reply('GET', 'ctn:k'), cached.reply('GET', 'ctn:k')])).toEqual(['v', 'v']); // one miss, one waiter
      expect(await cached.reply('GET', 'ctn:k')).toBe('v'); // a hit
    });
    expect(redis.stats().cache).toMatchObject({ hits: 1, misses: 2 });
    expect(traces.map((t) => [t.command, t.node])).toEqual([
      ['GET', node],
      ['GET', node],
      ['GET', undefined],
    ]);
  });
});
