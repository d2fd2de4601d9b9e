#!/usr/bin/env node
// The benchmark's tables: renderTables(report, 'text' | 'md'). As a script it
// renders bench/results/latest.json as the Markdown tables in the README:
//   node bench/table.mjs [file]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
const k = (n) => (!Number.isFinite(n) ? '-' : n >= 10_000 ? `${Math.round(n / 1000)}k` : n.toLocaleString('en-US', { maximumFractionDigits: 0 }));
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '-');
/**
 * The rows where a share of redis-benchmark (GET of 16 B) means something: set
 * against -P 16, and one-caller rows against one connection (-c 1 -P 1).
 */
const comparableToServer = (scenario) => /^(cluster-)?get16x\d+$/.test(scenario);

/** GC pauses of a closed-loop row: count, total ms, share of the slowest 1% in flight during one. */
const gcCell = (s) => (Number.isFinite(s.gcPauses) ? `${fmt(s.gcPauses)} ${fmt(s.gcMs, 0)}ms ${pct(s.p99InGc)}` : '');

function textTables({ machine, summary, clients, serverLimits, best = {} }) {
  const lines = [`redmux benchmark (${machine})`];
  lines.push('burst100k: p50/p99 are the ms per burst of 100k GETs; pubsub: messages received per second.');
  if (Object.keys(summary).some((s) => s.startsWith('scan100k'))) lines.push('scan100k*: ops/s are keys/s, p50/p99 the ms per full iteration over 100k keys (SCAN COUNT 1000), cpu us per key.');
  lines.push(`redis-benchmark -P 16 GET 16 B: ${k(serverLimits?.standalone)} ops/s standalone, ${k(serverLimits?.cluster)} ops/s cluster (median).`);
  if (Number.isFinite(serverLimits?.standalone1) || Number.isFinite(serverLimits?.cluster1)) {
    lines.push(`redis-benchmark -c 1 -P 1 GET 16 B (one caller rows' "of r-b"): ${k(serverLimits?.standalone1)} ops/s standalone, ${k(serverLimits?.cluster1)} ops/s cluster (median).`);
    lines.push(`bare Node socket GET loop, one caller (bench/floor.mjs): ${k(serverLimits?.nodeFloor)} ops/s (median); "floor" column: ops/s as a share of it.`);
  }
  lines.push('gc: pauses in the measured window, their total ms, and the share of the slowest 1% of ops in flight during one.');
  for (const [scenario, row] of Object.entries(summary)) {
    lines.push(`\n${scenario}${best[scenario] ? `  (redmux / best peer: ${fmt(best[scenario].ratio, 2)}x, ${best[scenario].peer})` : ''}`);
    lines.push(`  ${'client'.padEnd(20)} ${'ops/s median'.padStart(12)} ${'min-max'.padStart(21)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'cpu us/op'.padStart(9)} ${'redmux/x'.padStart(9)} ${'of r-b'.padStart(7)} ${'floor'.padStart(6)} ${'gc'.padStart(18)}`);
    for (const client of clients) {
      const s = row[client];
      if (!s) continue;
      lines.push(
        `  ${client.padEnd(20)} ${fmt(s.opsPerSec).padStart(12)} ${`${fmt(s.min)}-${fmt(s.max)}`.padStart(21)} ${fmt(s.p50, 3).padStart(8)} ${fmt(s.p99, 3).padStart(8)} ${fmt(s.cpuUsPerOp, 2).padStart(9)} ${(client === 'redmux' ? '' : fmt(s.ratio, 2) + 'x').padStart(9)} ${(comparableToServer(scenario) ? pct(s.serverShare) : '').padStart(7)} ${(Number.isFinite(s.floorShare) ? pct(s.floorShare) : '').padStart(6)} ${gcCell(s).padStart(18)}`,
      );
    }
  }
  return lines.join('\n');
}

function mdTables({ machine, summary, clients, best = {} }) {
  const out = [`_${machine}; ops/s (median), and redmux / peer within the same repetition (median)._`];
  for (const [title, pick] of [
    ['Standalone', (s) => !s.startsWith('cluster-')],
    ['Cluster (3 masters + 3 replicas)', (s) => s.startsWith('cluster-')],
  ]) {
    const rows = Object.entries(summary).filter(([s]) => pick(s));
    if (rows.length === 0) continue;
    const cols = clients.filter((c) => rows.some(([, row]) => row[c]));
    out.push('', `**${title}**`, '');
    out.push(`| scenario | ${cols.join(' | ')} | redmux / best peer | redmux p50 / p99 ms | redmux CPU µs/op (lowest peer) | redmux / redis-benchmark (-P 16; one caller: -c 1) |`);
    out.push(`| --- | ${cols.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: |`);
    for (const [scenario, row] of rows) {
      const cells = cols.map((c) => {
        const s = row[c];
        if (!s) return '-';
        return c === 'redmux' ? `**${k(s.opsPerSec)}**` : `${k(s.opsPerSec)} (${fmt(s.ratio, 2)}x)`;
      });
      const m = row.redmux;
      const lat = m && m.p50 ? `${fmt(m.p50, 2)} / ${fmt(m.p99, 2)}` : '-';
      const share = m && comparableToServer(scenario) ? pct(m.serverShare) : '';
      const peerCpu = Math.min(...cols.filter((c) => !c.startsWith('redmux') && row[c]).map((c) => row[c].cpuUsPerOp));
      const cpu = m ? `${fmt(m.cpuUsPerOp, 1)} (${fmt(peerCpu, 1)})` : '-';
      const vsBest = best[scenario] ? `${fmt(best[scenario].ratio, 2)}x (${best[scenario].peer})` : '-';
      out.push(`| ${scenario.replace(/^cluster-/, '')} | ${cells.join(' | ')} | ${vsBest} | ${lat} | ${cpu} | ${share} |`);
    }
  }
  return out.join('\n');
}

