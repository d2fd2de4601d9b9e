/**
 * Review of f13d72c (per-call holds; Hub.moveChannels' scan moved to
 * lib/pubsub/leaving.ts, movableNames): in a cluster, channels and patterns
 * live on one node's pub/sub connection; when it is lost (CLIENT KILL TYPE
 * pubsub) they move to another node, and calls still waiting are made again
 * there. Overlapping calls of two subscribers, some resolved, some in
 * flight, when the connection is killed: every call settles once, each name
 * ends up subscribed once across the cluster, messages arrive, and the hubs
 * keep no call, no undoable hold and no waiter behind.
 */
import { describe, expect, it } from 'vitest';
import type { Message, Redis } from '../lib/index.js';
import { peekHubs } from './support/hub-peek.js';
import { outcome } from './support/outcome.js';
import { useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000, reconnect: { baseDelay: 5, maxDelay: 50 } }), {
  start: { replicasPerMaster: 0 },
});
const peek = peekHubs();

/** Channel and pattern subscriptions of every master's pub/sub clients, summed. */
async function acrossCluster(): Promise<{ sub: number; psub: number }> {
  let sub = 0;
  let psub = 0;
  for (const m of cluster.masters()) {
    const list = String(await cluster.call(m.port, 'CLIENT', 'LIST', 'TYPE', 'pubsub'));
    for (const n of list.matchAll(/ sub=(\d+)/g)) sub += Number(n[1]);
    for (const n of list.matchAll(/ psub=(\d+)/g)) psub += Number(n[1]);
  }
  return { sub, psub };
}

/** The master whose pub/sub clients hold channel or pattern subscriptions. */
async function channelNode(): Promise<number> {
  for (const m of cluster.masters()) {
    const list = String(await cluster.call(m.port, 'CLIENT', 'LIST', 'TYPE', 'pubsub'));
    if (/ (sub|psub)=[1-9]/.test(list)) return m.port;
  }
  throw new Error('no node holds the channel subscriptions');
}

describe('the channels\' pub/sub connection killed while overlapping calls are in flight', () => {
  it('every call settles once; each name is subscribed once across the cluster; messages arrive', async () => {
    const redis = client();
    const one = redis.subscriber();
    const two = redis.subscriber();
    await one.subscribe('cl:x');
    await two.psubscribe('cl:p*');
    const node = await channelNode();
    let settledCount = 0;
    const count = <T>(p: Promise<T>) => outcome(p).finally(() => settledCount++);
    const calls = [
      count(one.subscribe('cl:x', 'cl:y')),
      count(two.subscribe('cl:y')),
      count(two.psubscribe('cl:p*', 'cl:q*')),
      count(one.psubscribe('cl:q*')),
      count(one.subscribe('cl:z')),
    ];
    await cluster.call(node, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(await within('every call', Promise.all(calls))).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(settledCount).toBe(5);
    expect(one.subscriptions.channels.sort()).toEqual(['cl:x', 'cl:y', 'cl:z']);
    expect(one.subscriptions.patterns).toEqual(['cl:q*']);
    expect(two.subscriptions.channels).toEqual(['cl:y']);
    expect(two.subscriptions.patterns.sort()).toEqual(['cl:p*', 'cl:q*']);
    await until('each name subscribed once across the cluster', async () => JSON.stringify(await acrossCluster()) === JSON.stringify({ sub: 3, psub: 2 }));
    const gotOne: Message[] = [];
    const gotTwo: Message[] = [];
    one.on('message', (m) => gotOne.push(m));
    two.on('message', (m) => gotTwo.push(m));
    await redis.db.reply('PUBLISH', 'cl:y', 'm1');
    await redis.db.reply('PUBLISH', 'cl:q1', 'm2');
    await until('delivered', () => gotOne.length === 2 && gotTwo.length === 2);
    expect(gotOne).toEqual([{ channel: 'cl:y', message: 'm1' }, { pattern: 'cl:q*', channel: 'cl:q1', message: 'm2' }]);
    expect(gotTwo).toEqual([{ channel: 'cl:y', message: 'm1' }, { pattern: 'cl:q*', channel: 'cl:q1', message: 'm2' }]);
    peek.expectSettled(redis);
  });
});
