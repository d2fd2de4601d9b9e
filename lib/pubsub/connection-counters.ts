/**
 * How a hub's pub/sub connections fared over the client's life: a hub opens
 * a new Multiplexer after its last member left or its connection gave up, so
 * the counters of the connections closed before the current one are kept
 * here and added to the current one's.
 */
import type { Multiplexer } from '../connection/multiplexer.js';

type Counted = 'reconnects' | 'connectionLost' | 'connectFailures' | 'timeouts';

export class ConnectionCounters {
  private reconnects = 0;
  private connectionLost = 0;
  private connectFailures = 0;
  private timeouts = 0;

  /** A connection is done with: keep what it counted. */
  add(mux: Multiplexer): void {
    const s = mux.snapshot();
    this.reconnects += s.reconnects;
    this.connectionLost += s.connectionLost;
    this.connectFailures += s.connectFailures;
    this.timeouts += s.timeouts;
  }

  /** The life-long counts, with the current connection's (if any). */
  total(current: Multiplexer | undefined): Record<Counted, number> {
    const s = current?.snapshot();
    return {
      reconnects: this.reconnects + (s?.reconnects ?? 0),
      connectionLost: this.connectionLost + (s?.connectionLost ?? 0),
      connectFailures: this.connectFailures + (s?.connectFailures ?? 0),
      timeouts: this.timeouts + (s?.timeouts ?? 0),
    };
  }
}
