#!/usr/bin/env node
// What switching databases on one connection costs: `callers` closed-loop
// callers of awaited GETs, each sending a share of them to a second database
// (redis.database(1)) on the same client, against a private redis-server.
// Every switch waits for its SELECT's answer before anything behind it is
// written (lib/connection/select.ts), so the share sets how often the
// pipeline drains. Prints ops/s per share, and with --before <dist/index.js>
// the same for another build, interleaved, as ratios.
//   node bench/db-switch.mjs [--shares 0,0.01,0.1,0.5] [--callers 128] [--duration 2000] [--reps 2] [--before /path/to/dist/index.js]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flags, positive } from './args.mjs';
import { ensureRedisInstalled, startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = flags(process.argv.slice(2), ['shares', 'callers', 'duration', 'reps', 'before'], 'node bench/db-switch.mjs [--shares 0,0.1] [--callers 128] [--duration 2000] [--reps 2] [--before dist/index.js]');
const shares = flag('shares', '0,0.01,0.1,0.5').split(',').map(Number);
if (shares.some((s) => !(s >= 0 && s <= 1))) throw new Error('--shares: numbers from 0 to 1');
const callers = positive('callers', flag('callers', 128));
const duration = positive('duration', flag('duration', 2000));
const reps = positive('reps', flag('reps', 2));
const builds = { redmux: pathToFileURL(path.join(here, '..', 'dist', 'index.js')).href };
const before = flag('before', undefined);
if (before !== undefined) builds.before = pathToFileURL(path.resolve(before)).href;

async function measure(url, port, share) {
  const { Redis } = await import(url);
  const redis = new Redis(`redis://127.0.0.1:${port}`);
  const db0 = redis.db;
  const db1 = redis.database(1);
  await db0.reply('SET', 'k', 'v');
  await db1.reply('SET', 'k', 'v');
  let seed = 1; // the same sequence of databases for every build
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let ops = 0;
  const end = Date.now() + duration;
  const caller = async () => {
    while (Date.now() < end) {
      await (next() < share ? db1 : db0).reply('GET', 'k');
      ops++;
    }
  };
  const start = Date.now();
  await Promise.all(Array.from({ length: callers }, caller));
  const perSecond = Math.round(ops / ((Date.now() - start) / 1000));
  await redis.close();
  return perSecond;
}

ensureRedisInstalled();
const server = await startServer();
try {
  for (const share of shares) {
    const got = {};
    for (let r = 0; r < reps; r++) {
      const order = Object.entries(builds);
      if (r % 2 === 1) order.reverse(); // neither build always goes first
      for (const [name, url] of order) (got[name] ??= []).push(await measure(url, server.port, share));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const line = Object.entries(got).map(([name, xs]) => `${name} ${median(xs)} ops/s`).join(', ');
    const ratio = got.before ? `, redmux / before ${(median(got.redmux) / median(got.before)).toFixed(2)}x` : '';
    console.log(`${callers} callers, ${(share * 100).toFixed(0)}% to database 1: ${line}${ratio}`);
  }
} finally {
  server.stop();
}
