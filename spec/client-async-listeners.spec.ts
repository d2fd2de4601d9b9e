/**
 * The client's own events ('ready', 'reconnecting', 'commandError', ...) with
 * an async listener whose promise rejects: that is a listener that throws
 * (README Events), reported as the client's 'error' when someone listens,
 * never an unhandled rejection (a process crash under Node's default).
 */
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe("the client's async listeners that reject", () => {
  it("a 'ready' and a 'commandError' listener that reject are reported as 'error'; the client works on", async () => {
    const redis = env.client({ reconnect: false });
    const errors: string[] = [];
    redis.on('error', (e: Error) => errors.push(e.message));
    redis.on('ready', async () => {
      throw new Error('ready listener bug');
    });
    redis.on('commandError', async () => {
      throw new Error('commandError listener bug');
    });
    redis.db.command('NOSUCHCOMMAND'); // fire-and-forget: its failure goes to 'commandError'
    await until("both rejections reported as 'error'", () => errors.length === 2);
    expect(errors.sort()).toEqual(['commandError listener bug', 'ready listener bug']);
    expect(await redis.db.reply('PING')).toBe('PONG');
  });
});
