#!/usr/bin/env node
// Side-by-side benchmark: redmux vs ioredis (auto-pipelining off and on),
// iovalkey, node-redis (per-command timeout off and on) and Valkey GLIDE,
// against private servers this script starts and stops: one redis-server
// (standalone scenarios) and one 3 masters + 3 replicas cluster (cluster-*
// scenarios), on free loopback ports.
//
//   npm run bench                     # everything, 3 repetitions
//   npm run bench -- --reps 5 --duration 2000 --only get16x128,cluster-burst100k
//   npm run bench -- --suite cluster   # or standalone
//   npm run bench -- --before ../old-checkout/dist   # adds 'redmux-before': the ratio is the change
//   npm run bench -- --only scriptget16x128,scriptincr1x128,scan100k,scan100k-nodedupe,scan100k-pages --out /tmp/x
//
// Scripts (scriptget16x128, scriptincr1x128): a read-only and a read-write Lua
// script at 128 callers, as each client defines scripts. SCAN (scan100k,
// -nodedupe, -pages): full iterations over 100k keys with COUNT 1000 through
// each client's iterator, the keys loaded by this script before each scan
// scenario of each repetition; ops/s are keys/s.
//
// Every measurement runs in a fresh process; within a repetition the clients
// take turns scenario by scenario, in an order rotated every repetition, so a
// noisy neighbour hits them alike. The ratio redmux/peer is computed inside
// each repetition, then summarised. Each repetition starts with
// `redis-benchmark -P 16 -t get -d 16` against the same server(s): the
// server's own limit on this machine, which redmux is reported as a share of.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkList, flags, positive } from './args.mjs';
import { runJson } from './child.mjs';
import { renderChart } from './chart.mjs';
import { startCluster } from './cluster.mjs';
import { ensureRedisInstalled, startServer } from './server.mjs';
import { renderTables, renderTargets } from './table.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = flags(
  args,
  ['reps', 'duration', 'out', 'clients', 'before', 'node-flags', 'suite', 'only'],
  'node bench/run.mjs [--reps 3] [--duration 1000] [--suite all|standalone|cluster] [--only a,b] [--clients a,b] [--before dir] [--node-flags "..."] [--out dir]',
);
const reps = positive('reps', flag('reps', 3));
const duration = positive('duration', flag('duration', 1000));
const outDir = path.resolve(flag('out', path.join(here, 'results')));
const ALL_CLIENTS = ['redmux', 'ioredis', 'ioredis-auto', 'iovalkey', 'iovalkey-auto', 'node-redis', 'node-redis-timeout', 'glide', 'redmux-before'];
let CLIENTS = checkList('client', flag('clients', 'redmux,ioredis,ioredis-auto,iovalkey,node-redis,node-redis-timeout,glide').split(','), ALL_CLIENTS);
// --before <dir>: also measure another redmux build (e.g. the dist/ of an older
// checkout) as client 'redmux-before', so a change is judged within one run.
const before = flag('before', '');
// --node-flags "<flags>": run every worker (every client alike) with these
// Node/V8 flags, e.g. a larger young generation to see what GC pauses do to
// the tail: --node-flags "--max-semi-space-size=64 --min-semi-space-size=64".
const nodeFlags = flag('node-flags', '').split(' ').filter(Boolean);
if (before) {
  process.env.REDMUX_BEFORE = path.resolve(before, 'index.js');
  if (!CLIENTS.includes('redmux-before')) CLIENTS.push('redmux-before');
}
const STANDALONE = [
  'get16x1', 'set16x1', 'get16x16', 'set16x16', 'get16x128', 'set16x128', 'get16x1024', 'set16x1024', 'get1024x128', 'get65536x128', 'burst100k', 'pubsub', 'cachedget16x128',
  'scriptget16x128', 'scriptincr1x128', 'scan100k', 'scan100k-nodedupe', 'scan100k-pages',
];
const CLUSTER = ['cluster-get16x1', 'cluster-set16x1', 'cluster-get16x128', 'cluster-set16x128', 'cluster-burst100k', 'cluster-mget10x128'];
const suite = checkList('suite', [flag('suite', 'all')], ['all', 'standalone', 'cluster'])[0];
const only = flag('only', '');
const SCENARIOS = only ? checkList('scenario', only.split(','), [...STANDALONE, ...CLUSTER]) : [...(suite === 'cluster' ? [] : STANDALONE), ...(suite === 'standalone' ? [] : CLUSTER)];
const isCluster = (s) => s.startsWith('cluster-');
const isScan = (s) => /^scan100k/.test(s);
const isOneCaller = (s) => /x1$/.test(s);
// The keys a scan scenario walks (the worker checks it sees each of them).
const SCAN_KEYS = 100_000;

