/**
 * Connection URLs: what a user writes in a config file. Bad input is an
 * InvalidArgumentError that says what is wrong, and a password (or any part
 * of the URL's credentials) never appears in the message.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { parseUrl } from '../lib/url.js';
import { thrown } from './support/thrown.js';

describe('connection URLs', () => {
  it('percent-escapes in the credentials and the socket path are decoded', () => {
    expect(parseUrl('redis://us%40er:p%40ss%3Aw%2Fd@h:7000/2')).toEqual({
      host: 'h',
      port: 7000,
      db: 2,
      username: 'us@er',
      password: 'p@ss:w/d',
    });
    expect(parseUrl('redis://:%C3%A9t%C3%A9@h').password).toBe('été');
    expect(parseUrl('unix:///tmp/my%20redis.sock?db=3')).toEqual({ path: '/tmp/my redis.sock', db: 3 });
  });

  it('a malformed %-escape in the password is an InvalidArgumentError that does not echo it', () => {
    const cases: [string, string][] = [
      ['redis://user:pa%zzss@host', 'pa%zzss'],
      ['redis://:pa%zzss@host', 'pa%zzss'],
      ['rediss://user:pa%E0%A4ss@host:6380/1', 'pa%E0%A4ss'],
      ['redis://user:pass%@host', 'pass%'],
    ];
    for (const [url, password] of cases) {
      const err = thrown(() => parseUrl(url));
      expect(err, url).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/password/);
      expect(err.message).not.toContain(password);
      expect(err.message).not.toMatch(/zz|E0|A4/);
      // The same through the constructor: nothing is created.
      expect(() => new Redis(url)).toThrow(InvalidArgumentError);
    }
  });

  it('a malformed %-escape in the user name or the socket path is an InvalidArgumentError too', () => {
    const user = thrown(() => parseUrl('redis://us%zzer:secret@host'));
    expect(user).toBeInstanceOf(InvalidArgumentError);
    expect(user.message).toMatch(/user name/);
    expect(user.message).not.toMatch(/us%zzer|zz|secret/);
    const path = thrown(() => parseUrl('unix:///tmp/re%zzdis.sock'));
    expect(path).toBeInstanceOf(InvalidArgumentError);
    expect(path.message).toMatch(/socket path/);
    expect(path.message).not.toMatch(/re%zzdis|zz/);
  });

  it('an unknown query option names the closest valid one', () => {
    const typo = thrown(() => parseUrl('redis://h?conectTimeout=5'));
    expect(typo).toBeInstanceOf(InvalidArgumentError);
    expect(typo.message).toMatch(/unknown URL option conectTimeout; did you mean connectTimeout\?/);
    expect(thrown(() => parseUrl('redis://h?database=2')).message).toMatch(/did you mean db\?/);
    expect(thrown(() => parseUrl('redis://h?commandtimeout=5')).message).toMatch(/did you mean commandTimeout\?/);
    // Nothing close: the valid options are listed instead.
    expect(thrown(() => parseUrl('redis://h?zzzzzzzz=1')).message).toMatch(/valid URL options: .*connectTimeout/);
  });

  it('query option values are type-checked, without echoing them', () => {
    const bad = [
      'redis://h?db=abc',
      'redis://h?db=-1',
      'redis://h?db=1.5',
      'redis://h?db=99999999999999999999',
      'redis://h?protocol=4',
      'redis://h?connectTimeout=1e3',
      'redis://h?commandTimeout=',
      'redis://h/99999999999999999999',
    ];
    for (const url of bad) {
      const err = thrown(() => parseUrl(url));
      expect(err, url).toBeInstanceOf(InvalidArgumentError);
      expect(err.message, url).not.toMatch(/abc|1\.5|9999|1e3/);
    }
    // Values the URL form can carry but a timer cannot: refused at construction like the object form.
    expect(() => new Redis('redis://h?commandTimeout=99999999999')).toThrow(/option commandTimeout/);
    expect(() => new Redis('redis://h?clientName=has%20space')).toThrow(/option clientName/);
  });

  it('a password given in the query is never echoed either', () => {
    const err = thrown(() => parseUrl('redis://h?password=hunter2&pasword=hunter3'));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).not.toMatch(/hunter/);
  });
});
