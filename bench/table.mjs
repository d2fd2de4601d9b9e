#!/usr/bin/env node
// Renders bench/results/latest.json as the Markdown table in the README:
//   node bench/table.mjs [file]
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url);
const { machine, summary } = JSON.parse(readFileSync(file, 'utf8'));
const clients = ['redmux', 'ioredis', 'ioredis-auto', 'node-redis', 'node-redis-timeout'];
const k = (n) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n.toLocaleString('en-US', { maximumFractionDigits: 0 }));
console.log(`_${machine}; ops/s (median), and redmux / peer within the same repetition (median)._\n`);
console.log(`| scenario | ${clients.join(' | ')} | redmux p50 / p99 ms |`);
console.log(`| --- | ${clients.map(() => '---:').join(' | ')} | ---: |`);
for (const [scenario, row] of Object.entries(summary)) {
  const cells = clients.map((c) => {
    const s = row[c];
    if (!s) return '-';
    return c === 'redmux' ? `**${k(s.opsPerSec)}**` : `${k(s.opsPerSec)} (${s.ratio.toFixed(2)}x)`;
  });
  const m = row.redmux;
  const lat = m && m.p50 ? `${m.p50.toFixed(2)} / ${m.p99.toFixed(2)}` : '-';
  console.log(`| ${scenario} | ${cells.join(' | ')} | ${lat} |`);
}
