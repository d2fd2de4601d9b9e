/**
 * A MOVING maintenance push on a pub/sub connection (servers that send them:
 * Redis Software / Cloud; scripted here) hands it over like the shared
 * connection: it reconnects at once to the announced endpoint and subscribes
 * there again, and `stats().pubsub` counts it as `handovers`, never as
 * `connectionLost` nor `reconnects`. Before, the pub/sub connection took the
 * push for a stray pub/sub frame and dropped it: it stayed on the old
 * endpoint until the server cut it (a lost connection), then reconnected there.
 */
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, type Message } from '../lib/index.js';
import { encodeReply, movingPush, pushFrame, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

/** A server that accepts maintenance notifications and confirms SUBSCRIBEs; `subscribed` holds its pub/sub sockets. */
async function server() {
  const subscribed = new Set<net.Socket>();
  const s = await scriptedServer((args, socket) => {
    const name = args[0]!.toUpperCase();
    if (name === 'CLIENT' && args[1]?.toUpperCase() === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
    if (name === 'SUBSCRIBE') {
      subscribed.add(socket);
      return pushFrame(encodeReply('subscribe'), encodeReply(args[1]!), ':1\r\n');
    }
    return undefined;
  });
  servers.push(s);
  return { s, subscribed };
}

describe('a MOVING push on a pub/sub connection', () => {
  it('hands it over to the new endpoint, subscribed again there; stats().pubsub counts a handover, not a loss', async () => {
    const a = await server();
    const b = await server();
    const redis = new Redis(a.s.url, { mode: 'standalone', connectTimeout: 2000, commandTimeout: 5000 });
    redis.on('error', () => {});
    clients.push(redis);
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', (m: Message<string>) => got.push(m.message));
    await sub.subscribe('ch');
    const [old] = [...a.subscribed];
    old!.write(movingPush(`127.0.0.1:${b.s.port}`));
    await until('subscribed again on b', () => b.subscribed.size === 1);
    [...b.subscribed][0]!.write(pushFrame(encodeReply('message'), encodeReply('ch'), encodeReply('from b')));
    await until('the message from b arrived', () => got.includes('from b'));
    expect(redis.stats().pubsub).toMatchObject({ connections: 1, channels: 1, handovers: 1, connectionLost: 0, reconnects: 0, connectFailures: 0 });
    await until("a's pub/sub connection is closed", () => !a.s.sockets.has(old!));
  });
});
