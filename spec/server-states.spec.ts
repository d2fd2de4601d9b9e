/**
 * Transient server states (LOADING, BUSY, TRYAGAIN, READONLY after a failover):
 * refused commands did not run, so they are retried after the policy's backoff,
 * writes included; READONLY also makes the client reconnect to find the master.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BusyLoadingError, ReadOnlyError, Redis, RetryPolicy, WrongTypeError } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(respond: Parameters<typeof scriptedServer>[0], opts = {}) {
  const server = await scriptedServer(respond);
  servers.push(server);
  const redis = new Redis(server.url, { reconnect: { baseDelay: 5, maxDelay: 20 }, ...opts });
  redis.on('error', () => {});
  clients.push(redis);
  return { server, redis };
}

const count = (server: ScriptedServer, name: string) => server.received.filter((c) => c[0] === name).length;

describe('server states', () => {
  it('LOADING: retried with backoff (a write too, since it never ran) until the server is ready', async () => {
    let loading = 3;
    const { server, redis } = await setup((args) => {
      if (args[0] === 'SET' && loading > 0) {
        loading--;
        return '-LOADING Redis is loading the dataset in memory\r\n';
      }
      return undefined;
    });
    const db = redis.db.with({ retry: RetryPolicy.exponential({ attempts: 5, baseDelay: 5 }) });
    expect(await db.reply('SET', 'k', 'v')).toBe('OK');
    expect(count(server, 'SET')).toBe(4);
    expect(await redis.db.reply('GET', 'k')).toBe('v');
  });

  it('LOADING beyond the policy: the caller gets BusyLoadingError', async () => {
    const { redis } = await setup((args) => (args[0] === 'GET' ? '-LOADING still loading\r\n' : undefined));
    const err = await redis.db.with({ retry: RetryPolicy.constant({ attempts: 3, delay: 5 }) }).reply('GET', 'k').catch((e) => e);
    expect(err).toBeInstanceOf(BusyLoadingError);
  });

  it('errors that mean the command ran (WRONGTYPE) are never retried', async () => {
    const { server, redis } = await setup((args) => (args[0] === 'LPUSH' ? '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' : undefined));
    const err = await redis.db.with({ retry: RetryPolicy.exponential({ attempts: 5 }) }).reply('LPUSH', 'k', 'v').catch((e) => e);
    expect(err).toBeInstanceOf(WrongTypeError);
    expect(count(server, 'LPUSH')).toBe(1);
  });

  it('READONLY (the master became a replica): reconnect, then the write is retried on the new connection', async () => {
    let replica = true;
    const { server, redis } = await setup((args) => {
      if (args[0] === 'SET' && replica) {
        replica = false;
        return "-READONLY You can't write against a read only replica.\r\n";
      }
      return undefined;
    });
    await redis.db.reply('PING');
    expect(await redis.db.reply('SET', 'k', 'v')).toBe('OK');
    expect(count(server, 'HELLO')).toBe(2); // a second connection was made
    expect(count(server, 'SET')).toBe(2);
  });

  it('READONLY with retries off: the caller sees ReadOnlyError and the client still reconnects', async () => {
    const { server, redis } = await setup((args) => (args[0] === 'SET' ? "-READONLY You can't write against a read only replica.\r\n" : undefined));
    await redis.db.reply('PING');
    const err = await redis.db.with({ retry: RetryPolicy.none() }).reply('SET', 'k', 'v').catch((e) => e);
    expect(err).toBeInstanceOf(ReadOnlyError);
    await redis.db.reply('PING');
    expect(count(server, 'HELLO')).toBe(2);
  });
});
