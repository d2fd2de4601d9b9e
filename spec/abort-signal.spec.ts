/**
 * `db.with({ signal })`: an abort before the write means never sent (AbortError,
 * sent: false); after the write, the caller is released at once and the FIFO
 * slot is kept (the next caller still gets its own reply); a blocking command
 * on a leased connection is drained, and no item it pops is lost. One abort
 * listener per signal, however many commands and views use it.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortError, Redis } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';
import { blockedIn } from './support/blocked-clients.js';

const env = useRealServer();
const faults = useProxiedServer();

const settle = <T>(p: PromiseLike<T>) => Promise.resolve(p).then((value) => ({ value, error: undefined }), (error: unknown) => ({ value: undefined, error }));

describe('AbortSignal', () => {
  it('an already-aborted signal rejects without sending anything', async () => {
    const redis = env.client();
    await redis.db.reply('PING');
    const before = redis.stats().commands;
    const reason = new Error('user left');
    const db = redis.db.with({ signal: AbortSignal.abort(reason) });
    const err = await db.reply('SET', 'abort:never', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ sent: false, code: 'ABORT_ERR', command: 'SET', name: 'AbortError' });
    expect((err as Error).cause).toBe(reason);
    await expect(db.multi((tx) => tx.command('SET', 'abort:never', 'y'))).rejects.toBeInstanceOf(AbortError);
    expect(redis.stats().commands).toBe(before);
    expect(await redis.db.reply('EXISTS', 'abort:never')).toBe(0);
  });

  it('aborted before the write (still connecting): never sent', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    const set = settle(db.reply('SET', 'abort:queued', 'x'));
    const tx = settle(db.multi((t) => t.command('SET', 'abort:queued-tx', 'x')));
    ac.abort();
    expect((await set).error).toMatchObject({ name: 'AbortError', sent: false });
    expect((await tx).error).toMatchObject({ name: 'AbortError', sent: false });
    expect(await redis.db.reply('EXISTS', 'abort:queued', 'abort:queued-tx')).toBe(0);
  });

  it('aborted after the write: rejects at once, the FIFO slot is kept, the next caller gets its own reply', async () => {
    const redis = env.client();
    const admin = env.client();
    await redis.db.reply('DEL', 'abort:n');
    const ac = new AbortController();
    // The server holds both writes until UNPAUSE (not for some time that
    // could end before the abort on a slow machine).
    await admin.db.reply('CLIENT', 'PAUSE', 60_000, 'WRITE');
    let answered = false;
    let next: Promise<unknown> | undefined;
    try {
      const incr = settle(redis.db.with({ signal: ac.signal }).reply('INCR', 'abort:n'));
      next = redis.db.reply('SET', 'abort:other', 'mine').finally(() => (answered = true));
      await until('INCR and SET written', () => redis.stats().pending - redis.stats().queued === 2);
      ac.abort();
      const { error } = await incr;
      expect(answered).toBe(false); // released before the server answered
      expect(error).toBeInstanceOf(AbortError);
      expect(error).toMatchObject({ sent: true });
    } finally {
      await admin.db.reply('CLIENT', 'UNPAUSE');
    }
    expect(await next).toBe('OK'); // not INCR's reply
    expect(await redis.db.reply('GET', 'abort:n')).toBe('1'); // it ran: written commands may run
  });

  it('a blocking command aborted on its lease is unblocked and the lease reused; no item is lost', async () => {
    const redis = env.client({ blockingPool: { size: 1 } });
    const orphans: unknown[] = [];
    redis.on('orphanedReply', (o) => orphans.push(o));
    const ac = new AbortController();
    const admin = env.client();
    const pop = settle(redis.db.with({ signal: ac.signal }).reply('BLPOP', 'abort:q', 0));
    await until('the BLPOP blocked on the server', async () => (await blockedIn(admin.db, 'blpop')) === 1);
    ac.abort();
    expect((await pop).error).toMatchObject({ name: 'AbortError', sent: true, command: 'BLPOP' });
    // The lease is drained (CLIENT UNBLOCK) and clean: the pool's one connection serves the next BLPOP.
    await until('the aborted BLPOP unblocked on the server', async () => (await blockedIn(admin.db, 'blpop')) === 0);
    const next = redis.db.reply('BLPOP', 'abort:q', 0);
    await until('the next BLPOP blocked on the server', async () => (await blockedIn(admin.db, 'blpop')) === 1);
    await redis.db.reply('RPUSH', 'abort:q', 'item');
    expect(await within('the next BLPOP answered the RPUSH', next)).toEqual(['abort:q', 'item']);
    expect(orphans).toEqual([]);
    expect(redis.stats().leased).toBe(1);
  });

  it('watch: an aborted signal leases nothing; inside fn, commands after the abort are never sent', async () => {
    const redis = env.client();
    await expect(redis.db.with({ signal: AbortSignal.abort() }).watch(['abort:w'], () => 1)).rejects.toMatchObject({ name: 'AbortError', sent: false, command: 'WATCH' });
    expect(redis.stats().leased).toBe(0);
    const ac = new AbortController();
    const result = await redis.db.with({ signal: ac.signal }).watch(['abort:w'], async (conn) => {
      await conn.reply('SET', 'abort:w', 'before');
      ac.abort();
      const late = await conn.reply('SET', 'abort:w', 'after').catch((e: unknown) => e);
      return late;
    });
    expect(result).toMatchObject({ name: 'AbortError', sent: false });
    expect(await redis.db.reply('GET', 'abort:w')).toBe('before');
  });

  it('a fire-and-forget command that is aborted is reported, never an unhandled rejection', async () => {
    const redis = env.client();
    const errors: unknown[] = [];
    redis.on('commandError', (e) => errors.push(e));
    const ac = new AbortController();
    redis.db.with({ signal: ac.signal }).command('SET', 'abort:ff', 'x');
    ac.abort();
    await redis.db.reply('PING');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AbortError);
  });

  it('100k commands and 1000 views on one signal add one abort listener while in flight, none after; no warning', async () => {
    const redis = env.client();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      const db = redis.db.with({ signal: ac.signal });
      for (let round = 0; round < 10; round++) {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < 10_000; i++) batch.push(db.reply('INCR', 'abort:many'));
        expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
        const tx = db.multi((t) => t.command('INCR', 'abort:many'));
        await Promise.all([...batch, tx]);
      }
      const views = Array.from({ length: 1000 }, () => redis.db.with({ signal: ac.signal }).reply('PING'));
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
      // A second client keeps its own listener (its commands are its own).
      const other = env.track(new Redis(env.server.url));
      const fromOther = other.db.with({ signal: ac.signal }).reply('PING');
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(2);
      await Promise.all([...views, fromOther]);
      await new Promise((r) => setImmediate(r));
      // Everything settled: no listener is left to keep either client alive.
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      expect(await redis.db.reply('GET', 'abort:many')).toBe('100010');
      ac.abort(); // everything settled already: nothing to reject
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a long-lived signal keeps no listener for clients that were closed', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) {
      const redis = new Redis(env.server.url);
      await redis.db.with({ signal: ac.signal }).reply('PING');
      const blocked = redis.db.with({ signal: ac.signal }).reply('BLPOP', 'abort:never-pushed', 0).catch((e: unknown) => e);
      await redis.close(); // the blocked command is given up with ClosedError
      expect(await blocked).toMatchObject({ name: 'ClosedError' });
    }
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a signal that fires mid-stream rejects exactly the commands not yet answered', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    const done = await db.reply('SET', 'abort:mid', 'v');
    expect(done).toBe('OK');
    const pending = Array.from({ length: 1000 }, () => settle(db.reply('GET', 'abort:mid')));
    ac.abort();
    const results = await Promise.all(pending);
    // Every one settles exactly once: a value or an AbortError, never anything else.
    for (const r of results) {
      if (r.error === undefined) expect(r.value).toBe('v');
      else expect(r.error).toBeInstanceOf(AbortError);
    }
    expect(await redis.db.reply('GET', 'abort:mid')).toBe('v');
  });
});

describe('AbortSignal after a lost connection', () => {
  it('a command written, lost with its connection and waiting to be resent reports sent: true (it may have run)', async () => {
    const { redis, proxy } = await faults.through();
    const ac = new AbortController();
    proxy.stall();
    let settled = false;
    const get = settle(redis.db.with({ signal: ac.signal }).reply('GET', 'abort:lost')).finally(() => (settled = true));
    await until('the GET is written: its bytes are held by the proxy', () => proxy.held > 0);
    const reconnecting = new Promise((r) => redis.once('reconnecting', r));
    proxy.cutAll();
    await reconnecting;
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // a read: queued to be sent again on the next connection (whose handshake is stalled)
    ac.abort();
    expect((await get).error).toMatchObject({ name: 'AbortError', sent: true, command: 'GET' });
  });

  it('a blocking command lost with its lease and waiting for a new one reports sent: true', async () => {
    const { redis, proxy } = await faults.through({ blockingPool: { size: 1 } });
    const admin = faults.track(new Redis(faults.server.url));
    const ac = new AbortController();
    let settled = false;
    const read = settle(redis.db.with({ signal: ac.signal }).reply('XREAD', 'BLOCK', 0, 'STREAMS', 'abort:stream', '$')).finally(() => (settled = true));
    await until('the XREAD blocked on the server', async () => (await blockedIn(admin.db, 'xread')) === 1);
    proxy.stall();
    const accepted = proxy.accepted;
    proxy.cutAll();
    // The shared connection reconnects, and the pool resends the read (read-only: rule 2 allows it) on a new lease.
    await until('the shared connection and a new lease reconnected', () => proxy.accepted >= accepted + 2);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    ac.abort();
    expect((await read).error).toMatchObject({ name: 'AbortError', sent: true, command: 'XREAD' });
  });
});
