/**
 * Reads from replicas (`cluster.readFrom`): which replica's unit serves a
 * read, and the READONLY that lets it.
 *
 * A replica serves reads only on a connection in READONLY mode. Routing sends
 * READONLY itself when a replica unit's shared connection is ready (ahead of
 * anything queued there), not in the handshake: an ACL user whose rules refuse
 * READONLY failed the handshake, so every read queued there failed with
 * ConnectError, and every later read opened the replica again to fail the
 * same way. Refused, the replica answers the reads written behind it with
 * MOVED to its master (it ran none), which routing follows; later reads go
 * to the master (or a replica that took READONLY) at once, and the refusal
 * is reported ('error') once per connection. Side connections (blocking
 * reads) keep READONLY in their handshake: a lease cannot take a redirect.
 */
import { commandInfo } from '../../commands/index.js';
import { InternalCommand, type Command } from '../../connection/command.js';
import { ServerError, refusedBeforeRunning } from '../../errors.js';
import type { Standalone } from '../standalone.js';
import type { ClusterNode } from './slot-map.js';

const READONLY_INFO = commandInfo('READONLY');

export class ReplicaReads {
  /** Units whose current connection refused READONLY: they serve no routed reads (per-node handles still reach them). */
  readonly #refused = new WeakSet<Standalone>();
  #next = 0;

  /** A replica of the slot, round robin, whose connection is up and was not refused READONLY; undefined: its master serves it. */
  pick(replicas: readonly ClusterNode[], unitOf: (replica: ClusterNode) => Standalone): Standalone | undefined {
    for (let tries = replicas.length, i = this.#next++; tries > 0; tries--, i++) {
      const unit = unitOf(replicas[i % replicas.length]!);
      if (!unit.down && !this.#refused.has(unit)) return unit;
    }
    return undefined;
  }

  /** What a replica unit's new connection sends first: READONLY (`unit`: undefined when it is routed to no more). */
  readOnly(unit: Standalone | undefined, report: (err: Error) => void, tries = 0): Command[] {
    const cmd = new InternalCommand('READONLY', [], READONLY_INFO, (err) => {
      if (unit === undefined) return;
      if (err === undefined) this.#refused.delete(unit);
      else if (err instanceof ServerError) {
        this.#refused.add(unit); // the connection stays: what it answered (MOVED) is followed
        // Refused before running (BUSY: a long script there): no refusal of rights; asked again in a while.
        if (refusedBeforeRunning(err)) this.#again(unit, report, tries);
        else report(err); // named by its connection: command READONLY, the replica's address
      }
    });
    return [cmd];
  }

  #again(unit: Standalone, report: (err: Error) => void, tries: number): void {
    setTimeout(() => {
      if (unit.closed) return;
      for (const cmd of this.readOnly(unit, report, tries + 1)) unit.send(cmd, 0, false);
    }, Math.min(1000, 50 << Math.min(tries, 5))).unref();
  }
}
