/**
 * Safety rule 4: every deadline fires on time, whatever other deadlines are
 * pending. The link is stalled (no reply ever comes), so each command rejects
 * exactly when its own deadline passes. No wall-clock upper bound (a loaded CI
 * machine can be late by any amount): "on time" is checked as order. A
 * deadline never fires before it is due (a lower bound, which load cannot
 * break); it fires before a later deadline pending alongside (one of a minute,
 * so a deadline hidden behind it hangs, and within() turns the hang into a
 * failure); and deadlines of different lengths settle in their order (those
 * settled in one sweep of the timer, when the machine was too slow to tell
 * them apart, count as simultaneous).
 */
import { describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, type RedisOptions } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until, within } from './support/until.js';

const env = useProxiedServer({ staleReplyGrace: 60_000 });

/** A deadline far past the test's: a command with it must still be pending when the others fired. */
const LATER = 60_000;

async function stalled(opts: RedisOptions): Promise<Redis> {
  const { redis, proxy } = await env.through(opts);
  proxy.stall();
  return redis;
}

/** Milliseconds from now until `p` rejects with a ReplyTimeoutError (within the hang bound). */
async function rejectsAfter(what: string, p: Promise<unknown>): Promise<number> {
  const started = Date.now();
  const err = await within(
    what,
    p.then(
      () => new Error('resolved'),
      (e: Error) => e,
    ),
  );
  expect(err, what).toBeInstanceOf(ReplyTimeoutError);
  return Date.now() - started;
}

/** A command with the LATER deadline, and whether it has settled (it must not have, while the others fire). */
function later(redis: Redis, key: string): { settled: () => boolean } {
  let settled = false;
  redis.db
    .with({ timeout: LATER })
    .reply('GET', key)
    .then(
      () => (settled = true),
      () => (settled = true),
    );
  return { settled: () => settled };
}

/**
 * Numbers settlements by turn of the event loop: what settles in one turn
 * (one sweep of the deadline timer) gets one number, a later turn a larger one.
 */
function turns(): () => number {
  let turn = 0;
  let open = false;
  return () => {
    if (!open) {
      open = true;
      turn++;
      setImmediate(() => (open = false)); // after this turn's microtasks: the next settlement is a later turn
    }
    return turn;
  };
}

