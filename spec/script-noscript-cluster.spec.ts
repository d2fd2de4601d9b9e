/**
 * In a cluster, a script's own NOSCRIPT with a text that is not the server's
 * (`redis.error_reply('NOSCRIPT other text')`): the node's connection asks
 * SCRIPT EXISTS there, learns the script ran, and the error reaches the
 * caller; nothing follows it elsewhere (it is no redirection) and nothing
 * runs it again. A counter the script increments says it ran once per call.
 */
import { describe, expect, it } from 'vitest';
import { NoScriptError, Script, type Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const { client } = useCluster({ commandTimeout: 3000 }, { start: { replicasPerMaster: 0 } });

const ready = (redis: Redis) => new Promise((resolve) => redis.once('ready', resolve));

const OWN = 'NOSCRIPT other text';
const script = new Script(`redis.call('INCR', KEYS[1]) return redis.error_reply('${OWN}')`);

describe("a script's own NOSCRIPT in a cluster", () => {
  it('db.run, first on a node that has not loaded it, then loaded: each call ran once', async () => {
    const redis = client();
    await ready(redis);
    for (const key of ['own-text:{a}', 'own-text:{b}', 'own-text:{c}']) {
      await redis.db.reply('DEL', key);
      for (let n = 1; n <= 2; n++) {
        const err = await redis.db.run(script, [key]).catch((e: unknown) => e);
        expect(err, key).toBeInstanceOf(NoScriptError);
        expect((err as NoScriptError).serverMessage, key).toBe(OWN);
        expect(await redis.db.reply('GET', key), key).toBe(String(n));
      }
    }
  });

  it('a db.multi block on one slot: each call ran once', async () => {
    const redis = client();
    await ready(redis);
    await redis.db.reply('DEL', 'own-text:{m}');
    const result = await redis.db.multi((tx) => {
      tx.run(script, ['own-text:{m}']);
      tx.run(script, ['own-text:{m}']);
    });
    expect(result!.map((r) => r instanceof NoScriptError)).toEqual([true, true]);
    expect(await redis.db.reply('GET', 'own-text:{m}')).toBe('2');
  });
});
