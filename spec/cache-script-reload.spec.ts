/**
 * A script call that meets NOSCRIPT is written again behind whatever was
 * pipelined after it (README "Scripts"): a cached read of one of its keys,
 * sent after it, then runs before the script. The cache drops the script's
 * keys when the call is first written (a write of this client's own); it
 * must drop them again when the call is written again, or that read's old
 * value is kept and served after `await db.run(...)` resolved, until the
 * server's own invalidation arrives. That invalidation follows the script's
 * reply on the wire, usually in the same packet, but nothing promises it (a
 * TCP segment boundary, a large reply): the proxy below holds it, which
 * makes "arrives later" a state instead of a race.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** A TCP proxy to the server that can hold the server's `invalidate` push frames back (replies pass). */
class PushHoldingProxy {
  port = 0;
  holding = false;
  readonly held: Buffer[] = [];
  readonly #links = new Set<net.Socket>();
  readonly #server = net.createServer((client) => {
    const upstream = net.connect(env.server.port, '127.0.0.1');
    this.#links.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (!this.holding) return void client.write(chunk);
      // The frames this spec's keys make: `>2 $10 invalidate *n ($len key)*n`; chunks on loopback hold whole frames.
      const text = chunk.toString('latin1');
      const push = /^>2\r\n\$10\r\ninvalidate\r\n(?:_\r\n|\*(\d+)\r\n(?:\$\d+\r\n[^\r]*\r\n)*)/m;
      let rest = text;
      let out = '';
      for (let m = push.exec(rest); m !== null; m = push.exec(rest)) {
        out += rest.slice(0, m.index);
        this.held.push(Buffer.from(m[0], 'latin1'));
        rest = rest.slice(m.index + m[0].length);
      }
      out += rest;
      if (out.length > 0) client.write(Buffer.from(out, 'latin1'));
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
    this.release = () => {
      this.holding = false;
      for (const frame of this.held.splice(0)) client.write(frame);
    };
  });
  release: () => void = () => {};

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.#links) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const proxies: PushHoldingProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});

describe('cached reads and a script reloaded after NOSCRIPT', () => {
  it("a cached read pipelined behind a script that met NOSCRIPT is not kept: after the script's reply, the next read sees its write", async () => {
    const proxy = await new PushHoldingProxy().start();
    proxies.push(proxy);
    const redis = env.track(new Redis(`redis://127.0.0.1:${proxy.port}`, { cache: {} }));
    const admin = env.client();
    const cached = redis.db.with({ cache: true });
    const set = new Script('return redis.call("SET", KEYS[1], ARGV[1])');
    await admin.db.reply('SET', 'csr:k', 'old');
    expect(await cached.reply('GET', 'csr:k')).toBe('old'); // kept, and tracked by the server
    await admin.db.reply('SCRIPT', 'FLUSH'); // the next call meets NOSCRIPT

    proxy.holding = true; // the server's invalidations for the script's write come late
    const ran = redis.db.run(set, ['csr:k'], ['new']);
    const behind = cached.reply('GET', 'csr:k'); // written after the EVALSHA, runs before its resend
    expect(await ran).toBe('OK');
    expect(await behind).toBe('old'); // allowed: it ran before the script (README "Scripts", Order)
    // The script's write is acknowledged: a read issued now must see it, pushes or not.
    expect(await cached.reply('GET', 'csr:k')).toBe('new');
    proxy.release();
    expect(await admin.db.reply('GET', 'csr:k')).toBe('new');
  });
});
