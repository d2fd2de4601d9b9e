/**
 * A slot's first MOVED fences it: newer commands for the slot wait until the
 * old owner answered a PING written behind everything sent there before
 * (slot-fence.ts), so the older commands are re-sent first. That wait is
 * part of a command's deadline, and a short per-call deadline must not wait
 * for the PING, which only the command timeout bounds: README, "a long
 * per-call deadline (or the health PING's) never delays a shorter one". Here
 * the old owner runs a 2 s script sent by this client right after the command
 * that came back MOVED, so the PING waits for it, with commandTimeout 20 s.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ReplyTimeoutError } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

// The old owner runs a 2 s script: with the default 1 s node timeout its replica could take over meanwhile (then
// SETSLOT on it fails: 'use SETSLOT only with masters'). No replicas, and a node timeout longer than the script.
const { cluster, client } = useCluster({ commandTimeout: 20_000, cluster: { refreshInterval: 0 } }, { start: { replicasPerMaster: 0, nodeTimeout: 10_000 } });

const keyOn = async (port: number, prefix: string, notSlot = -1): Promise<string> => {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${i}`;
    if (keySlot(k) !== notSlot && (await cluster.ownerOf(keySlot(k))) === port) return k;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const script = (ms: number) =>
  `local t = redis.call("TIME") local s = t[1] * 1e6 + t[2] while true do local n = redis.call("TIME") if n[1] * 1e6 + n[2] - s > ${ms * 1000} then break end end return 1`;

describe('a command behind a slot fence', () => {
  it('settles at its own deadline, not when the old owner answers the fence PING; the fenced slot then serves', async () => {
    let fencedRuns = 0;
    // A refresh of the client's own (its start-up ones) may learn the move before the GET: then there is no MOVED
    // (the old owner's INFO errorstats says), and the slot is moved again; so it is when the script ran first.
    for (let attempt = 0; attempt < 4 && fencedRuns === 0; attempt++) {
      const slot = keySlot('fence:k');
      const from = await cluster.ownerOf(slot);
      const to = cluster.masters().find((m) => m.port !== from)!.port;
      const busyKey = await keyOn(from, `busy${attempt}`, slot);
      const redis = client();
      await redis.db.reply('SET', 'fence:k', 'v');
      await sleep(300); // the start-up refreshes are over
      expect(await redis.db.reply('GET', 'fence:k')).toBe('v'); // the map knows `from` as the owner
      await cluster.moveSlot(slot, to); // the client is not told (no periodic refresh)
      const movedSent = async () => Number(/errorstat_MOVED:count=(\d+)/.exec(String(await cluster.call(from, 'INFO', 'errorstats')))?.[1] ?? 0);
      const before = await movedSent();
      // The GET is written alone (the first command on an idle connection goes out at once), the 2 s script right
      // after: the GET comes back MOVED, the fence is raised, and its PING is written behind the running script.
      const moved = redis.db.reply('GET', 'fence:k');
      let scriptDone = false;
      const busy = redis.db.reply('EVAL', script(2000), 1, busyKey).finally(() => (scriptDone = true));
      expect(await moved).toBe('v');
      // Read by the server together with the GET, the script ran first and held the MOVED back: no fence to test.
      const answeredFirst = !scriptDone;
      let settledWhileBusy: boolean | undefined;
      const fenced = await redis.db
        .with({ timeout: 200 })
        .reply('GET', 'fence:k')
        .then(
          (v) => v,
          (e: Error) => e,
        )
        .finally(() => (settledWhileBusy = !scriptDone));
      expect(await busy).toBe(1);
      if ((await movedSent()) === before || !answeredFirst) continue; // no MOVED (the map was fresh already), or no fence held
      fencedRuns++;
      expect(fenced).toBeInstanceOf(ReplyTimeoutError);
      expect((fenced as ReplyTimeoutError).sent).toBe(false); // never sent
      expect(settledWhileBusy).toBe(true);
      expect(await redis.db.reply('GET', 'fence:k')).toBe('v');
    }
    expect(fencedRuns).toBe(1);
  });
});
