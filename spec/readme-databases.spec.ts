/**
 * README "Databases and per-call options", against a real server: the list
 * of what `with()` takes is the list it accepts, and a later `with()`
 * replaces the earlier options key by key (a key it does not give is kept,
 * one given as `undefined` goes back to the default). spec/key-prefix.spec.ts
 * has the prefix-only case; here it is every kind of option at once.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbortError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { thrown } from './support/thrown.js';

const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Databases and per-call options'), readme.indexOf('#### Cancelling'));
const env = useRealServer();

describe('README, databases and per-call options', () => {
  it('the paragraph on with() names every option with() accepts, and nothing else', () => {
    const redis = env.client();
    const valid = /valid options: (.*)$/.exec(thrown(() => redis.db.with({ zzzzzzzzzzzz: 1 } as never)).message)![1]!.split(', ');
    const paragraph = section.slice(section.indexOf('`with()` takes'), section.indexOf('\n\n', section.indexOf('`with()` takes')));
    const named = new Set([...paragraph.matchAll(/`([a-z]+)(?::[^`]*)?`/gi)].map((m) => m[1]!));
    expect(valid.filter((o) => !named.has(o))).toEqual([]);
    // Every option-looking name of the paragraph is one (besides the types and classes it mentions).
    const others = [...named].filter((n) => !valid.includes(n));
    expect(others.sort()).toEqual(['AbortSignal', 'RetryPolicy', 'undefined']);
  });

  it('a later with() keeps what it does not give, replaces what it gives, and undefined goes back to the default', async () => {
    const redis = env.client({ cache: {} });
    const admin = env.client().db;
    await admin.reply('SET', 'rdb:k', 'v');
    await admin.reply('SET', 'p:rdb:k', 'prefixed');
    const ac = new AbortController();
    ac.abort();
    const base = redis.db.with({ decode: 'buffer', cache: true, prefix: 'p:', signal: ac.signal });
    // Kept: decode, cache and prefix are still the base's when only timeout is given (the signal is replaced).
    const kept = base.with({ timeout: 5000, signal: new AbortController().signal });
    expect(await kept.reply('GET', 'rdb:k')).toEqual(Buffer.from('prefixed'));
    expect(await kept.reply('GET', 'rdb:k')).toEqual(Buffer.from('prefixed'));
    expect(redis.stats().cache!.hits + redis.stats().cache!.misses).toBe(2); // both read through the cache
    // The aborted signal of the base is still the base's.
    expect(await base.reply('GET', 'rdb:k').catch((e) => e)).toBeInstanceOf(AbortError);
    // Given as undefined: back to the client's defaults (utf8, no prefix, no signal, no cache).
    const reset = base.with({ decode: undefined, prefix: undefined, signal: undefined, cache: undefined });
    expect(await reset.reply('GET', 'rdb:k')).toBe('v');
    const before = { ...redis.stats().cache! };
    expect(await base.with({ cache: false, signal: undefined }).reply('GET', 'rdb:k')).toEqual(Buffer.from('prefixed'));
    expect(redis.stats().cache).toEqual(before); // neither read went near the cache
  });
});
