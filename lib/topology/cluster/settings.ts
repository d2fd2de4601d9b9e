/** A cluster routing's settings (from the `nodes` and `cluster` options), and its fixed pacing. */
import { isBlockingCall } from '../../commands/index.js';
import type { Command } from '../../connection/command.js';
import { blockingTimeoutMs } from '../../connection/blocking-timeout.js';
import type { Endpoint } from '../../connection/socket.js';
import type { AddressMap } from '../address-map.js';

export interface ClusterSettings {
  /** Where to ask for the topology first; any one reachable is enough. */
  seeds: Endpoint[];
  /** Where reads go: the slot's master, or one of its replicas (falling back to the master when it has none). */
  readFrom: 'master' | 'replica' | 'prefer-replica';
  /** Refresh the slot map this often in ms, whatever happens (0: only when something says it changed). */
  refreshInterval: number;
  /** Most MOVED / ASK redirections of one command before ClusterRedirectError. */
  maxRedirects: number;
  /** Where to connect for an announced address (address-map.ts); undefined: where announced. */
  addressMap?: AddressMap;
}

/** Spacing of slot map queries: a burst of MOVED replies or a failover in progress asks at most this often. */
export const MIN_REFRESH_GAP = 100;

/**
 * The wait before sending again something refused by TRYAGAIN (its keys split
 * by a migration) or CLUSTERDOWN (a failover in progress), after `waited`
 * such waits: doubling from 10 ms, capped at 500 ms. A command and a MULTI
 * block (transaction.ts) wait alike.
 */
export function tryAgainDelay(waited: number): number {
  return Math.min(500, 10 * 2 ** Math.min(waited, 10));
}

/**
 * Until when a command refused by TRYAGAIN or CLUSTERDOWN may be sent again:
 * its deadline; for a blocking command, which has none of its own (its pool
 * bounds it), its block timeout from now (the command timeout for one that
 * blocks forever); 0: it is not sent again.
 */
export function tryAgainUntil(cmd: Command, commandTimeout: number): number {
  if (cmd.deadline > 0) return cmd.deadline;
  if (!isBlockingCall(cmd.info, cmd.args, 0)) return 0;
  const ms = blockingTimeoutMs(cmd.info.name, cmd.args as never) ?? 0;
  return Date.now() + (ms > 0 ? ms : commandTimeout || 10_000);
}
