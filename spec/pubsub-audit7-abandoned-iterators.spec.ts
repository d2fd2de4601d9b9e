/**
 * Iterators dropped without `return()` (run against the build in dist/, in a
 * process of its own with --expose-gc so that the heap is compared after full
 * collections).
 *
 * A common way to wait for "the next message, or give up after a while" is a
 * new iterator each time, raced against a timer and never returned. Each one
 * stayed in its subscriber and buffered every later message (up to
 * `maxBuffered`; for ever with `overflow: 'drop-oldest'`), so memory grew
 * with the number of waits. An iterator nobody can reach any more now stops
 * receiving; one whose `next()` is still awaited gets its message first.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const dist = JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'));

function runChild(script: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('iterators dropped without return()', () => {
  it.each(['drop-oldest', 'error'])('(overflow %s) 100 abandoned waits: later messages are not kept for them; an awaited next() still gets its message', async (overflow) => {
    const script = `
      import { Redis } from ${dist};
      const url = ${JSON.stringify(env.server.url)};
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const settle = async () => { for (let i = 0; i < 4; i++) { gc(); await sleep(10); } };
      const redis = new Redis(url);
      const pub = new Redis(url);
      const sub = redis.subscriber({ overflow: '${overflow}', maxBuffered: 5000 });
      await sub.subscribe('ab:ch');
      await pub.db.reply('PING');
      // The next message within 1 ms, or null: a new iterator each time, never returned.
      const nextWithin = (ms) => Promise.race([sub[Symbol.asyncIterator]().next(), sleep(ms).then(() => null)]);
      for (let i = 0; i < 100; i++) await nextWithin(1);
      // The same, awaited to the end: the iterator is unreachable but its next() is not.
      const awaited = sub[Symbol.asyncIterator]().next();
      await settle();
      const live = sub[Symbol.asyncIterator]();
      const base = process.memoryUsage();
      for (let i = 0; i < 2000; i++) pub.db.command('PUBLISH', 'ab:ch', i + ':' + 'x'.repeat(10 * 1024));
      let received = 0;
      for (; received < 2000; received++) await live.next();
      const first = (await awaited).value.message.split(':')[0];
      await settle();
      const after = process.memoryUsage();
      await live.return();
      await redis.close();
      await pub.close();
      console.log(JSON.stringify({ received, first: Number(first), held: after.heapUsed + after.external - base.heapUsed - base.external }));
    `;
    const r = await runChild(script);
    expect(r.received).toBe(2000);
    expect(r.first).toBe(0);
    // Kept for the abandoned iterators, the 2,000 messages of 10 KB would be 20 MB.
    expect(r.held).toBeLessThan(6 * 1024 * 1024);
  });
});
