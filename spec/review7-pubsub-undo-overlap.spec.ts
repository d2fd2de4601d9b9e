/**
 * Review of 8a37969 (an ssubscribe naming channels of several nodes, one
 * refused, is undone whole: what the confirmed parts added is unsubscribed
 * once every part settled). The undo is by name, for the subscriber: a
 * channel the same subscriber asked for again meanwhile, in a call that
 * resolved (so the channel is subscribed, 4a90c47), is unsubscribed with it,
 * behind that call's back: its messages stop.
 *
 * The cases around it: each failed call takes out its own hold only, and a
 * channel no call holds any more is let go of on the server (nothing stays
 * subscribed there behind rejected calls, checked with PUBSUB SHARDCHANNELS
 * and the ssub counts of CLIENT LIST).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, type Redis } from '../lib/index.js';
import type { Subscriber } from '../lib/subscriber.js';
import { outcome } from './support/outcome.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000 }), { start: { replicasPerMaster: 0 } });

beforeAll(async () => {
  for (const node of cluster.nodes) {
    await cluster.call(node.port, 'ACL', 'SETUSER', 'r7ov', 'on', '>pw', '~*', 'resetchannels', '&r7ok:*', '+@all');
  }
});

interface Stage {
  redis: Redis;
  sub: Subscriber;
  /** Shard channels the user may subscribe to, on node a; `refused` ones (node b), which it may not. */
  ok: string;
  ok2: string;
  refused: [string, string];
  a: number;
}

/** A subscriber of the restricted user, with node b's connection up and the slot map known. */
async function stage(tag: string): Promise<Stage> {
  const [a, b] = cluster.masters();
  const redis = client({ username: 'r7ov', password: 'pw' });
  const sub = redis.subscriber();
  await sub.ssubscribe(await keyOn(cluster, b!.port, `r7ok:${tag}:warm`));
  return {
    redis,
    sub,
    ok: await keyOn(cluster, a!.port, `r7ok:${tag}:a`),
    ok2: await keyOn(cluster, a!.port, `r7ok:${tag}:a2`),
    refused: [await keyOn(cluster, b!.port, `r7bad:${tag}`), await keyOn(cluster, b!.port, `r7bad2:${tag}`)],
    a: a!.port,
  };
}

