// Run by spec/throwing-listeners.spec.ts in a process of its own (so that the
// uncaught exceptions it provokes are counted here, not by the test runner).
// Every listener of the client throws; the client must still recover from a
// killed connection and settle every command. Prints a JSON summary.
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

const redis = new Redis(url, { reconnect: { baseDelay: 5, maxDelay: 20 }, commandTimeout: 3000 });
const admin = new Redis(url);
for (const event of ['ready', 'error', 'reconnecting', 'commandError', 'close']) {
  redis.on(event, () => {
    throw new Error('listener bug');
  });
}

const settle = (p) => p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e: e.name }));
const results = [];
results.push(await settle(redis.db.reply('SET', 'tl:k', 'v')));
for (let round = 0; round < 3; round++) {
  redis.db.command('INCR', 'tl:unobserved'); // its loss (if any) is reported to a throwing commandError listener
  const inflight = settle(redis.db.reply('GET', 'tl:k'));
  await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  results.push(await inflight);
  results.push(await settle(redis.db.reply('GET', 'tl:k')));
}
await redis.close();
await admin.close();
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ thrown, results }));
