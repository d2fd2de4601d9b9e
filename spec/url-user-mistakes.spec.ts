/**
 * Connection URLs as a new user gets them wrong (found by trying the
 * published package): each mistake is an InvalidArgumentError that says what
 * to write instead, never a silent misreading, and never echoes the URL.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { parseUrl } from '../lib/url.js';
import { thrown } from './support/thrown.js';

describe('connection URL mistakes', () => {
  it('unix://tmp/redis.sock (two slashes) is refused, not read as host "tmp" and socket /redis.sock', () => {
    for (const url of ['unix://tmp/redis.sock', 'redis+unix://var/run/redis.sock?db=1', 'unix://localhost/tmp/redis.sock']) {
      const err = thrown(() => parseUrl(url));
      expect(err, url).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/unix socket URL/);
      expect(err.message).toMatch(/unix:\/\/\/path/);
      expect(err.message).not.toMatch(/tmp|var|localhost/);
      expect(() => new Redis(url)).toThrow(InvalidArgumentError);
    }
    // What the README documents still works.
    expect(parseUrl('unix:///tmp/redis.sock?db=2')).toEqual({ path: '/tmp/redis.sock', db: 2 });
    expect(parseUrl('redis+unix:///tmp/redis.sock')).toEqual({ path: '/tmp/redis.sock' });
  });

  it('a URL without a scheme (host:port, a bare host) says what a URL looks like, without echoing it', () => {
    for (const url of ['localhost:6379', '127.0.0.1:6379', 'localhost', 'app:s3cret@db.internal:6379', '']) {
      const err = thrown(() => parseUrl(url));
      expect(err, url).toBeInstanceOf(InvalidArgumentError);
      expect(err.message, url).toMatch(/redis:\/\/\[user\[:password\]@\]host\[:port\]\[\/db\]/);
      expect(err.message, url).not.toMatch(/localhost|127\.0\.0\.1|s3cret|internal|"app:"/);
    }
    // A real but wrong scheme is still named as such.
    expect(thrown(() => parseUrl('http://127.0.0.1:6379')).message).toMatch(/unsupported URL scheme "http:"; use redis:/);
  });

  it('?tls=true / ?ssl=true point to rediss://', () => {
    for (const key of ['tls', 'ssl']) {
      const err = thrown(() => parseUrl(`redis://h:6379?${key}=true`));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toBe(`unknown URL option ${key}; for TLS use a rediss:// URL (or the tls option)`);
    }
  });

  it('cluster seeds listed with spaces (an env var "h1:7000, h2:7001") are read; a bad one says what a seed looks like', () => {
    expect(parseUrl('redis://h1:7000, h2:7001 ,h3').nodes).toEqual([
      { host: 'h1', port: 7000 },
      { host: 'h2', port: 7001 },
      { host: 'h3', port: 6379 },
    ]);
    const err = thrown(() => parseUrl('redis://:s3cret@h1:7000,h2:99999'));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(/host\[:port\]/);
    expect(err.message).not.toMatch(/s3cret|99999/);
  });

  it('a password with an unencoded & in ?password= is never echoed as an "unknown option"', () => {
    // '&' ends the query value: 'Secr3tTail' (the password's end) became an option name, and the error quoted it.
    for (const url of ['redis://h?password=abc&Secr3tTail', 'redis://h?password=abc&Secr3t=Tail&db=1', 'redis://h?Secr3tTail&password=abc']) {
      const err = thrown(() => parseUrl(url));
      expect(err, url).toBeInstanceOf(InvalidArgumentError);
      expect(err.message, url).not.toMatch(/Secr3t|Tail|abc/);
      expect(err.message, url).toMatch(/%26/);
    }
    // Without a password in the query, the unknown key is named, as it helps.
    expect(thrown(() => parseUrl('redis://h?conectTimeout=5')).message).toMatch(/conectTimeout; did you mean connectTimeout\?/);
  });

  it('a password holding / ? or # (which end the URL\'s authority) is told how to write it, without echoing it', () => {
    for (const password of ['Sx/9qZ', 'Sx?9qZ', 'Sx#9qZ']) {
      const err = thrown(() => parseUrl(`redis://app:${password}@cache.internal:6380/2`));
      expect(err, password).toBeInstanceOf(InvalidArgumentError);
      expect(err.message, password).toMatch(/%2F %3F %23/);
      expect(err.message, password).not.toMatch(/Sx|9qZ|cache\.internal/);
    }
  });
});
