/**
 * A script can answer MOVED or ASK itself (`redis.error_reply('MOVED ...')`),
 * after it ran. The server's own redirection names the slot of the call's
 * keys (Redis redirects no call without keys), so a MOVED / ASK for a script
 * call that names another slot, or comes for a call without keys, is the
 * script's answer: it reaches the caller, and the script ran once. Following
 * it ran the script again on every hop until maxRedirects (6 times), then
 * said it "did not run". Against a real cluster; a counter the script
 * increments says how often it ran.
 */
import { describe, expect, it } from 'vitest';
import { AskError, MovedError, Script, type Redis } from '../lib/index.js';
import { keySlot } from '../lib/commands/slot.js';
import { useCluster } from './support/real-cluster.js';

const { client } = useCluster({ commandTimeout: 3000 }, { start: { replicasPerMaster: 0 } });

const ready = (redis: Redis) => new Promise((resolve) => redis.once('ready', resolve));

describe("a script's own MOVED / ASK in a cluster", () => {
  it('naming another slot than its keys: reaches the caller, the script ran once', async () => {
    const redis = client();
    await ready(redis);
    const key = 'own-moved:{k}';
    const other = (keySlot(key) + 1) % 16384;
    for (const node of redis.nodes('master').map((n) => n.address)) {
      for (const [code, type] of [['MOVED', MovedError], ['ASK', AskError]] as const) {
        await redis.db.reply('DEL', key);
        const script = new Script(`redis.call('INCR', KEYS[1]) return redis.error_reply('${code} ${other} ${node}')`);
        const err = await redis.db.run(script, [key]).catch((e: unknown) => e);
        expect(err, `${code} ${node}`).toBeInstanceOf(type);
        expect(await redis.db.reply('GET', key), `${code} ${node}`).toBe('1');
      }
    }
  });

  it('for a call without keys: reaches the caller, the script ran once on the whole cluster', async () => {
    const redis = client();
    await ready(redis);
    const masters = redis.nodes('master');
    for (const code of ['MOVED', 'ASK']) {
      const script = new Script(`return redis.error_reply('${code} ${keySlot('own-moved:{keyless}')} ${masters[0]!.address}')`);
      await redis.db.reply('SCRIPT', 'LOAD', script.lua); // every node: the calls counted below are the script's runs
      for (const m of masters) await m.db.reply('CONFIG', 'RESETSTAT');
      const err = await redis.db.run(script).catch((e: unknown) => e);
      expect(String(err), code).toContain(`${code} `);
      let runs = 0;
      for (const m of masters) {
        const info: string = await m.db.reply('INFO', 'commandstats');
        runs += Number(/^cmdstat_evalsha:calls=(\d+)/m.exec(info)?.[1] ?? 0);
      }
      expect(runs, code).toBe(1);
    }
  });
});
