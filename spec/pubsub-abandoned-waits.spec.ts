/**
 * Iterators dropped without `return()` while their `next()` still waits, on
 * a channel that stays silent (run against the build in dist/, in a process
 * of its own with --expose-gc, as pubsub-audit7-abandoned-iterators does).
 *
 * "The next message within a moment, or null", a new iterator each time and
 * never returned: on a busy channel each one ends with the next message
 * (audit7). On a silent one each kept its waiting next() (and itself) until a
 * message came: some 1 KB per wait, without bound (20,000 waits held about
 * 24 MB). At most `maxBuffered` such waits are kept per subscriber (and per
 * keyspace stream): past that the oldest ends, its next() resolves done; the
 * newer ones still get the next message.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const dist = JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'));

function runChild(script: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('waits abandoned on a silent channel', () => {
  it.each(['subscriber', 'keyspace stream'])('(%s) are bounded by maxBuffered: the oldest ends, the newest gets the next message', async (feed) => {
    const script = `
      import { Redis } from ${dist};
      const url = ${JSON.stringify(env.server.url)};
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const settle = async () => { for (let i = 0; i < 4; i++) { gc(); await sleep(10); } };
      const redis = new Redis(url);
      const sub = redis.subscriber({ maxBuffered: 100 });
      const source = ${feed === 'subscriber'} ? sub : await sub.keyspace('aw:*', { configure: true });
      if (source === sub) await sub.subscribe('aw:silent');
      // An iterator made for one message, awaited, the iterator itself dropped: the oldest wait.
      const oldest = source[Symbol.asyncIterator]().next();
      await settle();
      const base = process.memoryUsage();
      // The next message, or null if none is there yet: a new iterator each time, never returned.
      const nextNow = () => Promise.race([source[Symbol.asyncIterator]().next(), new Promise((r) => setImmediate(() => r(null)))]);
      for (let i = 0; i < 20000; i++) await nextNow();
      const newest = source[Symbol.asyncIterator]().next();
      await settle();
      const after = process.memoryUsage();
      const oldestResult = await Promise.race([oldest, sleep(100).then(() => 'still waiting')]);
      if (source === sub) await redis.db.reply('PUBLISH', 'aw:silent', 'hello');
      else await redis.db.reply('SET', 'aw:key', 'x');
      const newestResult = await newest;
      await redis.close();
      console.log(JSON.stringify({ held: after.heapUsed - base.heapUsed, oldest: oldestResult, newestDone: newestResult.done }));
    `;
    const r = await runChild(script);
    // 20,000 waits kept until a message would be about 24 MB; 100 of them, about 0.1 MB.
    expect(r.held).toBeLessThan(4 * 1024 * 1024);
    expect(r.oldest).toEqual({ done: true });
    expect(r.newestDone).toBe(false);
  });
});
