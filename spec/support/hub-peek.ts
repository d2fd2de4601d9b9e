/**
 * TEST-ONLY PEEK at the pub/sub hubs' private state, for specs that check
 * the client keeps nothing for subscribers that are gone. `peekHubs()`, called
 * at the top of a spec file, wraps Hub.prototype.stats (redis.stats() asks
 * every hub of the client) for the file's tests and puts it back after them.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Redis } from '../../lib/index.js';
import { Hub } from '../../lib/pubsub/hub.js';
import { KEPT, type Entry } from '../../lib/pubsub/subscriptions.js';

export interface HubPeek {
  /** The hubs of `redis` (its pub/sub connections' bookkeeping). */
  hubsOf(redis: Redis): Hub[];
  /** Members (subscribers, keyspace streams) `hub` keeps state for. */
  members(hub: Hub): number;
  /** Members kept by every hub of `redis`. */
  hubMembers(redis: Redis): number;
  /** Expect every hub of `redis` settled: no call or call group left, every hold for good (KEPT), no waiter kept. */
  expectSettled(redis: Redis): void;
}

export function peekHubs(): HubPeek {
  const seen = new Set<Hub>();
  const original = Hub.prototype.stats;
  beforeAll(() => {
    Hub.prototype.stats = function (this: Hub) {
      seen.add(this);
      return original.call(this);
    };
  });
  afterAll(() => {
    Hub.prototype.stats = original;
  });
  const hubsOf = (redis: Redis): Hub[] => {
    seen.clear();
    redis.stats();
    return [...seen];
  };
  const members = (hub: Hub): number => (hub as unknown as { members: Map<unknown, unknown> }).members.size;
  const expectSettled = (redis: Redis): void => {
    for (const hub of hubsOf(redis)) {
      const h = hub as unknown as { entries: Map<string, Entry>[]; members: Map<unknown, { calls: Set<unknown>; groups: Map<unknown, unknown> }> };
      for (const state of h.members.values()) {
        expect(state.calls.size).toBe(0);
        expect(state.groups.size).toBe(0);
      }
      for (const map of h.entries) {
        for (const e of map.values()) {
          expect(e.waiters).toEqual([]);
          for (const hold of e.members.values()) expect(hold).toBe(KEPT);
        }
      }
    }
  };
  return { hubsOf, members, hubMembers: (redis) => hubsOf(redis).reduce((n, hub) => n + members(hub), 0), expectSettled };
}
