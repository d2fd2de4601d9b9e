/**
 * Review of f13d72c (per-call holds: a failed call takes out its own hold
 * only, Entry.members maps a member to KEPT or to its calls that may still be
 * undone). Overlapping calls of one subscriber and of several sharing the
 * client's pub/sub connection, all in flight together (the server held still
 * with SIGSTOP until every call was made, so they overlap on the wire
 * whatever the machine's speed), failing in part: deadlines of different
 * lengths, ACL refusals, close(), a reconnect. Afterwards the server holds
 * exactly what resolved calls rely on (PUBSUB NUMSUB / NUMPAT, CLIENT LIST),
 * messages arrive for it, every call settled once, and the hub keeps no
 * call, no undoable hold and no waiter behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, NoPermError, Redis, ReplyTimeoutError, type Message } from '../lib/index.js';
import type { Subscriber } from '../lib/subscriber.js';
import { KEPT, type Entry } from '../lib/pubsub/subscriptions.js';
import { peekHubs } from './support/hub-peek.js';
import { outcome, tracked } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';
import { serverPid, whileStopped } from './support/process-stop.js';
import { pubsubClients } from './support/server-pubsub.js';

const env = useRealServer();
const peek = peekHubs();
const FAST = { reconnect: { baseDelay: 5, maxDelay: 20 } };
let admin: Redis;
let pid: number;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  pid = await serverPid(admin);
});
afterAll(async () => {
  await admin.close();
});

/** The server reads nothing while `body` makes its calls: they all reach it together, after. */
function whileServerStopped<T>(body: () => T | Promise<T>): Promise<T> {
  return whileStopped(pid, body);
}

