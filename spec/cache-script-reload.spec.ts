/**
 * A script call that meets NOSCRIPT is written again behind whatever was
 * pipelined after it (README "Scripts"): a cached read of one of its keys,
 * sent after it, then runs before the script. The cache drops the script's
 * keys when the call is first written (a write of this client's own); it
 * must drop them again when the call is written again, or that read's old
 * value is kept and served after `await db.run(...)` resolved, until the
 * server's own invalidation arrives. That invalidation follows the script's
 * reply on the wire, usually in the same packet, but nothing promises it (a
 * TCP segment boundary, a large reply): a proxy holds it back
 * (support/push-holding-proxy.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, Script } from '../lib/index.js';
import { PushHoldingProxy } from './support/push-holding-proxy.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

const proxies: PushHoldingProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});

describe('cached reads and a script reloaded after NOSCRIPT', () => {
  it("a cached read pipelined behind a script that met NOSCRIPT is not kept: after the script's reply, the next read sees its write", async () => {
    const proxy = await PushHoldingProxy.start(env.server.port);
    proxies.push(proxy);
    const redis = env.track(new Redis(proxy.url, { cache: {} }));
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
