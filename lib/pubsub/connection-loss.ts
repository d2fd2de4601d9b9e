/**
 * When a hub's connection counts as lost for routing (Hub's `onLost`: a
 * cluster moves channels and patterns to another master at once): once per
 * loss of a connection that was ready, not per failed attempt (a node that
 * cannot be reached at all moves nothing), and never for a planned handover
 * (a MOVING push, a RESP2 subscriber's token refresh): the server moves the
 * connection itself and the hub subscribes again on the new one. A handover
 * whose new connection fails is a loss at that failure: what it counted as
 * ready still is.
 */
import type { Multiplexer } from '../connection/multiplexer.js';

export class ConnectionLoss {
  /** The connection was ready at least once since it was last lost. */
  #wasReady = false;
  /** The connection's handovers seen so far: one more at a reconnect is a planned one. */
  #handovers = 0;

  ready(): void {
    this.#wasReady = true;
  }

  /** `mux` is about to reconnect: true when that is a loss to tell routing about. */
  lost(mux: Multiplexer): boolean {
    const handovers = mux.snapshot().handovers;
    if (handovers !== this.#handovers) {
      this.#handovers = handovers;
      return false;
    }
    const lost = this.#wasReady;
    this.#wasReady = false;
    return lost;
  }
}
