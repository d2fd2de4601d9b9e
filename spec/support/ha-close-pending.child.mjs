// Child of spec/ha-close-pending-attempt.spec.ts (runs dist/): a client whose connection attempt is pending (its
// credentials provider never answers, or its server is frozen mid-handshake) is closed, nothing queued. The process must then exit on its own: a socket or timer left by the abandoned attempt would
// hold it until connectTimeout (60 s), past the parent's bound.
import dc from 'node:diagnostics_channel';
import { Redis } from '../../dist/index.js';

const [port, mode] = process.argv.slice(2);
let asked = 0;
const connecting = new Promise((resolve) => dc.subscribe('redmux:connect', resolve));
const redis = new Redis({
  port: Number(port),
  mode: 'standalone',
  connectTimeout: 60_000,
  commandTimeout: 120_000,
  ...(mode === 'provider' && { credentials: () => (asked++, new Promise(() => {})) }),
});
redis.on('error', () => {});
await connecting;
if (mode === 'provider') while (asked === 0) await new Promise((r) => setImmediate(r));
await redis.close();
console.log(JSON.stringify({ closed: true, asked }));
