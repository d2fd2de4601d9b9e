/**
 * How a hub's pub/sub connections fared over the client's life: a hub opens
 * a new Multiplexer after its last member left or its connection gave up, so
 * the counters of the connections closed before the current one are kept
 * here and added to the current one's; with what the hub holds they are its stats().
 */
import type { Multiplexer } from '../connection/multiplexer.js';
import { CHANNEL, PATTERN, SHARD, type Entry, type PubSubStats } from './subscriptions.js';

type Counted = 'reconnects' | 'connectionLost' | 'connectFailures' | 'timeouts' | 'handovers';

export class ConnectionCounters {
  private reconnects = 0;
  private connectionLost = 0;
  private connectFailures = 0;
  private timeouts = 0;
  private handovers = 0;

  /** A connection is done with: keep what it counted. */
  add(mux: Multiplexer): void {
    const s = mux.snapshot();
    this.reconnects += s.reconnects;
    this.connectionLost += s.connectionLost;
    this.connectFailures += s.connectFailures;
    this.timeouts += s.timeouts;
    this.handovers += s.handovers;
  }

  /** A hub's stats: its connection (`current`, if any), what it holds (`entries`, by kind), and the life-long counts. */
  stats(current: Multiplexer | undefined, entries: readonly Map<string, Entry>[]): PubSubStats {
    return {
      connections: current !== undefined && !current.closed ? 1 : 0,
      channels: entries[CHANNEL]!.size,
      patterns: entries[PATTERN]!.size,
      shardChannels: entries[SHARD]!.size,
      ...this.total(current),
    };
  }

  /** The life-long counts, with the current connection's (if any). */
  total(current: Multiplexer | undefined): Record<Counted, number> {
    const s = current?.snapshot();
    return {
      reconnects: this.reconnects + (s?.reconnects ?? 0),
      connectionLost: this.connectionLost + (s?.connectionLost ?? 0),
      connectFailures: this.connectFailures + (s?.connectFailures ?? 0),
      timeouts: this.timeouts + (s?.timeouts ?? 0),
      handovers: this.handovers + (s?.handovers ?? 0),
    };
  }
}
