/**
 * A `reconnect` function answers the delay before the next attempt, or -1 to
 * stop. What else it may do must not break the rules that every promise
 * settles in bounded time and nothing loops (DESIGN.md, Safety rules 4):
 *  - one that throws stopped the connection half-way through losing it: the
 *    error escaped as an uncaught exception and nothing reconnected, yet
 *    nothing gave up either (commands waited for their deadline, forever
 *    without one);
 *  - one that answers nothing (a missing `return`), NaN or Infinity had Node
 *    wait 1 ms: hundreds of connections a second.
 * Anything but a delay in ms now stops reconnecting, as -1 does (ioredis'
 * retryStrategy reads a non-number the same way); commands settle at once.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, Redis } from '../lib/index.js';

let server: net.Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  // Accepts and hangs up at once: every attempt fails after connecting.
  server = net.createServer((s) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const answers: [string, (attempt: number) => number][] = [
  ['throws', () => {
    throw new Error('strategy bug');
  }],
  ['undefined', () => undefined as unknown as number],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['a string', () => '100' as unknown as number],
];

describe('a reconnect function that answers no delay', () => {
  for (const [what, strategy] of answers) {
    it(`${what}: reconnecting stops, the command settles at once, without a deadline`, async () => {
      accepted = 0;
      const redis = new Redis({ port, reconnect: strategy, commandTimeout: 0 });
      redis.on('error', () => {});
      try {
        const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
        expect(err).toBeInstanceOf(ConnectionError);
        const after = accepted;
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(accepted).toBe(after); // nothing reconnects
        expect(accepted).toBeLessThanOrEqual(1);
      } finally {
        redis.disconnect();
      }
    });
  }

  it('a delay past what a timer can wait is waited at most that long, not 1 ms', async () => {
    accepted = 0;
    const redis = new Redis({ port, reconnect: (attempt) => (attempt === 1 ? 2 ** 40 : -1), commandTimeout: 300 });
    redis.on('error', () => {});
    try {
      await redis.db.reply('GET', 'k').catch(() => {});
      expect(accepted).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});
