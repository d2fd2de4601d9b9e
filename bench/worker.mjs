// One measurement in a fresh process:
//   node bench/worker.mjs <client> <scenario> <target> <durationMs>
// <target> is a port (standalone) or `cluster:<port>,<port>,...` (every node of a cluster).
// Prints one JSON line: { ops, seconds, cpuUs, p50, p99 }.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [clientName, scenario, target, durationArg] = process.argv.slice(2);
const cluster = target.startsWith('cluster:');
const ports = (cluster ? target.slice('cluster:'.length) : target).split(',').map(Number);
const port = ports[0];
const host = '127.0.0.1';
const durationMs = Number(durationArg ?? 1000);
const WARMUP_MS = Math.min(300, durationMs / 4);
// The per-command timeout given to the peers that have one off by default,
// comparable to redmux's default deadline (10 s).
const TIMEOUT_MS = 10_000;

// Lua bodies of the script scenarios, the same for every client: a read-only
// one (sent as EVALSHA_RO where the client knows it is read-only) and a
// read-write one.
const GET_LUA = "return redis.call('GET', KEYS[1])";
const INCR_LUA = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
// SCAN scenarios: the COUNT every client sends, and how many keys run.mjs loaded.
const SCAN_COUNT = 1000;
const SCAN_KEYS = 100_000;

/**
 * Each adapter: { get(key), set(key, value), mget(keys), burstGet(key), publish(ch, msg), subscribe(ch, onMessage),
 * scriptGet(key), scriptIncr(key, by), scanAll(visit), close() }.
 * scriptGet / scriptIncr run GET_LUA / INCR_LUA the way each client's users
 * define a script (redmux `db.run(script, keys, args)`, ioredis
 * `defineCommand`, node-redis `scripts` + `defineScript`, GLIDE `invokeScript`).
 * scanAll(visit) walks every key once with SCAN COUNT 1000 through the
 * client's own iterator (redmux `db.scan()`, ioredis `scanStream`, node-redis
 * `scanIterator`, GLIDE a cursor loop over `scan()`), calling visit(key) for
 * each key, and resolves at the end of the iteration.
 * mget(keys) is one MGET where the client splits a cross-slot MGET itself
 * (redmux, node-redis 6, GLIDE); for a cluster client that refuses it with
 * CROSSSLOT (ioredis, iovalkey), what its users write instead: one GET per
 * key, all at once.
 */
