/**
 * Review of cb19e65 (redmux/otel guards what a provider throws). The
 * connection counter's 'ready' handler notes the connection as open before
 * the counter's add(1): when add(1) throws, the close still counts add(-1),
 * so db.client.connection.count goes below zero for good (one bad export is
 * a permanent skew of an up-down counter).
 */
import { describe, expect, it } from 'vitest';
import { instrument } from '../lib/otel.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** A meter whose up-down counter throws on its first add() and records the others. */
function flakyMeterProvider(recorded: number[]) {
  let first = true;
  const counter = {
    add(n: number) {
      if (first) {
        first = false;
        throw new Error('exporter hiccup');
      }
      recorded.push(n);
    },
  };
  const meter = { createHistogram: () => ({ record() {} }), createUpDownCounter: () => counter };
  return { getMeter: () => meter };
}

describe('db.client.connection.count when the counter throws once', () => {
  it('never goes below zero: a connection whose add(1) failed is not counted out either', async () => {
    const recorded: number[] = [];
    const instrumentation = instrument({ meterProvider: flakyMeterProvider(recorded) as never });
    try {
      const redis = env.client();
      await redis.db.reply('PING'); // ready: add(1) throws
      await redis.close(); // closed: add(-1)?
    } finally {
      instrumentation.disable();
    }
    expect(recorded.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(0);
  });
});