/** The issue targets against a run, as Markdown bullets (redmux / best peer, with the peer). */
export function renderTargets(report) {
  const { summary, best = {} } = report;
  const b = (s) => (best[s] ? `${fmt(best[s].ratio, 2)}x (${best[s].peer})` : '-');
  const m = (s) => summary[s]?.redmux ?? {};
  const tail = (s) =>
    m(s).p50 ? `${fmt(m(s).p99 / m(s).p50, 1)}x (${fmt(m(s).p50, 2)} / ${fmt(m(s).p99, 2)} ms${Number.isFinite(m(s).p99InGc) ? `; ${pct(m(s).p99InGc)} of the slowest 1% in flight during a GC pause` : ''})` : '-';
  const rtt = (s) =>
    (Number.isFinite(m(s).serverShare) ? ` at ${pct(m(s).serverShare)} of redis-benchmark -c 1` : '') +
    (Number.isFinite(m(s).floorShare) ? ` and ${pct(m(s).floorShare)} of a bare Node socket` : '');
  const notLowest = Object.entries(summary)
    .filter(([, row]) => row.redmux && Object.entries(row).some(([c, x]) => !c.startsWith('redmux') && x.cpuUsPerOp <= row.redmux.cpuUsPerOp))
    .map(([s, row]) => {
      const [peer, x] = Object.entries(row).filter(([c]) => !c.startsWith('redmux')).reduce((a, c) => (c[1].cpuUsPerOp < a[1].cpuUsPerOp ? c : a));
      return `${s} (redmux ${fmt(row.redmux.cpuUsPerOp, 1)}, ${peer} ${fmt(x.cpuUsPerOp, 1)})`;
    });
  // Issue 13 sets no target for scripts and SCAN: the ratios, when the run has those rows.
  const issue13 = ['scriptget16x128', 'scriptincr1x128', 'scan100k', 'scan100k-nodedupe', 'scan100k-pages'].some((s) => summary[s])
    ? [
        `- Scripts and SCAN (issue 13): \`db.run\` at 128 callers, read-only script ${b('scriptget16x128')}, read-write ${b('scriptincr1x128')}; SCAN of 100k keys (COUNT 1000) \`db.scan()\` ${b('scan100k')}, \`dedupe: false\` ${b('scan100k-nodedupe')}, \`.pages()\` ${b('scan100k-pages')}.`,
      ]
    : [];
  return [
    `- Cluster (issue 11; ≥ 1.5x at 128 callers and on the burst, ≥ 1.0x with one caller): 128 callers GET ${b('cluster-get16x128')}, SET ${b('cluster-set16x128')}; burst ${b('cluster-burst100k')}; one caller GET ${b('cluster-get16x1')}, SET ${b('cluster-set16x1')}; MGET of 10 keys across slots ${b('cluster-mget10x128')}.`,
    `- Standalone (issue 15): 128 callers GET ${b('get16x128')}, SET ${b('set16x128')} (target 1.5x); 1024 callers GET ${b('get16x1024')}, SET ${b('set16x1024')} (target 3x) at ${pct(m('get16x1024').serverShare)} of redis-benchmark -P 16 (target 80%); burst ${b('burst100k')} (target 2x); one caller GET ${b('get16x1')}${rtt('get16x1')}, SET ${b('set16x1')}${rtt('set16x1')} and 64 KiB ${b('get65536x128')} (target 1.1x); p99 / p50 at 128 callers ${tail('get16x128')} (target 2.5x).`,
    ...issue13,
    `- Node CPU µs per op lower than every peer's: ${notLowest.length === 0 ? 'in every scenario' : `in every scenario but ${notLowest.join(', ')}`}.`,
  ].join('\n');
}

export function renderTables(report, format = 'md') {
  const clients = report.clients ?? ['redmux', 'ioredis', 'ioredis-auto', 'node-redis', 'node-redis-timeout'];
  return format === 'text' ? textTables({ ...report, clients }) : mdTables({ ...report, clients });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url);
  const report = JSON.parse(readFileSync(file, 'utf8'));
  console.log(renderTables(report, 'md'));
  console.log(`\n${renderTargets(report)}`);
}
