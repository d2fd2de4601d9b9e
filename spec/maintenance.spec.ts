/**
 * Maintenance notifications (issue 12 item 3), against scripted servers
 * (redis 7.0 does not send them): the handshake asks for them
 * (CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type ...) and a refusal is
 * no error; MIGRATING / FAILING_OVER relax every deadline until MIGRATED /
 * FAILED_OVER; MOVING hands the connection over to the new endpoint without
 * failing anything in flight, and nothing more is written to the old one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, type RedisOptions } from '../lib/index.js';
import { encodeReply, scriptedServer, type Responder, type ScriptedServer } from './support/scripted-server.js';
import { until } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server that accepts maintenance notifications, answers `GET slow:<ms>` after <ms>, and `GET where` with its name. */
async function server(name: string, extra?: Responder): Promise<ScriptedServer> {
  const s = await scriptedServer(async (args, socket, srv) => {
    const answer = extra ? await extra(args, socket, srv) : undefined;
    if (answer !== undefined) return answer;
    if (args[0] === 'CLIENT' && args[1] === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
    if (args[0] === 'GET' && args[1]?.startsWith('slow:')) {
      await sleep(Number(args[1].slice(5)));
      return encodeReply('slow');
    }
    if (args[0] === 'GET' && args[1] === 'where') return encodeReply(name);
    return undefined;
  });
  servers.push(s);
  return s;
}

/** Push a RESP3 frame to every connection of `s`. */
function push(s: ScriptedServer, ...items: (string | number | null)[]): void {
  const body = items.map((i) => (i === null ? '_\r\n' : typeof i === 'number' ? `:${i}\r\n` : encodeReply(i))).join('');
  for (const socket of s.sockets) socket.write(`>${items.length}\r\n${body}`);
}

function client(s: ScriptedServer, o: RedisOptions = {}): Redis {
  const redis = new Redis(s.url, { mode: 'standalone', connectTimeout: 2000, ...o });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

const commandsOf = (s: ScriptedServer) => s.received.map((c) => c.join(' '));

describe('maintenance notifications', () => {
  it('are asked for in the handshake, with an endpoint type; a server that refuses is used as usual', async () => {
    const refusing = await server('r', (args) => (args[0] === 'CLIENT' && args[1] === 'MAINT_NOTIFICATIONS' ? "-ERR unknown subcommand 'MAINT_NOTIFICATIONS'\r\n" : undefined));
    const redis = client(refusing);
    expect(await redis.db.reply('GET', 'where')).toBe('r');
    expect(commandsOf(refusing)).toContain('CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type internal-ip');
    const off = await server('o');
    const quiet = client(off, { maintenance: { notifications: 'off' } });
    await quiet.db.reply('PING');
    expect(commandsOf(off).some((c) => c.includes('MAINT_NOTIFICATIONS'))).toBe(false);
  });

  it('MIGRATING relaxes every deadline (queued, in flight, new) until MIGRATED; FAILING_OVER until FAILED_OVER', async () => {
    const s = await server('a');
    const redis = client(s, { commandTimeout: 200, maintenance: { relaxedTimeout: 2000 } });
    const pushes: unknown[] = [];
    redis.on('push', (f) => pushes.push(f));
    // Control: 500 ms is past the 200 ms deadline.
    expect(await redis.db.reply('GET', 'slow:500').catch((e: Error) => e)).toBeInstanceOf(ReplyTimeoutError);
    for (const [begin, end] of [['MIGRATING', 'MIGRATED'], ['FAILING_OVER', 'FAILED_OVER']] as const) {
      push(s, begin, 1, 5, '1');
      await redis.db.reply('PING'); // answered after the push on the same stream: the push is handled
      expect(await redis.db.reply('GET', 'slow:500')).toBe('slow');
      push(s, end, 2, '1');
      await redis.db.reply('PING');
      expect(await redis.db.reply('GET', 'slow:500').catch((e: Error) => e)).toBeInstanceOf(ReplyTimeoutError);
    }
    expect(pushes).toEqual([]); // consumed, never shown to 'push' listeners
  });

  it('MOVING: what was in flight is answered on the old connection, nothing more is written there, the rest goes to the new endpoint', async () => {
    const a = await server('a');
    const b = await server('b');
    const redis = client(a, { commandTimeout: 3000 });
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    const inflight = [redis.db.reply('GET', 'slow:300'), redis.db.reply('GET', 'slow:10')];
    await until('both GETs received by A', () => commandsOf(a).filter((c) => c.startsWith('GET slow:')).length === 2);
    push(a, 'MOVING', 1, 15, `127.0.0.1:${b.port}`);
    await until('the client connecting to B (the MOVING is handled)', () => b.sockets.size > 0);
    const later = Array.from({ length: 20 }, (_, i) => redis.db.reply('SET', `k${i}`, 'v'));
    expect(await Promise.all(inflight)).toEqual(['slow', 'slow']);
    expect(await Promise.all(later)).toEqual(later.map(() => 'OK'));
    expect(await redis.db.reply('GET', 'where')).toBe('b');
    expect(commandsOf(a).filter((c) => c.startsWith('SET '))).toEqual([]); // nothing written to A after the MOVING
    expect(commandsOf(b).filter((c) => c.startsWith('SET '))).toHaveLength(20);
    // A reconnect within the grace period also goes to the new endpoint.
    for (const socket of b.sockets) socket.destroy();
    expect(await redis.db.reply('GET', 'where')).toBe('b');
  });

  it('MOVING without an address: the same endpoint again, after half the grace period; nothing fails', async () => {
    const a = await server('a');
    const redis = client(a, { commandTimeout: 3000 });
    await redis.db.reply('PING');
    const hellos = () => commandsOf(a).filter((c) => c.startsWith('HELLO')).length;
    expect(hellos()).toBe(1);
    push(a, 'MOVING', 1, 1, null); // grace 1 s: reconnect after 500 ms
    const during = Array.from({ length: 10 }, () => redis.db.reply('GET', 'slow:20'));
    expect(await Promise.all(during)).toEqual(during.map(() => 'slow'));
    await until('a second HELLO (the reconnect to the same endpoint)', () => hellos() >= 2);
    expect(hellos()).toBe(2);
    expect(await redis.db.reply('GET', 'where')).toBe('a');
  });
});
