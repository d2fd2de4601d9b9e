/**
 * The README reads in the order a new user needs it: what redmux is, how to
 * install it, then the API; commands for contributors (tests, benchmarks) in
 * a section of their own after it; and every URL query parameter the parser
 * accepts is documented (and every documented one is accepted).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUrl, QUERY_OPTIONS } from '../lib/url.js';

const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
const headings = [...readme.matchAll(/^(#{1,3}) (.+)$/gm)].map((m) => ({ level: m[1]!.length, title: m[2]!, at: m.index! }));
const sectionAt = (title: RegExp) => headings.find((h) => h.level === 2 && title.test(h.title));

describe('README structure', () => {
  it('starts with what redmux is, then `npm install redmux`, before the API', () => {
    expect(headings[0]).toMatchObject({ level: 1, title: 'redmux' });
    const intro = readme.slice(0, headings[1]!.at);
    expect(intro).toMatch(/Redis client for Node\.js/);
    const install = sectionAt(/^Install/);
    const api = sectionAt(/^API$/)!;
    expect(install, 'an Install section').toBeDefined();
    expect(install!.at).toBeLessThan(api.at);
    expect(headings.filter((h) => h.level === 2)[0]).toBe(install);
    expect(readme.slice(install!.at, api.at)).toMatch(/npm install redmux/);
  });

  it('keeps contributor commands (tests, benchmarks) in their own section, after the API', () => {
    const api = sectionAt(/^API$/)!;
    const dev = sectionAt(/^Development/);
    expect(dev, 'a Development section').toBeDefined();
    expect(dev!.at).toBeGreaterThan(api.at);
    const body = readme.slice(dev!.at, headings.find((h) => h.level === 2 && h.at > dev!.at)?.at ?? readme.length);
    expect(body).toMatch(/npm test/);
    expect(body).toMatch(/npm run bench/);
    // Before it, nothing tells a user to run the test suite.
    expect(readme.slice(0, dev!.at)).not.toMatch(/npm ci && npm test/);
  });

  it('documents every URL query parameter, and each one documented is accepted', () => {
    const start = readme.indexOf('| query parameter |');
    expect(start, 'a table of URL query parameters').toBeGreaterThan(0);
    const rows = readme.slice(start).split('\n\n')[0]!.split('\n').slice(2);
    const documented = new Set(rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1]!)));
    for (const name of QUERY_OPTIONS) expect(documented.has(name), `README documents ?${name}=`).toBe(true);
    const samples: Record<string, string> = { db: '2', protocol: '2', clientName: 'app', name: 'app', connectTimeout: '100', commandTimeout: '100', username: 'u', password: 'p' };
    for (const name of documented) {
      expect(samples[name], `a sample value for ${name}`).toBeDefined();
      expect(() => parseUrl(`redis://127.0.0.1:6379/?${name}=${samples[name]}`)).not.toThrow();
    }
  });
});
