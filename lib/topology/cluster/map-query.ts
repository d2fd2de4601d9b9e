/**
 * Asking a cluster for its slot map: known masters first (in random order, so
 * clients spread their questions), then the seeds, a few at a time; the first
 * answer wins, so a dead node costs no more than a live one's round trip.
 * CLUSTER SHARDS, or CLUSTER SLOTS where the server predates it (Redis < 7)
 * or the user's ACL grants only SLOTS.
 */
import { commandInfo } from '../../commands/index.js';
import { Command } from '../../connection/command.js';
import { ConnectError, NoPermError, UnknownCommandError } from '../../errors.js';
import type { Reply } from '../../resp/types.js';
import type { Standalone } from '../standalone.js';
import type { SlotMap } from './slot-map.js';
import type { ConnectRefusals } from './connect-refusals.js';
import { slotMapFromShards, slotMapFromSlots } from './topology-reply.js';

/** How many nodes are asked for the slot map at once. */
const QUERY_FANOUT = 3;

export interface MapQuery {
  /** The map known now: its masters are asked first. */
  known: SlotMap;
  seeds: readonly { host: string; port: number }[];
  /** The unit of a node (opened if needed). */
  unit(host: string, port: number): Standalone;
  /** Per question, at most this many ms (capped at 2 s). */
  commandTimeout: number;
  tls: boolean;
  /** The client closed: ask no more. */
  closed(): boolean;
  /** Rejects once the connection to the node is refused (connect-refusals.ts). */
  refusals: ConnectRefusals;
}

export async function querySlotMap(q: MapQuery): Promise<SlotMap> {
  const candidates = new Map<string, { host: string; port: number }>();
  const masters = [...q.known.nodes('master')];
  for (let i = masters.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [masters[i], masters[j]] = [masters[j]!, masters[i]!];
  }
  for (const n of [...masters, ...q.seeds]) candidates.set(`${n.host}:${n.port}`, n);
  const failures: string[] = [];
  let lastError: Error | undefined;
  const all = [...candidates.values()];
  for (let i = 0; i < all.length && !q.closed(); i += QUERY_FANOUT) {
    const batch = all.slice(i, i + QUERY_FANOUT);
    try {
      return await Promise.any(batch.map(({ host, port }) => ask(q, host, port)));
    } catch (err) {
      const errors = err instanceof AggregateError ? (err.errors as Error[]) : [err as Error];
      errors.forEach((e, j) => failures.push(`${batch[j]!.host}:${batch[j]!.port}: ${e.message}`));
      lastError = errors[errors.length - 1];
    }
  }
  throw new ConnectError(`no cluster node answered CLUSTER SHARDS or CLUSTER SLOTS (${failures.join('; ')})`, { cause: lastError });
}

async function ask(q: MapQuery, host: string, port: number): Promise<SlotMap> {
  const unit = q.unit(host, port);
  const timeout = Math.min(q.commandTimeout || 2000, 2000);
  // A refused connection answers now; the question's command stays queued there until its deadline (harmless: a read).
  const { refused, stop } = q.refusals.watch(`${host}:${port}`);
  const call = (parts: string[]): Promise<Reply> => {
    const cmd = new Command<Reply>(parts[0]!, parts.slice(1), commandInfo(parts[0]!, parts[1]), 0, -1);
    const p = cmd.toPromise();
    p.catch(() => {}); // it may lose the race to `refused`
    unit.send(cmd, timeout, true);
    return Promise.race([p, refused]);
  };
  const opts = { from: host, tls: q.tls };
  try {
    return slotMapFromShards(await call(['CLUSTER', 'SHARDS']), opts);
  } catch (err) {
    // Redis < 7, or an ACL that grants CLUSTER SLOTS only (what older clients document): SLOTS.
    if (!(err instanceof UnknownCommandError || err instanceof NoPermError)) throw err;
    return slotMapFromSlots(await call(['CLUSTER', 'SLOTS']), opts);
  } finally {
    stop();
  }
}
