#!/usr/bin/env node
// The benchmark's chart as a self-contained SVG (no dependency): on the left,
// ops/s of GET 16 B against the number of concurrent callers for every
// client (log-log); on the right, p50 and p99 latency at 128 callers.
//   node bench/chart.mjs [results.json] [outDir]   # writes standalone.svg / cluster.svg
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const COLORS = {
  redmux: '#d62728',
  'redmux-before': '#8c564b',
  ioredis: '#1f77b4',
  'ioredis-auto': '#6baed6',
  iovalkey: '#9467bd',
  'iovalkey-auto': '#c5b0d5',
  'node-redis': '#2ca02c',
  'node-redis-timeout': '#98df8a',
  glide: '#ff7f0e',
};
const color = (c) => COLORS[c] ?? '#7f7f7f';
const esc = (s) => String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
const num = (n) => (Math.round(n * 10) / 10).toString();
const short = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** A log scale from [lo, hi] onto [a, b], with "nice" 1-2-5 ticks. */
function logScale(lo, hi, a, b) {
  const l0 = Math.floor(Math.log10(lo));
  const l1 = Math.ceil(Math.log10(hi));
  const f = (v) => a + ((Math.log10(v) - l0) / (l1 - l0 || 1)) * (b - a);
  const ticks = [];
  for (let e = l0; e <= l1; e++) for (const m of l1 - l0 > 3 ? [1] : [1, 2, 5]) if (m * 10 ** e <= 10 ** l1) ticks.push(m * 10 ** e);
  return { f, ticks };
}

