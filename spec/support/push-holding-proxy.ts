/**
 * A TCP proxy to a real server that can hold back the server's tracking
 * `invalidate` push frames while replies pass: the invalidation a write
 * causes follows the write's reply on the wire, usually in the same packet,
 * but nothing promises that (a TCP segment boundary, a large reply). Holding
 * it makes "arrives later" a state instead of a race.
 */
import net from 'node:net';

/** The frames the specs' keys make: `>2 $10 invalidate` then null or `*n ($len key)*n`. */
const PUSH = /^>2\r\n\$10\r\ninvalidate\r\n(?:_\r\n|\*\d+\r\n(?:\$\d+\r\n[^\r]*\r\n)*)/m;

export class PushHoldingProxy {
  port = 0;
  /** While true, invalidation pushes are kept (in order) instead of forwarded. */
  holding = false;
  readonly #held: { client: net.Socket; frame: Buffer }[] = [];
  readonly #links = new Set<net.Socket>();
  readonly #server: net.Server;

  private constructor(targetPort: number) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      this.#links.add(client).add(upstream);
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk: Buffer) => {
        if (!this.holding) return void client.write(chunk);
        // Chunks on loopback hold whole frames: a plain scan of each is enough here.
        let rest = chunk.toString('latin1');
        let out = '';
        for (let m = PUSH.exec(rest); m !== null; m = PUSH.exec(rest)) {
          out += rest.slice(0, m.index);
          this.#held.push({ client, frame: Buffer.from(m[0], 'latin1') });
          rest = rest.slice(m.index + m[0].length);
        }
        out += rest;
        if (out.length > 0) client.write(Buffer.from(out, 'latin1'));
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
  }

  static async start(targetPort: number): Promise<PushHoldingProxy> {
    const proxy = new PushHoldingProxy(targetPort);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Stop holding, and forward what was held. */
  release(): void {
    this.holding = false;
    for (const { client, frame } of this.#held.splice(0)) if (!client.destroyed) client.write(frame);
  }

  async close(): Promise<void> {
    for (const s of this.#links) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