async function adapter(name) {
  switch (name) {
    case 'redmux':
    case 'redmux-before': {
      const { Redis, Script } = await import(name === 'redmux' ? '../dist/index.js' : pathToFileURL(process.env.REDMUX_BEFORE).href);
      // cachedget scenarios: a client-side cache (the other scenarios run without one, as users do by default).
      const cache = scenario.includes('cachedget') ? { cache: { maxEntries: 10_000 } } : {};
      const redis = cluster ? new Redis({ nodes: ports.map((p) => ({ host, port: p })), ...cache }) : new Redis({ host, port, ...cache });
      const db = redis.db;
      const cached = scenario.includes('cachedget') ? db.with({ cache: true }) : db;
      await db.reply('PING');
      const getScript = new Script(GET_LUA, { readOnly: true });
      const incrScript = new Script(INCR_LUA);
      // scan100k: the default (single keys, duplicates removed); -nodedupe: single keys as the server
      // sends them; -pages: the batch form, as the server sends them.
      const scanVariant = scenario.replace(/^scan100k-?/, '');
      return {
        get: (k) => db.reply('GET', k),
        scriptGet: (k) => db.run(getScript, [k]),
        scriptIncr: (k, by) => db.run(incrScript, [k], [by]),
        async scanAll(visit) {
          if (scanVariant === 'pages') {
            for await (const page of db.scan({ count: SCAN_COUNT, dedupe: false }).pages()) for (const k of page) visit(k);
          } else {
            for await (const k of db.scan({ count: SCAN_COUNT, ...(scanVariant === 'nodedupe' ? { dedupe: false } : {}) })) visit(k);
          }
        },
        cachedGet: (k) => cached.reply('GET', k),
        set: (k, v) => db.reply('SET', k, v),
        mget: (keys) => db.reply('MGET', ...keys),
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
    case 'ioredis-auto':
    case 'iovalkey':
    case 'iovalkey-auto': {
      // ioredis 6 is installed under the alias ioredis6: ioredis-mock (a test dependency) needs ioredis 5.
      const mod = await import(name.startsWith('ioredis') ? 'ioredis6' : 'iovalkey');
      const IORedis = mod.default;
      const auto = name.endsWith('-auto');
      const opts = { host, port, enableAutoPipelining: auto, lazyConnect: false };
      const r = cluster
        ? new mod.Cluster(
            ports.map((p) => ({ host, port: p })),
            { enableAutoPipelining: auto },
          )
        : new IORedis(opts);
      if (cluster) await new Promise((res, rej) => (r.once('ready', res), r.once('error', rej)));
      await r.ping();
      r.defineCommand('benchGet', { numberOfKeys: 1, lua: GET_LUA, readOnly: true });
      r.defineCommand('benchIncr', { numberOfKeys: 1, lua: INCR_LUA });
      let sub;
      return {
        get: (k) => r.get(k),
        scriptGet: (k) => r.benchGet(k),
        scriptIncr: (k, by) => r.benchIncr(k, by),
        // The documented form: 'data' events, one array of keys per SCAN page.
        scanAll: (visit) =>
          new Promise((resolve, reject) => {
            const stream = r.scanStream({ count: SCAN_COUNT });
            stream.on('data', (keys) => {
              for (const k of keys) visit(k);
            });
            stream.on('end', resolve);
            stream.on('error', reject);
          }),
        set: (k, v) => r.set(k, v),
        mget: cluster ? (keys) => Promise.all(keys.map((k) => r.get(k))) : (keys) => r.mget(keys),
        burstGet: (k) => r.get(k),
        publish: (ch, m) => r.publish(ch, m),
        async subscribe(ch, on) {
          sub = cluster ? r.duplicate() : new IORedis(opts);
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
      const { createClient, createCluster, defineScript } = await import('redis');
      // node-redis 6 has a 5 s per-command timeout on by default (one
      // AbortSignal.timeout per command): 'node-redis' turns it off,
      // 'node-redis-timeout' sets it to redmux's default deadline.
      const commandOptions = { timeout: name === 'node-redis-timeout' ? TIMEOUT_MS : 0 };
      // Scripts as node-redis defines them: IS_READ_ONLY sends EVALSHA_RO.
      const scripts = {
        benchGet: defineScript({ SCRIPT: GET_LUA, NUMBER_OF_KEYS: 1, IS_READ_ONLY: true, parseCommand: (parser, key) => parser.pushKey(key) }),
        benchIncr: defineScript({ SCRIPT: INCR_LUA, NUMBER_OF_KEYS: 1, parseCommand: (parser, key, by) => (parser.pushKey(key), parser.push(by)) }),
      };
      const base = cluster
        ? createCluster({ rootNodes: ports.map((p) => ({ socket: { host, port: p } })), commandOptions, scripts })
        : createClient({ socket: { port, host }, commandOptions, scripts });
      await base.connect();
      const c = base;
      let sub;
      return {
        get: (k) => c.get(k),
        scriptGet: (k) => c.benchGet(k),
        scriptIncr: (k, by) => c.benchIncr(k, by),
        // scanIterator yields one array of keys per SCAN page (node-redis 5 and 6).
        async scanAll(visit) {
          for await (const keys of c.scanIterator({ COUNT: SCAN_COUNT })) for (const k of keys) visit(k);
        },
        set: (k, v) => c.set(k, v),
        // node-redis 6 splits a cross-slot MGET by its request policy.
        mget: (keys) => c.mGet(keys),
        burstGet: (k) => c.get(k),
        publish: (ch, m) => c.publish(ch, m),
        async subscribe(ch, on) {
          sub = base.duplicate();
          await sub.connect();
          await sub.subscribe(ch, (message, channel) => on({ channel, message }));
        },
        async close() {
          await base.close();
          if (sub) await sub.close();
        },
      };
    }
    case 'glide': {
      const glide = await import('@valkey/valkey-glide');
      glide.Logger.init('error');
      const { GlideClient, GlideClusterClient } = glide;
      const Client = cluster ? GlideClusterClient : GlideClient;
      // GLIDE's defaults would fail this benchmark, not measure it: a 250 ms
      // request timeout and at most 1000 requests in flight (the 100k burst
      // and 1024 callers exceed it). Raised to redmux's 10 s deadline and
      // past the burst.
      const config = (extra = {}) => ({
        addresses: (cluster ? ports : [port]).map((p) => ({ host, port: p })),
        requestTimeout: TIMEOUT_MS,
        inflightRequestsLimit: 250_000,
        ...extra,
      });
      const c = await Client.createClient(config());
      const getScript = new glide.Script(GET_LUA);
      const incrScript = new glide.Script(INCR_LUA);
      let sub;
      return {
        get: (k) => c.get(k),
        // GLIDE has no read-only flavour of invokeScript: EVALSHA for both.
        scriptGet: (k) => c.invokeScript(getScript, { keys: [k] }),
        scriptIncr: (k, by) => c.invokeScript(incrScript, { keys: [k], args: [by] }),
        // GLIDE's standalone client has no SCAN iterator: the cursor loop its docs show.
        async scanAll(visit) {
          let cursor = '0';
          do {
            const [next, keys] = await c.scan(cursor, { count: SCAN_COUNT });
            for (const k of keys) visit(k);
            cursor = String(next);
          } while (cursor !== '0');
        },
        set: (k, v) => c.set(k, v),
        mget: (keys) => c.mget(keys),
        burstGet: (k) => c.get(k),
        // GLIDE settles replies out of order (its Rust core answers over a socket of its own).
        burstAwaitsAll: true,
        publish: (ch, m) => c.publish(m, ch),
        async subscribe(ch, on) {
          const modes = (cluster ? glide.GlideClusterClientConfiguration : glide.GlideClientConfiguration).PubSubChannelModes;
          sub = await Client.createClient(
            config({ pubsubSubscriptions: { channelsAndPatterns: { [modes.Exact]: new Set([ch]) }, callback: (msg) => on(msg) } }),
          );
        },
        async close() {
          c.close();
          sub?.close();
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

/**
 * Which of the slowest 1% of commands were in flight during a GC pause. `gcs`
 * holds [start, duration] pairs in time order (pauses never overlap); a
 * command overlaps a pause when the last pause that began before it ended
 * was still running when it began. At 128 callers every command in flight
 * waits out a pause, so pauses show up as the tail when they are frequent.
 */
function slowestInGc(starts, lat, n, p99, gcs) {
  let slow = 0;
  let inGc = 0;
  for (let i = 0; i < n; i++) {
    if (lat[i] < p99) continue;
    slow++;
    const begin = starts[i];
    const end = begin + lat[i];
    let lo = 0;
    let hi = gcs.length / 2; // first pause starting at or after `end`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (gcs[2 * mid] < end) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && gcs[2 * (lo - 1)] + gcs[2 * (lo - 1) + 1] > begin) inGc++;
  }
  return slow === 0 ? 0 : inGc / slow;
}

/**
 * BENCH_HEAP_PROFILE=1 (bench/alloc.mjs): sample every allocation during the
 * measurement, garbage included, and report bytes per op and the top sites.
 * Slows the client down: its ops/s from such a run are not a measurement.
 */
async function heapSampler() {
  if (process.env.BENCH_HEAP_PROFILE !== '1') return undefined;
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return async (ops) => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    const sites = new Map();
    let total = 0;
    const walk = (node) => {
      const f = node.callFrame;
      if (node.selfSize > 0) {
        const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const c of node.children) walk(c);
    };
    walk(profile.head);
    const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([site, bytes]) => ({ site, bytesPerOp: bytes / ops }));
    return { bytesPerOp: total / ops, top };
  };
}

/**
 * N callers, each awaiting op() in a loop, for the duration; latency of every
 * op sampled, and the GC pauses of the measured window (count, total ms, and
 * the share of the slowest 1% of ops that overlap one).
 */
async function closedLoop(op, concurrency) {
  let running = true;
  let measuring = false;
  let ops = 0;
  const lat = new Float64Array(2_000_000);
  const starts = new Float64Array(lat.length);
  let n = 0;
  const caller = async (id) => {
    let i = 0;
    while (running) {
      const t = performance.now();
      await op(id, i++);
      if (measuring) {
        ops++;
        if (n < lat.length) {
          starts[n] = t;
          lat[n++] = performance.now() - t;
        }
      }
    }
  };
  const all = Array.from({ length: concurrency }, (_, id) => caller(id));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const gcs = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.startTime, e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const heap = await heapSampler();
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const seconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  const alloc = heap && (await heap(ops));
  running = false;
  await Promise.all(all);
  await new Promise((r) => setImmediate(r)); // the observer is called back after the GC, asynchronously
  gcObserver.disconnect();
  // Pauses of the measured window only (the warm-up's start at t0 - WARMUP_MS).
  const pauses = [];
  for (let i = 0; i < gcs.length; i += 2) if (gcs[i] >= t0 && gcs[i] < t1) pauses.push(gcs[i], gcs[i + 1]);
  const sorted = Array.from(lat.subarray(0, n)).sort((a, b) => a - b);
  const p99 = percentile(sorted, 99);
  let gcMs = 0;
  for (let i = 1; i < pauses.length; i += 2) gcMs += pauses[i];
  return {
    ops,
    seconds,
    cpuUs: cpu.user + cpu.system,
    p50: percentile(sorted, 50),
    p99,
    gcPauses: pauses.length / 2,
    gcMs,
    p99InGc: slowestInGc(starts, lat, n, p99, pauses),
    ...(alloc ?? {}),
  };
}

async function main() {
  const a = await adapter(clientName);
  const value16 = 'v'.repeat(16);
  const name = scenario.replace(/^cluster-/, '');
  let result;
  const m = /^(get|set|mget|cachedget)(\d+)x(\d+)$/.exec(name);
  if (m) {
    const [, kind, sizeOrCount, conc] = m;
    // mget<N>: MGET of N keys of 16 B each, spread over the slots.
    const size = kind === 'mget' ? 16 : Number(sizeOrCount);
    const value = 'x'.repeat(size);
    const keys = Array.from({ length: 1000 }, (_, i) => `bench:${size}:${i}`);
    await Promise.all(keys.map((k) => a.set(k, value)));
    // A client that answers fast but wrong would look good: check one reply of each kind first.
    const text = (v) => (Buffer.isBuffer(v) ? v.toString() : String(v));
    if (text(await a.get(keys[1])) !== value) throw new Error(`${clientName}: GET returned something else than the value set`);
    if (kind === 'mget') {
      const got = await a.mget(keys.slice(0, 10));
      if (got.length !== 10 || got.some((v) => text(v) !== value)) throw new Error(`${clientName}: MGET returned something else than the values set`);
    }
    let op;
    if (kind === 'get') op = (id, i) => a.get(keys[(id * 31 + i) % 1000]);
    else if (kind === 'set') op = (id, i) => a.set(keys[(id * 31 + i) % 1000], value);
    else if (kind === 'cachedget') {
      // 19 reads for 1 write, over 1000 keys: about 85-90% of reads find their entry (a write invalidates
      // its key). Clients without a client-side cache (the peers) run the same mix against the server.
      const read = a.cachedGet ?? a.get;
      op = (id, i) => (i % 20 === 19 ? a.set(keys[(id * 31 + i) % 1000], value) : read(keys[(id * 31 + i) % 1000]));
    }
    else {
      const n = Number(sizeOrCount);
      const groups = Array.from({ length: 100 }, (_, g) => keys.slice(g * 10, g * 10 + n));
      op = (id, i) => a.mget(groups[(id * 7 + i) % 100]);
    }
    result = await closedLoop(op, Number(conc));
  } else if (/^script(get|incr)(\d+)x(\d+)$/.test(name)) {
    // scriptget16x128: a read-only script GETs a 16 B value; scriptincr1x128: a read-write script INCRBY 1.
    const [, kind, n, conc] = /^script(get|incr)(\d+)x(\d+)$/.exec(name);
    const keys = Array.from({ length: 1000 }, (_, i) => (kind === 'get' ? `bench:${n}:${i}` : `bench:counter:${i}`));
    const value = 'x'.repeat(Number(n));
    if (kind === 'get') await Promise.all(keys.map((k) => a.set(k, value)));
    else await Promise.all(keys.map((k) => a.set(k, '0')));
    // Check one reply of each first (the first call also loads the script if the server lacks it).
    const text = (v) => (Buffer.isBuffer(v) ? v.toString() : String(v));
    if (kind === 'get' && text(await a.scriptGet(keys[1])) !== value) throw new Error(`${clientName}: the GET script returned something else than the value set`);
    if (kind === 'incr' && Number(await a.scriptIncr(keys[1], n)) !== Number(n)) throw new Error(`${clientName}: the INCRBY script returned something else than ${n}`);
    const op = kind === 'get' ? (id, i) => a.scriptGet(keys[(id * 31 + i) % 1000]) : (id, i) => a.scriptIncr(keys[(id * 31 + i) % 1000], n);
    result = await closedLoop(op, Number(conc));
  } else if (/^scan100k(-nodedupe|-pages)?$/.test(name)) {
    // run.mjs loaded exactly SCAN_KEYS keys before this scenario. A first
    // iteration (not measured, also the warm-up) checks that every key comes
    // at least once; then whole iterations repeat for the duration. ops are
    // keys, p50/p99 the ms per full iteration.
    const distinct = new Set();
    let seen = 0;
    await a.scanAll((k) => (seen++, distinct.add(Buffer.isBuffer(k) ? k.toString() : k)));
    if (distinct.size !== SCAN_KEYS) throw new Error(`${clientName}: SCAN yielded ${distinct.size} distinct keys, not ${SCAN_KEYS} (is the server loaded?)`);
    if (name === 'scan100k' && clientName.startsWith('redmux') && seen !== SCAN_KEYS) throw new Error(`${clientName}: db.scan() yielded a key twice`);
    const runs = [];
    const deadline = performance.now() + durationMs;
    let ops = 0;
    const visit = () => ops++;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    do {
      const ti = performance.now();
      await a.scanAll(visit);
      runs.push(performance.now() - ti);
    } while (performance.now() < deadline);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    runs.sort((x, y) => x - y);
    result = { ops, seconds, cpuUs: cpu.user + cpu.system, p50: percentile(runs, 50), p99: percentile(runs, 99) };
  } else if (name === 'burst100k') {
    // In a cluster the burst is spread over 1000 keys (so over every master); standalone, one key.
    const keys = cluster ? Array.from({ length: 1000 }, (_, i) => `bench:burst:${i}`) : ['bench:burst'];
    await Promise.all(keys.map((k) => a.set(k, value16)));
    const runs = [];
    const deadline = performance.now() + durationMs;
    let ops = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Repeat whole bursts for the duration: 100k un-awaited GETs, then await them all.
    do {
      const tb = performance.now();
      const all = new Array(100_000);
      for (let i = 0; i < 100_000; i++) all[i] = a.burstGet(keys[i % keys.length]);
      // Standalone, FIFO: awaiting the last is enough. A cluster answers per node, in any order.
      if (cluster || a.burstAwaitsAll) await Promise.all(all);
      else await all[99_999];
      runs.push(performance.now() - tb);
      ops += 100_000;
    } while (performance.now() < deadline);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    runs.sort((x, y) => x - y);
    result = { ops, seconds, cpuUs: cpu.user + cpu.system, p50: percentile(runs, 50), p99: percentile(runs, 99) };
  } else if (name === 'pubsub') {
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
  await Promise.race([a.close(), new Promise((r) => setTimeout(r, 1000).unref())]);
  process.stdout.write(JSON.stringify(result) + '\n');
  // Some peers keep timers alive after quit; the measurement is done.
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
