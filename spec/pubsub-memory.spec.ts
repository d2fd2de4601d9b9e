/**
 * Checks that need a process of their own, run against the build in dist/
 * (`npm test` builds first):
 *  - memory: a subscriber consumed only through events buffers nothing (the
 *    audit saw 77 MiB held after 8,000 messages of 10 KB); measured with
 *    --expose-gc so the heap is compared after full collections;
 *  - a throwing 'message' listener with no 'error' listener is rethrown
 *    outside the read path (an uncaught exception, as with any Node emitter),
 *    and still costs neither a message nor the connection.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const dist = JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'));

function runChild(script: string, flags: string[] = []): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, '--input-type=module', '-e', script], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('a subscriber used through events', () => {
  it('80 MB of 10 KB messages leave the heap at its baseline', async () => {
    const script = `
      import { Redis } from ${dist};
      const url = ${JSON.stringify(env.server.url)};
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const redis = new Redis(url);
      const pub = new Redis(url);
      const sub = redis.subscriber();
      let received = 0;
      let chars = 0;
      sub.on('message', (m) => { received++; chars += m.message.length; });
      await sub.subscribe('mem:ch');
      const payload = 'x'.repeat(10 * 1024);
      await pub.db.reply('PING');
      for (let i = 0; i < 3; i++) { gc(); await sleep(10); }
      const base = process.memoryUsage();
      for (let batch = 0; batch < 80; batch++) {
        let last;
        for (let i = 0; i < 100; i++) last = pub.db.reply('PUBLISH', 'mem:ch', payload);
        await last;
        while (received < (batch + 1) * 100) await sleep(1);
      }
      for (let i = 0; i < 3; i++) { gc(); await sleep(10); }
      const after = process.memoryUsage();
      await redis.close();
      await pub.close();
      console.log(JSON.stringify({
        received, chars,
        heap: after.heapUsed - base.heapUsed,
        external: after.external + after.arrayBuffers - base.external - base.arrayBuffers,
      }));
    `;
    const r = await runChild(script, ['--expose-gc']);
    expect(r.received).toBe(8000);
    expect(r.chars).toBe(8000 * 10 * 1024);
    expect(r.heap + r.external).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('a throwing listener and no "error" listener', () => {
  it('is rethrown on its own; every message still arrives, nothing reconnects', async () => {
    const script = `
      import { Redis } from ${dist};
      const url = ${JSON.stringify(env.server.url)};
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      let thrown = 0;
      process.on('uncaughtException', (err) => {
        if (err && err.message === 'listener bug') thrown++;
        else { console.error(err); process.exit(3); }
      });
      const redis = new Redis(url);
      const sub = redis.subscriber();
      const got = [];
      sub.on('message', (m) => { got.push(m.message); if (got.length % 2 === 1) throw new Error('listener bug'); });
      await sub.subscribe('thr:ch');
      let last;
      for (let i = 0; i < 100; i++) last = redis.db.reply('PUBLISH', 'thr:ch', 'm' + i);
      await last;
      for (let i = 0; i < 300 && got.length < 100; i++) await sleep(10);
      await sleep(20);
      const inOrder = got.every((m, i) => m === 'm' + i) ? 1 : 0;
      const { reconnects, connectionLost } = redis.stats().pubsub;
      await redis.close();
      console.log(JSON.stringify({ got: got.length, inOrder, thrown, reconnects, connectionLost }));
    `;
    const r = await runChild(script);
    expect(r).toEqual({ got: 100, inOrder: 1, thrown: 50, reconnects: 0, connectionLost: 0 });
  });
});
