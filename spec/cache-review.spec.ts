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
import { AbortError, Redis, ReplyTimeoutError } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until } from './support/until.js';
import { calls } from './support/commandstats.js';

const CACHE = { cache: { maxEntries: 1000, maxBytes: 1 << 20 } };
const env = useProxiedServer({ reconnect: { baseDelay: 20, maxDelay: 50 } });

const settle = <T>(p: PromiseLike<T>) => Promise.resolve(p).then((value) => ({ value, error: undefined as unknown }), (error: unknown) => ({ value: undefined, error }));

function direct(opts = {}): Redis {
  const r = env.track(new Redis(env.server.url, opts));
  r.on('error', () => {});
  return r;
}

/** Let every callback already due run (timers of 0 ms, immediates, microtasks). */
const turn = () => new Promise((r) => setTimeout(r, 0));

describe('cache review: deadlines of a shared read', () => {
  it('a caller joining a read started with a shorter deadline is not failed by that deadline', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'ccr:dl', 'v');
    proxy.stall();
    const short = settle(cached.with({ timeout: 50 }).reply('GET', 'ccr:dl')); // starts the shared read
    let longDone = false;
    const long = settle(cached.with({ timeout: 5000 }).reply('GET', 'ccr:dl').finally(() => (longDone = true))); // joins it
    expect((await short).error).toBeInstanceOf(ReplyTimeoutError);
    await turn();
    expect(longDone).toBe(false); // its own deadline is seconds away
    proxy.resume();
    expect(await long).toEqual({ value: 'v', error: undefined });
  });

  it('several joiners with their own deadlines: each settles once, by its own deadline, with the value once the server answers', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'ccr:many', 'v');
    proxy.stall();
    const settledAt: string[] = [];
    const read = (label: string, timeout: number) =>
      settle(cached.with({ timeout }).reply('GET', 'ccr:many').finally(() => settledAt.push(label)));
    const first = read('50', 50);
    const a = read('4000', 4000);
    const b = read('300', 300);
    const c = read('5000', 5000);
    expect((await first).error).toBeInstanceOf(ReplyTimeoutError);
    // 300 ms is its own deadline: it times out, by it, while the server stays stalled.
    expect((await b).error).toBeInstanceOf(ReplyTimeoutError);
    expect(settledAt).toEqual(['50', '300']);
    proxy.resume();
    expect(await a).toEqual({ value: 'v', error: undefined });
    expect(await c).toEqual({ value: 'v', error: undefined });
    expect(settledAt.sort()).toEqual(['300', '4000', '50', '5000']);
    // The value got in the cache through one of the new reads.
    const hits = redis.stats().cache!.hits;
    expect(await cached.reply('GET', 'ccr:many')).toBe('v');
    expect(redis.stats().cache!.hits).toBe(hits + 1);
  });

  it('a joiner whose deadline passes while the retried read is still stalled rejects with a timeout, once', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'ccr:once', 'v');
    proxy.stall();
    let settlements = 0;
    const short = settle(cached.with({ timeout: 30 }).reply('GET', 'ccr:once'));
    const joined = cached.with({ timeout: 200 }).command('GET', 'ccr:once');
    const outcome = settle(joined.then((v) => (settlements++, v), (e: unknown) => (settlements++, Promise.reject(e))));
    expect((await short).error).toBeInstanceOf(ReplyTimeoutError);
    expect((await outcome).error).toBeInstanceOf(ReplyTimeoutError);
    proxy.resume();
    await redis.db.reply('PING');
    expect(settlements).toBe(1);
    expect(await cached.reply('GET', 'ccr:once')).toBe('v'); // the connection still pairs replies right
  });
});

