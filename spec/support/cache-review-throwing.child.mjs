// Run by spec/cache-review.spec.ts in a process of its own (so that the
// uncaught exceptions it provokes are counted here, not by the test runner).
// A 'commandError' listener and a tracing subscriber that throw, while shared
// cached reads fail, time out and are aborted: every caller must still settle
// once, and the client must go on. Prints a JSON summary.
import diagnostics from 'node:diagnostics_channel';
import { Redis } from '../../dist/index.js';

const url = process.argv[2];
let thrown = 0;
process.on('uncaughtException', (err) => {
  if (err && err.message === 'listener bug') thrown++;
  else {
    console.error(err);
    process.exit(3);
  }
});

const redis = new Redis(url, { cache: { maxEntries: 100, maxBytes: 1 << 20 } });
redis.on('commandError', () => {
  throw new Error('listener bug');
});
diagnostics.subscribe('tracing:redmux:command:asyncEnd', () => {
  throw new Error('listener bug');
});
const cached = redis.db.with({ cache: true });
const settle = (p) => Promise.resolve(p).then((v) => ({ ok: true, v }), (e) => ({ ok: false, e: e.name }));
const results = {};

await redis.db.reply('DEL', 'crt:list');
await redis.db.reply('RPUSH', 'crt:list', 'x');
await redis.db.reply('SET', 'crt:k', 'v');
// A shared read that fails (WRONGTYPE): two fire-and-forget callers (reported to the throwing listener) and one awaiting.
cached.command('GET', 'crt:list');
cached.command('GET', 'crt:list');
results.failed = await settle(cached.reply('GET', 'crt:list'));
// A shared read aborted for one caller, kept for the other.
const ac = new AbortController();
cached.with({ signal: ac.signal }).command('GET', 'crt:k');
const kept = settle(cached.reply('GET', 'crt:k'));
ac.abort();
results.kept = await kept;
// Shared reads, many callers, each settled once (traced: the throwing subscriber sees each).
const many = await Promise.all(Array.from({ length: 20 }, () => settle(cached.reply('GET', 'crt:k'))));
results.many = many.every((r) => r.ok && r.v === 'v');
results.after = await settle(redis.db.reply('ECHO', 'still here'));
await redis.close();
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ thrown, results }));
