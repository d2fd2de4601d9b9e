/**
 * A client with a cache whose user the ACL refuses `CLIENT TRACKING`: the
 * cache passes every read through (never a stale hit, README "Client-side
 * caching"), and the user can tell why it never hits: the connection's
 * `redmux:ready` event says `tracking: false`, and NODE_DEBUG=redmux says
 * tracking was refused. (`tracking` is absent on connections of a client
 * without a cache: nothing was asked.)
 */
import { execFile } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redis, type ReadyEvent } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** A user allowed everything but CLIENT TRACKING; its URL. */
async function untrackedUser(): Promise<string> {
  await env.client().db.reply('ACL', 'SETUSER', 'ctr-user', 'on', '>ctr-pass-0912', '~*', '&*', '+@all', '-client|tracking');
  return `redis://ctr-user:ctr-pass-0912@127.0.0.1:${env.server.port}`;
}

describe('client-side cache when the ACL refuses CLIENT TRACKING', () => {
  it("reads pass through, never stale, and redmux:ready says tracking: false", async () => {
    const url = await untrackedUser();
    const events: ReadyEvent[] = [];
    const onReady = (m: unknown) => events.push(m as ReadyEvent);
    dc.subscribe('redmux:ready', onReady);
    try {
      const plain = env.client();
      await plain.db.reply('PING');
      const redis = env.track(new Redis(url, { cache: {} }));
      const cached = redis.db.with({ cache: true });
      await plain.db.reply('SET', 'ctr:k', 'one');
      expect(await cached.reply('GET', 'ctr:k')).toBe('one');
      await plain.db.reply('SET', 'ctr:k', 'two');
      expect(await cached.reply('GET', 'ctr:k')).toBe('two');
      expect(redis.stats().cache).toMatchObject({ hits: 0, misses: 2, entries: 0 });
      expect(events.map((e) => e.tracking)).toEqual([undefined, false]); // the plain client asked nothing; the cache's was refused
    } finally {
      dc.unsubscribe('redmux:ready', onReady);
    }
  });

  it('NODE_DEBUG=redmux says that tracking was refused, and no secret', async () => {
    const url = await untrackedUser();
    const dist = path.resolve(__dirname, '..', 'dist', 'index.js');
    const script = `
      const { Redis } = await import(${JSON.stringify(dist)});
      const redis = new Redis(${JSON.stringify(url)}, { cache: {} });
      await redis.db.with({ cache: true }).reply('GET', 'ctr:k');
      await redis.close();
    `;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_DEBUG: 'redmux' }, timeout: 15_000 }, (err, _out, errOut) =>
        err ? reject(new Error(`child failed: ${err.message}\n${errOut}`)) : resolve(errOut),
      );
    });
    expect(stderr).toMatch(/ready \(RESP3, database 0, server [^)]*\); key tracking refused: the client-side cache passes reads through/);
    expect(stderr).not.toMatch(/ctr-pass-0912/);
  });
});
