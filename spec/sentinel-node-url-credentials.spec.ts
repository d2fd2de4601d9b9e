/**
 * Sentinel credentials are separate from the data nodes' (DESIGN). A
 * sentinel URL carrying a password is refused (it would apply to that
 * sentinel only), and the refusal used to say "set username/password once,
 * for every node, in the options": the top-level password, which the
 * sentinels never get. Found by the HA contract audit: it now points at
 * sentinel.username / sentinel.password, and never echoes the secret.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';

describe('a sentinel URL with credentials', () => {
  it("is refused, pointing at the sentinels' own username/password, without the secret", () => {
    for (const url of ['redis://:s3cret-pw@127.0.0.1:26379', 'redis://user:s3cret-pw@127.0.0.1:26379']) {
      let err: unknown;
      try {
        new Redis({ sentinel: { name: 'mymaster', nodes: [url] } }).disconnect();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/sentinel\.username|sentinel\.password/);
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('a cluster seed with credentials still points at the top-level username/password', () => {
    expect(() => new Redis({ nodes: ['redis://:s3cret-pw@127.0.0.1:7000'] })).toThrow(/set username\/password once/);
  });
});
