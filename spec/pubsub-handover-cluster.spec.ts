/**
 * A MOVING maintenance push on the pub/sub connection of the cluster node
 * that carries channel subscriptions (servers that send them: Redis Software
 * / Cloud; scripted nodes here) is a planned handover: the connection moves
 * to the announced endpoint and subscribes again there. It is no lost
 * connection: the channels stay with their node rather than move to another
 * master (which a lost connection does at once, see cluster.ts pubsubLost).
 * Before, the handover's reconnect was taken for a loss: the channels moved
 * to the other master and the moved connection subscribed nothing.
 */
import type net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { Redis, type Message } from '../lib/index.js';
import { encodeReply, movingPush, pushFrame, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

const node = (port: number, id: string) => `*3\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${id.repeat(40)}\r\n`;

/** Masters `a` (slots 0..8191) and `c` (the rest), and `b`, where a MOVING sends a's connections: every one answers the same map (a and c). */
async function cluster() {
  const ports: number[] = [];
  const make = async (name: string) => {
    const subscribed = new Set<net.Socket>();
    const s = await scriptedServer((args, socket) => {
      const cmd = args[0]!.toUpperCase();
      if (cmd === 'CLIENT' && args[1]?.toUpperCase() === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
      if (cmd === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
      if (cmd === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') return `*2\r\n*3\r\n:0\r\n:8191\r\n${node(ports[0]!, 'a')}*3\r\n:8192\r\n:16383\r\n${node(ports[2]!, 'c')}`;
      if (cmd === 'SUBSCRIBE') {
        subscribed.add(socket);
        return pushFrame(encodeReply('subscribe'), encodeReply(args[1]!), ':1\r\n');
      }
      return undefined;
    });
    servers.push(s);
    ports.push(s.port);
    return { name, s, subscribed };
  };
  const a = await make('a');
  const b = await make('b');
  const c = await make('c');
  return { a, b, c };
}

/** A cluster client subscribed to 'ch', the messages it got, and which master carries the channel (`other`: the other master). */
async function subscribedToCh() {
  const { a, b, c } = await cluster();
  const redis = new Redis({ nodes: [a.s.url], mode: 'cluster', connectTimeout: 2000, commandTimeout: 5000, cluster: { refreshInterval: 0 } });
  redis.on('error', () => {});
  clients.push(redis);
  const sub = redis.subscriber();
  const got: string[] = [];
  sub.on('message', (m: Message<string>) => got.push(m.message));
  await sub.subscribe('ch');
  // Channels go to one master, round robin: find which.
  const [carrier, other] = a.subscribed.size === 1 ? [a, c] : [c, a];
  return { b, redis, sub, got, carrier, other };
}

it("a MOVING on the channel node's pub/sub connection moves the connection, not the channels to another master", async () => {
  const { b, redis, sub, got, carrier, other } = await subscribedToCh();
  expect(carrier.subscribed.size).toBe(1);
  const moved = b; // the endpoint a MOVING names (it answers as the cluster's nodes do)
  const [old] = [...carrier.subscribed];
  old!.write(movingPush(`127.0.0.1:${moved.s.port}`));
  await until('subscribed again where the connection moved', () => moved.subscribed.size === 1);
  [...moved.subscribed][0]!.write(pushFrame(encodeReply('message'), encodeReply('ch'), encodeReply('after the move')));
  await until('the message after the move arrived', () => got.includes('after the move'));
  expect(other.subscribed.size).toBe(0); // the channel never moved to the other master
  expect(redis.stats().pubsub).toMatchObject({ channels: 1, handovers: 1, connectionLost: 0 });
  expect(sub.subscriptions.channels).toEqual(['ch']);
});

it('a handover whose new endpoint cannot be reached is a lost connection: the channels move to the other master', async () => {
  const { b, sub, got, carrier, other } = await subscribedToCh();
  const [old] = [...carrier.subscribed];
  const nowhere = b.s.port;
  servers.splice(servers.indexOf(b.s), 1);
  await b.s.close(); // nothing listens where the MOVING points
  old!.write(movingPush(`127.0.0.1:${nowhere}`));
  await until('subscribed on the other master', () => other.subscribed.size === 1);
  [...other.subscribed][0]!.write(pushFrame(encodeReply('message'), encodeReply('ch'), encodeReply('from the other')));
  await until('the message from the other master arrived', () => got.includes('from the other'));
  expect(sub.subscriptions.channels).toEqual(['ch']);
});