// GLIDE ships its Rust core as a native binary per platform (an optional
// dependency): where it does not load, say why and go on without it.
if (CLIENTS.includes('glide')) {
  const probe = spawnSync(process.execPath, ['-e', "import('@valkey/valkey-glide').then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })"], {
    cwd: here,
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    process.stderr.write(`glide left out: @valkey/valkey-glide does not load here (${probe.stderr.trim().split('\n')[0]})\n`);
    CLIENTS = CLIENTS.filter((c) => c !== 'glide');
  }
}

function measure(client, scenario, target) {
  return runJson([...nodeFlags, path.join(here, 'worker.mjs'), client, scenario, target, String(duration)], `${client} ${scenario}`);
}

/** bench/floor.mjs against `port`: { ops, seconds, cpuUs }, or undefined. */
function measureFloor(port) {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeFlags, path.join(here, 'floor.mjs'), String(port), String(duration)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        process.stderr.write(`  floor.mjs failed: ${stderr.split('\n')[0] || err.message}\n`);
        resolve(undefined);
      } else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

/**
 * redis-benchmark GET of 16 B, requests per second (or undefined): by default
 * 50 connections pipelining 16 (`-P 16`, the server's own limit); with
 * `oneCaller`, one connection and one request at a time (`-c 1 -P 1`, the
 * loopback round trip a C client achieves: what a one-caller scenario can reach).
 */
function serverLimit(port, cluster, oneCaller = false) {
  const n = String(oneCaller ? Math.max(5_000, Math.round(5 * duration)) : Math.max(100_000, Math.round(500 * duration)));
  const shape = oneCaller ? ['-c', '1', '-P', '1'] : ['-P', '16'];
  const argv = ['-h', '127.0.0.1', '-p', String(port), ...shape, '-t', 'get', '-d', '16', '-n', n, '--csv', ...(cluster ? ['--cluster'] : [])];
  return new Promise((resolve) => {
    execFile('redis-benchmark', argv, { timeout: 60_000 }, (err, stdout) => {
      const row = stdout?.split('\n').find((l) => l.startsWith('"GET"'));
      if (err || !row) {
        process.stderr.write(`  redis-benchmark ${shape.join(' ')}${cluster ? ' --cluster' : ''} failed: ${err?.message ?? stdout}\n`);
        resolve(undefined);
      } else resolve(Number(JSON.parse(`[${row}]`)[1]));
    });
  });
}

/**
 * The keyspace of the scan scenarios: FLUSHALL, then exactly SCAN_KEYS keys
 * (`scan:<i>`, 1-byte values), written as one pipeline by `redis-cli --pipe`
 * so that no client under test pays for it. Then wait for the server's
 * incremental rehash to end (a SCAN during a rehash may return keys twice,
 * which would favour whoever runs first): DBSIZE, and a pause covering
 * several of its active-rehash cycles (10 per second).
 */
async function loadScanKeys(port) {
  const bulk = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  const parts = ['*1\r\n$8\r\nFLUSHALL\r\n'];
  for (let i = 0; i < SCAN_KEYS; i++) parts.push(`*3\r\n$3\r\nSET\r\n${bulk(`scan:${i}`)}$1\r\nv\r\n`);
  const out = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--pipe'], { input: parts.join(''), encoding: 'utf8' });
  if (!/errors: 0, replies: \d+/.test(out)) throw new Error(`redis-cli --pipe: ${out.trim()}`);
  const size = Number(execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'DBSIZE'], { encoding: 'utf8' }).trim());
  if (size !== SCAN_KEYS) throw new Error(`loading the scan keys: DBSIZE is ${size}, not ${SCAN_KEYS}`);
  await new Promise((r) => setTimeout(r, 500));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const clock = (ms) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};
