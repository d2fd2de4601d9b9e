/**
 * A db.watch with `retries` whose WATCH loses its connection twice, the
 * second time after its first WATCH took, fn ran and its EXEC was aborted
 * (a watched key changed), later than the command timeout after the first
 * loss. Each time nothing is watched and fn is not under way, so the watch
 * waits for a reachable master and leases again (008095b); the command
 * timeout counts from when it lost the master this time, not from the first
 * time (that would leave the second loss no wait at all, and the watch
 * would fail although its master answers again 250 ms later).
 *
 * Scripted (a scripted sentinel naming a scripted data node): the data node
 * drops the connection when the 1st and 3rd WATCH arrive, and aborts the
 * first EXEC; a real server cannot drop exactly there.
 */
import { afterEach, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { scriptedSentinel, type ScriptedSentinel } from './support/scripted-sentinel.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until } from './support/until.js';

/** The command timeout: how long a watch waits for a master each time it finds none. */
const WINDOW = 1000;

const ends: (() => unknown)[] = [];
afterEach(async () => {
  for (const end of ends.splice(0)) await end();
});

it('the second lost WATCH waits for the master again; fn runs twice in all, the second EXEC commits', async () => {
  let watches = 0;
  let execs = 0;
  let firstLoss = 0;
  const data: ScriptedServer = await scriptedServer((args, socket) => {
    const name = args[0]!.toUpperCase();
    if (name === 'ROLE') return '*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n';
    if (name === 'WATCH') {
      watches++;
      if (watches === 1 || watches === 3) {
        if (watches === 1) firstLoss = Date.now();
        socket.destroy(); // written, never answered: the connection is lost with it
        return '';
      }
      return '+OK\r\n';
    }
    if (name === 'UNWATCH' || name === 'MULTI') return '+OK\r\n';
    if (name === 'EXEC') return ++execs === 1 ? '*-1\r\n' : '*1\r\n+OK\r\n'; // the first: a watched key changed
    if (name === 'SET') return '+QUEUED\r\n';
    return undefined;
  });
  ends.push(() => data.close());
  const fake: ScriptedSentinel = await scriptedSentinel('mymaster', data.port);
  ends.push(() => fake.close());
  const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.port }] }, connectTimeout: 1000, commandTimeout: WINDOW });
  redis.on('error', () => {});
  ends.push(() => redis.disconnect());

  let runs = 0;
  const result = await redis.db.watch(
    ['uw:k'],
    async (conn) => {
      runs++;
      // Past the command timeout since the first loss before the EXEC (aborted) and the next WATCH.
      if (runs === 1) await until('the first loss is a command timeout ago', () => Date.now() > firstLoss + WINDOW + 200);
      return conn.multi((tx) => tx.command('SET', 'uw:k', runs));
    },
    { retries: 1 },
  );
  expect(result).toEqual(['OK']);
  expect(runs).toBe(2);
  expect(watches).toBe(4);
});
