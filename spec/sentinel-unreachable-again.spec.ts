/**
 * A blocking command meets its master down twice in its life (real
 * sentinel, one master and no replica: the master is restarted, the
 * sentinels keep naming it). The first time, it waits for its side
 * connection while the master is down, waits for the master (Sentinel:
 * each lease asks the sentinels, within the command timeout), and once the
 * master is back it blocks there, longer than that command timeout. Then
 * the master goes down again: its XREAD BLOCK (read-only: its retry policy
 * sends it again) again finds no master, and must wait for one as the first
 * time did: the command timeout counts from when it found the master gone
 * this time, not from the first time (that would leave it no wait at all).
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { Redis } from '../lib/index.js';
import { Sentinel } from '../lib/topology/sentinel/sentinel.js';
import { blockedInList } from './support/blocked-clients.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { until } from './support/until.js';

let sentinels: RedisSentinels;

beforeAll(async () => {
  sentinels = await startSentinels({ replicas: 0, sentinels: 1, quorum: 1 });
}, 60_000);
afterAll(async () => {
  await sentinels?.stop();
});

/** The command timeout: how long a call waits for a master each time it finds none. */
const WINDOW = 5000;

it('an XREAD BLOCK whose master goes down a second time waits for it again, and reads there', async () => {
  const master = await sentinels.masterPort();
  const redis = new Redis({ sentinel: { name: 'mymaster', nodes: sentinels.sentinelUrls.slice() }, connectTimeout: 1000, commandTimeout: WINDOW });
  redis.on('error', () => {});
  const counted = vi.spyOn(Sentinel.prototype, 'unreachable');
  try {
    await redis.db.reply('PING');
    let settled = false;
    const blocked = async () => blockedInList(String(await sentinels.call(master, 'CLIENT', 'LIST')), 'xread') === 1;
    await sentinels.killNode(master);
    const read = redis.db.reply('XREAD', 'BLOCK', 0, 'STREAMS', 'ua:s', '$');
    void read.then(
      () => (settled = true),
      () => (settled = true),
    );
    await until('the XREAD waits for a master', () => counted.mock.calls.length > 0);
    const first = Date.now();
    await sentinels.restartNode(master);
    await until('the XREAD is blocked on the master', () => settled || blocked());
    // Blocked there past the command timeout since it first found the master gone.
    await until('the first wait is long over', () => Date.now() > first + WINDOW + 500);
    const before = counted.mock.calls.length;
    await sentinels.killNode(master);
    await until('the XREAD finds the master gone again', () => settled || counted.mock.calls.length > before);
    await sentinels.restartNode(master);
    await until('the XREAD is blocked on the master again', () => settled || blocked());
    await sentinels.call(master, 'XADD', 'ua:s', '*', 'f', 'v');
    const reply = await read;
    expect(JSON.stringify(reply)).toContain('"ua:s"');
  } finally {
    counted.mockRestore();
    redis.disconnect();
  }
}, 60_000);
