/**
 * A `next()` waiting on a silent channel settles when what it iterates ends:
 * the subscriber closed (or the client), a keyspace stream closed. An
 * iterator is the subscriber's, not its channels': letting go of every
 * channel does not end it (a subscribe after that feeds it again).
 */
import { describe, expect, it } from 'vitest';
import { tracked } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { within } from './support/until.js';

const env = useRealServer();
const DONE = { value: undefined, done: true };

describe('a next() waiting on a silent channel', () => {
  it('settles done when the subscriber closes', async () => {
    const sub = env.client().subscriber();
    await sub.subscribe('silent:a');
    const it = sub[Symbol.asyncIterator]();
    const waiting = it.next();
    await sub.close();
    expect(await within('the next()', waiting)).toEqual(DONE);
    expect(await it.next()).toEqual(DONE);
  });

  it('settles done when the client closes', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    await sub.subscribe('silent:b');
    const waiting = sub[Symbol.asyncIterator]().next();
    await redis.close();
    expect(await within('the next()', waiting)).toEqual(DONE);
  });

  it('settles done when its keyspace stream closes', async () => {
    const sub = env.client().subscriber();
    const ks = await sub.keyspace('silent:ks:*', { configure: true });
    const waiting = ks[Symbol.asyncIterator]().next();
    await ks.close();
    expect(await within('the next()', waiting)).toEqual(DONE);
  });

  it('keeps waiting when every channel is let go of, and gets the message of a channel subscribed after', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    await sub.subscribe('silent:c');
    const it = sub[Symbol.asyncIterator]();
    const waiting = tracked(it.next());
    await sub.unsubscribe();
    await redis.db.reply('PING');
    expect(waiting.settled()).toBe(false);
    await sub.subscribe('silent:d');
    await redis.db.reply('PUBLISH', 'silent:d', 'back');
    expect(await within('the next()', waiting.result)).toEqual({ value: { channel: 'silent:d', message: 'back' }, done: false });
    await it.return!();
  });
});
