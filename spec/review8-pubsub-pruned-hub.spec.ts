/**
 * Review of f13d72c (seen while reviewing it; the behaviour predates it).
 * Subscriber.#join lets go of the hubs where the subscriber holds nothing,
 * "not even a call in progress", but it asks Hub.held only: a call still
 * waiting for a channel the subscriber let go of meanwhile (another
 * subscriber holds it, so the hub waits for its confirmation) is not seen.
 * The hub is dropped from the subscriber's hubs; close() then neither
 * rejects that call (README: calls in progress reject with ClosedError) nor
 * leaves the hub, which keeps the closed subscriber as a member.
 */
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../lib/index.js';
import { peekHubs } from './support/hub-peek.js';
import { tracked } from './support/outcome.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { within } from './support/until.js';

// The other subscriber's call waits for node a while it is stopped through every step below: its deadline must outlast them
// on a loaded machine (with 8 s it once timed out in CI).
const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 30_000 }), {
  start: { replicasPerMaster: 0, nodeTimeout: 60_000, extraArgs: ['--cluster-require-full-coverage', 'no'] },
  end: 'disconnect',
});
const peek = peekHubs();

describe('a subscriber closed while a call of its waits on a hub it holds nothing on any more', () => {
  it('close() settles that call with ClosedError and leaves that hub', async () => {
    const [a, b] = cluster.masters();
    const x = await keyOn(cluster, a!.port, 'r8p:x');
    const warm = await keyOn(cluster, a!.port, 'r8p:warm');
    const y = await keyOn(cluster, b!.port, 'r8p:y');
    const redis = client();
    // Node a is the only seed: the slot map must be in before it is stopped (a subscribe waits for the map; before d329450
    // it was guessed onto node a, which is how this spec once failed, about one run in five).
    await redis.db.reply('PING');
    const other = redis.subscriber();
    const sub = redis.subscriber();
    await other.ssubscribe(warm); // node a's pub/sub connection is up
    const pid = cluster.node(a!.port).pid!;
    process.kill(pid, 'SIGSTOP');
    let waiting: ReturnType<typeof tracked<void>>;
    let otherCall: ReturnType<typeof tracked<void>>;
    try {
      otherCall = tracked(other.ssubscribe(x)); // its SSUBSCRIBE waits for node a
      waiting = tracked(sub.ssubscribe(x)); // waits for the same confirmation
      await within('the unsubscribe', sub.sunsubscribe(x)); // other still holds x: sub's call keeps waiting
      expect(waiting.settled()).toBe(false);
      await within('a subscribe on node b', sub.ssubscribe(y));
      await within('close()', sub.close());
      expect(waiting.settled()).toBe(true); // a call in progress is settled by close()
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await waiting.result).toBeInstanceOf(ClosedError);
    expect(await within('the other subscriber\'s call', otherCall.result)).toBeUndefined();
    const hubA = peek.hubsOf(redis).filter((h) => h.node.endsWith(`:${a!.port}`));
    expect(hubA.map((h) => peek.members(h))).toEqual([1]); // only the other subscriber
  });
});
