/**
 * "Internals are not reachable from public objects" (DESIGN.md, Per-call
 * options, types and observability). The iterators a subscriber and a keyspace
 * stream hand out are what a user holds: they iterate (next, return,
 * Symbol.asyncIterator) and nothing else. They exposed the subscriber's feed
 * (push: inject a message only this iterator sees; stop) and their buffer.
 */
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** Every property name reachable on `o` short of Object.prototype. */
function reachable(o: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Reflect.ownKeys(p)) names.add(typeof k === 'symbol' ? k.toString() : k);
  }
  names.delete('constructor');
  return [...names].sort();
}

const ITERATOR = ['Symbol(Symbol.asyncIterator)', 'next', 'return'];

describe('pub/sub iterators show only iteration', () => {
  it('a subscriber\'s iterator and a keyspace stream\'s, which still work', async () => {
    const redis = env.client();
    await redis.db.reply('CONFIG', 'SET', 'notify-keyspace-events', 'KA');
    const sub = redis.subscriber();
    await sub.subscribe('surface');
    const messages = sub[Symbol.asyncIterator]();
    const ks = await sub.keyspace('surface:*');
    const events = ks[Symbol.asyncIterator]();
    expect(reachable(messages)).toEqual(ITERATOR);
    expect(reachable(events)).toEqual(ITERATOR);
    expect(messages[Symbol.asyncIterator]()).toBe(messages);
    await redis.db.reply('PUBLISH', 'surface', 'm');
    await redis.db.reply('SET', 'surface:k', 'v');
    expect((await messages.next()).value).toEqual({ channel: 'surface', message: 'm' });
    expect((await events.next()).value).toEqual({ key: 'surface:k', event: 'set', db: 0 });
    expect(await messages.return!()).toEqual({ value: undefined, done: true });
    expect(await messages.next()).toEqual({ value: undefined, done: true });
    await sub.close();
    expect(await events.next()).toEqual({ value: undefined, done: true });
  });
});
