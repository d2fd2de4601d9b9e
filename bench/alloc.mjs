#!/usr/bin/env node
// Allocation per operation, garbage included, for every client: each runs a
// closed-loop scenario in a fresh worker with V8's sampling heap profiler on
// (objects later collected by minor and major GCs counted too), against a
// private redis-server. Prints bytes per op and the top allocation sites.
//   node bench/alloc.mjs [--clients redmux,ioredis,node-redis] [--only get16x128] [--duration 1000]
// The sampled runs are slower than unsampled ones: read bytes, not ops/s, here.
// A young-generation scavenge pauses every caller in flight, so fewer bytes
// per op means fewer pauses (see "The tail" in the README).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkList, flags, positive } from './args.mjs';
import { runJson } from './child.mjs';
import { ensureRedisInstalled, startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = flags(args, ['clients', 'only', 'duration'], 'node bench/alloc.mjs [--clients redmux,ioredis] [--only get16x128] [--duration 1000]');
const clients = flag('clients', 'redmux,ioredis,iovalkey,node-redis').split(',');
// Closed-loop scenarios of one server (the worker checks client names).
const scenarios = flag('only', 'get16x128,set16x128').split(',');
checkList('scenario', scenarios, ['get16x1', 'set16x1', 'get16x16', 'set16x16', 'get16x128', 'set16x128', 'get16x1024', 'set16x1024', 'get1024x128', 'get65536x128']);
checkList('client', clients, ['redmux', 'ioredis', 'ioredis-auto', 'iovalkey', 'iovalkey-auto', 'node-redis', 'node-redis-timeout', 'glide']);
const duration = String(positive('duration', flag('duration', 1000)));

function sample(client, scenario, port) {
  const env = { ...process.env, BENCH_HEAP_PROFILE: '1' };
  return runJson([path.join(here, 'worker.mjs'), client, scenario, String(port), duration], `${client} ${scenario}`, env);
}

ensureRedisInstalled();
const server = await startServer();
try {
  for (const scenario of scenarios) {
    console.log(`\n${scenario}: bytes allocated per op (heap sampling, garbage included)`);
    for (const client of clients) {
      const r = await sample(client, scenario, server.port);
      if (!r) continue;
      console.log(`  ${client.padEnd(20)} ${Math.round(r.bytesPerOp).toLocaleString('en-US').padStart(7)} B/op`);
      for (const t of r.top.slice(0, 6)) console.log(`      ${Math.round(t.bytesPerOp).toString().padStart(6)}  ${t.site}`);
    }
  }
} finally {
  server.stop();
}
