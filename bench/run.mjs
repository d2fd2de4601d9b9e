#!/usr/bin/env node
// Side-by-side benchmark: redmux vs ioredis (auto-pipelining off and on) vs
// node-redis (defaults, and with a per-command timeout), against a private
// redis-server on a free loopback port that this script starts and stops.
//
//   npm run bench                     # all scenarios, 3 repetitions
//   npm run bench -- --reps 5 --duration 2000 --only get16x128,burst100k
//   npm run bench -- --before ../old-checkout/dist   # adds 'redmux-before': the ratio is the change
//
// Every measurement runs in a fresh process; within a repetition the clients
// take turns scenario by scenario, so a noisy neighbour hits them alike. The
// ratio redmux/peer is computed inside each repetition, then summarised.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const reps = Number(flag('reps', 3));
const duration = Number(flag('duration', 1000));
const CLIENTS = (flag('clients', 'redmux,ioredis,ioredis-auto,node-redis,node-redis-timeout')).split(',');
// --before <dir>: also measure another redmux build (e.g. the dist/ of an older
// checkout) as client 'redmux-before', so a change is judged within one run.
const before = flag('before', '');
if (before) {
  process.env.REDMUX_BEFORE = path.resolve(before, 'index.js');
  if (!CLIENTS.includes('redmux-before')) CLIENTS.push('redmux-before');
}
const ALL = ['get16x1', 'set16x1', 'get16x16', 'set16x16', 'get16x128', 'set16x128', 'get16x1024', 'set16x1024', 'get1024x128', 'get65536x128', 'burst100k', 'pubsub'];
const only = flag('only', '');
const SCENARIOS = only ? only.split(',') : ALL;

async function freePort() {
  for (;;) {
    const srv = net.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address();
    await new Promise((r) => srv.close(r));
    if (port !== 6379) return port;
  }
}

async function startServer() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    if (process.getuid?.() === 0) {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server', 'redis-tools'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } else throw new Error('redis-server not found: apt-get install redis-server');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-bench-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function measure(client, scenario, port) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, 'worker.mjs'), client, scenario, String(port), String(duration)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) {
        process.stderr.write(`  ${client} ${scenario} failed: ${err.split('\n')[0]}\n`);
        resolve(undefined);
      } else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');

const server = await startServer();
const results = {}; // scenario -> client -> [runs]
try {
  for (let rep = 0; rep < reps; rep++) {
    process.stderr.write(`repetition ${rep + 1}/${reps}\n`);
    for (const scenario of SCENARIOS) {
      // Rotate the order each repetition so no client always goes first.
      const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length]);
      for (const client of order) {
        const r = await measure(client, scenario, server.port);
        if (!r) continue;
        r.opsPerSec = r.ops / r.seconds;
        r.cpuUsPerOp = r.cpuUs / r.ops;
        r.rep = rep;
        ((results[scenario] ??= {})[client] ??= []).push(r);
      }
    }
  }
} finally {
  server.stop();
}

const lines = [];
const summary = {};
for (const scenario of SCENARIOS) {
  const row = results[scenario] ?? {};
  summary[scenario] = {};
  lines.push(`\n${scenario}`);
  lines.push(`  ${'client'.padEnd(20)} ${'ops/s median'.padStart(12)} ${'min-max'.padStart(21)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'cpu us/op'.padStart(9)} ${'redmux/x'.padStart(9)}`);
  for (const client of CLIENTS) {
    const runs = row[client] ?? [];
    if (runs.length === 0) continue;
    const ops = runs.map((r) => r.opsPerSec);
    // Ratio within the same repetition, then the median of those ratios.
    const ratios = runs
      .map((r) => {
        const mine = (row.redmux ?? []).find((m) => m.rep === r.rep);
        return mine ? mine.opsPerSec / r.opsPerSec : NaN;
      })
      .filter(Number.isFinite);
    const s = {
      opsPerSec: median(ops),
      min: Math.min(...ops),
      max: Math.max(...ops),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUsPerOp: median(runs.map((r) => r.cpuUsPerOp)),
      ratio: median(ratios),
    };
    summary[scenario][client] = s;
    lines.push(
      `  ${client.padEnd(20)} ${fmt(s.opsPerSec).padStart(12)} ${`${fmt(s.min)}-${fmt(s.max)}`.padStart(21)} ${fmt(s.p50, 3).padStart(8)} ${fmt(s.p99, 3).padStart(8)} ${fmt(s.cpuUsPerOp, 2).padStart(9)} ${(client === 'redmux' ? '' : fmt(s.ratio, 2) + 'x').padStart(9)}`,
    );
  }
}
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${reps} repetitions of ${duration} ms`;
console.log(`redmux benchmark (${machine})`);
console.log('burst100k: p50/p99 are the ms per burst of 100k GETs; pubsub: messages received per second.');
console.log(lines.join('\n'));
mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', 'latest.json');
writeFileSync(file, JSON.stringify({ machine, date: new Date().toISOString(), summary, runs: results }, null, 2));
console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