const kfmt = (n) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)));

ensureRedisInstalled();
const wantStandalone = SCENARIOS.some((s) => !isCluster(s));
const wantCluster = SCENARIOS.some(isCluster);
const server = wantStandalone ? await startServer() : undefined;
let cluster;
const results = {}; // scenario -> client -> [runs]
// redis-benchmark ops/s per repetition: -P 16 (standalone, cluster) and -c 1 -P 1 (standalone1, cluster1).
// nodeFloor: bench/floor.mjs, a bare net.Socket GET loop (the one-caller floor of any Node client).
const limits = { standalone: [], cluster: [], standalone1: [], cluster1: [], nodeFloor: [] };
try {
  if (wantCluster) {
    process.stderr.write('starting a 3+3 cluster...\n');
    cluster = await startCluster();
  }
  const wantOneCaller = (cl) => SCENARIOS.some((s) => isCluster(s) === cl && isOneCaller(s));
  const total = reps * (SCENARIOS.length * CLIENTS.length + (wantStandalone ? 1 : 0) + (wantCluster ? 1 : 0) + (wantOneCaller(false) ? 2 : 0) + (wantOneCaller(true) ? 1 : 0));
  let done = 0;
  const t0 = Date.now();
  const progress = (what) => {
    done++;
    const elapsed = Date.now() - t0;
    const left = (elapsed / done) * (total - done);
    process.stderr.write(`[${String(done).padStart(String(total).length)}/${total}] ${what} | elapsed ${clock(elapsed)}, ~${clock(left)} left\n`);
  };
  for (let rep = 0; rep < reps; rep++) {
    const tag = `rep ${rep + 1}/${reps}`;
    if (wantStandalone) {
      limits.standalone[rep] = await serverLimit(server.port, false);
      progress(`${tag} redis-benchmark -P 16: ${kfmt(limits.standalone[rep] ?? NaN)} ops/s`);
    }
    if (wantCluster) {
      limits.cluster[rep] = await serverLimit(cluster.ports[0], true);
      progress(`${tag} redis-benchmark --cluster -P 16: ${kfmt(limits.cluster[rep] ?? NaN)} ops/s`);
    }
    if (wantOneCaller(false)) {
      limits.standalone1[rep] = await serverLimit(server.port, false, true);
      progress(`${tag} redis-benchmark -c 1 -P 1: ${kfmt(limits.standalone1[rep] ?? NaN)} ops/s`);
      const floor = await measureFloor(server.port);
      limits.nodeFloor[rep] = floor && floor.ops / floor.seconds;
      progress(`${tag} bare Node socket, one caller: ${kfmt(limits.nodeFloor[rep] ?? NaN)} ops/s`);
    }
    if (wantOneCaller(true)) {
      limits.cluster1[rep] = await serverLimit(cluster.ports[0], true, true);
      progress(`${tag} redis-benchmark --cluster -c 1 -P 1: ${kfmt(limits.cluster1[rep] ?? NaN)} ops/s`);
    }
    for (const scenario of SCENARIOS) {
      const target = isCluster(scenario) ? `cluster:${cluster.ports.join(',')}` : String(server.port);
      // Loaded before each scan scenario of each repetition: the scenarios before it left keys of their own.
      if (isScan(scenario)) await loadScanKeys(server.port);
      // Rotate the order each repetition so no client always goes first.
      const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length]);
      for (const client of order) {
        const r = await measure(client, scenario, target);
        if (r) {
          r.opsPerSec = r.ops / r.seconds;
          r.cpuUsPerOp = r.cpuUs / r.ops;
          r.rep = rep;
          ((results[scenario] ??= {})[client] ??= []).push(r);
        }
        progress(`${tag} ${scenario} ${client}: ${r ? `${kfmt(r.opsPerSec)} ops/s` : 'failed'}`);
      }
    }
  }
} finally {
  server?.stop();
  cluster?.stop();
}