describe('cache review: aborted cached reads', () => {
  it('the caller that started a shared read gives up: a joiner with a later deadline still gets the value', async () => {
    const { redis, proxy } = await env.through(CACHE);
    await redis.db.reply('SET', 'ccr:gone', 'v');
    proxy.stall();
    const ac = new AbortController();
    const starter = settle(redis.db.with({ cache: true, signal: ac.signal, timeout: 50 }).reply('GET', 'ccr:gone'));
    const joiner = settle(redis.db.with({ cache: true, timeout: 5000 }).reply('GET', 'ccr:gone'));
    await until('the shared read is written: its bytes are held by the proxy', () => proxy.held > 0);
    ac.abort();
    expect((await starter).error).toMatchObject({ name: 'AbortError', sent: true });
    await new Promise((r) => setTimeout(r, 100)); // past the starter's deadline, which the shared read still carries
    proxy.resume();
    expect(await joiner).toEqual({ value: 'v', error: undefined });
  });

  it('a joiner given a read of its own after the shared one timed out is aborted: sent: true, and the connection stays paired', async () => {
    const { redis, proxy } = await env.through(CACHE);
    await redis.db.reply('SET', 'ccr:again', 'v');
    proxy.stall();
    const ac = new AbortController();
    const short = settle(redis.db.with({ cache: true, timeout: 30 }).reply('GET', 'ccr:again'));
    const joiner = settle(redis.db.with({ cache: true, signal: ac.signal, timeout: 5000 }).reply('GET', 'ccr:again'));
    expect((await short).error).toBeInstanceOf(ReplyTimeoutError);
    await until("the joiner's own read is written: a second chunk held by the proxy", () => proxy.held > 1);
    ac.abort();
    expect((await joiner).error).toMatchObject({ name: 'AbortError', sent: true });
    proxy.resume();
    expect(await redis.db.reply('ECHO', 'mine')).toBe('mine');
    expect(await redis.db.with({ cache: true }).reply('GET', 'ccr:again')).toBe('v');
  });

  it('aborted after its shared read was written: AbortError with sent: true', async () => {
    const { redis, proxy } = await env.through(CACHE);
    await redis.db.reply('SET', 'ccr:ab', 'v');
    proxy.stall();
    const ac = new AbortController();
    const signalled = redis.db.with({ cache: true, signal: ac.signal });
    const starter = settle(signalled.reply('GET', 'ccr:ab')); // starts the read: written at once (connection idle)
    const joiner = settle(signalled.reply('GET', 'ccr:ab')); // joins it
    const bystander = redis.db.with({ cache: true }).reply('GET', 'ccr:ab'); // joins too, no signal
    await until('the shared read is written: its bytes are held by the proxy', () => proxy.held > 0);
    ac.abort();
    for (const r of [await starter, await joiner]) {
      expect(r.error).toBeInstanceOf(AbortError);
      expect(r.error).toMatchObject({ sent: true, command: 'GET' });
    }
    proxy.resume();
    expect(await bystander).toBe('v');
  });

  it('aborted before its shared read was written (still connecting): sent: false, and the read is never sent', async () => {
    const probe = direct();
    await probe.db.reply('SET', 'ccr:unsent', 'v');
    const before = await calls(probe, 'GET');
    const { proxy } = await env.through(); // a proxy we can hold the client behind
    proxy.refuse(true);
    const redis = env.track(new Redis(proxy.url, { ...CACHE, reconnect: { baseDelay: 20, maxDelay: 50 } }));
    redis.on('error', () => {});
    const ac = new AbortController();
    const signalled = redis.db.with({ cache: true, signal: ac.signal });
    const one = settle(signalled.reply('GET', 'ccr:unsent'));
    const two = settle(signalled.reply('GET', 'ccr:unsent'));
    await turn();
    ac.abort();
    for (const r of [await one, await two]) {
      expect(r.error).toBeInstanceOf(AbortError);
      expect(r.error).toMatchObject({ sent: false });
    }
    proxy.refuse(false);
    await redis.db.reply('PING'); // connected: anything still queued is written before this
    expect(await calls(probe, 'GET')).toBe(before); // the shared read was dropped, never sent
    expect(redis.stats().cache!.entries).toBe(0);
  });

  it('one caller of an unwritten shared read aborts: the read is still sent for the other', async () => {
    const probe = direct();
    await probe.db.reply('SET', 'ccr:half', 'v');
    const before = await calls(probe, 'GET');
    const { proxy } = await env.through();
    proxy.refuse(true);
    const redis = env.track(new Redis(proxy.url, { ...CACHE, reconnect: { baseDelay: 20, maxDelay: 50 } }));
    redis.on('error', () => {});
    const ac = new AbortController();
    const aborted = settle(redis.db.with({ cache: true, signal: ac.signal }).reply('GET', 'ccr:half'));
    const kept = redis.db.with({ cache: true }).reply('GET', 'ccr:half');
    await turn();
    ac.abort();
    expect((await aborted).error).toMatchObject({ name: 'AbortError', sent: false });
    proxy.refuse(false);
    expect(await kept).toBe('v');
    expect(await calls(probe, 'GET')).toBe(before + 1);
  });
});

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
