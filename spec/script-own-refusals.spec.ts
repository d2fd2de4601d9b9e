/**
 * The errors a server answers before it runs a command (LOADING, BUSY,
 * READONLY, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, NOREPLICAS) are retried per
 * the retry policy: the command did not run. A script can answer with those
 * codes itself (`redis.error_reply('LOADING ...')`) after it ran, and a retry
 * would run it again behind the caller's back. For a call that runs a script
 * (db.run, EVAL, EVALSHA, FCALL and their _RO forms) only the server's own
 * refusal, by its exact text (Redis src/server.c shared.*err, src/script.c,
 * src/cluster.c; Valkey names itself where Redis does), is retried; any other
 * is the script's answer. Real server for the scripts' own answers; a
 * scripted server for the server's refusal, which a script call still waits out.
 */
import { describe, expect, it } from 'vitest';
import { BusyLoadingError, Redis, Script, ServerError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { scriptedServer } from './support/scripted-server.js';

const env = useRealServer();

const CODES = ['LOADING', 'BUSY', 'TRYAGAIN', 'READONLY', 'CLUSTERDOWN', 'MASTERDOWN', 'NOREPLICAS'];
const LIB = "#!lua name=ownrefusals\nredis.register_function('incr_then_fail', function(keys, args) redis.call('INCR', keys[1]) return redis.error_reply(args[1]) end)";

describe("a script's own refusal-like error", () => {
  it('db.run: reaches the caller; the script ran once', async () => {
    const db = env.client().db;
    for (const code of CODES) {
      const script = new Script(`redis.call('INCR', KEYS[1]) return redis.error_reply('${code} from the script')`);
      await db.reply('DEL', 'own-refusal:run');
      const err = await db.run(script, ['own-refusal:run']).catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(ServerError);
      expect((err as ServerError).code, code).toBe(code);
      expect(await db.reply('GET', 'own-refusal:run'), code).toBe('1');
    }
  });

  it("even word for word the server's text with something after it; EVAL and FCALL alike", async () => {
    const db = env.client().db;
    await db.reply('FUNCTION', 'LOAD', 'REPLACE', LIB);
    const texts = ['LOADING Redis is loading the dataset in memory (the script says)', "READONLY You can't write against a read only replica. script"];
    for (const text of texts) {
      await db.reply('DEL', 'own-refusal:eval', 'own-refusal:fcall');
      const viaEval = await db.reply('EVAL', `redis.call('INCR', KEYS[1]) return redis.error_reply("${text}")`, 1, 'own-refusal:eval').catch((e: unknown) => e);
      expect(viaEval, text).toBeInstanceOf(ServerError);
      const viaFcall = await db.reply('FCALL', 'incr_then_fail', 1, 'own-refusal:fcall', text).catch((e: unknown) => e);
      expect(viaFcall, text).toBeInstanceOf(ServerError);
      expect(await db.reply('MGET', 'own-refusal:eval', 'own-refusal:fcall'), text).toEqual(['1', '1']);
    }
  });

  it("the server's own LOADING before a script call is still waited out: sent again, answered once", async () => {
    const script = new Script('return 1');
    let refused = 0;
    const server = await scriptedServer((args) => {
      if (args[0]!.toUpperCase() !== 'EVALSHA') return undefined;
      return refused++ < 1 ? '-LOADING Redis is loading the dataset in memory\r\n' : ':7\r\n';
    });
    try {
      const redis = env.track(new Redis(server.url));
      expect(await redis.db.run(script)).toBe(7);
      expect(refused).toBe(2);
      const valkey = await scriptedServer((args) => (args[0]!.toUpperCase() === 'EVAL' ? '-LOADING Valkey is loading the dataset in memory\r\n' : undefined));
      try {
        const other = env.track(new Redis(valkey.url));
        const err = await other.db.reply('EVAL', 'return 1', 0).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BusyLoadingError);
        expect(valkey.received.filter((a) => a[0]!.toUpperCase() === 'EVAL').length).toBeGreaterThan(1); // retried: the server's text
      } finally {
        await valkey.close();
      }
    } finally {
      await server.close();
    }
  });
});
