// Run by spec/review7-async-error-listener.spec.ts in a process of its own
// (the uncaught exceptions and unhandled rejections it provokes are counted
// here, not by the test runner). A subscriber's async 'error' listener that
// rejects, reached by each path: a rejecting 'message' listener (one, then
// several listeners: callEach), a throwing one, and the subscriber's own
// connection error. Prints a JSON summary.
import { Redis } from '../../dist/index.js';

const url = process.argv[2];
const counts = { unhandled: 0, uncaught: 0 };
process.on('unhandledRejection', (err) => {
  if (err && /^error listener bug/.test(err.message)) counts.unhandled++;
  else {
    console.error(err);
    process.exit(3);
  }
});
process.on('uncaughtException', (err) => {
  if (err && /^error listener bug/.test(err.message)) counts.uncaught++;
  else {
    console.error(err);
    process.exit(3);
  }
});

const tick = () => new Promise((r) => setTimeout(r, 20));
const redis = new Redis(url, { reconnect: { baseDelay: 5, maxDelay: 20 }, commandTimeout: 3000 });
const seen = [];
const mode = process.argv[3];
const sub = redis.subscriber();
// 'client': the client's own 'error' listener, reached by its connection's loss (CLIENT KILL).
(mode === 'client' ? redis : sub).on('error', async (err) => {
  seen.push(err.message);
  throw new Error(`error listener bug (${err.message})`);
});
if (mode === 'one-async') {
  sub.on('message', async () => {
    throw new Error('message listener bug');
  });
} else if (mode === 'two-async') {
  sub.on('message', async () => {
    throw new Error('message listener bug');
  });
  sub.on('message', () => {});
} else if (mode === 'two-throwing') {
  sub.on('message', () => {
    throw new Error('message listener bug');
  });
  sub.on('message', () => {});
}
await sub.subscribe('r7:ch');
if (mode === 'connection') await redis.db.reply('CLIENT', 'KILL', 'TYPE', 'pubsub');
else if (mode === 'client') {
  const admin = new Redis(url);
  await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await admin.close();
} else await redis.db.reply('PUBLISH', 'r7:ch', 'm');
for (let i = 0; i < 10 && seen.length === 0; i++) await tick();
await tick();
await sub.close();
await redis.close();
await tick();
console.log(JSON.stringify({ seen, ...counts }));
