#!/usr/bin/env node
// What the slowest 1% of a closed loop are made of: N callers GET 16 B through
// redmux (the built dist/) against a private redis-server for a few seconds;
// every command's start and latency is kept, and V8's GC pauses of the same
// window. Prints p50/p90/p99/p99.9, the GC pauses, the share of the slowest
// 1% in flight during one, and how the slowest 1% cluster in time (groups of
// commands that ended within the same millisecond or so: a group as large as
// the callers means the whole process stopped).
//   node bench/tail.mjs [--callers 128] [--duration 3000]
// Node/V8 flags go before the script: node --max-semi-space-size=64 bench/tail.mjs
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { flags, positive } from './args.mjs';
import { ensureRedisInstalled, startServer } from './server.mjs';

const args = process.argv.slice(2);
const flag = flags(args, ['callers', 'duration'], 'node bench/tail.mjs [--callers 128] [--duration 3000]');
const callers = positive('callers', flag('callers', 128));
const duration = positive('duration', flag('duration', 3000));

ensureRedisInstalled();
const server = await startServer();
const { Redis } = await import('../dist/index.js');
const redis = new Redis({ host: '127.0.0.1', port: server.port });
try {
  const db = redis.db;
  const keys = Array.from({ length: 1000 }, (_, i) => `tail:${i}`);
  await Promise.all(keys.map((k) => db.reply('SET', k, 'x'.repeat(16))));

  const gcs = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  const starts = new Float64Array(5_000_000);
  const lat = new Float64Array(starts.length);
  let n = 0;
  let running = true;
  let measuring = false;
  const caller = async (id) => {
    for (let i = 0; running; i++) {
      const t = performance.now();
      await db.reply('GET', keys[(id * 31 + i) % 1000]);
      if (measuring && n < lat.length) {
        starts[n] = t;
        lat[n++] = performance.now() - t;
      }
    }
  };
  const all = Array.from({ length: callers }, (_, id) => caller(id));
  await new Promise((r) => setTimeout(r, 500));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, duration));
  measuring = false;
  running = false;
  await Promise.all(all);
  await new Promise((r) => setImmediate(r));
  observer.disconnect();

  const sorted = Array.from(lat.subarray(0, n)).sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
  const p99 = q(99);
  const pauses = gcs.filter(([at]) => at >= t0);
  const inPause = (a, b) => pauses.some(([at, d]) => at < b && at + d > a);
  let slow = 0;
  let slowInGc = 0;
  const ends = [];
  for (let i = 0; i < n; i++) {
    if (lat[i] < p99) continue;
    slow++;
    if (inPause(starts[i], starts[i] + lat[i])) slowInGc++;
    ends.push(starts[i] + lat[i]);
  }
  // Groups: slow commands whose ends lie within 1 ms of the previous one's.
  ends.sort((a, b) => a - b);
  const groups = [];
  for (const e of ends) {
    const g = groups[groups.length - 1];
    if (g && e - g.last <= 1) {
      g.last = e;
      g.size++;
    } else groups.push({ first: e, last: e, size: 1 });
  }
  const withGc = groups.filter((g) => pauses.some(([at, d]) => at <= g.last && at + d >= g.first - 3)).length;
  const f = (x) => x.toFixed(3);
  console.log(`${callers} callers, ${Math.round(n / (duration / 1000)).toLocaleString('en-US')} GET/s, p50 ${f(q(50))} p90 ${f(q(90))} p99 ${f(p99)} p99.9 ${f(q(99.9))} ms, p99/p50 ${(p99 / q(50)).toFixed(1)}x`);
  console.log(`GC pauses: ${pauses.length}, ${pauses.reduce((s, [, d]) => s + d, 0).toFixed(1)} ms in all, longest ${Math.max(0, ...pauses.map(([, d]) => d)).toFixed(2)} ms`);
  console.log(`slowest 1%: ${slow} commands, ${((100 * slowInGc) / slow).toFixed(0)}% in flight during a GC pause`);
  console.log(`in ${groups.length} groups; largest: ${groups.map((g) => g.size).sort((a, b) => b - a).slice(0, 10).join(', ')}; ${withGc} groups end near a GC pause`);
} finally {
  await redis.close();
  server.stop();
}
