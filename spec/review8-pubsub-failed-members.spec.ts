/**
 * Review of f13d72c: a subscriber whose calls all failed holds nothing. The
 * hub forgets members that hold nothing and wait for nothing (forgetIdle,
 * README: "a subscriber that holds nothing is not kept by the client (one
 * dropped without close() is not kept)"), and closes the pub/sub connection
 * with the last one. After an unsubscribe or a group's undo it does; after a
 * call that failed on its own (refused by the ACL, or past its deadline),
 * Hub.fail undoes the call but keeps its member, and with it the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, Redis, ReplyTimeoutError } from '../lib/index.js';
import { peekHubs } from './support/hub-peek.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';
import { serverPid } from './support/process-stop.js';

const env = useRealServer();
const peek = peekHubs();
let admin: Redis;
let pid: number;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  pid = await serverPid(admin);
  await admin.db.reply('ACL', 'SETUSER', 'r8f', 'on', '>pw', '~*', 'resetchannels', '&f:ok*', '+@all');
});
afterAll(async () => {
  await admin.close();
});

async function pubsubConnections(): Promise<number> {
  return String(await admin.db.reply('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter((l) => l.trim() !== '').length;
}

describe('subscribers whose every call failed, dropped without close()', () => {
  it('refused by the ACL: the hub keeps none of them, and the pub/sub connection closes', async () => {
    const redis = env.client({ username: 'r8f', password: 'pw' });
    for (let i = 0; i < 20; i++) {
      expect(await outcome(redis.subscriber().subscribe(`f:ok${i}`, 'f:bad'))).toBeInstanceOf(NoPermError);
    }
    await until('the hub forgot the subscribers that hold nothing', () => peek.hubMembers(redis) === 0);
    await until('the pub/sub connection closed', async () => (await pubsubConnections()) === 0);
  });

  it('past their deadline: the hub keeps none of them, and the pub/sub connection closes', async () => {
    const redis = env.client();
    await redis.subscriber().subscribe('f:warm').then(() => undefined); // the connection is up, then that one is dropped too
    process.kill(pid, 'SIGSTOP');
    try {
      const calls = Array.from({ length: 5 }, (_, i) => outcome(redis.subscriber({ timeout: 200 }).subscribe(`f:late${i}`)));
      for (const c of calls) expect(await c).toBeInstanceOf(ReplyTimeoutError);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The first subscriber still holds f:warm: only the timed-out ones are to be forgotten.
    await until('the hub keeps only the subscriber that holds something', () => peek.hubMembers(redis) === 1);
  });
});
