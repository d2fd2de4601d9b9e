// One measurement in a fresh process: node bench/worker.mjs <client> <scenario> <port> <durationMs>
// Prints one JSON line: { ops, seconds, cpuUs, p50, p99 }.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [clientName, scenario, portArg, durationArg] = process.argv.slice(2);
const port = Number(portArg);
const durationMs = Number(durationArg ?? 1000);
const WARMUP_MS = Math.min(300, durationMs / 4);

/** Each adapter: { get(key), set(key, value), publish(ch, msg), subscribe(ch, onMessage), close() } */
async function adapter(name) {
  switch (name) {
    case 'redmux':
    case 'redmux-before': {
      const { Redis } = await import(name === 'redmux' ? '../dist/index.js' : pathToFileURL(process.env.REDMUX_BEFORE).href);
      const redis = new Redis({ port });
      const db = redis.db;
      await db.reply('PING');
      return {
        get: (k) => db.reply('GET', k),
        set: (k, v) => db.reply('SET', k, v),
        // Fire-and-forget: no Promise is created until one is awaited.
        burstGet: (k) => db.command('GET', k),
        publish: (ch, m) => db.command('PUBLISH', ch, m),
        async subscribe(ch, on) {
          const sub = redis.subscriber();
          sub.on('message', on);
          await sub.subscribe(ch);
        },
        close: () => redis.close(),
      };
    }
    case 'ioredis':
    case 'ioredis-auto': {
      const { default: IORedis } = await import('ioredis');
      const opts = { port, enableAutoPipelining: name === 'ioredis-auto', lazyConnect: false };
      const r = new IORedis(opts);
      await r.ping();
      let sub;
      return {
        get: (k) => r.get(k),
        set: (k, v) => r.set(k, v),
        burstGet: (k) => r.get(k),
        publish: (ch, m) => r.publish(ch, m),
        async subscribe(ch, on) {
          sub = new IORedis(opts);
          sub.on('message', (channel, message) => on({ channel, message }));
          await sub.subscribe(ch);
        },
        async close() {
          await r.quit();
          if (sub) await sub.quit();
        },
      };
    }
    case 'node-redis':
    case 'node-redis-timeout': {
      const { createClient } = await import('redis');
      const base = createClient({ socket: { port, host: '127.0.0.1' } });
      await base.connect();
      // With a per-command timeout like redmux's default deadline (node-redis arms one AbortSignal per command).
      const c = name === 'node-redis-timeout' ? base.withCommandOptions({ timeout: 10_000 }) : base;
      let sub;
      return {
        get: (k) => c.get(k),
        set: (k, v) => c.set(k, v),
        burstGet: (k) => c.get(k),
        publish: (ch, m) => c.publish(ch, m),
        async subscribe(ch, on) {
          sub = base.duplicate();
          await sub.connect();
          await sub.subscribe(ch, (message, channel) => on({ channel, message }));
        },
        async close() {
          await base.quit();
          if (sub) await sub.quit();
        },
      };
    }
    default:
      throw new Error(`unknown client ${name}`);
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** N callers, each awaiting op() in a loop, for the duration; latency of every op sampled. */
async function closedLoop(op, concurrency) {
  let running = true;
  let measuring = false;
  let ops = 0;
  const lat = new Float64Array(2_000_000);
  let n = 0;
  const caller = async (id) => {
    let i = 0;
    while (running) {
      const t = performance.now();
      await op(id, i++);
      if (measuring) {
        ops++;
        if (n < lat.length) lat[n++] = performance.now() - t;
      }
    }
  };
  const all = Array.from({ length: concurrency }, (_, id) => caller(id));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  running = false;
  await Promise.all(all);
  const sorted = Array.from(lat.subarray(0, n)).sort((a, b) => a - b);
  return { ops, seconds, cpuUs: cpu.user + cpu.system, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function main() {
  const a = await adapter(clientName);
  const value16 = 'v'.repeat(16);
  let result;
  const m = /^(get|set)(\d+)x(\d+)$/.exec(scenario);
  if (m) {
    const [, kind, size, conc] = m;
    const value = 'x'.repeat(Number(size));
    const keys = Array.from({ length: 1000 }, (_, i) => `bench:${size}:${i}`);
    await Promise.all(keys.map((k) => a.set(k, value)));
    const op = kind === 'get' ? (id, i) => a.get(keys[(id * 31 + i) % 1000]) : (id, i) => a.set(keys[(id * 31 + i) % 1000], value);
    result = await closedLoop(op, Number(conc));
  } else if (scenario === 'burst100k') {
    await a.set('bench:burst', value16);
    const runs = [];
    const deadline = performance.now() + durationMs;
    let ops = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Repeat whole bursts for the duration: 100k un-awaited GETs, then await the last (FIFO: all are done).
    do {
      const tb = performance.now();
      let last;
      for (let i = 0; i < 100_000; i++) last = a.burstGet('bench:burst');
      await last;
      runs.push(performance.now() - tb);
      ops += 100_000;
    } while (performance.now() < deadline);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    runs.sort((x, y) => x - y);
    result = { ops, seconds, cpuUs: cpu.user + cpu.system, p50: percentile(runs, 50), p99: percentile(runs, 99) };
  } else if (scenario === 'pubsub') {
    let received = 0;
    await a.subscribe('bench:ch', () => received++);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let sent = 0;
    // Publish in pipelined batches of 1000 and wait for their delivery before the next batch.
    while (performance.now() - t0 < durationMs) {
      let last;
      for (let i = 0; i < 1000; i++) last = a.publish('bench:ch', value16);
      await last;
      sent += 1000;
      while (received < sent) await new Promise((r) => setImmediate(r));
    }
    const cpu = process.cpuUsage(cpu0);
    result = { ops: received, seconds: (performance.now() - t0) / 1000, cpuUs: cpu.user + cpu.system, p50: 0, p99: 0 };
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  await a.close();
  process.stdout.write(JSON.stringify(result) + '\n');
  // Some peers keep timers alive after quit; the measurement is done.
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