describe('deadlines', () => {
  it('a later per-call deadline issued first does not hide an earlier default one', async () => {
    const redis = await stalled({ commandTimeout: 200 });
    await new Promise((r) => setTimeout(r, 250)); // no deadline pending: the long one arms the timer
    const long = later(redis, 'a');
    const elapsed = await rejectsAfter('the 200 ms default deadline', redis.db.reply('GET', 'b'));
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(long.settled(), 'the later deadline fired first').toBe(false);
  });

  it('per-call deadlines of different lengths, issued in any order, each fire on time', async () => {
    const redis = await stalled({ commandTimeout: LATER }); // nothing else (the handshake's commands) arms the timer earlier
    const long = later(redis, 'long'); // issued first: it arms the timer
    const timeouts = [700, 150, 400, 50, 900, 250, 600];
    const turn = turns();
    const started = Date.now();
    const results = await Promise.all(
      timeouts.map(async (t) => {
        const err = await within(`the ${t} ms deadline`, redis.db.with({ timeout: t }).reply('GET', `k${t}`).catch((e: Error) => e));
        const settledIn = turn();
        expect(err).toBeInstanceOf(ReplyTimeoutError);
        return { t, at: Date.now() - started, turn: settledIn, longSettled: long.settled() };
      }),
    );
    for (const { t, at, longSettled } of results) {
      expect(at, `${t} ms deadline`).toBeGreaterThanOrEqual(t - 5);
      expect(longSettled, `the ${LATER} ms deadline fired before the ${t} ms one`).toBe(false);
    }
    // In deadline order: an earlier deadline never settles in a later turn than a later one.
    const byDeadline = results.slice().sort((a, b) => a.t - b.t);
    for (let i = 1; i < byDeadline.length; i++) {
      expect(byDeadline[i]!.turn, `${byDeadline[i]!.t} ms settled before ${byDeadline[i - 1]!.t} ms`).toBeGreaterThanOrEqual(byDeadline[i - 1]!.turn);
    }
  });

  it('a default deadline counts from the call, even after a long synchronous turn', async () => {
    const redis = await stalled({ commandTimeout: 500 });
    for (const key of ['early1', 'early2']) redis.db.reply('GET', key).catch(() => {}); // a write is scheduled for this turn
    const spinUntil = Date.now() + 300;
    while (Date.now() < spinUntil); // the same turn of the event loop, 300 ms later
    // Counted from the turn's start (a clock read once per turn), it would fire ~200 ms after the call.
    const elapsed = await rejectsAfter('the late default deadline', redis.db.reply('GET', 'late'));
    expect(elapsed).toBeGreaterThanOrEqual(495);
  });

  it('the health PING deadline does not delay an earlier command deadline', async () => {
    const { redis, proxy } = await env.through({ pingInterval: 2000, commandTimeout: 100 });
    proxy.stall();
    // Silent for two intervals, the health check sends its PING (deadline 2 s): the only command, so the first bytes held.
    await until('the health PING is written: its bytes are held by the proxy', () => proxy.held > 0);
    const elapsed = await rejectsAfter('the 100 ms default deadline', redis.db.reply('GET', 'k'));
    expect(elapsed).toBeGreaterThanOrEqual(95);
    // Before the PING's deadline, which would cut the connection: a command deadline hidden behind it fires with it.
    expect(redis.stats().connectionLost, 'the health PING timed out before the command').toBe(0);
  });

  it('queued commands (offline) expire on time too, mixed with per-call deadlines', async () => {
    const proxy = await env.proxy();
    const redis = env.track(new Redis(proxy.url, { commandTimeout: 300, reconnect: { baseDelay: 20, maxDelay: 20 }, connectTimeout: 200 }));
    redis.on('error', () => {});
    await redis.db.reply('PING');
    proxy.refuse(true);
    proxy.cutAll();
    await until('the client saw the loss: what is asked next waits offline', () => redis.stats().connectionLost > 0);
    const long = later(redis, 'x');
    const turn = turns();
    const [a, b] = await Promise.all([
      rejectsAfter('the 300 ms default deadline', redis.db.reply('GET', 'y')).then((ms) => ({ ms, turn: turn() })),
      rejectsAfter('the 150 ms per-call deadline', redis.db.with({ timeout: 150 }).reply('GET', 'z')).then((ms) => ({ ms, turn: turn() })),
    ]);
    expect(a.ms).toBeGreaterThanOrEqual(295);
    expect(b.ms).toBeGreaterThanOrEqual(145);
    expect(b.turn, 'the 300 ms deadline settled before the 150 ms one').toBeLessThanOrEqual(a.turn);
    expect(long.settled(), 'the later deadline fired first').toBe(false);
  });

  it('a command written, lost with its connection and timing out while it waits to be resent says sent: true', async () => {
    const { redis, proxy } = await env.through({ commandTimeout: 300 });
    proxy.stall(); // nothing comes back, and the reconnect's handshake never finishes
    const outcome = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const byDefault = outcome(redis.db.reply('GET', 'deadline:lost'));
    const perCall = outcome(redis.db.with({ timeout: 400 }).reply('GET', 'deadline:lost'));
    await until('the GETs are written: their bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll(); // reads: queued to be sent again on the next connection
    // They may have run before the loss: never "it was never sent".
    expect(await byDefault).toMatchObject({ name: 'ReplyTimeoutError', sent: true });
    expect(await perCall).toMatchObject({ name: 'ReplyTimeoutError', sent: true });
  });
});