const summary = {};
for (const scenario of SCENARIOS) {
  const row = results[scenario] ?? {};
  // One-caller rows are set against redis-benchmark's one-connection round trip, the others against -P 16.
  const limit = limits[`${isCluster(scenario) ? 'cluster' : 'standalone'}${isOneCaller(scenario) ? '1' : ''}`];
  summary[scenario] = {};
  for (const client of CLIENTS) {
    const runs = row[client] ?? [];
    if (runs.length === 0) continue;
    const ops = runs.map((r) => r.opsPerSec);
    const mine = (rep) => (row.redmux ?? []).find((m) => m.rep === rep);
    // Ratio within the same repetition, then the median of those ratios.
    const ratios = runs.map((r) => (mine(r.rep) ? mine(r.rep).opsPerSec / r.opsPerSec : NaN)).filter(Number.isFinite);
    const shares = runs.map((r) => r.opsPerSec / (limit[r.rep] ?? NaN)).filter(Number.isFinite);
    const floorShares = isOneCaller(scenario) && !isCluster(scenario) ? runs.map((r) => r.opsPerSec / (limits.nodeFloor[r.rep] ?? NaN)).filter(Number.isFinite) : [];
    summary[scenario][client] = {
      opsPerSec: median(ops),
      min: Math.min(...ops),
      max: Math.max(...ops),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUsPerOp: median(runs.map((r) => r.cpuUsPerOp)),
      ratio: median(ratios),
      // ops/s as a share of redis-benchmark in the same repetition (-P 16; -c 1 -P 1 for one caller).
      serverShare: median(shares),
      // One caller, standalone: ops/s as a share of the bare Node socket loop in the same repetition.
      floorShare: median(floorShares),
      // GC pauses in the measured window, and the share of the slowest 1% of ops in flight during one.
      gcPauses: median(runs.map((r) => r.gcPauses ?? NaN)),
      gcMs: median(runs.map((r) => r.gcMs ?? NaN)),
      p99InGc: median(runs.map((r) => r.p99InGc ?? NaN)),
    };
  }
}
// redmux against its closest peer: the lowest of the per-peer ratios (each a
// median over repetitions of the ratio within a repetition). Not the fastest
// peer of each repetition: with 6 noisy peers, the luckiest one's sample
// would bias that low.
const best = {};
for (const scenario of SCENARIOS) {
  const peers = Object.entries(summary[scenario]).filter(([c, x]) => !c.startsWith('redmux') && Number.isFinite(x.ratio));
  if (peers.length === 0) continue;
  const [peer, x] = peers.reduce((a, b) => (b[1].ratio < a[1].ratio ? b : a));
  best[scenario] = { ratio: x.ratio, peer };
}
const cpu = os.cpus();
const serverVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? '?';
const machine = `${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, node ${process.version}${nodeFlags.length ? ` ${nodeFlags.join(' ')}` : ''}, redis-server ${serverVersion}, ${reps} repetitions of ${duration} ms`;
const serverLimits = {
  standalone: median(limits.standalone.filter(Number.isFinite)),
  cluster: median(limits.cluster.filter(Number.isFinite)),
  standalone1: median(limits.standalone1.filter(Number.isFinite)),
  cluster1: median(limits.cluster1.filter(Number.isFinite)),
  nodeFloor: median(limits.nodeFloor.filter(Number.isFinite)),
};
const report = { machine, date: new Date().toISOString(), command: `node bench/run.mjs ${args.join(' ')}`.trim(), clients: CLIENTS, serverLimits, summary, best, runs: results, limits };
console.log(renderTables(report, 'text'));
console.log(`\nAgainst the targets (redmux / best peer):\n${renderTargets(report)}`);
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(report, null, 2));
const written = ['latest.json'];
for (const [name, scenarios] of [
  ['standalone', STANDALONE],
  ['cluster', CLUSTER],
]) {
  // The charts plot GET 16 B by callers: none without one of those rows.
  if (!SCENARIOS.some((s) => scenarios.includes(s) && /^(cluster-)?get16x\d+$/.test(s))) continue;
  writeFileSync(path.join(outDir, `${name}.svg`), renderChart(report, name));
  written.push(`${name}.svg`);
}
console.log(`\nwrote ${written.map((f) => path.relative(process.cwd(), path.join(outDir, f))).join(', ')}`);
