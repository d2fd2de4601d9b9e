/**
 * After a reconnect every subscription is restored and 'ready' is emitted
 * once all are confirmed (or refused). A restore SUBSCRIBE of several
 * channels refused whole (NOPERM: the user's ACL lost one of them) is sent
 * again one channel at a time; when those re-sends time out before they
 * could be written (the socket held back behind a 16 MB SUBSCRIBE queued
 * during the outage, the server not reading), they are sent again, and
 * 'ready' must still come once they are answered. Before, the restore was
 * given up on at that timeout and 'ready' never came for that connection.
 *
 * A proxy of the spec's own holds the client's bytes back on the connection
 * after the reconnect, past its first MB (the handshake, the restore and the
 * start of the 16 MB SUBSCRIBE reach the server, which answers them).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type Message } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();
let admin: Redis;

/** Forwards to the server; once `hold` is set, a new connection's client bytes past `hold` wait until `release()`. */
class HoldingProxy {
  port = 0;
  hold: number | undefined;
  readonly #paused: net.Socket[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #server = net.createServer((client) => {
    const upstream = net.connect(env.server.port, '127.0.0.1');
    this.#sockets.add(client).add(upstream);
    const limit = this.hold;
    let seen = 0;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      seen += chunk.length;
      if (limit !== undefined && this.hold !== undefined && seen >= limit && !this.#paused.includes(client)) {
        client.pause();
        this.#paused.push(client);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }
  get holding(): boolean {
    return this.#paused.length > 0;
  }
  release(): void {
    this.hold = undefined;
    for (const c of this.#paused.splice(0)) c.resume();
  }
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const proxy = new HoldingProxy();

beforeAll(async () => {
  admin = new Redis(env.server.url);
  await proxy.start();
});
afterAll(async () => {
  await admin.db.reply('ACL', 'DELUSER', 'restorer');
  await admin.close();
  await proxy.stop();
});

describe('restore re-sends that time out unwritten', () => {
  it("are sent again, and 'ready' comes once they are answered", async () => {
    await admin.db.reply('ACL', 'SETUSER', 'restorer', 'on', '>pw', '~*', '+@all', 'resetchannels', '&rs:*', '&big:*');
    // commandTimeout bounds the restore and its re-sends (3 s: the restore itself must not time out on a loaded machine);
    // the filler's call has a long deadline; no half-open recycling.
    const redis = env.track(new Redis(`redis://restorer:pw@127.0.0.1:${proxy.port}`, { commandTimeout: 3000, staleReplyGrace: 120_000, reconnect: () => 300 }));
    const sub = redis.subscriber({ timeout: 60_000 });
    const errors: Error[] = [];
    sub.on('error', (e) => errors.push(e));
    let readies = 0;
    let lost = false;
    sub.on('ready', () => readies++);
    sub.on('reconnecting', () => (lost = true));
    await sub.subscribe('rs:ok', 'rs:bad');
    const before = readies;

    // rs:bad is forbidden now: the server drops the pub/sub connection; its restore SUBSCRIBE will be refused whole.
    await admin.db.reply('ACL', 'SETUSER', 'restorer', 'resetchannels', '&rs:ok', '&big:*');
    await admin.db.reply('CLIENT', 'KILL', 'USER', 'restorer');
    await until('the pub/sub connection was lost', () => lost);
    proxy.hold = 1024 * 1024;
    const big = outcome(sub.subscribe(`big:${'b'.repeat(16 * 1024 * 1024)}`)); // queued during the outage: written right after the restore
    await until('the proxy holds the client back on the new connection', () => proxy.holding);
    // The re-sends of rs:ok and rs:bad wait behind the 16 MB SUBSCRIBE past their deadline (3 s), unwritten.
    await until('a re-send timed out', () => redis.stats().pubsub.timeouts >= 1);
    proxy.release();

    expect(await within('the 16 MB subscribe', big, 30_000)).toBeUndefined();
    await until("'ready' after the restore", () => readies > before);
    expect(errors.some((e) => e.name === 'NoPermError')).toBe(true); // rs:bad was refused, and said so
    expect(sub.subscriptions.channels).toEqual(['rs:ok', `big:${'b'.repeat(16 * 1024 * 1024)}`]);
    const got = new Promise<Message>((resolve) => sub.on('message', (m) => m.channel === 'rs:ok' && resolve(m)));
    await admin.db.reply('PUBLISH', 'rs:ok', 'back');
    expect(await within('a message on rs:ok', got)).toEqual({ channel: 'rs:ok', message: 'back' });
  }, 60_000);
});
