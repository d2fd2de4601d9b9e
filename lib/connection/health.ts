/**
 * Optional health check: when a whole interval passed without a byte from the
 * server, send a PING whose deadline is the interval. A half-open connection
 * (peer gone, no RST) is then found by the deadline machinery within two
 * intervals, not only by TCP keepalive minutes later.
 */
export interface HealthProbe {
  /** Bytes received so far on this connection. */
  bytesIn(): number;
  /** Send a PING due within `timeoutMs`; call `dead` if it does not answer in time. */
  ping(timeoutMs: number, dead: () => void): void;
}

export class HealthCheck {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly every: number,
    private readonly probe: HealthProbe,
  ) {}

  start(): void {
    if (this.every <= 0 || this.timer !== undefined) return;
    let lastIn = -1;
    this.timer = setInterval(() => {
      const now = this.probe.bytesIn();
      if (now !== lastIn) {
        lastIn = now; // heard from the server since the last tick
        return;
      }
      this.probe.ping(this.every, () => this.stop());
    }, this.every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
