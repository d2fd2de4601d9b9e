/**
 * Options a new user coming from another client gets wrong (found by trying
 * the packed tarball), refused at construction with what to write instead:
 *
 * - `host: 'redis://127.0.0.1'` or `host: '127.0.0.1:6380'` was accepted; the
 *   client then looked the whole string up in DNS (ENOTFOUND) on every
 *   reconnect, and with the default options the user waited commandTimeout
 *   for a ReplyTimeoutError. It is an InvalidArgumentError pointing to the
 *   URL argument or to `port` (an IPv6 literal, `::1`, stays a host).
 * - `lazyConnect: true` (ioredis) was answered "did you mean reconnect?",
 *   which is another thing entirely; the hint should say what redmux does
 *   instead (it connects when made: make the client when it is needed).
 *
 * (lib/options.ts: the host validator and REDIS_HINTS.)
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { thrown } from './support/thrown.js';

describe('options from other clients', () => {
  it('a host holding a scheme or a port is refused at construction, saying where those go', () => {
    for (const host of ['redis://127.0.0.1', '127.0.0.1:6380', 'cache.internal:6379']) {
      const err = thrown(() => new Redis({ host, reconnect: false }));
      expect(err, host).toBeInstanceOf(InvalidArgumentError);
      expect(err.message, host).toMatch(/\bport\b|URL/);
    }
    // IPv6 literals are hosts.
    for (const host of ['::1', 'fe80::1']) new Redis({ host, reconnect: false }).disconnect();
  });

  it('lazyConnect is not answered with "did you mean reconnect?"', () => {
    const err = thrown(() => new Redis({ lazyConnect: true } as never));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(/^unknown option lazyConnect/);
    expect(err.message).not.toMatch(/did you mean reconnect/);
  });
});
