#!/usr/bin/env node
// What per-call options and observability cost on the hot path: GET x128
// (128 concurrent callers, 16-byte value) against a private redis-server, one
// fresh process per measurement, variants interleaved every repetition.
//
//   npm run build && node bench/observe.mjs [--reps 5] [--duration 2000] [--before dir,dir...]
//
// Variants (this build): plain, a view with a signal, a view with a prefix,
// a no-op subscriber on redmux:command, redmux/otel with the SDK (spans
// sampled and dropped, no exporter), callSiteStacks. --before adds the
// dist/ of other builds (e.g. the commit before a change) as 'before:<dir>'.
// Prints ops/s and CPU µs per GET (median and best over repetitions: CPU
// time is what a noisy shared machine disturbs least) and the ratios to
// 'plain' (medians of per-repetition ratios).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flags, positive } from './args.mjs';
import { ensureRedisInstalled, startServer } from './server.mjs';

const args = process.argv.slice(2);

if (args[0] === '--worker') {
  await worker(args[1], Number(args[2]), Number(args[3]));
  process.exit(0);
}

const flag = flags(args, ['reps', 'duration', 'before'], 'node bench/observe.mjs [--reps 5] [--duration 2000] [--before dir,dir...]');
const reps = positive('reps', flag('reps', 5));
const duration = positive('duration', flag('duration', 2000));
const befores = flag('before', '').split(',').filter(Boolean).map((d) => path.resolve(d));
const VARIANTS = ['plain', 'signal', 'prefix', 'subscriber', 'otel', 'callsite', ...befores.map((d) => `before:${d}`)];

ensureRedisInstalled();
const server = await startServer();
const port = server.port;
spawnSync('redis-cli', ['-p', String(port), 'SET', 'p:k', 'x'.repeat(16)]);
spawnSync('redis-cli', ['-p', String(port), 'SET', 'k', 'x'.repeat(16)]);

const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
try {
  for (let rep = 0; rep < reps; rep++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + rep) % VARIANTS.length]);
    for (const variant of order) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', variant, String(port), String(duration)], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${variant}: ${out.stderr}`);
      results[variant].push(JSON.parse(out.stdout.trim().split('\n').pop()));
      process.stderr.write('.');
    }
  }
} finally {
  server.stop();
}
process.stderr.write('\n');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Ratios are taken within each repetition (a noisy neighbour hits all variants of one alike), then the median.
const ratio = (v, key) => median(results[v].map((r, i) => r[key] / results.plain[i][key]));
console.log(`GET x128, ${reps} reps x ${duration} ms, node ${process.version}, ${os.cpus().length} cores`);
console.log('variant'.padEnd(28), 'ops/s'.padStart(10), 'cpu µs/op'.padStart(10), 'min'.padStart(8), 'ops ratio'.padStart(10), 'cpu ratio'.padStart(10));
for (const v of VARIANTS) {
  const ops = median(results[v].map((r) => r.ops / r.seconds));
  const cpu = median(results[v].map((r) => r.cpuUs / r.ops));
  const name = v.startsWith('before:') ? `before:${path.basename(path.dirname(v.slice(7)))}` : v;
  const best = Math.min(...results[v].map((r) => r.cpuUs / r.ops));
  console.log(name.padEnd(28), ops.toFixed(0).padStart(10), cpu.toFixed(2).padStart(10), best.toFixed(2).padStart(8), ratio(v, 'ops').toFixed(3).padStart(10), median(results[v].map((r, i) => r.cpuUs / r.ops / (results.plain[i].cpuUs / results.plain[i].ops))).toFixed(3).padStart(10));
}

/** One measurement: 128 callers doing GET in a loop for `ms`, after a warm-up. */
async function worker(variant, port, ms) {
  const before = variant.startsWith('before:');
  const { Redis } = await import(before ? pathToFileURL(path.join(variant.slice(7), 'index.js')).href : '../dist/index.js');
  const redis = new Redis({ host: '127.0.0.1', port, ...(variant === 'callsite' ? { callSiteStacks: true } : {}) });
  let db = redis.db;
  if (variant === 'signal') db = db.with({ signal: new AbortController().signal });
  if (variant === 'prefix') db = db.with({ prefix: 'p:' });
  if (variant === 'subscriber') {
    const dc = await import('node:diagnostics_channel');
    dc.tracingChannel('redmux:command').subscribe({ start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} });
  }
  if (variant === 'otel') {
    const { instrument } = await import('../dist/otel.js');
    const { TracerProvider } = await import('@opentelemetry/sdk-trace');
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
    instrument({ tracerProvider: new TracerProvider(), meterProvider: new MeterProvider() });
  }
  await db.reply('PING');
  const run = async (until) => {
    let n = 0;
    await Promise.all(
      Array.from({ length: 128 }, async () => {
        while (performance.now() < until) {
          await db.reply('GET', 'k');
          n++;
        }
      }),
    );
    return n;
  };
  await run(performance.now() + Math.min(500, ms / 4));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ops = await run(t0 + ms);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await redis.close();
  console.log(JSON.stringify({ ops, seconds, cpuUs: cpu.user + cpu.system }));
}
