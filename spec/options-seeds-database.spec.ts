/**
 * Several seeds mean a cluster, in mode 'auto' too (the routing treats them
 * so), and a cluster has database 0 only: db: n is refused when the client is
 * made, as with mode 'cluster', instead of every command failing later with a
 * message about redis.database(n).
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { thrown } from './support/thrown.js';

describe('several seeds and a database', () => {
  it.each([undefined, 'auto', 'cluster'] as const)('mode %s, two seeds, db: 2 is an InvalidArgumentError at construction', (mode) => {
    const err = thrown(() => new Redis({ nodes: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'], ...(mode ? { mode } : {}), db: 2, reconnect: false }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(/only database 0/);
  });

  it('a URL with several hosts and a /db path too', () => {
    const err = thrown(() => new Redis('redis://127.0.0.1:1,127.0.0.1:2/3', { mode: 'auto', reconnect: false }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(/only database 0/);
  });
});
