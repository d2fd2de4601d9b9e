// The floor of one caller in Node: a bare net.Socket sending one GET of a
// 16-byte value, writing the next when the reply's bytes arrive (no parsing,
// no promise, no client), for the duration. What no Node client can beat
// with one caller on this machine; run.mjs runs it before one-caller rows.
//   node bench/floor.mjs <port> <durationMs>   -> { ops, seconds, cpuUs }
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const [port, durationArg] = process.argv.slice(2).map(Number);
const socket = net.connect(port, '127.0.0.1');
socket.setNoDelay(true);
await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
const key = 'bench:floor';
const value = 'v'.repeat(16);
socket.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$16\r\n${value}\r\n`);
await new Promise((resolve) => socket.once('data', resolve)); // +OK
const get = Buffer.from(`*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`);
const reply = `$16\r\n${value}\r\n`.length;
let ops = 0;
let pending = 0; // reply bytes of the GET in flight still to come
let measuring = false;
let running = true;
socket.on('data', (chunk) => {
  pending -= chunk.length;
  if (pending > 0) return;
  if (measuring) ops++;
  if (running) {
    pending = reply;
    socket.write(get);
  }
});
pending = reply;
socket.write(get);
await new Promise((r) => setTimeout(r, Math.min(300, durationArg / 4)));
measuring = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, durationArg));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
running = false;
socket.destroy();
process.stdout.write(JSON.stringify({ ops, seconds, cpuUs: cpu.user + cpu.system }) + '\n');
