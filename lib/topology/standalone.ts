/**
 * Routing for a single server: every command goes to the one shared
 * multiplexer. This is the seam cluster and sentinel routing slot into: the
 * API hands commands to a `Topology`, never to a connection.
 */
import type { Command } from '../connection/command.js';
import { Multiplexer, type MultiplexerHooks, type MultiplexerOptions, type MultiplexerStats } from '../connection/multiplexer.js';

export interface Topology {
  /** Route a validated command. `custom` marks a per-call deadline. */
  send(cmd: Command, timeout: number, custom: boolean): void;
  /** Route a group that must stay contiguous on one connection (MULTI ... EXEC). */
  sendGroup(cmds: Command[], timeout: number, custom: boolean): void;
  close(): Promise<void>;
  disconnect(): void;
  stats(): MultiplexerStats;
}

export class Standalone implements Topology {
  readonly mux: Multiplexer;

  constructor(opts: MultiplexerOptions, hooks: MultiplexerHooks) {
    this.mux = new Multiplexer(opts, hooks);
  }

  send(cmd: Command, timeout: number, custom: boolean): void {
    this.mux.send(cmd, timeout, custom);
  }

  sendGroup(cmds: Command[], timeout: number, custom: boolean): void {
    this.mux.sendGroup(cmds, timeout, custom);
  }

  close(): Promise<void> {
    return this.mux.close();
  }

  disconnect(): void {
    this.mux.disconnect();
  }

  stats(): MultiplexerStats {
    return this.mux.snapshot();
  }
}
