/**
 * The README's reference tables cover what the package accepts and exports,
 * so a new user reading them finds every option and every error class: each
 * option `new Redis()` accepts has a row in the options table, each error
 * class the package exports appears in the Errors section, and each field of
 * `redis.stats()` is named under "Events, stats, close", and the README's
 * signatures of `RetryPolicy.exponential` / `constant` list every option.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as redmux from '../lib/index.js';
import { thrown } from './support/thrown.js';

const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');

/** The section under a `## ` heading, up to the next one. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, title).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README reference', () => {
  it('the options table has a row for every option new Redis() accepts', () => {
    // The constructor lists the valid options when nothing is close to the key given.
    const message = thrown(() => new redmux.Redis({ zzzzzzzzzzzzzzzzzzzzzzzz: 1 } as never)).message;
    const valid = /valid options: (.*)$/.exec(message)![1]!.split(', ');
    expect(valid).toContain('commandTimeout');
    const header = readme.indexOf('| option | default | meaning |');
    expect(header).toBeGreaterThan(0);
    const rows = readme.slice(header).split('\n').slice(2);
    const table = rows.slice(0, rows.findIndex((l) => !l.startsWith('|')));
    const documented = new Set(table.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]!)));
    expect(valid.filter((k) => !documented.has(k))).toEqual([]);
  });

  it('the Errors section names every error class the package exports', () => {
    const errors = section('Errors');
    const classes = Object.entries(redmux)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error)
      .map(([k]) => k);
    expect(classes).toContain('RedisError');
    expect(classes.filter((name) => !new RegExp(`\\b${name}\\b`).test(errors))).toEqual([]);
  });

  it('"Events, stats, close" names every field of redis.stats()', () => {
    const start = readme.indexOf('\n### Events, stats, close\n');
    expect(start).toBeGreaterThan(0);
    const text = readme.slice(start, readme.indexOf('\n## ', start));
    const redis = new redmux.Redis({ port: 1, reconnect: false, cache: {} });
    const fields = Object.keys(redis.stats());
    redis.disconnect();
    expect(fields).toContain('cache');
    expect(fields.filter((f) => !text.includes(`\`${f}\``))).toEqual([]);
  });

  it("RetryPolicy.exponential({ ... }) and RetryPolicy.constant({ ... }) list every option they take", () => {
    for (const [name, make] of [['exponential', redmux.RetryPolicy.exponential], ['constant', redmux.RetryPolicy.constant]] as const) {
      const valid = /valid options: (.*)$/.exec(thrown(() => make({ zzzzzzzzzzzzzzzzzzzzzzzz: 1 } as never)).message)![1]!.split(', ');
      expect(valid).toContain('attempts');
      // The signature, not an example call: names only, no values.
      const signature = [...readme.matchAll(new RegExp(`RetryPolicy\\.${name}\\(\\{ ([^}]*) \\}\\)`, 'g'))].find((m) => !m[1]!.includes(':'));
      expect(signature, name).toBeDefined();
      const listed = signature![1]!.split(/,\s*/);
      expect(valid.filter((k) => !listed.includes(k)), name).toEqual([]);
    }
  });
});