export function renderChart(report, suite = 'standalone') {
  const prefix = suite === 'cluster' ? 'cluster-' : '';
  const clients = (report.clients ?? Object.keys(COLORS)).filter((c) => Object.entries(report.summary).some(([s, row]) => s.startsWith(prefix) && row[c]));
  const re = new RegExp(`^${prefix}get16x(\\d+)$`);
  const callers = Object.keys(report.summary)
    .map((s) => re.exec(s))
    .filter(Boolean)
    .map((m) => Number(m[1]))
    .sort((x, y) => x - y);
  const W = 980;
  const H = 450;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  const title = suite === 'cluster' ? 'redmux benchmark, Redis Cluster (3 masters + 3 replicas)' : 'redmux benchmark, one redis-server';
  out.push(`<text x="20" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="20" y="42" fill="#555">${esc(report.machine)}</text>`);

  // ---- left panel: ops/s vs callers
  const L = { x0: 80, x1: 540, y0: 360, y1: 80 };
  const pts = clients.flatMap((c) => callers.map((n) => report.summary[`${prefix}get16x${n}`]?.[c]?.opsPerSec).filter(Number.isFinite));
  if (callers.length > 0 && pts.length > 0) {
    const xs = logScale(Math.min(...callers), Math.max(...callers), L.x0 + 20, L.x1 - 20);
    const ys = logScale(Math.min(...pts), Math.max(...pts), L.y0, L.y1);
    out.push(`<text x="${(L.x0 + L.x1) / 2}" y="66" text-anchor="middle" font-weight="bold">GET 16 B: ops/s by concurrent callers (log-log)</text>`);
    for (const t of ys.ticks) {
      const y = num(ys.f(t));
      out.push(`<line x1="${L.x0}" x2="${L.x1}" y1="${y}" y2="${y}" stroke="#e5e5e5"/><text x="${L.x0 - 6}" y="${y}" dy="4" text-anchor="end" fill="#555">${short(t)}</text>`);
    }
    for (const n of callers) {
      const x = num(xs.f(n));
      out.push(`<line x1="${x}" x2="${x}" y1="${L.y0}" y2="${L.y0 + 5}" stroke="#555"/><text x="${x}" y="${L.y0 + 18}" text-anchor="middle" fill="#555">${n}</text>`);
    }
    out.push(`<text x="${(L.x0 + L.x1) / 2}" y="${L.y0 + 36}" text-anchor="middle" fill="#555">callers</text>`);
    out.push(`<rect x="${L.x0}" y="${L.y1}" width="${L.x1 - L.x0}" height="${L.y0 - L.y1}" fill="none" stroke="#999"/>`);
    for (const c of clients) {
      const p = callers
        .map((n) => [n, report.summary[`${prefix}get16x${n}`]?.[c]?.opsPerSec])
        .filter(([, v]) => Number.isFinite(v))
        .map(([n, v]) => [num(xs.f(n)), num(ys.f(v))]);
      if (p.length === 0) continue;
      const w = c === 'redmux' ? 3 : 1.5;
      out.push(`<polyline fill="none" stroke="${color(c)}" stroke-width="${w}" points="${p.map((q) => q.join(',')).join(' ')}"/>`);
      for (const [x, y] of p) out.push(`<circle cx="${x}" cy="${y}" r="${w + 1}" fill="${color(c)}"/>`);
    }
  }

  // ---- right panel: p50 / p99 at 128 callers
  const R = { x0: 700, x1: 950, y0: 80 };
  const row = report.summary[`${prefix}get16x128`] ?? {};
  const lat = clients.filter((c) => row[c]?.p50 > 0);
  if (lat.length > 0) {
    const all = lat.flatMap((c) => [row[c].p50, row[c].p99]);
    const xs = logScale(Math.min(...all), Math.max(...all), R.x0, R.x1);
    const band = Math.min(34, 270 / lat.length);
    const y1 = R.y0 + band * lat.length;
    out.push(`<text x="${(R.x0 + R.x1) / 2 - 40}" y="66" text-anchor="middle" font-weight="bold">GET 16 B, 128 callers: latency ms (log)</text>`);
    for (const t of xs.ticks) {
      const x = num(xs.f(t));
      out.push(`<line x1="${x}" x2="${x}" y1="${R.y0}" y2="${y1}" stroke="#e5e5e5"/><text x="${x}" y="${y1 + 16}" text-anchor="middle" fill="#555">${t}</text>`);
    }
    lat.forEach((c, i) => {
      const y = R.y0 + i * band;
      const p50 = xs.f(row[c].p50);
      const p99 = xs.f(row[c].p99);
      out.push(`<text x="${R.x0 - 6}" y="${num(y + band / 2)}" dy="4" text-anchor="end">${esc(c)}</text>`);
      out.push(`<rect x="${R.x0}" y="${num(y + band * 0.15)}" width="${num(Math.max(1, p99 - R.x0))}" height="${num(band * 0.7)}" fill="${color(c)}" opacity="0.35"/>`);
      out.push(`<rect x="${R.x0}" y="${num(y + band * 0.15)}" width="${num(Math.max(1, p50 - R.x0))}" height="${num(band * 0.7)}" fill="${color(c)}"/>`);
    });
    out.push(`<rect x="${R.x0}" y="${R.y0}" width="${R.x1 - R.x0}" height="${y1 - R.y0}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${R.x0}" y="${y1 + 34}" fill="#555">solid: p50, light: p99</text>`);
  }

  // ---- legend
  let lx = 20;
  for (const c of clients) {
    out.push(`<rect x="${lx}" y="${H - 22}" width="14" height="4" fill="${color(c)}"/><text x="${lx + 18}" y="${H - 16}">${esc(c)}</text>`);
    lx += 40 + 7 * c.length;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
  const dir = process.argv[3] ?? path.dirname(file);
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const suite of ['standalone', 'cluster']) {
    const prefix = suite === 'cluster' ? 'cluster-' : '';
    if (!Object.keys(report.summary).some((s) => (prefix ? s.startsWith(prefix) : !s.startsWith('cluster-')))) continue;
    writeFileSync(path.join(dir, `${suite}.svg`), renderChart(report, suite));
    console.log(`wrote ${path.join(dir, `${suite}.svg`)}`);
  }
}
