/**
 * Client-side cache, after an adversarial review (issue 13): a caller sharing
 * another caller's read is bound by its own deadline, not the other's; an
 * aborted cached read says whether the shared read was written, and a shared
 * read every caller gave up before it was written is never sent; plus the
 * cases a reviewer would try next (Buffer and string arguments, replies
 * mutated by their caller, FLUSHALL in another database, huge values against
 * `maxBytes`).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';

const CACHE = { cache: { maxEntries: 1000, maxBytes: 1 << 20 } };
const env = useProxiedServer({ reconnect: { baseDelay: 20, maxDelay: 50 } });

/** How many times the server ran `command` (INFO commandstats). */
async function calls(probe: Redis, command: string): Promise<number> {
  const info: string = await probe.db.reply('INFO', 'commandstats');
  const m = new RegExp(`^cmdstat_${command.toLowerCase()}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

function direct(opts = {}): Redis {
  const r = env.track(new Redis(env.server.url, opts));
  r.on('error', () => {});
  return r;
}

describe('cache review: what else a reviewer would try', () => {
  it('a Buffer key and a string key with the same bytes are separate entries, both invalidated by a write', async () => {
    const { redis } = await env.through(CACHE);
    const writer = direct();
    const cached = redis.db.with({ cache: true });
    await writer.db.reply('SET', 'ccr:bs', 'one');
    expect(await cached.reply('GET', 'ccr:bs')).toBe('one');
    expect(await cached.reply('GET', Buffer.from('ccr:bs'))).toBe('one');
    expect(redis.stats().cache!.entries).toBe(2);
    await writer.db.reply('SET', 'ccr:bs', 'two');
    await redis.db.reply('PING');
    expect(redis.stats().cache!.entries).toBe(0);
    expect(await cached.reply('GET', Buffer.from('ccr:bs'))).toBe('two');
    expect(await cached.reply('GET', 'ccr:bs')).toBe('two');
  });

  it('a caller that mutates its Buffer reply changes nobody else\'s', async () => {
    const { redis } = await env.through(CACHE);
    const raw = redis.db.with({ cache: true, decode: 'buffer' });
    await redis.db.reply('SET', 'ccr:mut', 'abc');
    const [x, y] = await Promise.all([raw.reply('GET', 'ccr:mut'), raw.reply('GET', 'ccr:mut')]);
    x!.fill(0x7a);
    expect(y!.toString()).toBe('abc');
    const z = await raw.reply('GET', 'ccr:mut');
    expect(z!.toString()).toBe('abc');
    z!.fill(0x7a);
    expect((await raw.reply('GET', 'ccr:mut'))!.toString()).toBe('abc');
    const all = redis.db.with({ cache: true });
    await redis.db.reply('HSET', 'ccr:mh', 'f', '1');
    const h = await all.reply('HGETALL', 'ccr:mh');
    (h as Record<string, string>).f = 'changed';
    expect({ ...(await all.reply('HGETALL', 'ccr:mh')) }).toEqual({ f: '1' });
  });

  it('FLUSHDB by another client in another database still flushes (a null invalidation): no stale read', async () => {
    const { redis } = await env.through(CACHE);
    const other = direct();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'ccr:fl', 'v');
    expect(await cached.reply('GET', 'ccr:fl')).toBe('v');
    await other.database(3).reply('FLUSHDB');
    await redis.db.reply('PING');
    expect(redis.stats().cache!.entries).toBe(0); // conservative: tracking does not say which database
    await other.db.reply('FLUSHALL');
    await redis.db.reply('PING');
    expect(await cached.reply('GET', 'ccr:fl')).toBe(null);
  });

  it('huge values stay within maxBytes: a value larger than the bound is answered, not kept; others are evicted for a big one', async () => {
    const { redis } = await env.through({ cache: { maxEntries: 1000, maxBytes: 300_000 } });
    const probe = direct();
    const cached = redis.db.with({ cache: true });
    const big = 'b'.repeat(200_000);
    const huge = 'h'.repeat(400_000);
    await redis.db.reply('SET', 'ccr:huge', huge);
    await redis.db.reply('SET', 'ccr:big1', big);
    await redis.db.reply('SET', 'ccr:big2', big);
    await redis.db.reply('SET', 'ccr:small', 's');
    const before = await calls(probe, 'GET');
    // Two callers share the read of a value too big to keep: both get it whole.
    expect(await Promise.all([cached.reply('GET', 'ccr:huge'), cached.reply('GET', 'ccr:huge')])).toEqual([huge, huge]);
    expect(redis.stats().cache!.entries).toBe(0);
    expect(await cached.reply('GET', 'ccr:huge')).toBe(huge);
    expect(await calls(probe, 'GET')).toBe(before + 2); // not kept: read again
    expect(await cached.reply('GET', 'ccr:small')).toBe('s');
    expect(await cached.reply('GET', 'ccr:big1')).toBe(big);
    expect(redis.stats().cache!.bytes).toBeLessThanOrEqual(300_000);
    expect(await cached.reply('GET', 'ccr:big2')).toBe(big); // evicts big1 (the oldest unread)
    const s = redis.stats().cache!;
    expect(s.bytes).toBeLessThanOrEqual(300_000);
    expect(s.entries).toBeLessThanOrEqual(2);
    expect(await cached.reply('GET', 'ccr:big2')).toBe(big);
    // A string with characters past U+00FF takes two bytes a character in V8: 200k of them hold 400 KB, too big to keep.
    const wide = '\u00e9\u4e2d'.repeat(100_000);
    await redis.db.reply('SET', 'ccr:wide', wide);
    const wideGets = await calls(probe, 'GET');
    expect(await cached.reply('GET', 'ccr:wide')).toBe(wide);
    expect(await cached.reply('GET', 'ccr:wide')).toBe(wide);
    expect(await calls(probe, 'GET')).toBe(wideGets + 2);
    expect(redis.stats().cache!.bytes).toBeLessThanOrEqual(300_000);
  });

  it('listeners that throw (commandError, a tracing subscriber) leave every shared read settled once (a child process; runs dist/)', async () => {
    const child = path.join(__dirname, 'support', 'cache-review-throwing.child.mjs');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [child, env.server.url], { timeout: 15_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const { thrown, results } = JSON.parse(out.trim().split('\n').pop()!) as { thrown: number; results: Record<string, unknown> };
    expect(results).toEqual({
      failed: { ok: false, e: 'WrongTypeError' },
      kept: { ok: true, v: 'v' },
      many: true,
      after: { ok: true, v: 'still here' },
    });
    // Two fire-and-forget callers of the failed read and the aborted one were reported; every settlement was traced.
    expect(thrown).toBeGreaterThanOrEqual(3 + 20);
  });
});