/** What node a has subscribed for its pub/sub clients: the shard channels, and the sum of their ssub counts. */
async function onServer(port: number): Promise<{ channels: string[]; ssub: number }> {
  const channels = ((await cluster.call(port, 'PUBSUB', 'SHARDCHANNELS', 'r7ok:*')) as string[]).map(String).sort();
  const list = String(await cluster.call(port, 'CLIENT', 'LIST', 'TYPE', 'pubsub'));
  const ssub = [...list.matchAll(/ ssub=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  return { channels, ssub };
}

/** Node a ends up subscribed to exactly `held` (what the subscriber holds there), and to nothing else. */
async function serverHoldsExactly(s: Stage, held: string[]): Promise<void> {
  const want = JSON.stringify({ channels: [...held].sort(), ssub: held.length });
  await until(`node a subscribed to exactly ${want}`, async () => JSON.stringify(await onServer(s.a)) === want);
  expect(s.sub.subscriptions.shardChannels.filter((c) => c === s.ok || c === s.ok2)).toEqual(held); // node a's
}

/** `channel` delivers to `sub`: SPUBLISH reaches it. */
async function receives(s: Stage, channel: string): Promise<void> {
  const got = new Promise<unknown>((resolve) => s.sub.on('message', (m) => m.channel === channel && resolve(m)));
  expect(await s.redis.db.reply('SPUBLISH', channel, 'still here')).toBe(1);
  expect(await within(`a message on ${channel}`, got)).toEqual({ channel, message: 'still here', sharded: true });
}

describe('an ssubscribe over several nodes, one channel refused, and an overlapping call that resolved', () => {
  it('the channel the overlapping call subscribed stays subscribed', async () => {
    const s = await stage('t1');
    const both = outcome(s.sub.ssubscribe(s.ok, s.refused[0]));
    const again = outcome(s.sub.ssubscribe(s.ok)); // the same subscriber asks for `ok` again
    expect(await within('the second call', again)).toBeUndefined(); // resolved: `ok` is subscribed
    expect(await within('the first call', both)).toBeInstanceOf(NoPermError);
    expect(s.sub.subscriptions.shardChannels).toContain(s.ok);
    expect(await cluster.call(s.a, 'PUBSUB', 'SHARDNUMSUB', s.ok)).toEqual([s.ok, 1]);
    await serverHoldsExactly(s, [s.ok]);
    await receives(s, s.ok);
  });

  it('the overlapping call over several nodes too, that resolved: its channel stays subscribed', async () => {
    const s = await stage('t2');
    const both = outcome(s.sub.ssubscribe(s.ok, s.refused[0]));
    const again = outcome(s.sub.ssubscribe(s.ok, await keyOn(cluster, cluster.masters()[1]!.port, 'r7ok:t2:b')));
    expect(await within('the second call', again)).toBeUndefined();
    expect(await within('the first call', both)).toBeInstanceOf(NoPermError);
    await serverHoldsExactly(s, [s.ok]);
    await receives(s, s.ok);
  });
});

describe('overlapping ssubscribe calls of one subscriber over several nodes', () => {
  it('both fail: neither leaves its channel subscribed', async () => {
    const s = await stage('t3');
    const first = outcome(s.sub.ssubscribe(s.ok, s.refused[0]));
    const second = outcome(s.sub.ssubscribe(s.ok, s.ok2, s.refused[1]));
    expect(await within('the first call', first)).toBeInstanceOf(NoPermError);
    expect(await within('the second call', second)).toBeInstanceOf(NoPermError);
    expect(s.sub.subscriptions.shardChannels).not.toContain(s.ok);
    expect(s.sub.subscriptions.shardChannels).not.toContain(s.ok2);
    await serverHoldsExactly(s, []);
  });

  it('one fails, then the other, made in the other order: neither leaves its channel subscribed', async () => {
    const s = await stage('t4');
    const first = outcome(s.sub.ssubscribe(s.ok, s.ok2, s.refused[0]));
    const second = outcome(s.sub.ssubscribe(s.refused[1], s.ok));
    expect(await within('the second call', second)).toBeInstanceOf(NoPermError);
    expect(await within('the first call', first)).toBeInstanceOf(NoPermError);
    await serverHoldsExactly(s, []);
  });

  it('the first resolved, a later one fails: the channel stays subscribed and receives', async () => {
    const s = await stage('t5');
    await s.sub.ssubscribe(s.ok);
    expect(await outcome(s.sub.ssubscribe(s.ok, s.ok2, s.refused[0]))).toBeInstanceOf(NoPermError);
    await serverHoldsExactly(s, [s.ok]);
    await receives(s, s.ok);
  });

  it('the first still waiting when a later one is made, the later one fails: the first resolves and its channel stays', async () => {
    const s = await stage('t6');
    const first = outcome(s.sub.ssubscribe(s.ok));
    const later = outcome(s.sub.ssubscribe(s.ok, s.ok2, s.refused[0]));
    expect(await within('the first call', first)).toBeUndefined();
    expect(await within('the later call', later)).toBeInstanceOf(NoPermError);
    await serverHoldsExactly(s, [s.ok]);
    await receives(s, s.ok);
  });

  it('another subscriber holding the channel keeps it; the failed call of this one lets go of it', async () => {
    const s = await stage('t7');
    const other = s.redis.subscriber();
    await other.ssubscribe(s.ok);
    expect(await outcome(s.sub.ssubscribe(s.ok, s.refused[0]))).toBeInstanceOf(NoPermError);
    expect(s.sub.subscriptions.shardChannels).not.toContain(s.ok);
    expect(other.subscriptions.shardChannels).toEqual([s.ok]);
    await until('node a holds only the other subscriber\'s channel', async () => JSON.stringify(await onServer(s.a)) === JSON.stringify({ channels: [s.ok], ssub: 1 }));
    await other.close();
    await serverHoldsExactly(s, []);
  });
});
