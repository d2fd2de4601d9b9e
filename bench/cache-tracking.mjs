// Which RESP3 tracking mode the client-side cache uses, measured (README "Client-side caching").
//
// Default mode tracks every key the connection reads; OPTIN tracks only reads
// preceded by CLIENT CACHING YES. On a shared connection the cache's misses are
// a small part of the traffic, so this measures both sides, over raw sockets
// (no client code in the way), against a private redis-server:
//   1. the cost of a cached read's miss: GET vs CLIENT CACHING YES + GET;
//   2. what default mode costs the rest of the traffic: uncached GET + SET on
//      the same connection (invalidation pushes received, tracking table size).
// Usage: node bench/cache-tracking.mjs   (needs redis-server on PATH)
import { spawn } from 'node:child_process';
import net from 'node:net';

const PORT = 16000 + Math.floor(Math.random() * 1000);
const server = spawn('redis-server', ['--port', String(PORT), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));

const enc = (...a) => `*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`).join('');

function connect() {
  const s = net.connect(PORT, '127.0.0.1');
  s.setNoDelay(true);
  let waiting;
  let tail = '';
  let bytes = 0;
  s.on('data', (d) => {
    bytes += d.length;
    tail = (tail + d.toString('latin1')).slice(-64);
    if (waiting && tail.includes(waiting.token)) {
      const w = waiting;
      waiting = undefined;
      tail = '';
      w.resolve();
    }
  });
  return {
    /** Write `payload` then an ECHO of a fresh token; resolve when the token comes back. */
    run(payload, token) {
      return new Promise((resolve) => {
        waiting = { token, resolve };
        s.write(payload + enc('ECHO', token));
      });
    },
    get bytes() {
      return bytes;
    },
    close: () => s.destroy(),
  };
}

async function setup(mode) {
  const c = connect();
  await c.run(enc('HELLO', '3') + enc('CLIENT', 'TRACKING', 'ON', ...(mode === 'optin' ? ['OPTIN'] : [])), 'ready');
  return c;
}

const KEYS = 10_000;
const BATCH = 128;
const ROUNDS = 1500;
{
  const c = connect();
  let p = '';
  for (let i = 0; i < KEYS; i++) p += enc('SET', `k:${i}`, 'v'.repeat(32));
  await c.run(p, 'filled');
  c.close();
}

/** INFO field `name` (a number), asked on a fresh connection. */
async function info(section, name) {
  let text = '';
  await new Promise((resolve) => {
    const s = net.connect(PORT, '127.0.0.1', () => s.write(enc('INFO', section)));
    s.on('data', (d) => {
      text += d;
      if (new RegExp(`${name}:[0-9.]+\r\n`).test(text)) {
        s.destroy();
        resolve();
      }
    });
  });
  return Number(new RegExp(`${name}:([0-9.]+)`).exec(text)[1]);
}
const serverCpu = async () => (await info('cpu', 'used_cpu_user')) + (await info('cpu', 'used_cpu_sys'));

async function misses(mode) {
  const c = await setup(mode);
  const cpu0 = await serverCpu();
  const start = process.hrtime.bigint();
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let p = '';
    for (let i = 0; i < BATCH; i++) {
      const k = `k:${n++ % KEYS}`;
      p += mode === 'optin' ? enc('CLIENT', 'CACHING', 'YES') + enc('GET', k) : enc('GET', k);
    }
    await c.run(p, `t${r}`);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = (await serverCpu()) - cpu0;
  c.close();
  return { mode, readsPerSec: Math.round((ROUNDS * BATCH) / (ms / 1000)), serverUsPerRead: (cpu * 1e6) / (ROUNDS * BATCH) };
}

async function noise(mode) {
  const c = await setup(mode);
  const before = c.bytes;
  for (let r = 0; r < 200; r++) {
    let p = '';
    for (let i = 0; i < 64; i++) {
      const k = `k:${(r * 64 + i) % KEYS}`;
      p += enc('GET', k) + enc('SET', k, 'v'.repeat(32)); // uncached read-modify-write on the shared connection
    }
    await c.run(p, `n${r}`);
  }
  const bytes = c.bytes - before;
  // Reads alone: what the server keeps in its tracking table for this connection.
  let p = '';
  for (let i = 0; i < KEYS; i++) p += enc('GET', `k:${i}`);
  await c.run(p, 'reads');
  const tracked = await info('stats', 'tracking_total_keys');
  c.close();
  await new Promise((r) => setTimeout(r, 100)); // the server forgets a closed client's keys
  return { mode, bytesIn: bytes, trackedKeysAfterUncachedReads: tracked };
}

const results = [];
for (let i = 0; i < 5; i++) for (const m of ['default', 'optin']) results.push(await misses(m));
console.log('cached-read misses (pipelined, 128 per batch), median of 5:');
for (const m of ['default', 'optin']) {
  const rs = results.filter((r) => r.mode === m);
  const med = (xs) => xs.sort((a, b) => a - b)[2];
  console.log(`  ${m.padEnd(8)} ${med(rs.map((r) => r.readsPerSec))} reads/s, server CPU ${med(rs.map((r) => r.serverUsPerRead)).toFixed(2)} us/read`);
}
console.log('uncached GET+SET traffic on the tracking connection (12800 pairs):');
for (const m of ['default', 'optin']) console.log('  ', await noise(m));
server.kill();
