/**
 * Review of f13d72c (a subscribe call over several cluster nodes is a
 * CallGroup: its parts stay undoable until every part settled, then each hub
 * keeps or undoes its part). One node is held still (SIGSTOP; a long
 * cluster-node-timeout keeps the cluster ok meanwhile) so that a part waits
 * while the other resolved, then:
 *
 * - the resolved part's pub/sub connection is killed (CLIENT KILL TYPE
 *   pubsub) and restored before the group is decided: kept, or undone, on the
 *   new connection;
 * - two subscribers sharing the hubs, with deadlines of different lengths,
 *   make the same call: the quick one times out and lets go of its holds
 *   only, the patient one resolves.
 *
 * Each checks PUBSUB SHARDNUMSUB on the nodes, messages, and that the hubs
 * keep no group, no call and no undoable hold behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, ReplyTimeoutError, type Message, type Redis } from '../lib/index.js';
import type { Subscriber } from '../lib/subscriber.js';
import { peekHubs } from './support/hub-peek.js';
import { tracked } from './support/outcome.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';
import { whileStopped } from './support/process-stop.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000, reconnect: { baseDelay: 5, maxDelay: 20 } }), {
  start: { replicasPerMaster: 0, nodeTimeout: 60_000, extraArgs: ['--cluster-require-full-coverage', 'no'] },
  end: 'disconnect',
});
const peek = peekHubs();

beforeAll(async () => {
  for (const node of cluster.nodes) {
    await cluster.call(node.port, 'ACL', 'SETUSER', 'r8c', 'on', '>pw', '~*', 'resetchannels', '&r8ok:*', '+@all');
  }
});

/** The node's process stops answering (its socket stays open) until `body` is done. */
function whileNodeStopped<T>(port: number, body: () => Promise<T>): Promise<T> {
  return whileStopped(cluster.node(port).pid!, body);
}

async function shardChannels(port: number): Promise<string[]> {
  return ((await cluster.call(port, 'PUBSUB', 'SHARDCHANNELS', 'r8ok:*')) as string[]).map(String).sort();
}

async function shardNumsub(port: number, channel: string): Promise<number> {
  return Number(((await cluster.call(port, 'PUBSUB', 'SHARDNUMSUB', channel)) as unknown[])[1]);
}

async function delivers(redis: Redis, sub: Subscriber, channel: string): Promise<void> {
  const got = new Promise<Message>((resolve) => sub.on('message', (m) => m.channel === channel && resolve(m)));
  expect(await redis.db.reply('SPUBLISH', channel, 'here')).toBe(1);
  expect(await within(`a message on ${channel}`, got)).toEqual({ channel, message: 'here', sharded: true });
}

describe.each([
  ['refused', 'r8bad', NoPermError],
  ['allowed', 'r8ok', undefined],
] as const)('an ssubscribe over two nodes, the resolved part reconnected before the other part is %s', (tag, prefix, failure) => {
  it(failure ? 'is undone on the new connection' : 'is kept on the new connection', async () => {
    const [a, b] = cluster.masters();
    const onA = await keyOn(cluster, a!.port, `r8ok:rc-${tag}:a`);
    const onB = await keyOn(cluster, b!.port, `${prefix}:rc-${tag}:b`);
    const warm = await keyOn(cluster, b!.port, `r8ok:rc-${tag}:warm`);
    const redis = client({ username: 'r8c', password: 'pw' });
    const sub = redis.subscriber();
    await sub.ssubscribe(warm);
    const call = await whileNodeStopped(b!.port, async () => {
      const call = tracked(sub.ssubscribe(onA, onB));
      await until('node a confirmed its part', async () => (await shardChannels(a!.port)).includes(onA));
      await cluster.call(a!.port, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
      await until('node a has the part again, on a new connection', async () => (await shardChannels(a!.port)).includes(onA));
      expect(call.settled()).toBe(false);
      return call;
    });
    const result = await within('the call', call.result);
    if (failure) {
      expect(result).toBeInstanceOf(failure);
      await until('node a let go of the part', async () => (await shardChannels(a!.port)).length === 0);
      expect(sub.subscriptions.shardChannels).toEqual([warm]);
    } else {
      expect(result).toBeUndefined();
      expect(sub.subscriptions.shardChannels.sort()).toEqual([onA, onB, warm].sort());
      expect(await shardNumsub(a!.port, onA)).toBe(1);
      expect(await shardNumsub(b!.port, onB)).toBe(1);
      await delivers(redis, sub, onA);
      await delivers(redis, sub, onB);
    }
    peek.expectSettled(redis);
  });
});

describe('two subscribers sharing the hubs make the same call over two nodes, with deadlines of different lengths', () => {
  it('the quick one times out and lets go of its holds only; the patient one resolves and receives', async () => {
    const [a, b] = cluster.masters();
    const onA = await keyOn(cluster, a!.port, 'r8ok:dl:a');
    const onB = await keyOn(cluster, b!.port, 'r8ok:dl:b');
    const warm = await keyOn(cluster, b!.port, 'r8ok:dl:warm');
    const redis = client({ username: 'r8c', password: 'pw' });
    const quick = redis.subscriber({ timeout: 300 });
    const patient = redis.subscriber({ timeout: 0 });
    await patient.ssubscribe(warm);
    await quick.ssubscribe(warm);
    const calls = await whileNodeStopped(b!.port, async () => {
      const calls = { quick: tracked(quick.ssubscribe(onA, onB)), patient: tracked(patient.ssubscribe(onB, onA)) };
      await until('the quick call timed out', () => calls.quick.settled());
      expect(calls.patient.settled()).toBe(false);
      return calls;
    });
    expect(await calls.quick.result).toBeInstanceOf(ReplyTimeoutError);
    expect(await within('the patient call', calls.patient.result)).toBeUndefined();
    expect(quick.subscriptions.shardChannels).toEqual([warm]);
    expect(patient.subscriptions.shardChannels.sort()).toEqual([onA, onB, warm].sort());
    await until('each node holds the patient call\'s channel once', async () => (await shardNumsub(a!.port, onA)) === 1 && (await shardNumsub(b!.port, onB)) === 1);
    const quickGot: Message[] = [];
    quick.on('message', (m) => quickGot.push(m));
    await delivers(redis, patient, onA);
    await delivers(redis, patient, onB);
    expect(quickGot).toEqual([]);
    peek.expectSettled(redis);
  });
});
