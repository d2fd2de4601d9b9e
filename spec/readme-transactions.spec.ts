/**
 * README "Transactions" and "Optimistic transactions", against a real server:
 * what spec/transactions.spec.ts does not already hold them to.
 *
 *  - the commands refused on the shared connection are refused inside a
 *    block and on a watch's conn, and nothing reaches the server;
 *  - `retries` runs fn again on an aborted EXEC only, never on a plain null;
 *  - EXEC ends the WATCH: a second conn.multi of the same fn is not guarded;
 *  - a lease whose fn threw is not reused, one whose fn returned is.
 *
 * What the server ran is read from INFO commandstats after CONFIG RESETSTAT.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type Arg, type Database } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** The commands of the README's refused list, as a caller would write them. */
const REFUSED: Arg[][] = [
  ['SELECT', 1], ['MULTI'], ['EXEC'], ['DISCARD'], ['WATCH', 'k'], ['UNWATCH'], ['SUBSCRIBE', 'c'], ['PSUBSCRIBE', 'c*'],
  ['SSUBSCRIBE', 'c'], ['AUTH', 'pw'], ['HELLO', 2], ['QUIT'], ['MONITOR'], ['RESET'], ['CLIENT', 'REPLY', 'OFF'],
  ['CLIENT', 'TRACKING', 'ON'], ['CLIENT', 'CACHING', 'YES'], ['ASKING'], ['READONLY'], ['READWRITE'],
];

/** Lower-case names (`client|id`) of every command the server ran since the last CONFIG RESETSTAT. */
async function ran(admin: Database): Promise<string[]> {
  const stats = String(await admin.reply('INFO', 'commandstats'));
  return [...stats.matchAll(/^cmdstat_([^:]+):/gm)].map((m) => m[1]!).sort();
}

describe('README, transactions', () => {
  it('inside a block, tx.command throws for each command refused on the shared connection, and nothing is sent', async () => {
    const admin = env.client().db;
    const db = env.client().db;
    await db.reply('PING');
    await admin.reply('CONFIG', 'RESETSTAT');
    for (const [name, ...args] of REFUSED) {
      let handle: PromiseLike<unknown> | undefined;
      const block = db.multi((tx) => {
        handle = tx.command('SET', 'rt:before', '1');
        tx.command(name as string, ...args);
      });
      const err = await block.catch((e) => e);
      expect([name, err]).toEqual([name, expect.any(InvalidArgumentError)]);
      expect(err.message).toMatch(/cannot be used inside a transaction/);
      await expect(handle).rejects.toBe(err); // the handle made before the refusal settles too
    }
    expect(await ran(admin)).toEqual(['config|resetstat']);
  });

  it('on a watch conn they are refused too, nothing is sent, and the keys stay watched', async () => {
    const admin = env.client().db;
    const db = env.client().db;
    await db.watch(['rt:w'], async () => {}); // the lease is open (its handshake is not counted) and back in the pool
    await admin.reply('CONFIG', 'RESETSTAT');
    const refusals: unknown[] = [];
    const result = await db.watch(['rt:w'], async (conn) => {
      for (const [name, ...args] of REFUSED) refusals.push(await conn.reply(name as string, ...args).catch((e) => e));
      await admin.reply('SET', 'rt:w', 'changed'); // still watched: EXEC is aborted
      return conn.multi((tx) => tx.command('SET', 'rt:w', 'mine'));
    });
    expect(refusals).toHaveLength(REFUSED.length);
    for (const err of refusals) expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(result).toBeNull();
    expect(await admin.reply('GET', 'rt:w')).toBe('changed');
    // What the server ran: the watch's own commands and the other client's SET and GET, none of the refused ones.
    expect(await ran(admin)).toEqual(['config|resetstat', 'exec', 'get', 'multi', 'set', 'unwatch', 'watch']);
  });

  it('retries: fn runs again only when EXEC was aborted; after the last abort, watch resolves with that run', async () => {
    const admin = env.client().db;
    const db = env.client().db;
    let runs = 0;
    const exhausted = await db.watch(['rt:r'], async (conn) => {
      runs++;
      await admin.reply('INCR', 'rt:r'); // every run is interfered with
      const res = await conn.multi((tx) => tx.command('SET', 'rt:r', 'mine'));
      return { run: runs, res };
    }, { retries: 3 });
    expect(runs).toBe(4);
    expect(exhausted).toEqual({ run: 4, res: null });
    expect(await admin.reply('GET', 'rt:r')).toBe('4');

    runs = 0;
    const plainNull = await db.watch(['rt:r'], async (conn) => {
      runs++;
      return conn.reply('GET', 'rt:missing');
    }, { retries: 3 });
    expect([plainNull, runs]).toEqual([null, 1]);
  });

  it('EXEC ends the WATCH: a second conn.multi in the same fn commits though the key changed', async () => {
    const admin = env.client().db;
    const db = env.client().db;
    const [first, second] = await db.watch(['rt:e'], async (conn) => {
      const a = await conn.multi((tx) => tx.command('SET', 'rt:e', 'one'));
      await admin.reply('SET', 'rt:e', 'someone else');
      const b = await conn.multi((tx) => tx.command('SET', 'rt:e', 'two'));
      return [a, b];
    });
    expect([first, second]).toEqual([['OK'], ['OK']]);
    expect(await admin.reply('GET', 'rt:e')).toBe('two');
  });

  it('a lease whose fn threw or rejected is replaced; one whose fn returned is reused', async () => {
    const db = env.client({ blockingPool: { size: 1 } }).db;
    const leaseId = () => db.watch(['rt:l'], (conn) => conn.reply('CLIENT', 'ID'));
    const first = await leaseId();
    expect(await leaseId()).toBe(first);
    await expect(db.watch(['rt:l'], async () => { throw new Error('mine'); })).rejects.toThrow('mine');
    const afterThrow = await leaseId();
    expect(afterThrow).not.toBe(first);
    // An ExecAbortError of conn.multi that fn passes on is a rejection of fn.
    await expect(db.watch(['rt:l'], (conn) => conn.multi((tx) => tx.command('NO-SUCH-COMMAND')))).rejects.toThrow(/EXECABORT/);
    expect(await leaseId()).not.toBe(afterThrow);
  });
});
