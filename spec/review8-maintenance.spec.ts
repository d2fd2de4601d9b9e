/**
 * Review 8 of maintenance notifications (lib/connection/maintenance.ts),
 * against scripted servers (a real redis-server never sends them):
 *  - a maintenance period begun on a connection that is then lost never ends
 *    there (its end would come on that connection): the next connection must
 *    not keep every deadline relaxed for good;
 *  - close() while a MOVING handover waits for its in-flight replies, with
 *    commands queued behind it: every command settles and close() resolves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, type RedisOptions } from '../lib/index.js';
import { resolveOptions } from '../lib/options.js';
import { encodeReply, scriptedServer, type Responder, type ScriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A RESP3 push frame. */
function frame(...items: (string | number | null)[]): string {
  return `>${items.length}\r\n${items.map((i) => (i === null ? '_\r\n' : typeof i === 'number' ? `:${i}\r\n` : encodeReply(i))).join('')}`;
}

/**
 * A server that accepts maintenance notifications, answers `GET slow:<ms>` after <ms>, `GET where` with its name, and
 * `GET push:<kind>` by pushing that notification (MOVING to `moveTo`) just before its answer: once that GET is
 * answered, the client has handled the notification.
 */
async function server(name: string, moveTo?: () => string, extra?: Responder): Promise<ScriptedServer> {
  const s = await scriptedServer(async (args, socket, srv) => {
    const answer = extra ? await extra(args, socket, srv) : undefined;
    if (answer !== undefined) return answer;
    if (args[0] === 'CLIENT' && args[1] === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
    if (args[0] === 'GET' && args[1]?.startsWith('slow:')) {
      await sleep(Number(args[1].slice(5)));
      return encodeReply('slow');
    }
    if (args[0] === 'GET' && args[1] === 'where') return encodeReply(name);
    if (args[0] === 'GET' && args[1] === 'push:MIGRATING') return frame('MIGRATING', 1, 5, '1') + encodeReply('pushed');
    if (args[0] === 'GET' && args[1] === 'push:MOVING') return frame('MOVING', 2, 15, moveTo!()) + encodeReply('pushed');
    return undefined;
  });
  servers.push(s);
  return s;
}

function client(s: ScriptedServer, o: RedisOptions = {}): Redis {
  const redis = new Redis(s.url, { mode: 'standalone', connectTimeout: 2000, ...o });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}



describe('maintenance notifications (review 8)', () => {
  it('a MIGRATING whose connection is lost before its MIGRATED does not relax the deadlines of the next connection', async () => {
    const s = await server('a');
    const redis = client(s, { commandTimeout: 200, maintenance: { relaxedTimeout: 60_000 }, reconnect: { baseDelay: 10, maxDelay: 20 } });
    expect(await redis.db.reply('GET', 'push:MIGRATING')).toBe('pushed'); // deadlines relaxed by 60 s from here
    for (const socket of s.sockets) socket.destroy(); // the node goes away mid-maintenance: no MIGRATED will come on it
    await until('the loss seen', () => redis.stats().connectionLost === 1);
    expect(await redis.db.reply('PING')).toBe('PONG'); // a new connection, which was told of no maintenance
    // Its deadline is 200 ms; with the old period still counted it gets 60 s more, and its answer after 3 s.
    const late = redis.db.reply('GET', 'slow:3000').catch((e: Error) => e);
    expect(await within('the GET times out at its own deadline', late, 8000)).toBeInstanceOf(ReplyTimeoutError);
  });

  it('a MIGRATING that arrives with the handshake\'s last reply (before the connection is ready) relaxes the deadlines', async () => {
    // The push rides in the same write as the answer to CLIENT MAINT_NOTIFICATIONS: it is handled before the
    // handshake's promise resumes, so it must not be forgotten when the connection becomes ready.
    const s = await server('a', undefined, (args) =>
      args[0] === 'CLIENT' && args[1] === 'MAINT_NOTIFICATIONS' ? '+OK\r\n' + frame('MIGRATING', 1, 5, '1') : undefined,
    );
    const redis = client(s, { commandTimeout: 200, maintenance: { relaxedTimeout: 5000 } });
    expect(await redis.db.reply('GET', 'slow:600')).toBe('slow'); // 600 ms: past 200, within 200 + 5000
  });

  it.each([
    ['nothing queued', false],
    ['a command queued behind it', true],
  ])('close() while a MOVING handover waits for an in-flight reply, %s: everything settles, close() resolves', async (_, withQueued) => {
    const b = await server('b');
    const a = await server('a', () => `127.0.0.1:${b.port}`);
    const redis = client(a, { commandTimeout: 3000 });
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    const pushed = redis.db.reply('GET', 'push:MOVING');
    const inflight = redis.db.reply('GET', 'slow:300'); // written with it, answered after the MOVING
    expect(await pushed).toBe('pushed'); // the MOVING is handled: nothing more is written to A
    const queued = withQueued ? redis.db.reply('GET', 'where').then((v) => v, (e: Error) => e) : undefined;
    const closed = redis.close();
    expect(await within('the in-flight GET answered', inflight)).toBe('slow');
    // Answered or refused, never left to its (relaxed: 13 s) deadline.
    if (queued) expect(await within('the queued GET settled', queued, 8000)).not.toBeInstanceOf(ReplyTimeoutError);
    await within('close() resolved', closed, 8000);
  });

  it('with endpoint failover, a MOVING moves the connection to its address too (not back to the same endpoint)', async () => {
    const c = await server('c');
    const a = await server('a', () => `127.0.0.1:${c.port}`);
    const b = await server('b');
    const redis = new Redis({ endpoints: [a.url, b.url], connectTimeout: 2000, commandTimeout: 3000 });
    redis.on('error', () => {});
    clients.push(redis);
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    expect(await redis.db.reply('GET', 'push:MOVING')).toBe('pushed');
    expect(await redis.db.reply('GET', 'where')).toBe('c');
  });

  it('a MOVING without an address whose grace period is past what a timer holds (a garbage value) waits, no overflow warning', async () => {
    const a = await server('a', undefined, (args) =>
      args[0] === 'GET' && args[1] === 'push:HUGE' ? frame('MOVING', 3, 1e10, null) + encodeReply('pushed') : undefined,
    );
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const redis = client(a, { commandTimeout: 3000 });
      expect(await redis.db.reply('GET', 'push:HUGE')).toBe('pushed');
      // Node clamps a delay over 2^31-1 ms to 1 ms (with a TimeoutOverflowWarning): the handover would run at once.
      await new Promise((r) => setImmediate(r));
      expect(await redis.db.reply('GET', 'where')).toBe('a');
      expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  // README: moving-endpoint-type defaults from the configured host; with cluster seeds or failover endpoints that is
  // their host (it was 127.0.0.1, the unset host option: a cloud node would have answered MOVING with an internal IP).
  it.each([
    [{ nodes: ['redis://redis-1.example.com:6379'] }, 'external-fqdn'],
    [{ nodes: [{ host: '203.0.113.9', port: 7000 }] }, 'external-ip'],
    [{ endpoints: ['redis://redis-1.example.com:6379', 'redis://redis-2.example.com:6379'] }, 'external-fqdn'],
    [{ endpoints: [{ host: '10.0.0.5', port: 6379, weight: 2 }] }, 'internal-ip'],
    [{ endpoints: ['redis://db.internal:6379'], tls: true }, 'external-fqdn'],
    [{ host: '192.168.1.4' }, 'internal-ip'],
  ] as [RedisOptions, string][])('moving-endpoint-type of %j is %s', (o, type) => {
    expect(resolveOptions(o).connection.maintenance).toBe(type);
  });
});
