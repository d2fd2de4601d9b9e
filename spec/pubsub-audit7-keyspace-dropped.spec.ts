/**
 * A keyspace stream whose subscription the server drops (here: the ACL no
 * longer allows its pattern, so Redis disconnects the subscriber and refuses
 * the pattern when it is restored) ends: its iterators throw the reason. A
 * stream used through events got only 'close', never the reason, although
 * a subscriber in the same situation emits it as 'error': nothing is lost
 * without the user being told why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { within } from './support/until.js';

const env = useRealServer();
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  await admin.db.reply('CONFIG', 'SET', 'notify-keyspace-events', 'KA');
});
afterAll(async () => {
  await admin.close();
});

describe('a keyspace stream whose pattern the server refuses on restore', () => {
  it("emits the refusal as 'error' (when listened to) before 'close'; its iterators throw it", async () => {
    await admin.db.reply('ACL', 'SETUSER', 'ks7', 'on', '>pw', '~*', 'resetchannels', '&__keyspace@0__:ks7:*', '&other', '+@all');
    const redis = env.client({ username: 'ks7', password: 'pw', reconnect: { baseDelay: 5, maxDelay: 20 } });
    const sub = redis.subscriber();
    sub.on('error', () => {});
    const ks = await sub.keyspace('ks7:*');
    const it = ks[Symbol.asyncIterator]();
    const seen: string[] = [];
    ks.on('error', (e) => seen.push(`error ${e.name}`));
    const closed = new Promise<void>((resolve) => ks.once('close', () => resolve()));
    ks.on('close', () => seen.push('close'));

    await admin.db.reply('ACL', 'SETUSER', 'ks7', 'resetchannels', '&other');
    await within('the stream ends', closed);
    expect(seen).toEqual(['error NoPermError', 'close']);
    await expect(within('the iterator ends', it.next())).rejects.toBeInstanceOf(NoPermError);
  });
});
