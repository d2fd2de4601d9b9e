/**
 * SCAN iterators against a real server: every key once, lazily, filters,
 * early exit (INFO commandstats counts the SCANs), H/S/ZSCAN shapes, Buffers.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionLostError, InvalidArgumentError, ScanIterator, ServerError, type Database } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

async function scanCalls(db: Database, name = 'scan'): Promise<number> {
  const info: string = await db.reply('INFO', 'commandstats');
  const m = new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

async function fill(db: Database, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    const args: string[] = [];
    for (let j = i; j < Math.min(n, i + 500); j++) args.push(`${prefix}${j}`, String(j));
    await db.reply('MSET', ...args);
  }
}

describe('db.scan', () => {
  it('yields each of 5,000 keys exactly once', async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    await fill(db, 'k:', 5000);
    const seen: string[] = [];
    for await (const key of db.scan()) seen.push(key);
    expect(seen).toHaveLength(5000);
    expect(new Set(seen).size).toBe(5000);
    // dedupe: false yields what the server sends (here the same: nothing rehashes)
    let n = 0;
    for await (const _ of db.scan({ dedupe: false, count: 1000 })) n++;
    expect(n).toBe(5000);
  });

  it('dedupe removes a key the server returns twice; dedupe: false keeps it', async () => {
    // A server repeats keys while its table rehashes; here the duplicate comes
    // from a target that answers the same page twice.
    const pages = [['5', ['a', 'b']], ['0', ['b', 'c']]];
    let i = 0;
    const fake = { reply: (async () => pages[i++ % 2]) as never };
    const { keyScan } = await import('../lib/scan.js'); // what db.scan() runs, on a target of our own
    const out: string[] = [];
    for await (const k of keyScan({}, async () => [{ target: fake }], undefined)) out.push(k as string);
    expect(out).toEqual(['a', 'b', 'c']);
    const raw: string[] = [];
    for await (const k of keyScan({ dedupe: false }, async () => [{ target: fake }], undefined)) raw.push(k as string);
    expect(raw).toEqual(['a', 'b', 'b', 'c']);
  });

  it('a node lost mid-walk is walked again from the start on its successor; keys already yielded are not repeated', async () => {
    const { keyScan } = await import('../lib/scan.js');
    const lost = new ConnectionLostError('the connection closed', true);
    const dying = { reply: (async (_n: string, cursor: string) => {
      if (cursor === '0') return ['7', ['a', 'b']];
      throw lost;
    }) as never };
    const successor = { reply: (async (_n: string, cursor: string) => (cursor === '0' ? ['3', ['b', 'a']] : ['0', ['c']])) as never };
    const out: string[] = [];
    for await (const k of keyScan({}, async () => [{ target: dying, successor: async () => successor }], undefined)) out.push(k as string);
    expect(out).toEqual(['a', 'b', 'c']);
    // Without a successor (a single server, or no failover) the iteration rejects with the loss.
    const failed = (async () => {
      for await (const _ of keyScan({}, async () => [{ target: dying, successor: async () => undefined }], undefined)) { /* first page */ }
    })();
    await expect(failed).rejects.toBe(lost);
    // A server error is not a lost node: no successor is asked.
    let asked = 0;
    const wrong = { reply: (async () => { throw new ServerError('ERR nope', 'ERR'); }) as never };
    const refused = (async () => {
      for await (const _ of keyScan({}, async () => [{ target: wrong, successor: async () => { asked++; return successor; } }], undefined)) { /* none */ }
    })();
    await expect(refused).rejects.toBeInstanceOf(ServerError);
    expect(asked).toBe(0);
  });

  it('match, type and count reach the server', async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    await fill(db, 'user:', 300);
    await db.reply('HSET', 'user:h1', 'f', 'v');
    await db.reply('HSET', 'other:h2', 'f', 'v');
    const hashes: string[] = [];
    for await (const key of db.scan({ type: 'hash', count: 100 })) hashes.push(key);
    expect(hashes.sort()).toEqual(['other:h2', 'user:h1']);
    const users: string[] = [];
    for await (const key of db.scan({ match: 'user:1*' })) users.push(key);
    expect(users.every((k) => k.startsWith('user:1'))).toBe(true);
    expect(users).toHaveLength(1 + 10 + 100); // user:1, user:10-19, user:100-199
  });

  it('fetches a page only when needed; breaking out stops issuing SCAN', async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    await fill(db, 'b:', 5000);
    await db.reply('CONFIG', 'RESETSTAT');
    const it = db.scan({ count: 10 });
    expect(await scanCalls(db)).toBe(0); // making the iterator sends nothing
    let taken = 0;
    for await (const _ of it) {
      if (++taken === 5) break;
    }
    const after = await scanCalls(db);
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(await scanCalls(db)).toBe(after); // nothing more after the break
  });

  it('pages() yields the server batches, never empty', async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    await fill(db, 'p:', 2000);
    let total = 0;
    let pages = 0;
    for await (const page of db.scan({ count: 500 }).pages()) {
      expect(page.length).toBeGreaterThan(0);
      total += page.length;
      pages++;
    }
    expect(total).toBe(2000);
    expect(pages).toBeGreaterThan(1);
    expect(db.scan()).toBeInstanceOf(ScanIterator);
  });

  it("decode: 'buffer' yields Buffers, binary keys exact", async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    const key = Buffer.from([0xff, 0x00, 0x80, 0x41]);
    await db.reply('SET', key, 'v');
    await db.reply('SET', 'text', 'v');
    const raw = db.with({ decode: 'buffer' });
    const keys: Buffer[] = [];
    for await (const k of raw.scan()) keys.push(k);
    expect(keys.every((k) => Buffer.isBuffer(k))).toBe(true);
    expect(keys.some((k) => k.equals(key))).toBe(true);
    expect(keys).toHaveLength(2);
  });

  it('a prefixed view scans its own keys and yields them without the prefix (glob characters in the prefix escaped)', async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    await db.reply('MSET', 'app*:a', '1', 'app*:b', '2', 'appX:c', '3', 'other', '4');
    const view = db.with({ prefix: 'app*:' });
    const keys: string[] = [];
    for await (const k of view.scan()) keys.push(k);
    expect(keys.sort()).toEqual(['a', 'b']);
    const some: string[] = [];
    for await (const k of view.scan({ match: 'b*' })) some.push(k);
    expect(some).toEqual(['b']);
  });

  it('checks its options at once: unknown keys and wrong types are InvalidArgumentError', () => {
    const db = env.client().db;
    expect(() => db.scan({ mach: 'x' } as never)).toThrow(/did you mean match/);
    expect(() => db.scan({ count: 0 })).toThrow(InvalidArgumentError);
    expect(() => db.scan({ type: 5 } as never)).toThrow(InvalidArgumentError);
    expect(() => db.scan({ dedupe: 'no' } as never)).toThrow(InvalidArgumentError);
    expect(() => db.hscan('h', { type: 'hash' } as never)).toThrow(InvalidArgumentError);
    expect(() => db.hscan(undefined as never)).toThrow(InvalidArgumentError);
  });

  it('errors of a page reach the consumer (the iteration rejects)', async () => {
    const db = env.client().db;
    await db.reply('SET', 'str', 'v');
    await expect((async () => {
      for await (const _ of db.hscan('str')) { /* never */ }
    })()).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('db.hscan / sscan / zscan', () => {
  it('hscan yields [field, value] pairs', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'h');
    const fields: string[] = [];
    for (let i = 0; i < 1000; i++) fields.push(`f${i}`, `v${i}`);
    await db.reply('HSET', 'h', ...fields);
    const got = new Map<string, string>();
    for await (const [f, v] of db.hscan('h', { count: 100 })) got.set(f, v);
    expect(got.size).toBe(1000);
    expect(got.get('f7')).toBe('v7');
    const matched: string[] = [];
    for await (const [f] of db.hscan('h', { match: 'f99*' })) matched.push(f);
    expect(matched.sort()).toEqual(['f99', 'f990', 'f991', 'f992', 'f993', 'f994', 'f995', 'f996', 'f997', 'f998', 'f999']);
  });

  it('sscan yields members; zscan yields [member, score] with numeric scores (inf included)', async () => {
    const db = env.client().db;
    await db.reply('DEL', 's', 'z');
    await db.reply('SADD', 's', 'a', 'b', 'c');
    const members: string[] = [];
    for await (const m of db.sscan('s')) members.push(m);
    expect(members.sort()).toEqual(['a', 'b', 'c']);
    await db.reply('ZADD', 'z', '1.5', 'x', '-inf', 'lo', '+inf', 'hi', '3', 'y');
    const scores: Record<string, number> = {};
    for await (const [m, score] of db.zscan('z')) scores[m] = score;
    expect(scores).toEqual({ x: 1.5, lo: -Infinity, hi: Infinity, y: 3 });
  });

  it('large collections (hashtable encoding) are walked in several pages, each item once', async () => {
    const db = env.client().db;
    await db.reply('DEL', 'bigset');
    const members = Array.from({ length: 3000 }, (_, i) => `m${i}`);
    await db.reply('SADD', 'bigset', ...members);
    await db.reply('CONFIG', 'RESETSTAT');
    const got = new Set<string>();
    for await (const m of db.sscan('bigset', { count: 100, dedupe: true })) got.add(m);
    expect(got.size).toBe(3000);
    expect(await scanCalls(db, 'sscan')).toBeGreaterThan(1);
  });

  it("decode: 'buffer' gives Buffer fields and values, numeric scores", async () => {
    const db = env.client().db;
    await db.reply('DEL', 'hb', 'zb');
    await db.reply('HSET', 'hb', 'f', Buffer.from([0xfe]));
    await db.reply('ZADD', 'zb', 2, 'm');
    const raw = db.with({ decode: 'buffer' });
    for await (const [f, v] of raw.hscan('hb')) {
      expect(f).toEqual(Buffer.from('f'));
      expect(v).toEqual(Buffer.from([0xfe]));
    }
    for await (const [m, s] of raw.zscan('zb')) {
      expect(m).toEqual(Buffer.from('m'));
      expect(s).toBe(2);
    }
  });
});

