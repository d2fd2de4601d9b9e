/**
 * A TCP proxy of our own between the client and a real redis-server, to inject
 * faults: cut every link, stall, slow down, half-close, drop bytes, refuse.
 */
import net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

export class FaultProxy {
  port = 0;
  private server: net.Server;
  private readonly links = new Set<Link>();
  private stalled = false;
  /** Only the replies are held (the server still gets and runs what the client writes). */
  private stalledReplies = false;
  private stalledChunks: (() => void)[] = [];
  private delayMs = 0;
  private dropNext = 0;
  private refusing = false;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<FaultProxy> {
    const p = new FaultProxy(targetPort);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = (p.server.address() as net.AddressInfo).port;
    return p;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const link = { client, upstream };
    this.links.add(link);
    const forward = (from: net.Socket, to: net.Socket, toClient: boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (toClient && this.dropNext > 0) {
          const n = Math.min(this.dropNext, chunk.length);
          this.dropNext -= n;
          chunk = chunk.subarray(n);
          if (chunk.length === 0) return;
        }
        const send = () => {
          if (!to.destroyed) to.write(chunk);
        };
        if (this.stalled || (toClient && this.stalledReplies)) this.stalledChunks.push(send);
        else if (this.delayMs > 0) setTimeout(send, this.delayMs);
        else send();
      });
    };
    forward(client, upstream, false);
    forward(upstream, client, true);
    const close = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  /** Destroy every link at once (RST-like for both sides). */
  cutAll(): void {
    for (const l of [...this.links]) {
      l.client.destroy();
      l.upstream.destroy();
    }
  }

  /** Stop forwarding in both directions; bytes are held, not lost. */
  stall(): void {
    this.stalled = true;
  }

  /**
   * Stop forwarding what the server sends, and only that: a command written
   * now reaches the server and runs there, its reply is held, not lost. Once
   * `held` > 0 the client's commands were run and their answers are with us:
   * in flight from the client's side, whatever the machine's speed.
   */
  stallReplies(): void {
    this.stalledReplies = true;
  }

  /** Chunks held by a stall so far (bytes that reached the proxy and went no further). */
  get held(): number {
    return this.stalledChunks.length;
  }

  /** Forward again, releasing what was held. */
  resume(): void {
    this.stalled = false;
    this.stalledReplies = false;
    for (const send of this.stalledChunks.splice(0)) send();
  }

  /** Hold every chunk for `ms` before forwarding it. */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  /** Drop the next `n` bytes going to the client (corrupts the reply stream). */
  dropBytes(n: number): void {
    this.dropNext = n;
  }

  /** Send FIN to every client (the server side "closed its write half"). */
  halfCloseClients(): void {
    for (const l of this.links) l.client.end();
  }

  /** Refuse new connections (accept and close at once). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