async function numsub(channel: string): Promise<number> {
  return Number(((await admin.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[])[1]);
}

function messages(sub: Subscriber): Message[] {
  const got: Message[] = [];
  sub.on('message', (m) => got.push(m));
  return got;
}

describe('overlapping calls with deadlines of different lengths, on one connection', () => {
  it('what the timed-out calls alone asked for is let go of; what a waiting call of another subscriber asked for stays', async () => {
    const redis = env.client();
    const quick = redis.subscriber({ timeout: 300 });
    const patient = redis.subscriber({ timeout: 0 });
    await patient.subscribe('d:warm'); // the connection is up
    const calls = await whileServerStopped(async () => {
      const calls = {
        quickBoth: tracked(quick.subscribe('d:x', 'd:y')),
        patientX: tracked(patient.subscribe('d:x')),
        quickXAgain: tracked(quick.subscribe('d:x')),
        quickPattern: tracked(quick.psubscribe('d:p*')),
        patientPattern: tracked(patient.psubscribe('d:q*')),
      };
      // The quick calls' deadlines pass while the server reads nothing.
      await until('the quick calls timed out', () => calls.quickBoth.settled() && calls.quickXAgain.settled() && calls.quickPattern.settled());
      expect(calls.patientX.settled()).toBe(false);
      return calls;
    });
    expect(await calls.quickBoth.result).toBeInstanceOf(ReplyTimeoutError);
    expect(await calls.quickXAgain.result).toBeInstanceOf(ReplyTimeoutError);
    expect(await calls.quickPattern.result).toBeInstanceOf(ReplyTimeoutError);
    expect(await within('the patient channel call', calls.patientX.result)).toBeUndefined();
    expect(await within('the patient pattern call', calls.patientPattern.result)).toBeUndefined();

    expect(quick.subscriptions).toEqual({ channels: [], patterns: [], shardChannels: [] });
    expect(patient.subscriptions).toEqual({ channels: ['d:warm', 'd:x'], patterns: ['d:q*'], shardChannels: [] });
    await until('the server let go of what only the quick calls asked for', async () => (await numsub('d:y')) === 0 && Number(await admin.db.reply('PUBSUB', 'NUMPAT')) === 1);
    expect(await numsub('d:x')).toBe(1);
    expect(await pubsubClients(admin)).toEqual([{ sub: 2, psub: 1 }]);
    const quickGot = messages(quick);
    const patientGot = messages(patient);
    expect(await admin.db.reply('PUBLISH', 'd:x', 'm')).toBe(1);
    await until('delivered', () => patientGot.length === 1);
    expect(quickGot).toEqual([]);
    expect(redis.stats().pubsub).toMatchObject({ channels: 2, patterns: 1 });
    peek.expectSettled(redis);
  });
});

describe('overlapping calls refused in part by the ACL, of two subscribers on one connection', () => {
  it('each refused call lets go of its own names only; the resolved ones are subscribed and receive', async () => {
    await admin.db.reply('ACL', 'SETUSER', 'r8o', 'on', '>pw', '~*', 'resetchannels', '&a:ok*', '&a:okp*', '&a:okq*', '+@all'); // a pattern is allowed by its literal text
    const redis = env.client({ username: 'r8o', password: 'pw' });
    const one = redis.subscriber();
    const two = redis.subscriber();
    await one.subscribe('a:ok0');
    const calls = await whileServerStopped(() => ({
      oneRefused: tracked(one.subscribe('a:ok1', 'a:bad')),
      twoOk1: tracked(two.subscribe('a:ok1')),
      oneOk1Again: tracked(one.subscribe('a:ok1', 'a:ok2')),
      oneRefusedAgain: tracked(one.subscribe('a:ok2', 'a:bad2', 'a:ok3')),
      onePatternRefused: tracked(one.psubscribe('a:okp*', 'a:badp*')),
      twoPattern: tracked(two.psubscribe('a:okp*')),
      twoRefusedPattern: tracked(two.psubscribe('a:okq*', 'a:badq*')),
    }));
    expect(await within('one refused', calls.oneRefused.result)).toBeInstanceOf(NoPermError);
    expect(await within('two ok1', calls.twoOk1.result)).toBeUndefined();
    expect(await within('one ok1 again', calls.oneOk1Again.result)).toBeUndefined();
    expect(await within('one refused again', calls.oneRefusedAgain.result)).toBeInstanceOf(NoPermError);
    expect(await within('one pattern refused', calls.onePatternRefused.result)).toBeInstanceOf(NoPermError);
    expect(await within('two pattern', calls.twoPattern.result)).toBeUndefined();
    expect(await within('two refused pattern', calls.twoRefusedPattern.result)).toBeInstanceOf(NoPermError);

    expect(one.subscriptions).toEqual({ channels: ['a:ok0', 'a:ok1', 'a:ok2'], patterns: [], shardChannels: [] });
    expect(two.subscriptions).toEqual({ channels: ['a:ok1'], patterns: ['a:okp*'], shardChannels: [] });
    await until('the server holds exactly what resolved calls rely on', async () => JSON.stringify(await pubsubClients(admin)) === JSON.stringify([{ sub: 3, psub: 1 }]));
    for (const [channel, n] of [['a:ok0', 1], ['a:ok1', 1], ['a:ok2', 1], ['a:ok3', 0], ['a:bad', 0]] as const) expect(await numsub(channel)).toBe(n);
    const oneGot = messages(one);
    const twoGot = messages(two);
    await admin.db.reply('PUBLISH', 'a:ok1', 'm1');
    await admin.db.reply('PUBLISH', 'a:ok2', 'm2');
    await admin.db.reply('PUBLISH', 'a:okp1', 'm3');
    await until('delivered', () => oneGot.length === 2 && twoGot.length === 2);
    expect(oneGot).toEqual([{ channel: 'a:ok1', message: 'm1' }, { channel: 'a:ok2', message: 'm2' }]);
    expect(twoGot).toEqual([{ channel: 'a:ok1', message: 'm1' }, { pattern: 'a:okp*', channel: 'a:okp1', message: 'm3' }]);
    peek.expectSettled(redis);
  });
});

describe('close() of one subscriber while its calls and another subscriber\'s overlap in flight', () => {
  it('its calls reject with ClosedError, the other\'s resolve, and the server keeps only the other\'s', async () => {
    const redis = env.client();
    const leaving = redis.subscriber();
    const staying = redis.subscriber();
    await staying.subscribe('c:warm');
    const { calls, closed } = await whileServerStopped(() => {
      const calls = {
        leavingShared: tracked(leaving.subscribe('c:shared', 'c:own')),
        stayingShared: tracked(staying.subscribe('c:shared')),
        leavingPattern: tracked(leaving.psubscribe('c:*')),
      };
      return { calls, closed: tracked(leaving.close()) };
    });
    expect(await within('leaving shared', calls.leavingShared.result)).toBeInstanceOf(ClosedError);
    expect(await within('leaving pattern', calls.leavingPattern.result)).toBeInstanceOf(ClosedError);
    expect(await within('staying shared', calls.stayingShared.result)).toBeUndefined();
    expect(await within('close()', closed.result)).toBeUndefined();
    expect(await numsub('c:own')).toBe(0);
    expect(await numsub('c:shared')).toBe(1);
    expect(await pubsubClients(admin)).toEqual([{ sub: 2, psub: 0 }]);
    expect(peek.hubMembers(redis)).toBe(1);
    peek.expectSettled(redis);
    await staying.close();
    await until('the pub/sub connection closed with the last subscriber', async () => (await pubsubClients(admin)).length === 0);
    expect(peek.hubMembers(redis)).toBe(0);
  });
});

describe('a reconnect (CLIENT KILL TYPE pubsub) while overlapping calls and an unsubscribe are in flight', () => {
  it('every call settles once; the new connection holds exactly what is wanted', async () => {
    const redis = env.client(FAST);
    const one = redis.subscriber();
    const two = redis.subscriber();
    await one.subscribe('k:1');
    const settledTimes = new Map<string, number>();
    const count = (name: string, p: Promise<unknown>) => outcome(p).then((v) => {
      settledTimes.set(name, (settledTimes.get(name) ?? 0) + 1);
      return v;
    });
    const calls = [
      count('one k2', one.subscribe('k:2')),
      count('two k2 k3', two.subscribe('k:2', 'k:3')),
      count('one -k1', one.unsubscribe('k:1')),
      count('two k*', two.psubscribe('k:*')),
      count('one k1 again', one.subscribe('k:1', 'k:4')),
      count('one -k4', one.unsubscribe('k:4')),
    ];
    await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const results = await within('every call', Promise.all(calls));
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect([...settledTimes.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(one.subscriptions.channels.sort()).toEqual(['k:1', 'k:2']);
    expect(two.subscriptions).toEqual({ channels: ['k:2', 'k:3'], patterns: ['k:*'], shardChannels: [] });
    await until('the server holds exactly k:1 k:2 k:3 and k:*', async () => JSON.stringify(await pubsubClients(admin)) === JSON.stringify([{ sub: 3, psub: 1 }]));
    expect(await numsub('k:4')).toBe(0);
    const twoGot = messages(two);
    await admin.db.reply('PUBLISH', 'k:3', 'm');
    await until('delivered by channel and pattern', () => twoGot.length === 2);
    peek.expectSettled(redis);
  });
});
