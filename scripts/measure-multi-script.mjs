// Measures the two ways to run a script inside MULTI without risking EXECABORT
// on NOSCRIPT (README "Scripts", tx.run): EVAL with the body inside the block,
// or SCRIPT LOAD written just ahead of MULTI and EVALSHA inside, or what tx.run
// does: EVAL on the script's first call in the block, EVALSHA for the others.
// All send the body with every block (no client can know the server still has
// the script when EXEC arrives). Usage: npm run build && node scripts/measure-multi-script.mjs [port]
import { Redis, Script } from '../dist/index.js';

const port = Number(process.argv[2] ?? 6379);
const redis = new Redis(`redis://127.0.0.1:${port}`);
const db = redis.db;
const CALLERS = 64;
const MS = 2000;

const small = new Script('return redis.call("INCRBY", KEYS[1], ARGV[1])');
const large = new Script(`-- ${'x'.repeat(4000)}\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])`);

async function measure(label, block) {
  let n = 0;
  const until = Date.now() + MS;
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (Date.now() < until) {
      await block();
      n++;
    }
  }));
  return { label, blocksPerSec: Math.round(n / (MS / 1000)) };
}

const results = [];
for (const [name, script] of [['small', small], ['4KB', large]]) {
  for (const calls of [1, 5]) {
    for (let round = 0; round < 2; round++) {
      const t0 = process.cpuUsage();
      const a = await measure(`${name} x${calls} EVAL inside`, () => db.multi((tx) => {
        for (let i = 0; i < calls; i++) tx.command('EVAL', script.lua, 1, 'm:k', 1);
      }));
      const t1 = process.cpuUsage(t0);
      const b = await measure(`${name} x${calls} SCRIPT LOAD ahead`, () => {
        db.command('SCRIPT', 'LOAD', script.lua);
        return db.multi((tx) => {
          for (let i = 0; i < calls; i++) tx.command('EVALSHA', script.sha1, 1, 'm:k', 1);
        });
      });
      const t2 = process.cpuUsage(t0);
      const c = await measure(`${name} x${calls} tx.run (EVAL once)`, () => db.multi((tx) => {
        for (let i = 0; i < calls; i++) tx.run(script, ['m:k'], [1]);
      }));
      const t3 = process.cpuUsage(t0);
      const ms = (u) => Math.round((u.user + u.system) / 1000);
      results.push({ ...a, clientCpuMs: ms(t1) }, { ...b, clientCpuMs: ms(t2) - ms(t1) }, { ...c, clientCpuMs: ms(t3) - ms(t2) });
    }
  }
}
for (const r of results) console.log(`${r.label.padEnd(28)} ${String(r.blocksPerSec).padStart(7)} blocks/s  client cpu ${r.clientCpuMs} ms`);
await redis.close();
