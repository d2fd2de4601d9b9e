/**
 * The Sentinel test harness (spec/support/redis-sentinel.ts) does what the
 * Sentinel specs rely on: a master, a replica and three sentinels that all
 * know each other, a real `SENTINEL FAILOVER` and a real automatic failover
 * after kill -9 (the old master demoted or dead, every sentinel agreeing),
 * restarts, and nothing left running afterwards.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRunning, startSentinels, type RedisSentinels } from './support/redis-sentinel.js';

let sentinels: RedisSentinels;
let startupMs = 0;

beforeAll(async () => {
  const t0 = Date.now();
  sentinels = await startSentinels();
  startupMs = Date.now() - t0;
});
afterAll(async () => {
  await sentinels?.stop();
});

const record = (reply: unknown): Record<string, string> => {
  const a = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[a[i]!] = String(a[i + 1]);
  return out;
};

/** What every sentinel says the master is. */
const masterSeenBy = () =>
  Promise.all(sentinels.sentinelPorts.map(async (p) => Number(((await sentinels.sentinelCall(p, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[])[1])));

/** A write on the master is readable on every live replica (replication flows the new way). */
async function replicates(master: number, key: string): Promise<void> {
  await sentinels.call(master, 'SET', key, 'v');
  await sentinels.call(master, 'WAIT', sentinels.replicas().filter((n) => n.alive).length, 5000);
  for (const r of sentinels.replicas().filter((n) => n.alive)) expect(await sentinels.call(r.port, 'GET', key)).toBe('v');
}

describe('startSentinels', () => {
  it('starts a master, a replica and three sentinels that know each other, within a few seconds', async () => {
    // ~0.6 s on 2 idle cores; printed, not asserted (a loaded machine makes any bound flake; the hook's timeout catches a hang).
    console.log(`sentinel harness: started in ${startupMs} ms`);
    expect(sentinels.name).toBe('mymaster');
    expect(sentinels.nodes).toHaveLength(2);
    expect(sentinels.sentinels).toHaveLength(3);
    const ports = [...sentinels.nodes.map((n) => n.port), ...sentinels.sentinelPorts];
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) expect([6379, 26379]).not.toContain(p);
    const [master, replica] = sentinels.nodes;
    expect(master!.role).toBe('master');
    expect(replica!.role).toBe('replica');
    for (const n of sentinels.nodes) {
      expect(n.url).toBe(`redis://127.0.0.1:${n.port}`);
      expect(processRunning(n.pid)).toBe(true);
    }
    expect(sentinels.sentinelUrls).toEqual(sentinels.sentinelPorts.map((p) => `redis://127.0.0.1:${p}`));
    for (const s of sentinels.sentinels) expect(processRunning(s.pid)).toBe(true);

    expect(await sentinels.masterPort()).toBe(master!.port);
    expect(await masterSeenBy()).toEqual([master!.port, master!.port, master!.port]);
    expect(await sentinels.call(replica!.port, 'ROLE')).toEqual(['slave', '127.0.0.1', master!.port, 'connected', expect.any(Number)]);
    for (const p of sentinels.sentinelPorts) {
      const m = record(await sentinels.sentinelCall(p, 'SENTINEL', 'MASTER', 'mymaster'));
      expect(m).toMatchObject({ flags: 'master', 'num-slaves': '1', 'num-other-sentinels': '2', quorum: '2' });
      const [r] = ((await sentinels.sentinelCall(p, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(record);
      expect(r).toMatchObject({ port: String(replica!.port), flags: 'slave', 'master-link-status': 'ok' });
    }
    await replicates(master!.port, 'harness:start');
  });
});

describe('failover', () => {
  it('SENTINEL FAILOVER moves the master: every sentinel agrees, the old master is a connected replica', async () => {
    const before = await sentinels.masterPort();
    const other = sentinels.nodes.find((n) => n.port !== before)!.port;
    const s = await sentinels.failover();
    expect(s.from).toBe(before);
    expect(s.to).toBe(other);
    expect(s.switchMs).toBeLessThanOrEqual(s.settledMs);
    expect(await sentinels.masterPort()).toBe(other);
    expect(await masterSeenBy()).toEqual([other, other, other]);
    expect(await sentinels.roleOf(other)).toBe('master');
    expect(await sentinels.roleOf(before)).toBe('replica');
    expect(sentinels.node(other).role).toBe('master');
    expect(sentinels.node(before).role).toBe('replica');
    await replicates(other, 'harness:failover');
  });

  it('kill -9 of the master fails over automatically to the replica; the old master stays dead', async () => {
    const before = await sentinels.masterPort();
    const oldPid = sentinels.node(before).pid!;
    const other = sentinels.nodes.find((n) => n.port !== before)!.port;
    const s = await sentinels.killMaster();
    expect(s).toMatchObject({ from: before, to: other });
    // down-after 1000 ms, then agreement and election: a few seconds. Printed, not asserted: killMaster()'s own waits
    // are bounded (a switch that never comes fails there); a loaded machine makes any tighter bound flake.
    console.log(`sentinel harness: kill -9 of the master, switched after ${s.switchMs} ms`);
    expect(processRunning(oldPid)).toBe(false);
    expect(sentinels.node(before).alive).toBe(false);
    expect(await masterSeenBy()).toEqual([other, other, other]);
    expect(await sentinels.roleOf(other)).toBe('master');
    expect(await sentinels.call(other, 'SET', 'harness:after-kill', 'v')).toBe('OK');
  });

  it('a killed node restarts as a healthy replica of the current master', async () => {
    const master = await sentinels.masterPort();
    const dead = sentinels.nodes.find((n) => !n.alive)!.port;
    await sentinels.restartNode(dead);
    expect(sentinels.node(dead).alive).toBe(true);
    expect(await sentinels.call(dead, 'ROLE')).toEqual(['slave', '127.0.0.1', master, 'connected', expect.any(Number)]);
    await replicates(master, 'harness:restart');
  });

  it('a killed sentinel is skipped by masterPort() and comes back with its identity', async () => {
    const [first] = sentinels.sentinels;
    const id = await sentinels.sentinelCall(first!.port, 'SENTINEL', 'MYID');
    await sentinels.killSentinel(first!.port);
    expect(processRunning(first!.pid)).toBe(false);
    expect(sentinels.sentinels[0]!.alive).toBe(false);
    expect(await sentinels.masterPort()).toBe(sentinels.nodes.find((n) => n.role === 'master')!.port);
    await sentinels.restartSentinel(first!.port);
    expect(sentinels.sentinels[0]!.alive).toBe(true);
    expect(await sentinels.sentinelCall(first!.port, 'SENTINEL', 'MYID')).toBe(id);
  });
});

describe('stop', () => {
  it('kills every process and removes every directory', async () => {
    const pids = [...sentinels.nodes.map((n) => n.pid), ...sentinels.sentinels.map((s) => s.pid)].filter((p) => p !== undefined);
    const dirs = sentinels.sentinels.map((s) => s.dir);
    expect(pids).toHaveLength(5);
    await sentinels.stop();
    for (const pid of pids) expect(processRunning(pid)).toBe(false);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect(sentinels.nodes.every((n) => !n.alive)).toBe(true);
    expect(sentinels.sentinels.every((s) => !s.alive)).toBe(true);
  });
});
