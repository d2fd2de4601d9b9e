/**
 * Faults on the pub/sub connection: after a reconnect every channel, pattern
 * and shard channel is subscribed again before any new subscription is
 * written, and 'ready' means they are back; every call settles within its
 * deadline; a connection that gave up (or a configuration the server refuses)
 * rejects calls at once instead of letting them hang.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, ConnectionError, ReplyTimeoutError, Redis, type Message, type RedisOptions } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST: RedisOptions = { reconnect: { baseDelay: 5, maxDelay: 20 } };

async function through(opts: RedisOptions = {}): Promise<{ redis: Redis; proxy: FaultProxy }> {
  const proxy = await FaultProxy.start(env.server.port);
  proxies.push(proxy);
  return { redis: env.track(new Redis(proxy.url, { ...FAST, ...opts })), proxy };
}

async function counts(redis: Redis, channel: string, shard: string): Promise<[number, number, number]> {
  const n = (await redis.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[];
  const p = await redis.db.reply('PUBSUB', 'NUMPAT');
  const s = (await redis.db.reply('PUBSUB', 'SHARDNUMSUB', shard)) as unknown[];
  return [Number(n[1]), Number(p), Number(s[1])];
}

describe.each([3, 2] as const)('CLIENT KILL TYPE pubsub under traffic (protocol %i)', (protocol) => {
  it('channels, patterns and shard channels are back when "ready" fires, and messages flow again', async () => {
    const redis = env.client({ ...FAST, protocol });
    const admin = env.client();
    const sub = redis.subscriber();
    sub.on('error', () => {});
    const ch = `kt${protocol}:ch`;
    const sh = `kt${protocol}:sh`;
    await sub.subscribe(ch);
    await sub.psubscribe(`kt${protocol}:p:*`);
    await sub.ssubscribe(sh);
    const got = { message: [] as string[], pmessage: [] as string[], smessage: [] as string[] };
    sub.on('message', (m: Message) => (m.sharded ? got.smessage : m.pattern ? got.pmessage : got.message).push(m.message as string));
    let stop = false;
    let publishError: unknown;
    const publisher = (async () => {
      for (let i = 0; !stop; i++) {
        await Promise.all([
          admin.db.reply('PUBLISH', ch, `${i}`),
          admin.db.reply('PUBLISH', `kt${protocol}:p:x`, `${i}`),
          admin.db.reply('SPUBLISH', sh, `${i}`),
        ]);
        await sleep(1);
      }
    })().catch((err: unknown) => (publishError = err)); // observed at once: a failure while the test awaits must not go unhandled
    try {
      for (let round = 0; round < 3; round++) {
        // Messages of every kind flowing to the subscriber before each kill: a kill under traffic.
        const [m, p, sm] = [got.message.length, got.pmessage.length, got.smessage.length];
        await until('messages of every kind received since the last kill', () => got.message.length > m && got.pmessage.length > p && got.smessage.length > sm);
        const ready = new Promise((r) => sub.once('ready', r)); // events.once would reject on the 'error' of the kill
        expect(await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
        await within("'ready' after the kill", ready);
        expect(await counts(admin, ch, sh)).toEqual([1, 1, 1]); // 'ready' comes once they are confirmed
      }
    } finally {
      stop = true;
      await publisher; // a failure above must not leave it publishing into closed clients
    }
    expect(publishError).toBeUndefined(); // the publisher (not under fault) never failed
    await admin.db.reply('PUBLISH', ch, 'end');
    await admin.db.reply('PUBLISH', `kt${protocol}:p:x`, 'end');
    await admin.db.reply('SPUBLISH', sh, 'end');
    await until("every kind's 'end' received", () => got.message.at(-1) === 'end' && got.pmessage.at(-1) === 'end' && got.smessage.at(-1) === 'end');
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 3, connectionLost: 3, channels: 1, patterns: 1, shardChannels: 1 });
  });
});

/** Commands the server runs, as MONITOR prints them, from the moment this returns. */
async function monitor(port: number): Promise<{ lines: string[]; stop(): void }> {
  const socket = net.connect(port, '127.0.0.1');
  const lines: string[] = [];
  let rest = '';
  socket.on('data', (chunk) => {
    const text = rest + chunk.toString('latin1');
    const parts = text.split('\r\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  socket.write('*1\r\n$7\r\nMONITOR\r\n');
  await until('MONITOR started', () => lines.includes('+OK'));
  return { lines, stop: () => socket.destroy() };
}

describe('resubscription order and deadlines', () => {
  it('after a reconnect, the old subscriptions are written before a call made during the outage', async () => {
    const { redis, proxy } = await through();
    const sub = redis.subscriber();
    sub.on('error', () => {});
    await sub.subscribe('ord:old');
    proxy.refuse(true);
    const lost = new Promise((r) => sub.once('reconnecting', r));
    proxy.cutAll();
    await lost; // the loss is seen: a call now is queued, not written to the dead connection
    const during = sub.subscribe('ord:new'); // queued while disconnected
    const mon = await monitor(env.server.port);
    try {
      proxy.refuse(false);
      await within('the SUBSCRIBE queued while disconnected', during);
      await until('the server ran SUBSCRIBE ord:new', () => mon.lines.some((l) => l.includes('"SUBSCRIBE" "ord:new"')));
      const subs = mon.lines.filter((l) => l.includes('"SUBSCRIBE"'));
      expect(subs[0]).toMatch(/"SUBSCRIBE" "ord:old"$/);
      expect(subs[1]).toMatch(/"SUBSCRIBE" "ord:new"$/);
    } finally {
      mon.stop();
    }
  });

  it('a stalled server: subscribe() rejects at its deadline; the late confirmation is undone, the connection kept', async () => {
    const { redis, proxy } = await through();
    const sub = redis.subscriber({ timeout: 300 });
    await sub.subscribe('st:a');
    proxy.stall();
    // Only its 300 ms deadline can end it on the stalled link; a deadline not kept would hang (within()).
    await expect(within('SUBSCRIBE st:b times out', sub.subscribe('st:b'))).rejects.toBeInstanceOf(ReplyTimeoutError);
    expect(sub.subscriptions.channels).toEqual(['st:a']);
    // NUMSUB of st:b is 0 until the held SUBSCRIBE reaches the server, too: wait for the undo itself.
    const mon = await monitor(env.server.port);
    try {
      proxy.resume();
      await until('the server ran UNSUBSCRIBE st:b', () => mon.lines.some((l) => l.includes('"UNSUBSCRIBE" "st:b"')));
    } finally {
      mon.stop();
    }
    const admin = env.client();
    expect(Number(((await admin.db.reply('PUBSUB', 'NUMSUB', 'st:b')) as unknown[])[1])).toBe(0);
    await sub.subscribe('st:c');
    const got = once(sub, 'message');
    await admin.db.reply('PUBLISH', 'st:a', 'still');
    expect((await got)[0]).toEqual({ channel: 'st:a', message: 'still' });
    expect(redis.stats().pubsub).toMatchObject({ connectionLost: 0, channels: 2 });
  });
});

describe('a connection that gave up', () => {
  it('rejects pending calls, and later ones at once', async () => {
    // A deadline of a minute: a call that waited for it instead of failing on the closed connection would hang
    // (within()) and end as a ReplyTimeoutError, not a ConnectionError.
    const { redis, proxy } = await through({ reconnect: false, commandTimeout: 60_000 });
    const sub = redis.subscriber();
    sub.on('error', () => {});
    await sub.subscribe('gu:a');
    proxy.stall();
    const pending = sub.subscribe('gu:b');
    const closed = new Promise((r) => sub.once('close', r));
    proxy.cutAll();
    await expect(within('the pending SUBSCRIBE fails with the connection', pending)).rejects.toBeInstanceOf(ConnectionError);
    await within("the subscriber's 'close'", closed);
    await expect(within('a later SUBSCRIBE fails at once', sub.subscribe('gu:c'))).rejects.toBeInstanceOf(ConnectionError);
    await expect(within('a new subscriber fails at once', redis.subscriber().psubscribe('gu:*'))).rejects.toBeInstanceOf(ConnectionError);
  });

  it('a configuration the server refuses (wrong password) rejects subscribe() at once', async () => {
    // Deadlines of a minute: waiting for one instead of failing on the refusal would hang (within()) and end
    // as a ReplyTimeoutError, not a ConnectError.
    const redis = env.client({ username: 'nobody', password: 'not-the-password', reconnect: { baseDelay: 5, maxDelay: 20 }, connectTimeout: 60_000, commandTimeout: 60_000 });
    redis.on('error', () => {});
    const sub = redis.subscriber();
    sub.on('error', () => {});
    await expect(within('SUBSCRIBE cfg:a refused', sub.subscribe('cfg:a'))).rejects.toBeInstanceOf(ConnectError);
    await expect(within('SUBSCRIBE cfg:b refused', sub.subscribe('cfg:b'))).rejects.toBeInstanceOf(ConnectError);
  });
});
