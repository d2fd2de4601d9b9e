// Child of spec/cluster-multi-try-again-exit.spec.ts (runs dist/): a db.multi block refused
// with TRYAGAIN waits to be sent again; the client is disconnected during that wait, and the
// block's outcome is printed. A wait that holds nothing alive lets Node exit first (code 13:
// an unsettled top-level await), with the caller's await never settled.
import { Redis } from '../../dist/index.js';

const [seed, tag] = process.argv.slice(2);
const redis = new Redis({ nodes: [seed], commandTimeout: 10_000, connectTimeout: 2000 });
await redis.db.reply('PING');
const realSetTimeout = globalThis.setTimeout;
let disconnected = false;
globalThis.setTimeout = function (fn, ms, ...args) {
  const timer = realSetTimeout(fn, ms, ...args);
  if (!disconnected && new Error().stack.includes('transaction.js')) {
    disconnected = true;
    setImmediate(() => redis.disconnect()); // during the block's backoff
  }
  return timer;
};
const outcome = await redis.db
  .multi((tx) => tx.command('MGET', `{${tag}}here`, `{${tag}}absent`))
  .then((v) => ({ ok: true, v }), (e) => ({ ok: false, name: e.name, message: e.message }));
console.log(JSON.stringify({ disconnected, outcome }));
