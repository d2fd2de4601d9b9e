/**
 * A sentinel user whose ACL refuses the `+switch-master` channel: the client
 * still finds and uses the master, and keeps asking to subscribe every
 * second, but a failover is then seen only through its effects (a lost
 * connection, READONLY, ROLE), later than the announcement would have told.
 * That used to be retried silently; NODE_DEBUG=redmux now says so, with the
 * server's refusal and no secret, as it says a refused CLIENT TRACKING (see
 * cache-tracking-refused.spec.ts). Against a real redis-sentinel.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { until } from './support/until.js';

const ADMIN = { username: 'admin', password: 'swr-admin-4411' };
const NOSUB = { username: 'nosub', password: 'swr-nosub-7302' };

let sentinels: RedisSentinels;

beforeAll(async () => {
  sentinels = await startSentinels({ replicas: 0, sentinels: 1, quorum: 1, auth: { sentinel: ADMIN } });
  // Everything but pub/sub channels: discovery works, the subscription is refused (NOPERM).
  for (const port of sentinels.sentinelPorts) {
    await sentinels.sentinelCall(port, 'ACL', 'SETUSER', NOSUB.username, 'on', `>${NOSUB.password}`, '+@all', 'resetchannels');
  }
}, 60_000);
afterAll(async () => {
  await sentinels?.stop();
});

describe('a sentinel ACL refusing the +switch-master subscription', () => {
  it('NODE_DEBUG=redmux says it, naming the refusal, and no secret; the master is still used', async () => {
    const dist = path.resolve(__dirname, '..', 'dist', 'index.js');
    const options = { sentinel: { name: 'mymaster', nodes: sentinels.sentinelUrls, ...NOSUB } };
    const script = `
      const { Redis } = await import(${JSON.stringify(dist)});
      const redis = new Redis(${JSON.stringify(options)});
      redis.on('error', () => {});
      console.log(await redis.db.reply('PING'));
      setInterval(() => {}, 1000); // kept alive until the test has read what it needs
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_DEBUG: 'redmux' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await until('the master answered', () => out.includes('PONG'));
      await until('the refusal is logged', () => /subscribing to \+switch-master refused/.test(err));
      expect(err).toMatch(/sentinels of 'mymaster': subscribing to \+switch-master refused \(NoPermError \[NOPERM\]: [^\n]*\)/);
      expect(err).not.toMatch(new RegExp(`${NOSUB.password}|${ADMIN.password}`));
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
