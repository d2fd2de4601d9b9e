/**
 * TEST-ONLY PEEK at the pub/sub hubs' private state, for specs that check
 * the client keeps nothing for subscribers that are gone. `peekHubs()`, called
 * at the top of a spec file, wraps Hub.prototype.stats (redis.stats() asks
 * every hub of the client) for the file's tests and puts it back after them.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Redis } from '../../lib/index.js';
import { Hub } from '../../lib/pubsub/hub.js';

export interface HubPeek {
  /** The hubs of `redis` (its pub/sub connections' bookkeeping). */
  hubsOf(redis: Redis): Hub[];
  /** Members (subscribers, keyspace streams) `hub` keeps state for. */
  members(hub: Hub): number;
  /** Members kept by every hub of `redis`. */
  hubMembers(redis: Redis): number;
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
  return { hubsOf, members, hubMembers: (redis) => hubsOf(redis).reduce((n, hub) => n + members(hub), 0) };
}
