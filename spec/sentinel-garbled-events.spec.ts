/**
 * Sentinel events that do not name an instance: a `+switch-master` for our
 * master whose new address is not a host and a port 1..65535 (a confused or
 * hostile sentinel, a truncated payload). The client dropped every
 * connection on it (none was "on the new master" `x:NaN`): writes in flight
 * failed with maybeExecuted and everything reconnected, to the master the
 * sentinel then named, the same one. Found by the HA contract audit ("sentinel
 * answering garbage"): such an event is ignored; a well-formed one still moves.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { encodeReply, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

let a: RedisServer;
let b: RedisServer;
beforeAll(async () => {
  [a, b] = await Promise.all([startRedis(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([destroyRedis(a), destroyRedis(b)]);
});

const push = (items: string[]) => `>${items.length}\r\n${items.map((i) => (i.startsWith(':') ? `${i}\r\n` : encodeReply(i))).join('')}`;

/** A sentinel naming `master.port` for 'mymaster' that publishes whatever it is told on +switch-master. */
async function sentinel(master: { port: number }): Promise<{ server: ScriptedServer; publish: (payload: string) => void; subscribed: () => number }> {
  const subscribers = new Set<net.Socket>();
  const server = await scriptedServer((args, socket) => {
    const cmd = args[0]!.toUpperCase();
    const sub = args[1]?.toUpperCase();
    if (cmd === 'SENTINEL' && sub === 'GET-MASTER-ADDR-BY-NAME') return encodeReply(['127.0.0.1', String(master.port)]);
    if (cmd === 'SENTINEL') return '*0\r\n';
    if (cmd === 'SUBSCRIBE') {
      subscribers.add(socket);
      socket.once('close', () => subscribers.delete(socket));
      return args.slice(1).map((c, i) => push(['subscribe', c, `:${i + 1}`])).join('');
    }
    return undefined;
  });
  return {
    server,
    publish: (payload) => {
      for (const s of subscribers) s.write(push(['message', '+switch-master', payload]));
    },
    subscribed: () => subscribers.size,
  };
}

describe('a +switch-master that names no usable address', () => {
  it('is ignored: no connection dropped, nothing in flight failed; a well-formed one still moves the client', async () => {
    const master = { port: a.port };
    const fake = await sentinel(master);
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.server.port }] }, commandTimeout: 5000 });
    const lost: string[] = [];
    redis.on('error', (err) => lost.push(err.message));
    try {
      const id = await redis.db.reply('CLIENT', 'ID');
      await until('the client listens to the sentinel', () => fake.subscribed() === 1);
      const garbage = [
        `mymaster 127.0.0.1 ${a.port} x y`,
        `mymaster 127.0.0.1 ${a.port} 127.0.0.1 0`,
        `mymaster 127.0.0.1 ${a.port} 127.0.0.1 99999`,
        `mymaster 127.0.0.1 ${a.port}  ${b.port}`,
        `mymaster 127.0.0.1 ${a.port} 127.0.0.1 12ab`,
      ];
      for (const payload of garbage) {
        const write = redis.db.reply('INCR', 'garbled:n'); // in flight when the event arrives
        fake.publish(payload);
        await write;
      }
      expect(await redis.db.reply('GET', 'garbled:n')).toBe(String(garbage.length));
      expect(await redis.db.reply('CLIENT', 'ID')).toBe(id); // the same connection throughout
      expect(lost).toEqual([]);
      master.port = b.port;
      fake.publish(`mymaster 127.0.0.1 ${a.port} 127.0.0.1 ${b.port}`);
      await until('the client moved to the new master', async () => Number(/^tcp_port:(\d+)/m.exec(String(await redis.db.reply('INFO', 'server')))![1]) === b.port);
    } finally {
      redis.disconnect();
      await fake.server.close();
    }
  });
});