/** A target of our own that answers `pages` in turn (cursor of each, items), counting requests and their cursors. */
function scripted(pages: [string, unknown[]][]) {
  const cursors: string[] = [];
  let i = 0;
  const target = {
    reply: (async (_name: string, ...args: unknown[]) => {
      cursors.push(String(args.find((a) => typeof a === 'string' && /^\d+$/.test(a))));
      await new Promise((r) => setImmediate(r)); // a round trip: timers may run meanwhile
      const page = pages[Math.min(i++, pages.length - 1)]!;
      return [page[0], [...page[1]]];
    }) as never,
  };
  return { target, cursors };
}

/**
 * Let pending callbacks and a few timer turns run: a window in which what
 * must not happen (another SCAN) would show; a slow machine only widens it.
 */
const settleDown = () => new Promise((r) => setTimeout(r, 20));

describe('the iterator protocol (next / return, by hand)', () => {
  it('return() mid-page ends the iteration at once: no further SCAN (real server)', async () => {
    const db = env.client().db;
    await db.reply('FLUSHALL');
    await fill(db, 'r:', 2000);
    await db.reply('CONFIG', 'RESETSTAT');
    const it = db.scan({ count: 100 })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(await scanCalls(db)).toBe(1); // one page, not yet exhausted
    expect(await it.return!()).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true }); // the rest of the page is gone too
    await settleDown();
    expect(await scanCalls(db)).toBe(1);
  });

  it('return() while a walk skips empty pages (MATCH finds nothing) stops asking at once', async () => {
    const { keyScan } = await import('../lib/scan.js');
    const { target, cursors } = scripted([['1', []]]); // an endless run of empty pages
    const it = keyScan({}, async () => [{ target }], undefined)[Symbol.asyncIterator]();
    const pending = it.next();
    await until('the walk asked for more than one page', () => cursors.length > 1);
    await it.return!();
    const asked = cursors.length;
    expect(asked).toBeGreaterThan(1);
    expect(await pending).toEqual({ value: undefined, done: true });
    await settleDown();
    expect(cursors.length).toBeLessThanOrEqual(asked + 1); // at most the request already in flight
    const pages = keyScan({}, async () => [{ target }], undefined).pages();
    const before = cursors.length;
    const pendingPage = pages.next();
    await until('the pages walk asked for more than one page', () => cursors.length > before + 1);
    await pages.return!();
    const asked2 = cursors.length;
    expect(await pendingPage).toEqual({ value: undefined, done: true });
    await settleDown();
    expect(cursors.length).toBeLessThanOrEqual(asked2 + 1);
  });

  it('throw() ends the iteration like an async generator would (yield* delegates to it): rejects, nothing more is sent', async () => {
    const { keyScan } = await import('../lib/scan.js');
    const { target, cursors } = scripted([['4', ['a', 'b']], ['0', ['c']]]);
    const it = keyScan({}, async () => [{ target }], undefined)[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 'a', done: false });
    const reason = new Error('consumer gave up');
    await expect(it.throw!(reason)).rejects.toBe(reason);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    const pages = keyScan({}, async () => [{ target }], undefined).pages();
    await expect(pages.throw!(reason)).rejects.toBe(reason);
    expect(await pages.next()).toEqual({ value: undefined, done: true });
    expect(cursors).toEqual(['0']);
    // Delegation: an outer generator that stops early takes the scan with it.
    const walk = scripted([['4', ['a', 'b']], ['0', ['c']]]);
    async function* firstOnly() {
      yield* keyScan({}, async () => [{ target: walk.target }], undefined);
    }
    for await (const k of firstOnly()) {
      expect(k).toBe('a');
      break;
    }
    expect(walk.cursors).toEqual(['0']);
  });

  it('next() called again before the last one settled: one request per page, items in call order', async () => {
    const { keyScan } = await import('../lib/scan.js');
    const { target, cursors } = scripted([['4', ['a']], ['9', []], ['7', ['b', 'c']], ['0', ['d']]]);
    const it = keyScan({}, async () => [{ target }], undefined)[Symbol.asyncIterator]();
    const all = await Promise.all([it.next(), it.next(), it.next(), it.next(), it.next(), it.next()]);
    expect(all.map((r) => r.value)).toEqual(['a', 'b', 'c', 'd', undefined, undefined]);
    expect(all.map((r) => r.done)).toEqual([false, false, false, false, true, true]);
    expect(cursors).toEqual(['0', '4', '9', '7']); // each cursor asked once, in order
    const again = scripted([['4', ['a']], ['0', ['b', 'c']]]);
    const pages = keyScan({}, async () => [{ target: again.target }], undefined).pages();
    const got = await Promise.all([pages.next(), pages.next(), pages.next()]);
    expect(got.map((r) => r.value)).toEqual([['a'], ['b', 'c'], undefined]);
    expect(again.cursors).toEqual(['0', '4']);
  });

  it('a failed page ends the iteration: the caller that asked gets the error, later calls the end, nothing more is sent', async () => {
    const { keyScan } = await import('../lib/scan.js');
    let asked = 0;
    const failing = { reply: (async (_n: string, cursor: string) => {
      asked++;
      if (cursor === '0') return ['5', ['a']];
      throw new ServerError('ERR broken', 'ERR');
    }) as never };
    const it = keyScan({}, async () => [{ target: failing }], undefined)[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 'a', done: false });
    const [failed, after] = await Promise.allSettled([it.next(), it.next()]);
    expect(failed).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/broken/) } });
    expect(after).toEqual({ status: 'fulfilled', value: { value: undefined, done: true } });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(asked).toBe(2);
  });

  it('dedupe: true removes repeated fields / members of H/S/ZSCAN; the reply arrays are not changed', async () => {
    const { collectionScan } = await import('../lib/scan.js');
    const hPages: [string, unknown[]][] = [['3', ['f1', 'v1', 'f2', 'v2']], ['0', ['f2', 'v2', 'f3', 'v3']]];
    const h = scripted(hPages);
    const pairs: unknown[] = [];
    for await (const p of collectionScan('HSCAN', 'h', { dedupe: true }, h.target)) pairs.push(p);
    expect(pairs).toEqual([['f1', 'v1'], ['f2', 'v2'], ['f3', 'v3']]);
    const z = scripted([['3', ['m', '1.5', 'n', 'inf']], ['0', ['m', '1.5']]]);
    const scores: unknown[] = [];
    for await (const p of collectionScan('ZSCAN', 'z', { dedupe: true }, z.target)) scores.push(p);
    expect(scores).toEqual([['m', 1.5], ['n', Infinity]]);
    const sPages: [string, unknown[]][] = [['3', ['a', 'b']], ['0', ['b', 'c', 'a', 'd']]];
    const members: unknown[] = [];
    const sscan = collectionScan('SSCAN', 's', { dedupe: true }, scripted(sPages).target);
    for await (const m of sscan) members.push(m);
    expect(members).toEqual(['a', 'b', 'c', 'd']);
    const raw: unknown[] = [];
    for await (const m of collectionScan('SSCAN', 's', {}, scripted(sPages).target)) raw.push(m);
    expect(raw).toEqual(['a', 'b', 'b', 'c', 'a', 'd']); // the default for collections: what the server sends
    // keyScan's dedupe leaves the reply it got alone (a target may hand the same array out again)
    const page = ['x', 'y', 'x'];
    const shared = { reply: (async () => ['0', page]) as never };
    const { keyScan } = await import('../lib/scan.js');
    const keys: unknown[] = [];
    for await (const k of keyScan({}, async () => [{ target: shared }], undefined)) keys.push(k);
    expect(keys).toEqual(['x', 'y']);
    expect(page).toEqual(['x', 'y', 'x']);
  });
});
