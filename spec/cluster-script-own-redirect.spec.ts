/**
 * In a cluster, TRYAGAIN and CLUSTERDOWN mean "refused before running: try
 * again later", and the routing follows them inside the command's deadline.
 * A script can answer with those codes itself (`redis.error_reply('TRYAGAIN
 * ...')`) after it ran: following its answer ran the script again, behind the
 * caller's back, for as long as the deadline allowed. For a call that runs a
 * script, only the server's own texts are followed; any other is the
 * script's answer, and the caller's.
 */
import { describe, expect, it } from 'vitest';
import { ClusterDownError, Script, TryAgainError, type Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const { client } = useCluster({ commandTimeout: 3000 }, { start: { replicasPerMaster: 0 } });

const ready = (redis: Redis) => new Promise((resolve) => redis.once('ready', resolve));

/** Increments its key, then answers `text` as an error of its own. */
const answering = (text: string) => new Script(`redis.call('INCR', KEYS[1]); return redis.error_reply('${text}')`);

describe("a script's own TRYAGAIN / CLUSTERDOWN in a cluster", () => {
  for (const [text, type] of [
    ['TRYAGAIN from the script', TryAgainError],
    ['CLUSTERDOWN from the script', ClusterDownError],
  ] as const) {
    it(`${text.split(' ')[0]}: reaches the caller at once, and the script ran once (db.run and EVAL)`, async () => {
      const redis = client();
      await ready(redis);
      const key = `own-redirect:{${text.split(' ')[0]}}`;
      await redis.db.reply('DEL', key);
      const err = await redis.db.run(answering(text), [key]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect(await redis.db.reply('GET', key)).toBe('1');
      const evalErr = await redis.db.reply('EVAL', `redis.call('INCR', KEYS[1]); return redis.error_reply('${text}')`, 1, key).catch((e: unknown) => e);
      expect(evalErr).toBeInstanceOf(type);
      expect(await redis.db.reply('GET', key)).toBe('2');
    });
  }
});
